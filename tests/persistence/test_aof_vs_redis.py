"""Our incremental AOF file against the one Redis 8.2 writes for the same commands:
the same commands, MULTI/EXEC included (a command that propagates several, such as
an XREADGROUP that delivers, is one execution unit), times normalised."""

from __future__ import annotations

import glob
import os
import re

import hiredis
import pytest

from tests.support.diff import RedisConn
from tests.support.redis_proc import have_redis, start_redis

from .helpers import Durable, argv_of, incr_files

pytestmark = pytest.mark.skipif(not have_redis(), reason="needs redis-server")

SCRIPT = [
    ("XADD", "s", "1-1", "f", "v"), ("XADD", "s", "1-2", "f", "v"), ("XADD", "s", "1-3", "f", "v"),
    ("XGROUP", "CREATE", "s", "g", "0"),
    ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "NOACK", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"),
    ("XCLAIM", "s", "g", "carol", "0", "1-1", "1-2"),
    ("XAUTOCLAIM", "s", "g", "dave", "0", "0-0", "COUNT", "1"),
    ("XACK", "s", "g", "1-1"),
    ("XADD", "s", "MAXLEN", "2", "1-4", "f", "v"),
    ("RPUSH", "l", "a", "b", "c", "d"),
    ("LMPOP", "1", "l", "LEFT", "COUNT", "2"),
    ("BLPOP", "l", "0"),
    ("SADD", "set", "x"),
    ("SPOP", "set", "1"),
    ("SET", "k", "v", "EX", "100"),
    ("INCRBYFLOAT", "n", "1.5"),
    ("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("EXEC",),
    ("MULTI",), ("SET", "b", "1"), ("GET", "b"), ("EXEC",),
    ("EVAL", "redis.call('SET', KEYS[1], '1'); redis.call('SET', KEYS[2], '2')", "2", "e1", "e2"),
    ("EVAL", "return redis.call('SET', KEYS[1], '1')", "1", "e3"),
    ("SELECT", "3"), ("SET", "in3", "x"), ("SELECT", "0"),
    ("HSET", "h", "f", "v"), ("HEXPIRE", "h", "100", "FIELDS", "1", "f"),
]


def _commands(paths: list[str]) -> list[tuple[int | None, list[bytes]]]:
    out: list[tuple[int | None, list[bytes]]] = []
    db = 0
    for p in paths:
        r = hiredis.Reader()
        with open(p, "rb") as f:
            r.feed(f.read())
        while (argv := r.gets()) is not False:
            name = argv[0].upper()
            if name == b"SELECT":
                db = int(argv[1])
                continue
            norm = [name] + [re.sub(rb"^\d{13}$", b"<ms>", a) for a in argv[1:]]
            out.append((None if name in (b"MULTI", b"EXEC") else db, norm))
    return out


def test_our_aof_holds_what_redis_writes(tmp_path):
    d = str(tmp_path / "redis")
    os.makedirs(d)
    srv = start_redis(["--appendonly", "yes", "--appendfsync", "always"], dir=d)
    ours = Durable(str(tmp_path / "sl"))
    try:
        conn = RedisConn(srv.port)
        for cmd in SCRIPT:
            conn.call(*cmd)
            ours(*argv_of(*cmd))
        conn.close()
        ours.close()
        theirs = _commands(sorted(glob.glob(os.path.join(d, "appendonlydir", "*.incr.aof"))))
        mine = _commands(incr_files(str(tmp_path / "sl")))
        assert mine == theirs
    finally:
        srv.cleanup()
