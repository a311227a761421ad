"""Reading the encoding thresholds (``list-max-listpack-size`` & co) from the config."""

from __future__ import annotations

from typing import Any


def conf_int(engine: Any, name: str, default: int) -> int:
    """``engine.config[name]`` as an int (the config table may hold bytes, str or int)."""
    v = engine.config.get(name, default)
    if isinstance(v, int):
        return v
    try:
        return int(v)
    except (TypeError, ValueError):
        return default
