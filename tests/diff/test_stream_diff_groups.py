"""Differential tests: consumer groups (XGROUP, XREADGROUP, XACK, XACKDEL, XPENDING,
XCLAIM, XAUTOCLAIM) and XINFO, against Redis 8.2. Wall-clock fields are masked
(see stream_helpers); everything else, errors included, must match."""

from __future__ import annotations

import pytest
from tests.diff.stream_helpers import cmds, reset_config, run
from tests.support.diff import EngineConn, RedisConn


@pytest.fixture
def conns(redis_conn):
    eng = EngineConn()
    yield redis_conn, eng
    reset_config(redis_conn)


@pytest.fixture
def conns3(redis_server):
    r = RedisConn(redis_server.port, protocol=3)
    r.call("FLUSHALL")
    yield r, EngineConn(protocol=3)
    r.close()


def test_xgroup_subcommands_and_errors(conns):
    run(*conns, cmds("""
        XGROUP
        XGROUP CREATE
        XGROUP CREATE a
        XGROUP FOO a b
        XGROUP HELP x
        XGROUP HELP
        XGROUP CREATE nokey g $
        XGROUP SETID nokey g 0
        XGROUP DESTROY nokey g
        XGROUP CREATECONSUMER nokey g c
        XGROUP DELCONSUMER nokey g c
        XADD s 1-0 f v
        XADD s 2-0 f v
        XGROUP CREATE s g1 $
        XGROUP CREATE s g2 0
        XGROUP CREATE s g3 1-0
        XGROUP CREATE s g4 $ ENTRIESREAD 9999
        XGROUP CREATE s g5 0 ENTRIESREAD 1
        XGROUP CREATE s g6 0 ENTRIESREAD -1
        XGROUP CREATE s g7 0 ENTRIESREAD -2
        XGROUP CREATE s g7 0 ENTRIESREAD x
        XGROUP CREATE s g7 0 ENTRIESREAD
        XGROUP CREATE s g7 0 MKSTREAM ENTRIESREAD 3 foo
        XGROUP CREATE s g7 0 FOO
        XGROUP CREATE s g1 0
        XGROUP CREATE s g8 +
        XGROUP CREATE s g8 -
        XGROUP CREATE s g8 x
        XINFO GROUPS s
        XGROUP SETID s g5 $ ENTRIESREAD 9999
        XGROUP SETID s g2 -
        XGROUP SETID s g3 +
        XGROUP SETID s nog x
        XGROUP SETID s g1 x
        XGROUP SETID s g2 0 ENTRIESREAD 1 ENTRIESREAD 2
        XGROUP SETID s g2 0 MKSTREAM
        XINFO GROUPS s
        XGROUP CREATECONSUMER s g1 c
        XGROUP CREATECONSUMER s g1 c
        XGROUP CREATECONSUMER s nog c
        XGROUP DELCONSUMER s g1 c
        XGROUP DELCONSUMER s g1 c
        XGROUP DELCONSUMER s nog c
        XGROUP DESTROY s g1
        XGROUP DESTROY s g1
        XGROUP CREATE new g $ MKSTREAM
        XGROUP CREATE new2 g $ ENTRIESREAD 5 MKSTREAM
        XINFO STREAM new2 FULL
        XGROUP CREATE s g9 0 MKSTREAM MKSTREAM
        XINFO GROUPS s
        SET str x
        XGROUP CREATE str g 0
        XGROUP CREATE str g 0 MKSTREAM
    """))


