"""Which implementation of the hot paths runs: the C accelerator or pure Python.

``streamlite._speedups`` is an optional C extension (``src/streamlite/_speedups.c``,
built by ``setup.py`` during ``pip install`` when a C compiler is there). It holds
compiled twins of a few pure-Python functions on the read and reply paths; the
Python functions stay the reference: the tests run both on random inputs and
compare (``tests/engine/test_speedups.py``), and the whole suite runs on each path.

- ``STREAMLITE_PURE=1`` in the environment forces the pure-Python path (read once,
  when this module is first imported).
- ``ACTIVE`` is ``"c"`` or ``"pure"``; ``INFO server`` shows it as
  ``streamlite_accelerator`` and the server logs it at start.
- ``speedups`` is the extension module, or None on the pure path.

Modules that have a compiled twin pick it at import: ``x = speedups.x if speedups
else x_py``, keeping ``x_py`` importable for the differential tests.
"""

from __future__ import annotations

import os
from types import ModuleType

speedups: ModuleType | None = None
REASON = ""
# the interface version of _speedups.c this code calls (its ``API`` constant): a build
# left from older sources (no reinstall after a pull) is not used
API = 8

if os.environ.get("STREAMLITE_PURE", "") not in ("", "0"):
    REASON = "STREAMLITE_PURE is set"
else:
    try:
        from . import _speedups as speedups  # type: ignore[attr-defined,no-redef]
    except ImportError as e:  # not built: no compiler at install time
        REASON = f"the C extension is not built ({e})"
    else:
        built = getattr(speedups, "API", None)
        if built != API:
            speedups = None
            REASON = (f"the C extension is out of date (API {built}, this code needs {API}): "
                      "reinstall (pip install -e .) to rebuild it")

ACTIVE = "c" if speedups is not None else "pure"


def describe() -> str:
    """One line for the log: which path runs and why."""
    if speedups is not None:
        return "streamlite accelerator: c (compiled hot paths active)"
    return f"streamlite accelerator: pure ({REASON})"
