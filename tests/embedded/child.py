"""Child processes for the durability tests: ``python -m tests.embedded.child MODE DIR``.

- ``acked``: ``appendfsync always``; sets k0, k1, ... and prints each index once the
  command returned (= acknowledged), forever, until killed.
- ``hold``: opens the directory, prints ``ready``, sleeps until killed.
- ``exit-rewrite``: writes, starts BGREWRITEAOF, exits without closing anything:
  the atexit hook must wait for the rewrite and close the AOF.
- ``open``: tries to open the directory, prints ``ok`` or the error, exits.
- ``handle``: the same with ``Embedded(DIR)`` (an in-process handle: never attaches).
"""

from __future__ import annotations

import sys
import time

import streamlite
from tests.embedded.support import register


def main() -> int:
    mode, path = sys.argv[1], sys.argv[2]
    register()
    if mode == "acked":
        r = streamlite.connect(path, appendfsync="always")
        i = 0
        while True:
            r.execute_command("EMBTEST.SET", f"k{i}", f"v{i}")
            print(i, flush=True)
            i += 1
    if mode == "hold":
        r = streamlite.connect(path)
        r.execute_command("EMBTEST.SET", "holder", "1")
        print("ready", flush=True)
        time.sleep(600)
        return 0
    if mode == "exit-rewrite":
        r = streamlite.connect(path, appendfsync="no")
        for i in range(200):
            r.execute_command("EMBTEST.SET", f"k{i}", "x" * 100)
        r.execute_command("BGREWRITEAOF")
        for i in range(200, 300):
            r.execute_command("EMBTEST.SET", f"k{i}", "y")
        print("done", flush=True)
        return 0  # no close(): atexit must flush, wait for the rewrite, close the AOF
    if mode == "open":
        try:
            r = streamlite.connect(path)
            r.ping()
            print("ok", flush=True)
        except Exception as e:  # noqa: BLE001
            print(f"{type(e).__name__}: {e}", flush=True)
        return 0
    if mode == "handle":
        try:
            streamlite.Embedded(path).close()
            print("ok", flush=True)
        except Exception as e:  # noqa: BLE001
            print(f"{type(e).__name__}: {e}", flush=True)
        return 0
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main())
