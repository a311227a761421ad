"""What list, set and sorted-set commands propagate (``engine.effects``) against
what Redis 8.2 writes to its AOF for the same commands, argument for argument;
blocking pops served by a later write included. Random choices (SPOP) compare by
shape: the same command, key and number of members."""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import time

import hiredis
import pytest
from tests.diff.blocking_harness import RedisSide
from tests.support.redis_proc import have_redis, start_redis

from streamlite.engine import Engine, FakeClock
from streamlite.engine.blocking import BlockingManager
from streamlite.engine.replies import Blocked

pytestmark = [pytest.mark.redis, pytest.mark.timeout(120),
              pytest.mark.skipif(not have_redis(), reason="needs redis-server")]

# (client, command); client 1 sends blocking commands that a later write serves
SCRIPT = """
0 RPUSH l a b c d e f
0 LPUSH l z
0 LPUSHX nokey a
0 RPUSHX l y
0 LPOP l
0 RPOP l 2
0 LPOP l 0
0 LPOP nokey
0 LSET l 0 q
0 LINSERT l BEFORE q w
0 LINSERT l BEFORE nope w
0 LREM l 1 w
0 LREM l 0 nope
0 LTRIM l 0 -1
0 LTRIM l 0 1
0 LMOVE l l2 LEFT RIGHT
0 RPOPLPUSH l2 l2
0 LMPOP 2 nokey l RIGHT COUNT 5
0 LMPOP 1 nokey LEFT
0 RPUSH m 1 2 3
0 BLPOP m 0
0 BRPOP m 0
0 BLMOVE m l2 LEFT LEFT 0
0 BLMPOP 0 1 l2 LEFT COUNT 9
1 BLPOP bq 0
0 RPUSH bq x y
1 BRPOP bq 0
0 LPUSH bq2 v
1 BLMOVE src dst LEFT RIGHT 0
0 RPUSH src v
1 BRPOPLPUSH src dst 0
0 RPUSH src w
1 BLMPOP 0 2 nokey src2 LEFT COUNT 3
0 RPUSH src2 1 2
0 SADD s 1 2 3 a
0 SADD s 1
0 SREM s 3 nope
0 SREM s nope
0 SMOVE s s2 a
0 SMOVE s s2 nope
0 SINTERSTORE d s s2
0 SUNIONSTORE d s s2
0 SDIFFSTORE d s s2
0 SINTERSTORE d nokey s
0 SINTERSTORE d nokey s
0 SRANDMEMBER s 2
0 ZADD z 1 a 2 b 3 c
0 ZADD z NX 5 a
0 ZADD z XX CH 5 a 9 nope
0 ZADD z 5 a
0 ZADD z INCR 1.5 a
0 ZADD z INCR 0 a
0 ZINCRBY z 2 b
0 ZINCRBY z -inf c
0 ZREM z nope
0 ZREM z c
0 ZADD z 1 c 2 d 3 e 4 f 0 g 0 h
0 ZREMRANGEBYRANK z 0 0
0 ZREMRANGEBYRANK z 50 60
0 ZREMRANGEBYSCORE z (2 3
0 ZREMRANGEBYLEX z [a [b
0 ZPOPMIN z
0 ZPOPMAX z 2
0 ZPOPMIN z 0
0 ZMPOP 2 nokey z MIN COUNT 10
0 ZADD y 1 a 2 b 3 c
0 ZRANGESTORE d2 y 0 1
0 ZRANGESTORE d2 y 5 9
0 ZUNIONSTORE d3 2 y nokey WEIGHTS 2 3
0 ZINTERSTORE d3 2 y y AGGREGATE MAX
0 ZDIFFSTORE d3 1 y
0 BZPOPMIN y 0
0 BZMPOP 0 1 y MAX COUNT 9
1 BZPOPMAX bz 0
0 ZADD bz 1 a 2 b
1 BZMPOP 0 1 bz MIN COUNT 4
0 ZADD bz 3 c
0 ZRANDMEMBER bz 2
0 SELECT 3
0 RPUSH other v
"""


def _read_aof(d: str) -> list[tuple[int, list[bytes]]]:
    path = sorted(glob.glob(os.path.join(d, "appendonlydir", "*.incr.aof")))[-1]
    reader = hiredis.Reader()
    with open(path, "rb") as f:
        reader.feed(f.read())
    out = []
    db = 0
    while (x := reader.gets()) is not False:
        if x[0].upper() == b"SELECT":
            db = int(x[1])
        else:
            out.append((db, [x[0].upper(), *x[1:]]))
    return out


def _run(script: str, d: str, port: int) -> tuple[list, list]:
    """Run ``script`` on Redis (clients in lock step: each command answered or seen
    blocked before the next) and on the engine; return both propagations."""
    redis = RedisSide(port, 2)
    eng = Engine(FakeClock(int(time.time() * 1000)))
    mgr = BlockingManager(eng)
    clients = [eng.client(), eng.client()]
    eng.effects = []
    for idx, line in enumerate(script.strip().splitlines()):
        who, *argv = line.split()
        i = int(who)
        redis.step(idx, i, argv)
        reply = eng.execute(clients[i], [a.encode() for a in argv])
        if type(reply) is Blocked:
            mgr.block(clients[i], reply)
        mgr.serve_ready()
    redis.close()
    return [(db, [a[0].upper(), *a[1:]]) for db, a in eng.effects], _read_aof(d)


def test_propagation_matches_redis_aof():
    d = tempfile.mkdtemp(prefix="streamlite-aof-")
    srv = start_redis(extra=["--appendonly", "yes", "--appendfsync", "always"], dir=d)
    try:
        ours, theirs = _run(SCRIPT, d, srv.port)
        assert ours == theirs
    finally:
        srv.cleanup()
        shutil.rmtree(d, ignore_errors=True)


SPOP_SCRIPT = """
0 SADD s 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
0 SPOP s
0 SPOP s 3
0 SPOP s 14
0 SPOP s 0
0 SPOP nokey
0 SADD t a b
0 SPOP t 5
0 SADD h a b c d e f g h i j k l m n o p q r s t u v w x y z A B C D E F G H I J K L M N O P Q R S T U V W X Y Z 0 1 2 3 4 5 6 7 8 9 aa bb cc dd ee ff gg hh ii jj kk ll mm nn oo pp qq rr ss tt uu vv ww xx yy zz AA BB CC DD EE FF GG HH II JJ KK LL MM NN OO PP QQ RR SS TT UU VV WW XX YY ZZ 00 11 22 33 44 55 66 77 88 99 aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk lll mmm nnn ooo ppp qqq rrr sss ttt uuu
0 SPOP h 100
"""


def _shape(items):
    return [(db, argv[0], argv[1], len(argv)) for db, argv in items]


def test_spop_propagation_shape_matches_redis_aof():
    d = tempfile.mkdtemp(prefix="streamlite-aof-")
    srv = start_redis(extra=["--appendonly", "yes", "--appendfsync", "always"], dir=d)
    try:
        ours, theirs = _run(SPOP_SCRIPT, d, srv.port)
        assert _shape(ours) == _shape(theirs)
    finally:
        srv.cleanup()
        shutil.rmtree(d, ignore_errors=True)
