"""What the engine propagates (``engine.effects``) against what Redis 8.2 writes to
its AOF for the same commands: the same commands, argument for argument, with only
the absolute times (13-digit ms timestamps) normalised."""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
import time

import hiredis
import pytest
from tests.support.diff import RedisConn
from tests.support.redis_proc import have_redis, start_redis

from streamlite.engine import Engine, FakeClock

pytestmark = pytest.mark.redis

SCRIPT = """
SET a 1
SET b 2 EX 100
SETEX c 100 v
PSETEX c3 100000 v
SET a x NX EX 5
SET a y XX EX 5 GET
SET a z KEEPTTL
SET q z PXAT 1
GET q
GETDEL b
INCRBYFLOAT n 1.5
INCR i
APPEND s x
SETRANGE s 3 y
MSET m1 1 m2 2
MSETNX m1 1 m3 3
EXPIRE a 10 NX
EXPIRE a 20 GT
PEXPIRE a 30000
EXPIREAT a 4102444800
EXPIRE a -1
SET c2 v
GETEX c2 EX 50
GETEX c2 PERSIST
GETEX c2 PERSIST
GETEX c2 EXAT 1
GETSET g v
HSET h f v
HSET h f 10
HINCRBYFLOAT h f 1.5
HEXPIRE h 100 FIELDS 1 f
HINCRBYFLOAT h f 1
HINCRBY h f2 3
HPERSIST h FIELDS 1 f
HGETDEL h FIELDS 2 f nofield
HSET h2 a 1 b 2
HGETEX h2 PX 100000 FIELDS 1 a
HGETEX h2 PERSIST FIELDS 2 a b
HGETEX h2 PXAT 1 FIELDS 1 b
HSETEX h3 EX 100 FIELDS 1 x 1
HSETEX h3 FIELDS 1 y 2
HSETEX h3 KEEPTTL FIELDS 1 x 3
HSETEX h3 FNX PX 0 FIELDS 1 z 3
HEXPIRE h3 100 NX FIELDS 2 x y
HEXPIRE h3 0 FIELDS 1 y
HDEL h3 x
DEL nokey
DEL g nokey
RENAME h2 h4
COPY h4 h5
MOVE h5 1
SWAPDB 0 1
PERSIST c
FLUSHDB
"""


def _norm(items):
    out = []
    for db, argv in items:
        out.append((db, [argv[0].upper()] + [re.sub(rb"^\d{13}$", b"<ts>", a) for a in argv[1:]]))
    return out


@pytest.mark.skipif(not have_redis(), reason="needs redis-server")
def test_propagation_matches_redis_aof():
    d = tempfile.mkdtemp(prefix="streamlite-aof-")
    srv = start_redis(extra=["--appendonly", "yes", "--appendfsync", "always"], dir=d)
    try:
        r = RedisConn(srv.port)
        eng = Engine(FakeClock(int(time.time() * 1000)))
        c = eng.client()
        eng.effects = []
        for line in SCRIPT.strip().splitlines():
            argv = line.split()
            r.call(*argv)
            eng.execute(c, [a.encode() for a in argv])
        r.close()
        path = sorted(glob.glob(os.path.join(d, "appendonlydir", "*.incr.aof")))[-1]
        reader = hiredis.Reader()
        with open(path, "rb") as f:
            reader.feed(f.read())
        theirs = []
        db = 0
        while (x := reader.gets()) is not False:
            if x[0].upper() == b"SELECT":
                db = int(x[1])
            else:
                theirs.append((db, x))
        assert _norm(eng.effects) == _norm(theirs)
    finally:
        srv.cleanup()
        shutil.rmtree(d, ignore_errors=True)
