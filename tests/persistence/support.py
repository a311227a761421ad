"""Real server processes for the persistence tests: start, wait until loaded, check streams."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import redis

from tests.support.diff import RedisConn
from tests.support.redis_proc import ServerProc, free_port, wait_port


def start(dir: str, *args: str) -> ServerProc:
    """``streamlite server`` on a free port in ``dir``; its log goes to ``dir/server.log``
    (shown if it exits before listening)."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlite", "server", "--port", str(port),
           "--bind", "127.0.0.1", "--dir", dir, *args]
    os.makedirs(dir, exist_ok=True)
    log = open(os.path.join(dir, "server.log"), "ab")  # noqa: SIM115
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    finally:
        log.close()
    try:
        wait_port(port, proc=proc)
    except (RuntimeError, TimeoutError) as e:
        proc.kill()
        proc.wait()
        with open(os.path.join(dir, "server.log"), "rb") as f:
            tail = f.read()[-3000:].decode(errors="replace")
        raise RuntimeError(f"{e}; its log ends with:\n{tail}") from None
    return ServerProc(proc, port, dir, False, args=cmd)


def connect(srv: ServerProc, **kw: Any) -> redis.Redis:
    r = redis.Redis(port=srv.port, socket_timeout=30, **kw)
    wait_loaded(r)
    return r


def wait_loaded(r: redis.Redis, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if r.info("persistence")["loading"] == 0:
                return
        except redis.exceptions.BusyLoadingError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the server is still loading")
        time.sleep(0.02)


def wait_no_child(r: redis.Redis, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        info = r.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["rdb_bgsave_in_progress"] \
                and not info.get("aof_rewrite_scheduled"):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("a background job is still running")
        time.sleep(0.02)


def sid(x: bytes | str) -> tuple[int, int]:
    s = x.decode() if isinstance(x, bytes) else x
    ms, seq = s.split("-")
    return int(ms), int(seq)


def xinfo_full(port: int, key: str) -> list[Any]:
    """``XINFO STREAM key FULL COUNT 0`` as the server sent it (RESP2, hiredis-decoded)."""
    conn = RedisConn(port)
    try:
        out = conn.call("XINFO", "STREAM", key, "FULL", "COUNT", "0")
    finally:
        conn.close()
    assert isinstance(out, list), out
    return out


def check_stream_consistent(port: int, key: str) -> dict[Any, Any]:
    """``XINFO STREAM key FULL`` agrees with itself; returns it as a dict."""
    full = xinfo_full(port, key)
    info = dict(zip(full[0::2], full[1::2], strict=True))
    entries = info[b"entries"]
    assert info[b"length"] == len(entries)
    ids = [sid(e[0]) for e in entries]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    last = sid(info[b"last-generated-id"])
    assert not ids or ids[-1] <= last
    assert info[b"entries-added"] >= info[b"length"]
    for graw in info[b"groups"]:
        g = dict(zip(graw[0::2], graw[1::2], strict=True))
        pending = g[b"pending"]
        assert g[b"pel-count"] == len(pending)
        owners: dict[bytes, set[tuple[int, int]]] = {}
        for pid, owner, _when, count in pending:
            assert count >= 1
            owners.setdefault(owner, set()).add(sid(pid))
        assert all(sid(p[0]) <= sid(g[b"last-delivered-id"]) for p in pending)
        total = 0
        for craw in g[b"consumers"]:
            c = dict(zip(craw[0::2], craw[1::2], strict=True))
            mine = {sid(p[0]) for p in c[b"pending"]}
            assert c[b"pel-count"] == len(mine)
            assert mine == owners.get(c[b"name"], set()), c[b"name"]
            total += len(mine)
        assert total == len(pending)
        er = g[b"entries-read"]
        if er is not None:
            assert 0 <= er <= info[b"entries-added"]
        if g[b"lag"] is not None:
            assert g[b"lag"] >= 0
    return info
