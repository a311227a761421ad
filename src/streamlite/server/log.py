"""The server's log lines, in Redis's format (``pid:M 07 Dec 2026 17:25:39.515 * text``)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
_MARKS = {"debug": ".", "verbose": "-", "notice": "*", "warning": "#"}


def log_line(config: Mapping[str, Any], msg: str, level: str = "notice") -> None:
    """Write ``msg`` to the ``logfile`` of ``config`` (stderr when none) if ``loglevel``
    lets ``level`` through."""
    want = LEVELS.get(config.get("loglevel", "notice"), 2)
    if LEVELS.get(level, 2) < want:
        return
    t = time.time()
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"
    line = f"{os.getpid()}:M {stamp} {_MARKS.get(level, '*')} {msg}"
    path = config.get("logfile", "")
    if path:
        try:
            with open(path, "a") as f:
                f.write(line + "\n")
            return
        except OSError:
            pass
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        # stderr is gone (its reader died: a broken pipe): as Redis, a log line that
        # cannot be written is dropped; it must never stop the server, or its
        # shutdown (SIGTERM was ignored). Later lines go nowhere, quietly.
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the process's life