def test_xreadgroup_flow_and_pending(conns):
    run(*conns, cmds("""
        XADD s 1-0 a 1
        XADD s 2-0 a 2
        XADD s 3-0 a 3
        XGROUP CREATE s g 0
        XREADGROUP GROUP g alice COUNT 2 STREAMS s >
        XREADGROUP GROUP g bob STREAMS s >
        XREADGROUP GROUP g bob STREAMS s >
        XPENDING s g
        XPENDING s g - + 10
        XPENDING s g - + 10 alice
        XPENDING s g - + 10 nobody
        XPENDING s g (1-0 + 1
        XPENDING s g - (3-0 10
        XPENDING s g IDLE 0 - + 10
        XPENDING s g IDLE 1000000 - + 10
        XREADGROUP GROUP g alice STREAMS s 0
        XREADGROUP GROUP g alice STREAMS s 1-0
        XREADGROUP GROUP g alice COUNT 1 STREAMS s 0
        XPENDING s g - + 10
        XACK s g 1-0 9-0
        XACK s g 1-0
        XREADGROUP GROUP g alice STREAMS s 0
        XINFO GROUPS s
        XINFO CONSUMERS s g
        XINFO STREAM s FULL
        XDEL s 2-0
        XREADGROUP GROUP g alice STREAMS s 0
        XINFO GROUPS s
        XADD s 4-0 a 4
        XINFO GROUPS s
        XREADGROUP GROUP g carol NOACK STREAMS s >
        XPENDING s g
        XINFO GROUPS s
        XINFO CONSUMERS s g
        XGROUP DELCONSUMER s g alice
        XPENDING s g
        XINFO CONSUMERS s g
    """))


def test_xreadgroup_errors(conns):
    run(*conns, cmds("""
        XADD s 1-1 f v
        XREADGROUP STREAMS s >
        XREADGROUP GROUP g c STREAMS s
        XREADGROUP GROUP g c STREAMS s >
        XREADGROUP GROUP g STREAMS s >
        XREADGROUP COUNT 1 STREAMS s >
        XREADGROUP COUNT 1 NOACK STREAMS s >
        XGROUP CREATE s g 0
        XREADGROUP GROUP g c STREAMS s $
        XREADGROUP GROUP g c STREAMS s +
        XREADGROUP GROUP g c STREAMS s foo
        XREADGROUP GROUP g c STREAMS s -
        XREADGROUP GROUP g c STREAMS s t >
        XREADGROUP GROUP g c STREAMS s > >
        XREADGROUP GROUP g c COUNT x STREAMS s >
        XREADGROUP GROUP g c BLOCK x STREAMS s >
        XREADGROUP GROUP g c BLOCK -1 STREAMS s >
        XREADGROUP GROUP g c FOO STREAMS s >
        SET str x
        XREADGROUP GROUP g c STREAMS str >
        XREADGROUP GROUP g c STREAMS nokey >
        XREADGROUP GROUP nog c STREAMS s >
        XREADGROUP GROUP g c GROUP g2 c2 STREAMS s >
        XREADGROUP GROUP g c STREAMS s 0
        XREADGROUP GROUP g c STREAMS s nokey > >
        XREADGROUP GROUP g c COUNT -5 STREAMS s >
        XREADGROUP GROUP g c STREAMS s >
        XREADGROUP GROUP g c STREAMS s >
    """))


def test_xread(conns):
    run(*conns, cmds("""
        XADD s 1-1 f v
        XADD s 2-1 f w
        XREAD STREAMS
        XREAD STREAMS s
        XREAD STREAMS s t 0
        XREAD COUNT x STREAMS s 0
        XREAD COUNT -1 STREAMS s 0
        XREAD COUNT 1 STREAMS s 0
        XREAD COUNT 0 STREAMS s 0
        XREAD BLOCK x STREAMS s 0
        XREAD BLOCK -1 STREAMS s 0
        XREAD BLOCK 1.5 STREAMS s 0
        XREAD FOO STREAMS s 0
        XREAD GROUP g c STREAMS s 0
        XREAD NOACK STREAMS s 0
        XREAD STREAMS s >
        XREAD STREAMS s foo
        XREAD STREAMS s $
        XREAD STREAMS s +
        XREAD COUNT 5 STREAMS s +
        XREAD STREAMS s -
        XREAD STREAMS s 1-1
        XREAD STREAMS s 2-1
        XREAD STREAMS s 1
        SET str x
        XREAD STREAMS str 0
        XREAD STREAMS nokey str 0 0
        XREAD STREAMS s str 0 0
        XREAD STREAMS s s 0 1-1
        XREAD STREAMS nokey s 0 0
        XREAD STREAMS nokey 0
        XREAD STREAMS nokey +
        XREAD COUNT 1 COUNT 2 STREAMS s 0
        XREAD BLOCK 10 STREAMS s 0
        XDEL s 2-1
        XREAD STREAMS s +
        XDEL s 1-1
        XREAD STREAMS s +
        XREAD STREAMS s 0
    """))


