"""Regenerate ``src/streamlite/engine/redis_meta.py`` from a real redis-server 8.2.

    .venv/bin/python -m tests.support.gen_redis_meta

Starts the reference binary (``redis_proc.redis_server_binary()``), reads ``COMMAND``
and writes, for every command and subcommand, Redis's ACL categories and key specs
(flags, begin_search, find_keys, notes): the data ACL key checks and ``COMMAND INFO``
take from Redis rather than derive.
"""

from __future__ import annotations

import pprint
from pathlib import Path
from typing import Any

from tests.support.diff import RedisConn
from tests.support.redis_proc import start_redis

OUT = Path(__file__).resolve().parents[2] / "src/streamlite/engine/redis_meta.py"

HEADER = '''"""Redis 8.2's ACL categories and key specs, per command (generated: do not edit).

Regenerate with ``python -m tests.support.gen_redis_meta`` (reads ``COMMAND`` from
the reference redis-server). ``META[name] = (categories, specs)``: categories as
``COMMAND INFO`` lists them; each spec is ``(flags, begin, find, notes)`` with
``begin`` one of ``("index", pos)``, ``("keyword", word, startfrom)``,
``("unknown",)`` and ``find`` one of ``("range", lastkey, keystep, limit)``,
``("keynum", keynumidx, firstkey, keystep)``, ``("unknown",)``.
``registry.apply_redis_meta`` puts them on the command table.
"""

META: dict[str, tuple[str, tuple[tuple[object, ...], ...]]] = '''


def _d(x: Any) -> Any:
    if isinstance(x, bytes):
        return x.decode()
    if isinstance(x, list):
        if len(x) % 2 == 0 and all(isinstance(k, bytes) for k in x[::2]) and x and \
                x[0] in (b"notes", b"flags", b"begin_search", b"find_keys", b"type", b"spec",
                         b"index", b"keyword", b"startfrom", b"lastkey", b"keystep", b"limit",
                         b"keynumidx", b"firstkey"):
            return {k.decode(): _d(v) for k, v in zip(x[::2], x[1::2], strict=True)}
        return [_d(v) for v in x]
    return x


def spec_tuple(s: dict[str, Any]) -> tuple[object, ...]:
    bs, fk = s["begin_search"], s["find_keys"]
    if bs["type"] == "index":
        begin: tuple[object, ...] = ("index", bs["spec"]["index"])
    elif bs["type"] == "keyword":
        begin = ("keyword", bs["spec"]["keyword"], bs["spec"]["startfrom"])
    else:
        begin = ("unknown",)
    if fk["type"] == "range":
        find: tuple[object, ...] = ("range", fk["spec"]["lastkey"], fk["spec"]["keystep"],
                                    fk["spec"]["limit"])
    elif fk["type"] == "keynum":
        find = ("keynum", fk["spec"]["keynumidx"], fk["spec"]["firstkey"],
                fk["spec"]["keystep"])
    else:
        find = ("unknown",)
    return (" ".join(s["flags"]), begin, find, s.get("notes", ""))


def collect(entries: list[Any], out: dict[str, Any]) -> None:
    for e in entries:
        name = e[0].decode()
        if name != name.lower():  # a module's command (the vector sets of redis 8)
            continue
        cats = " ".join(c.decode() for c in e[6])
        specs = tuple(spec_tuple(_d(s)) for s in e[8])
        out[name] = (cats, specs)
        collect(e[9], out)


def main() -> None:
    srv = start_redis([])
    try:
        conn = RedisConn(srv.port)
        meta: dict[str, Any] = {}
        collect(conn.call("COMMAND"), meta)
        conn.close()
    finally:
        srv.cleanup()
    body = pprint.pformat(dict(sorted(meta.items())), width=96, sort_dicts=False)
    OUT.write_text(HEADER + body + "\n")
    print(f"wrote {OUT} ({len(meta)} commands)")


if __name__ == "__main__":
    main()
