"""The thread a server's start loads its data in, started before the engine is imported.

A big load makes its objects with the GIL held, and fresh memory costs a page fault
per 4 KB (8,000 for a million stream entries, 15-20 ms on the reference machine).
``streamlite server`` starts this thread first thing: it reads which files the load
will read (``peek``: the data directory and file names from the command line and the
config file, as the configuration will have them), faults in about that much of its
own heap without the GIL (``_speedups.prefault_heap``) while the main thread imports
the engine, then waits for the load itself (``prestart`` hands it over once the
directory is locked and the sockets listen), and gives back what the load did not
take (``trim_heap``).

It imports nothing heavy (it runs before the engine is imported), and a wrong guess
costs nothing but the head start: the files are only measured here, never read.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from .. import accel

# the files a load reads, by the config names that place them (defaults as the config's)
_NAMES = {"dir": ".", "appendonly": "no", "appenddirname": "appendonlydir",
          "appendfilename": "appendonly.aof", "dbfilename": "dump.sldb"}


def peek(lines: list[list[str]]) -> int:
    """Bytes of the files the load will read, for config ``lines`` (``[name, value]``
    ... in order, the last one winning, as the configuration applies them): the AOF's
    files when ``appendonly`` is on and its manifest exists, else the snapshot; 0 when
    there is none (or the guess fails)."""
    cfg = dict(_NAMES)
    for ln in lines:
        if len(ln) == 2 and ln[0].lower() in cfg:
            cfg[ln[0].lower()] = ln[1]
    try:
        if cfg["appendonly"].lower() == "yes":
            aof = os.path.join(cfg["dir"], cfg["appenddirname"])
            manifest = os.path.join(aof, cfg["appendfilename"] + ".manifest")
            if os.path.exists(manifest):
                with open(manifest, "rb") as f:
                    names = [ln.split()[1] for ln in f.read(1 << 16).splitlines()
                             if ln.startswith(b"file ") and len(ln.split()) > 1]
                return sum(os.path.getsize(os.path.join(aof, os.fsdecode(n))) for n in names)
        return os.path.getsize(os.path.join(cfg["dir"], cfg["dbfilename"]))
    except (OSError, ValueError):
        return 0


class LoadThread:
    """A thread that faults in ``nbytes`` of its heap, then runs the one job ``run``
    hands it (``cancel`` ends it without one)."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes
        self._job: Callable[[], None] | None = None
        self._handed = threading.Event()
        self.thread = threading.Thread(target=self._main, name="streamlite-load", daemon=True)
        self.thread.start()

    def _main(self) -> None:
        sp = accel.speedups
        if sp is not None and self.nbytes:
            sp.prefault_heap(self.nbytes)
        self._handed.wait()
        try:
            if self._job is not None:
                self._job()
        finally:
            if sp is not None and self.nbytes:
                sp.trim_heap()

    def run(self, job: Callable[[], None]) -> None:
        self._job = job
        self._handed.set()

    def cancel(self) -> None:
        self._handed.set()

    def is_alive(self) -> bool:
        return self.thread.is_alive()

    def join(self) -> None:
        self.thread.join()