def test_lag_and_entries_read(conns):
    # entries-read and lag through deletions, trims, XSETID and SETID (Redis's estimate rules)
    run(*conns, cmds("""
        XADD x 1-0 data a
        XADD x 2-0 data b
        XADD x 3-0 data c
        XADD x 4-0 data d
        XADD x 5-0 data e
        XGROUP CREATE x g1 0
        XINFO GROUPS x
        XREADGROUP GROUP g1 c1 COUNT 1 STREAMS x >
        XINFO GROUPS x
        XDEL x 2-0
        XINFO GROUPS x
        XREADGROUP GROUP g1 c1 COUNT 1 STREAMS x >
        XINFO GROUPS x
        XREADGROUP GROUP g1 c1 COUNT 1 STREAMS x >
        XINFO GROUPS x
        XDEL x 1-0
        XINFO GROUPS x
        XREADGROUP GROUP g1 c1 STREAMS x >
        XINFO GROUPS x
        XADD x 6-0 data f
        XINFO GROUPS x
        XGROUP CREATE x g2 0
        XGROUP CREATE x g3 3-0
        XGROUP CREATE x g4 $
        XGROUP CREATE x g5 9-0
        XINFO GROUPS x
        XTRIM x MAXLEN 1
        XINFO GROUPS x
        XSETID x 10-0 ENTRIESADDED 20 MAXDELETEDID 9-0
        XINFO GROUPS x
        XADD x 11-0 data g
        XINFO GROUPS x
        XREADGROUP GROUP g2 c STREAMS x >
        XINFO GROUPS x
        XGROUP SETID x g3 0 ENTRIESREAD 3
        XINFO GROUPS x
        XGROUP SETID x g4 11-0
        XINFO GROUPS x
        XDEL x 11-0
        XINFO GROUPS x
        XINFO STREAM x FULL
    """))


def test_lag_without_tombstones(conns):
    script = [("XADD", "s", f"{i}-0", "f", str(i)) for i in range(1, 21)]
    script += cmds("""
        XGROUP CREATE s a 0
        XGROUP CREATE s b 5-0
        XGROUP CREATE s c 20-0
        XGROUP CREATE s d 0 ENTRIESREAD 0
        XINFO GROUPS s
        XREADGROUP GROUP a x COUNT 7 STREAMS s >
        XREADGROUP GROUP b x COUNT 3 STREAMS s >
        XREADGROUP GROUP d x COUNT 3 STREAMS s >
        XINFO GROUPS s
        XTRIM s MAXLEN 15
        XINFO GROUPS s
        XTRIM s MINID 11
        XINFO GROUPS s
        XREADGROUP GROUP a x COUNT 2 STREAMS s >
        XREADGROUP GROUP b x STREAMS s >
        XINFO GROUPS s
    """)
    run(*conns, script)


