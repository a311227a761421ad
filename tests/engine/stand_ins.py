"""Minimal SET, DEL, EXISTS and TYPE for the list/set/zset tests.

They belong to the keys/strings module; while that is not merged into this
branch, importing this module registers stand-ins. A real implementation, when
present, is never replaced.
"""

from __future__ import annotations

from typing import Any


def _stub_missing_commands() -> None:
    from streamlite.engine.database import type_name
    from streamlite.engine.registry import COMMANDS, command
    from streamlite.engine.replies import OK, SimpleString

    if b"set" not in COMMANDS:
        @command("set", 3, "write denyoom", 1, 1, 1, group="string")
        def _set(c: Any, argv: list[bytes]) -> Any:
            """SET key value (test stand-in)"""
            c.db.set(argv[1], argv[2])
            return OK

    if b"del" not in COMMANDS:
        @command("del", -2, "write", 1, -1, 1, group="generic")
        def _del(c: Any, argv: list[bytes]) -> Any:
            """DEL key [key ...] (test stand-in)"""
            return sum(1 for k in argv[1:] if c.db.delete(k))

    if b"exists" not in COMMANDS:
        @command("exists", -2, "readonly fast", 1, -1, 1, group="generic")
        def _exists(c: Any, argv: list[bytes]) -> Any:
            """EXISTS key [key ...] (test stand-in)"""
            return sum(1 for k in argv[1:] if c.db.exists(k))

    if b"type" not in COMMANDS:
        @command("type", 2, "readonly fast", 1, 1, 1, group="generic")
        def _type(c: Any, argv: list[bytes]) -> Any:
            """TYPE key (test stand-in)"""
            v = c.db.lookup(argv[1])
            return SimpleString(b"none" if v is None else type_name(v))


_stub_missing_commands()
