"""Busy scripts in embedded mode: a script past ``busy-reply-threshold`` lets others in.

The engine's count hook calls ``process_events`` at every check once a script is
past the threshold (``engine/scripting/busy.py``). Embedded, "events" are the
other threads waiting for the host lock: the script's thread hands the lock back
for a moment (however deep it holds it) and takes it again. Meanwhile another
thread's command gets ``BusyError`` unless it is ``allow-busy``, so SCRIPT KILL,
FUNCTION KILL and FUNCTION STATS work from another thread; the host's background
work and blocked clients wait until the script ends (``Host._finish``/``tick``).

Tasks of an asyncio loop on the script's own thread cannot run meanwhile: that
thread is inside Lua.
"""

from __future__ import annotations

import threading
import time
from typing import Any

PAUSE = 0.0005  # seconds the lock is left to others at each check


class LockYield:
    """``engine.script_host`` of an embedded ``Host``."""

    def __init__(self, lock: threading.RLock) -> None:  # type: ignore[valid-type]
        self.lock = lock

    def run(self, call: Any, c: Any, cmd: Any, argv: list[bytes]) -> Any:
        return call(c, cmd, argv)  # nothing to set up: the script's thread just waits

    def process_events(self) -> None:
        lock: Any = self.lock
        if not lock._is_owned():  # not under the host lock (e.g. the engine used directly)
            return
        state = lock._release_save()  # RLock: released however deep, as Condition does
        try:
            time.sleep(PAUSE)
        finally:
            lock._acquire_restore(state)