def test_xclaim(conns):
    run(*conns, cmds("""
        XADD s 1-0 f v
        XADD s 2-0 f v
        XADD s 3-0 f v
        XGROUP CREATE s g 0
        XREADGROUP GROUP g alice STREAMS s >
        XCLAIM s g bob x 1-0
        XCLAIM s g bob 0 x
        XCLAIM s g bob 0 1-0 x
        XCLAIM s g bob 0 1-0 IDLE x
        XCLAIM s g bob 0 1-0 TIME x
        XCLAIM s g bob 0 1-0 RETRYCOUNT x
        XCLAIM s g bob 0 1-0 LASTID x
        XCLAIM s g bob 0 1-0 IDLE
        XCLAIM nokey g bob 0 1-0
        XCLAIM s nog bob 0 1-0
        SET str x
        XCLAIM str g bob 0 1-0
        XCLAIM s g bob 3600000 1-0
        XCLAIM s g bob 0 1-0
        XPENDING s g - + 10
        XCLAIM s g bob -5 2-0 JUSTID
        XPENDING s g - + 10
        XCLAIM s g carol 0 2-0 RETRYCOUNT 7 JUSTID
        XCLAIM s g carol 0 3-0 RETRYCOUNT 0
        XPENDING s g - + 10
        XCLAIM s g dave 0 9-0 1-0 FORCE
        XCLAIM s g dave 0 3-0 FORCE JUSTID
        XCLAIM s g dave 0 3-0 LASTID 10-0 JUSTID
        XINFO GROUPS s
        XCLAIM s g dave 0 3-0 LASTID 5-0
        XINFO GROUPS s
        XDEL s 1-0
        XCLAIM s g erin 0 1-0 2-0
        XPENDING s g
        XINFO CONSUMERS s g
        XACK s g 2-0 3-0
        XADD s 4-0 f v
        XCLAIM s g frank 0 4-0 FORCE
        XCLAIM s g frank 0 4-0 FORCE JUSTID RETRYCOUNT 3
        XPENDING s g - + 10
        XINFO STREAM s FULL
    """))


def test_xautoclaim(conns):
    script = [("XADD", "s", f"{i}-0", "f", str(i)) for i in range(1, 13)]
    script += cmds("""
        XGROUP CREATE s g 0
        XREADGROUP GROUP g alice STREAMS s >
        XAUTOCLAIM s g bob x 0
        XAUTOCLAIM s g bob 0 x
        XAUTOCLAIM s g bob 0 0 COUNT 0
        XAUTOCLAIM s g bob 0 0 COUNT x
        XAUTOCLAIM s g bob 0 0 COUNT
        XAUTOCLAIM s g bob 0 0 FOO
        XAUTOCLAIM s g bob 0 0 COUNT 9223372036854775807
        XAUTOCLAIM nokey g bob 0 0
        XAUTOCLAIM s nog bob 0 0
        XAUTOCLAIM s g bob 0 (18446744073709551615-18446744073709551615
        XAUTOCLAIM s g bob 3600000 0
        XAUTOCLAIM s g bob 0 0 COUNT 2
        XAUTOCLAIM s g bob 0 3-0 COUNT 2 JUSTID
        XAUTOCLAIM s g bob 0 (4-0 COUNT 1
        XDEL s 6-0 7-0 9-0
        XAUTOCLAIM s g carol 0 6-0 COUNT 2
        XAUTOCLAIM s g carol 0 0 COUNT 3 JUSTID
        XAUTOCLAIM s g carol 0 0
        XPENDING s g
        XPENDING s g - + 20
        XAUTOCLAIM s g carol 0 100-0
        XINFO CONSUMERS s g
    """)
    run(*conns, script)


def test_xautoclaim_attempts_limit(conns):
    # COUNT 1 scans at most 10 PEL entries: cursor stops inside the PEL
    script = [("XADD", "s", f"{i}-0", "f", str(i)) for i in range(1, 31)]
    script += cmds("""
        XGROUP CREATE s g 0
        XREADGROUP GROUP g alice STREAMS s >
        XAUTOCLAIM s g bob 3600000 0 COUNT 1
        XAUTOCLAIM s g bob 3600000 11-0 COUNT 2
        XAUTOCLAIM s g bob 3600000 0 COUNT 5
    """)
    run(*conns, script)


