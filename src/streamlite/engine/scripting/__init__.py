"""Lua scripting (EVAL and friends) with Redis's semantics, on ``lupa``'s Lua 5.1.

- ``runtime``: the per-engine interpreter, script cache and runner;
- ``sandbox``: the Lua environment scripts see (globals, ``redis.*``, errors);
- ``convert``: replies <-> Lua values; ``numbers``: Redis's number formatting.

The commands live in ``engine/commands/scripting.py``.
"""

from .runtime import Scripting, get_scripting

__all__ = ["Scripting", "get_scripting"]
