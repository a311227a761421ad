"""Durability with real processes and files: reopen, kill -9 under appendfsync always,
one process per directory, the atexit flush."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import streamlite
from streamlite.embedded import DirectoryLocked, Embedded

from .support import needs

ROOT = Path(__file__).resolve().parents[2]


def _child(mode: str, path: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.embedded.child", mode, path],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_write_close_reopen(embtest, tmpdir_path):
    r = streamlite.connect(tmpdir_path)
    for i in range(50):
        r.execute_command("EMBTEST.SET", f"k{i}", f"v{i}")
    r.execute_command("EMBTEST.PUSH", "list", "a", "b")
    r.close()
    assert os.path.isdir(os.path.join(tmpdir_path, "appendonlydir"))
    r2 = streamlite.connect(tmpdir_path)
    assert [r2.execute_command("EMBTEST.GET", f"k{i}") for i in (0, 49)] == [b"v0", b"v49"]
    assert r2.execute_command("EMBTEST.POPNOW", "list") == b"a"
    r2.close()
    r3 = streamlite.connect(tmpdir_path)
    assert r3.execute_command("EMBTEST.POPNOW", "list") == b"b"
    r3.close()


def test_served_blocking_pop_is_persisted_as_its_effect(embtest, tmpdir_path):
    import threading

    r = streamlite.connect(tmpdir_path, appendfsync="always")
    w = streamlite.connect(tmpdir_path)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("v", r.execute_command(
        "EMBTEST.BPOP", "q", 0)))
    t.start()
    host = r.connection_pool.embedded
    deadline = time.monotonic() + 5
    while len(host.blocking) == 0 and time.monotonic() < deadline:
        time.sleep(0.002)
    w.execute_command("EMBTEST.PUSH", "q", "x", "y")
    t.join(5)
    assert box["v"] == [b"q", b"x"]
    r.close()
    w.close()
    r2 = streamlite.connect(tmpdir_path)
    assert r2.execute_command("EMBTEST.POPNOW", "q") == b"y"
    assert r2.execute_command("EMBTEST.POPNOW", "q") is None
    r2.close()


def test_clients_share_one_engine_per_directory(embtest, tmpdir_path):
    a = streamlite.connect(tmpdir_path)
    b = streamlite.from_url("streamlite://" + os.path.abspath(tmpdir_path))
    assert a.connection_pool.embedded is b.connection_pool.embedded
    a.execute_command("EMBTEST.SET", "k", "1")
    assert b.execute_command("EMBTEST.GET", "k") == b"1"
    a.close()
    assert b.execute_command("EMBTEST.GET", "k") == b"1"  # still open: b holds it
    b.close()
    assert a.connection_pool.embedded.closed  # the last client closed it
    with pytest.raises(ValueError, match="other persistence options"):
        c = streamlite.connect(tmpdir_path)
        try:
            streamlite.connect(tmpdir_path, appendfsync="always")
        finally:
            c.close()


def test_kill_9_loses_no_acknowledged_write(embtest, tmpdir_path):
    p = _child("acked", tmpdir_path)
    last = -1
    t0 = time.monotonic()
    assert p.stdout is not None
    while last < 300 and time.monotonic() - t0 < 60:
        line = p.stdout.readline()
        if not line:
            break
        last = int(line)
    p.send_signal(signal.SIGKILL)
    # whatever the child printed after we stopped reading was acknowledged too
    rest = p.communicate(timeout=30)[0]
    for line in rest.split():
        last = max(last, int(line))
    assert last >= 300, p.stderr.read() if p.stderr else ""
    r = streamlite.connect(tmpdir_path)
    missing = [i for i in range(last + 1)
               if r.execute_command("EMBTEST.GET", f"k{i}") != f"v{i}".encode()]
    r.close()
    assert missing == []


def test_one_owner_per_directory(embtest, tmpdir_path):
    """An in-process handle on a directory another process owns is refused (connect()
    attaches instead: tests/shared); the lock dies with its process."""
    real = os.path.realpath(tmpdir_path)
    holder = _child("hold", tmpdir_path)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DirectoryLocked) as e:
            Embedded(tmpdir_path)
        assert str(e.value) == f"data directory {real} is in use by process {holder.pid}"
        assert e.value.socket == os.path.join(real, "streamlite.sock")
    finally:
        holder.kill()
        holder.wait(10)
    # the lock died with the process: the directory opens, with the holder's write
    r = streamlite.connect(tmpdir_path)
    assert not streamlite.embedded.is_attached(r)
    assert r.execute_command("EMBTEST.GET", "holder") == b"1"
    # and now this process holds it
    other = _child("handle", tmpdir_path)
    out = other.communicate(timeout=60)[0].strip()
    assert out == f"DirectoryLocked: data directory {real} is in use by process {os.getpid()}"
    r.close()
    again = _child("handle", tmpdir_path)
    assert again.communicate(timeout=60)[0].strip() == "ok"


def test_atexit_waits_for_rewrite_and_closes(embtest, tmpdir_path):
    needs("SET")  # the rewritten base holds the strings as SET commands
    p = _child("exit-rewrite", tmpdir_path)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert out.strip() == "done"
    manifest = Path(tmpdir_path, "appendonlydir", "appendonly.aof.manifest").read_text()
    # the rewrite finished before the process left: one base (the new one, seq 2)
    assert "appendonly.aof.2.base.aof" in manifest and ".1.base.aof" not in manifest, manifest
    r = streamlite.connect(tmpdir_path)
    assert r.execute_command("EMBTEST.GET", "k0") == b"x" * 100
    assert r.execute_command("EMBTEST.GET", "k299") == b"y"
    r.close()


def test_memory_only_leaves_no_files(embtest, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = streamlite.connect()
    r.execute_command("EMBTEST.SET", "k", "v")
    r.close()
    assert list(tmp_path.iterdir()) == []


def test_embedded_handle_keeps_directory_open(embtest, tmpdir_path):
    e = Embedded(tmpdir_path, appendfsync="always")
    c = e.client()
    c.execute_command("EMBTEST.SET", "k", "v")
    c.close()
    assert not e.host.closed  # the handle still holds it
    e.close()
    assert e.host.closed
    r = streamlite.connect(tmpdir_path)
    assert r.execute_command("EMBTEST.GET", "k") == b"v"
    r.close()


def test_client_reopens_a_closed_directory(embtest, tmpdir_path):
    r = streamlite.connect(tmpdir_path)
    r.execute_command("EMBTEST.SET", "k", "v")
    first = r.connection_pool.embedded
    r.close()
    assert first.closed
    assert r.execute_command("EMBTEST.GET", "k") == b"v"  # reloaded from disk
    assert r.connection_pool.embedded is not first
    r.close()


def test_url_options_reach_persistence(embtest, tmpdir_path):
    r = streamlite.from_url(f"streamlite://{os.path.abspath(tmpdir_path)}?appendfsync=always"
                            "&decode_responses=true")
    assert r.connection_pool.embedded.persistence.cfg.appendfsync == "always"
    r.execute_command("EMBTEST.SET", "k", "v")
    assert r.execute_command("EMBTEST.GET", "k") == "v"
    r.close()


def _eventually(pred, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def test_background_thread_expires_keys(emb):
    needs("SET")
    r = emb.client()
    r.set("short", "v", px=30)
    r.set("long", "v")
    db = emb.engine.dbs[0]
    # nobody reads "short": only the active expiry cycle can remove it
    assert _eventually(lambda: b"short" not in db.data)
    assert b"long" in db.data


def test_background_thread_fsyncs_everysec(embtest, tmpdir_path):
    r = streamlite.connect(tmpdir_path)  # appendfsync everysec
    r.execute_command("EMBTEST.SET", "k", "v")
    writer = r.connection_pool.embedded.persistence.writer
    assert writer.size > 0
    assert _eventually(lambda: not writer.unsynced)
    r.close()


def test_config_shows_and_changes_the_persistence(tmpdir_path):
    needs("CONFIG", "SET")
    r = streamlite.connect(tmpdir_path, decode_responses=True)
    assert r.config_get("dir") == {"dir": os.path.realpath(tmpdir_path)}
    assert r.config_get("appendonly") == {"appendonly": "yes"}
    assert r.config_get("appendfsync") == {"appendfsync": "everysec"}
    assert r.config_set("appendfsync", "always")
    p = r.connection_pool.embedded.persistence
    assert p.cfg.appendfsync == "always" and p.writer.fsync_policy == "always"
    r.set("k", "v")
    assert not p.writer.unsynced  # fsynced before the reply
    r.close()


def test_closing_the_directory_releases_waiting_readers(embtest, tmpdir_path):
    import threading

    import redis

    r = streamlite.connect(tmpdir_path)
    box = {}

    def wait():
        try:
            box["r"] = r.execute_command("EMBTEST.BPOP", "q", 0)
        except redis.ConnectionError as e:
            box["e"] = e

    t = threading.Thread(target=wait)
    t.start()
    host = r.connection_pool.embedded
    assert _eventually(lambda: len(host.blocking) == 1)
    host.close()
    t.join(5)
    assert isinstance(box.get("e"), redis.ConnectionError)