def test_xackdel(conns):
    run(*conns, cmds("""
        XADD s 1-0 f v
        XADD s 2-0 f v
        XADD s 3-0 f v
        XACKDEL s g IDS 1 3-0
        XGROUP CREATE s g1 0
        XGROUP CREATE s g2 0
        XACKDEL s g1 IDS 1 3-0
        XACKDEL s g1 FOO IDS 1 3-0
        XACKDEL s g1 IDS 2 3-0
        XACKDEL s g1 IDS 1 3-0 4-0
        XACKDEL s g1 KEEPREF DELREF IDS 1 1-1
        XACKDEL s g1 IDS x 1-1
        XACKDEL s nog IDS 1 3-0
        XACKDEL s g1 IDS 1 x
        XACKDEL s
        XACKDEL s g1 IDS 1
        XACKDEL nokey g IDS 2 foo bar
        XREADGROUP GROUP g1 c STREAMS s >
        XREADGROUP GROUP g2 c COUNT 1 STREAMS s >
        XDEL s 1-0
        XACKDEL s g1 IDS 1 1-0
        XACKDEL s g1 ACKED IDS 2 2-0 3-0
        XPENDING s g1
        XRANGE s - +
        XACKDEL s g2 ACKED IDS 1 1-0
        XINFO STREAM s
        XADD s 4-0 f v
        XREADGROUP GROUP g1 c STREAMS s >
        XREADGROUP GROUP g2 c STREAMS s >
        XACKDEL s g1 DELREF IDS 1 4-0
        XPENDING s g2
        XINFO STREAM s
        SET str x
        XACKDEL str g IDS 1 1-0
    """))


def test_xack_errors(conns):
    run(*conns, cmds("""
        XADD s 1-0 f v
        XGROUP CREATE s g 0
        XACK s g
        XACK s g x
        XACK nokey g x
        XACK s nog x
        XACK s g 1-0 x
        SET str x
        XACK str g 1-0
        XPENDING s
        XPENDING s g x
        XPENDING s g - +
        XPENDING s g - + 10 c extra more
        XPENDING s g - + x
        XPENDING s g - + -1
        XPENDING s g IDLE x - + 10
        XPENDING s g IDLE 10 - +
        XPENDING s g x + 10
        XPENDING s g (- + 10
        XPENDING nokey g
        XPENDING s nog
        XPENDING str g
        XPENDING nokey g x + 10
        XPENDING s g - + 0
        XPENDING s g
    """))


def test_consumer_order_and_many_groups(conns):
    script = [("XADD", "s", f"{i}-0", "f", str(i)) for i in range(1, 6)]
    for g in ["zeta", "alpha", "Beta", "a", "ab"]:
        script.append(("XGROUP", "CREATE", "s", g, "0"))
    for cons in ["zz", "b", "A", "aa", "a"]:
        script.append(("XREADGROUP", "GROUP", "alpha", cons, "COUNT", "1", "STREAMS", "s", ">"))
    script += cmds("""
        XINFO GROUPS s
        XINFO CONSUMERS s alpha
        XPENDING s alpha
        XINFO STREAM s FULL
        XINFO STREAM s FULL COUNT 2
        XINFO STREAM s FULL COUNT 0
        XINFO STREAM s FULL COUNT -1
        XINFO STREAM s FOO
        XINFO STREAM s FULL COUNT
        XINFO STREAM s FULL FOO 1
        XINFO STREAM s FULL COUNT x
        XINFO STREAM s FULL COUNT 1 x
        XINFO STREAM nokey
        XINFO GROUPS nokey
        XINFO CONSUMERS s nog
        XINFO CONSUMERS nokey g
        XINFO GROUPS s x
        XINFO
        XINFO FOO s
        XINFO HELP
        XINFO HELP x
        SET str x
        XINFO STREAM str
        XINFO CONSUMERS str g
    """)
    run(*conns, script)


def test_resp3_groups(conns3):
    run(*conns3, cmds("""
        XADD s 1-0 f v
        XADD s 2-0 f v
        XADD t 1-0 f v
        XGROUP CREATE s g 0
        XGROUP CREATE t g 0
        XREADGROUP GROUP g c STREAMS s t > >
        XREADGROUP GROUP g c STREAMS s 0
        XREADGROUP GROUP g c STREAMS s >
        XREAD STREAMS s t 0 0
        XREAD STREAMS s s 0 1-0
        XREAD STREAMS s $
        XPENDING s g
        XPENDING s g - + 10
        XINFO GROUPS s
        XINFO CONSUMERS s g
        XINFO STREAM s
        XINFO STREAM s FULL
        XCLAIM s g d 0 1-0
        XAUTOCLAIM s g d 0 0
        XGROUP HELP
        XINFO HELP
    """))
