"""Child processes on one data directory: ``python -m tests.shared.child MODE DIR [ARGS]``.

- ``hold [FSYNC]``: ``streamlite.connect(DIR)`` (the owner when DIR is free), sets
  ``holder`` to its pid, prints ``ready``, sleeps until killed.
- ``owner``: the same, then runs commands read from stdin, one JSON array per line,
  and prints each reply as one JSON line (bytes as text): the test drives the owner.
- ``slow-owner SECONDS``: an owner whose load takes SECONDS longer: prints ``loading``
  when it holds the lock, ``ready`` once it serves.
- ``forker``: opens DIR, sets ``k``, forks. The forked child attaches to its parent
  (``connect`` again), sets ``from-child``, closes that client and prints ``child
  attached``, then sleeps keeping every descriptor it inherited; the parent prints
  ``forked PID`` and sleeps.
- ``writer TAG``: an attached (or owning) process under ``appendfsync always`` that
  XADDs to ``w:TAG`` forever and prints each acknowledged ID; a command that fails
  with a connection error prints ``err ...`` and the loop goes on.
- ``bgsave-owner PIDFILE``: an owner whose BGSAVE child writes its pid to PIDFILE, then
  takes 60 s before writing the snapshot; prints ``saving`` once the child runs.
- ``spawner ACKDIR``: forks a ``writer`` for each TAG read from stdin (its lines go to
  ``ACKDIR/TAG``) and prints the writer's pid: a new process in milliseconds, the
  imports done once.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import redis

import streamlite


def _text(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, (list, tuple)):
        return [_text(x) for x in v]
    if isinstance(v, dict):
        return {_text(k): _text(x) for k, x in v.items()}
    return v


def writer(path: str, tag: str, out: Any) -> None:
    r = streamlite.connect(path, appendfsync="always", socket_timeout=30)
    print("ready", file=out, flush=True)
    n = 0
    while True:
        n += 1
        try:
            xid = r.xadd(f"w:{tag}", {"n": n})
        except redis.ConnectionError as e:
            print(f"err {type(e).__name__}: {e}", file=out, flush=True)
            continue
        print(xid.decode(), file=out, flush=True)


def main() -> int:
    mode, path = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    if mode == "hold":
        r = streamlite.connect(path, appendfsync=args[0] if args else "everysec")
        r.set("holder", os.getpid())
        print("ready", flush=True)
        time.sleep(600)
        return 0
    if mode == "owner":
        r = streamlite.connect(path, appendfsync="always")
        print("ready", flush=True)
        for line in sys.stdin:
            try:
                reply: Any = r.execute_command(*json.loads(line))
            except redis.RedisError as e:
                reply = f"error: {e}"
            print(json.dumps(_text(reply)), flush=True)
        return 0
    if mode == "slow-owner":
        from streamlite.persistence import manager

        load = manager.Persistence.load

        def slow_load(self: Any) -> None:
            print("loading", flush=True)
            time.sleep(float(args[0]))
            load(self)

        manager.Persistence.load = slow_load  # type: ignore[method-assign]
        r = streamlite.connect(path)
        assert not streamlite.embedded.is_attached(r)
        print("ready", flush=True)
        time.sleep(600)
        return 0
    if mode == "bgsave-owner":
        from streamlite.persistence import manager

        write = manager.write_snapshot

        def slow_write(*a: Any, **kw: Any) -> int:
            with open(args[0], "w") as f:
                f.write(str(os.getpid()))
            time.sleep(60)
            return write(*a, **kw)

        manager.write_snapshot = slow_write  # type: ignore[assignment]
        r = streamlite.connect(path)
        r.set("k", "v")
        r.bgsave()
        deadline = time.monotonic() + 60
        while not os.path.exists(args[0]):  # the child failed if it never writes it
            if time.monotonic() > deadline:
                print("the BGSAVE child never started its save", file=sys.stderr)
                return 1
            time.sleep(0.01)
        print("saving", flush=True)
        time.sleep(600)
        return 0
    if mode == "forker":
        r = streamlite.connect(path)
        r.set("k", "parent")
        pid = os.fork()
        if pid == 0:
            c = streamlite.connect(path)
            ok = streamlite.embedded.is_attached(c)
            c.set("from-child", "1" if ok else "in-process?!")
            c.close()
            print("child attached" if ok else "child NOT attached", flush=True)
            time.sleep(600)
            os._exit(0)
        print(f"forked {pid}", flush=True)
        time.sleep(600)
        return 0
    if mode == "writer":
        writer(path, args[0], sys.stdout)
    if mode == "spawner":
        import signal

        from streamlite.embedded import remote  # noqa: F401  (imports done before forking)

        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed writers are reaped at once
        print("ready", flush=True)
        for line in sys.stdin:
            tag = line.strip()
            pid = os.fork()
            if pid == 0:
                with open(os.path.join(args[0], tag), "w") as out:
                    writer(path, tag, out)
            print(pid, flush=True)
        return 0
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main())
