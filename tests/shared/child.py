"""Child processes on one data directory: ``python -m tests.shared.child MODE DIR [ARGS]``.

- ``hold``: ``streamlite.connect(DIR)``, sets ``holder`` to its pid, prints ``ready``,
  sleeps until killed.
"""

from __future__ import annotations

import os
import sys
import time

import streamlite


def main() -> int:
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "hold":
        r = streamlite.connect(path)
        r.set("holder", os.getpid())
        print("ready", flush=True)
        time.sleep(600)
        return 0
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main())
