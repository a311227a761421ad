"""``streamlite server --dir X`` and the data directory's lock, with real processes.

Two processes appending to one AOF corrupt it for good, so a server must refuse a
directory another process holds (an embedded application, another server): exit
non-zero, name the holder, touch nothing. It creates a missing ``--dir``.
"""

from __future__ import annotations

import os
import signal

import redis

from tests.support.redis_proc import ServerProc, free_port, start_streamlite

from .procs import child, kill, run, snapshot, streamlite_cmd, wait_line


def _server_args(path: str) -> list[str]:
    return streamlite_cmd("server", "--port", str(free_port()), "--bind", "127.0.0.1",
                          "--dir", path, "--appendonly", "yes", "--save", "")


def test_server_refuses_a_directory_held_by_an_embedded_process(tmp_path):
    d = str(tmp_path / "data")
    holder = child("hold", d)
    try:
        wait_line(holder, "ready")
        before = snapshot(d)
        assert "appendonlydir/appendonly.aof.manifest" in before
        res = run(_server_args(d))
        assert res.returncode != 0
        assert f"in use by process {holder.pid}" in res.stderr
        assert os.path.realpath(d) in res.stderr or d in res.stderr
        assert snapshot(d) == before  # not a byte written, not a file created
    finally:
        kill(holder)
    # once the holder is gone, the server opens the directory with the holder's data
    srv = start_streamlite(["--appendonly", "yes", "--save", ""], dir=d)
    try:
        r = redis.Redis(port=srv.port)
        assert r.get("holder") == str(holder.pid).encode()
        r.close()
    finally:
        srv.stop()


def test_second_server_on_one_directory_is_refused(tmp_path):
    d = str(tmp_path)
    first: ServerProc = start_streamlite(["--appendonly", "yes", "--save", ""], dir=d)
    try:
        r = redis.Redis(port=first.port)
        r.xadd("s", {"f": "v"})
        before = snapshot(d)
        res = run(_server_args(d))
        assert res.returncode != 0
        assert f"in use by process {first.proc.pid}" in res.stderr
        assert snapshot(d) == before
        assert r.xlen("s") == 1  # the first one never noticed
        r.close()
    finally:
        first.stop()


def test_server_creates_a_missing_dir_and_releases_it_on_shutdown(tmp_path):
    d = str(tmp_path / "fresh" / "data")
    srv = start_streamlite(["--appendonly", "yes", "--save", ""], dir=d)
    try:
        assert os.path.isdir(os.path.join(d, "appendonlydir"))
        # SIGTERM: a clean shutdown gives the directory up, to an embedded process too
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(30) == 0
        holder = child("hold", d)
        try:
            wait_line(holder, "ready")
        finally:
            kill(holder)
    finally:
        srv.stop()
