"""Differential tests: stream entry commands (XADD, XLEN, XRANGE, XREVRANGE, XDEL,
XDELEX, XTRIM, XSETID) and the node layout XINFO STREAM reports, against Redis 8.2."""

from __future__ import annotations

import pytest
from tests.diff.stream_helpers import cmds, reset_config, run, set_config
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


def test_xadd_ids_and_errors(conns):
    run(*conns, cmds("""
        XADD s 1-1 a 1
        XADD s 1-1 a 1
        XADD s 1-0 a 1
        XADD s 1-* a 2
        XADD s 1-* a 3
        XADD s 0-* a 3
        XADD s 5 a 4
        XADD s 5-* a 5
        XADD s 6-18446744073709551615 a 6
        XADD s 6-* a 7
        XADD t 0-0 a 1
        XADD t 0 a 1
        EXISTS t
        XADD t 0-* a 1
        XADD t foo a 1
        XADD t - a 1
        XADD t + a 1
        XADD t 1-x a 1
        XADD t 18446744073709551616-0 a 1
        XADD t 1--1 a 1
        XADD t 01-1 a 1
        XADD t -1 a 1
        XADD s 9
        XADD s 9 a
        XADD s 9 a 1 b
        XADD s NOMKSTREAM 10 a 1
        XADD nokey NOMKSTREAM 10 a 1
        EXISTS nokey
        XADD s 18446744073709551615-18446744073709551615 a 1
        XADD s 18446744073709551615-* a 1
        XRANGE s - +
        XLEN s
        XLEN nokey
        SET str x
        XADD str 1 a 1
        XLEN str
        XADD str MAXLEN x 1 a 1
    """))


def test_xadd_trim_options_errors(conns):
    run(*conns, cmds("""
        XADD s MAXLEN -1 1 f v
        XADD s MAXLEN x 1 f v
        XADD s MAXLEN 5 MINID 3 1 f v
        XADD s MINID 5 MAXLEN 3 1 f v
        XADD s LIMIT 5 1 f v
        XADD s MAXLEN 5 LIMIT 5 1 f v
        XADD s MAXLEN = 5 LIMIT 5 1 f v
        XADD s MAXLEN ~ 5 LIMIT -1 1 f v
        XADD s MAXLEN ~ 5 LIMIT x 1 f v
        XADD s MINID ~ x 1 f v
        XADD s MINID + 1 f v
        XADD s KEEPREF DELREF 1 f v
        XADD s KEEPREF KEEPREF 1 f v
        XADD s ACKED 1 f v
        XADD s DELREF MAXLEN 0 2 f v
        XADD s KEEPREF NOMKSTREAM MAXLEN ~ 0 LIMIT 0 3 f v
        XRANGE s - +
        XTRIM s
        XTRIM s MAXLEN
        XTRIM s MAXLEN 1 foo
        XTRIM s LIMIT 1 MAXLEN 1
        XTRIM s MAXLEN 1 LIMIT 1
        XTRIM s MAXLEN = 1 ACKED
        XTRIM s MAXLEN 1 KEEPREF DELREF
        XTRIM s MINID 1 MAXLEN 1
        XTRIM nokey MAXLEN 1
        SET str x
        XTRIM str MAXLEN 1
        XTRIM str MAXLEN x
    """))


def test_xrange_bounds_and_count(conns):
    ids = ["0-1", "0-18446744073709551615", "1-0", "42-0", "42-42",
           "18446744073709551615-18446744073709551614", "18446744073709551615-18446744073709551615"]
    script = [("XADD", "v", i, "foo", "bar") for i in ids]
    script += cmds("""
        XRANGE v - +
        XRANGE v (0-1 +
        XRANGE v - (18446744073709551615-18446744073709551615
        XRANGE v (0-1 (1-0
        XRANGE v (1-0 (42-42
        XRANGE v (- +
        XRANGE v - (+
        XRANGE v ( +
        XRANGE v (18446744073709551615-18446744073709551615 +
        XRANGE v - (0-0
        XRANGE v 42 42
        XRANGE v 42-1 +
        XRANGE v - 0
        XRANGE v + -
        XRANGE v - + COUNT 2
        XRANGE v - + COUNT 0
        XRANGE v - + COUNT -1
        XRANGE v - + COUNT
        XRANGE v - + COUNT x
        XRANGE v - + FOO 1
        XRANGE v - + COUNT 1 COUNT 3
        XREVRANGE v + -
        XREVRANGE v + - COUNT 3
        XREVRANGE v (42-42 (0-1
        XREVRANGE v 42 -
        XREVRANGE v + - COUNT 0
        XRANGE nokey - +
        XRANGE nokey - + COUNT 0
        XRANGE v x +
        XRANGE v 1-x +
        SET str x
        XRANGE str - +
        XRANGE str - + COUNT 0
    """)
    run(*conns, script)


def test_xrange_same_fields_and_different_fields(conns):
    # entries share the master fields or not: both must read back alike
    script = cmds("""
        XADD s 1 a 1 b 2
        XADD s 2 a 3 b 4
        XADD s 3 b 5 a 6
        XADD s 4 a 7
        XADD s 5 a 8 b 9 c 10
        XADD s 6 a 11 b 12
        XADD s 7 a -1 b 18446744073709551616
        XADD s 8 a 0 b -0
        XRANGE s - +
        XREVRANGE s + -
        XRANGE s 3 5
        XREVRANGE s 5 3
    """)
    script.append(("XADD", "s", "9", "", "", "x" * 200, "y" * 5000))
    script.append(("XRANGE", "s", "9", "9"))
    run(*conns, script)


def test_xdel_and_node_layout(conns):
    r, e = conns
    set_config(r, e, "stream-node-max-entries", 4)
    script = [("XADD", "s", f"{i}-1", "f", str(i)) for i in range(1, 18)]
    script += cmds("""
        XINFO STREAM s
        XDEL s 1-1 3-1
        XINFO STREAM s
        XDEL s 2-1 4-1
        XINFO STREAM s
        XDEL s 17-1
        XINFO STREAM s
        XADD s 18-1 f 18
        XINFO STREAM s
        XDEL s 9-1 9-1 10-1 100-1
        XDEL s 7 foo
        XDEL s +
        XDEL nokey foo
        XDEL s
        XRANGE s - +
        XREVRANGE s + -
        XINFO STREAM s
        XINFO STREAM s FULL
        XDEL s 5-1 6-1 7-1 8-1 11-1 12-1 13-1 14-1 15-1 16-1 18-1
        XINFO STREAM s
        XADD s 19-1 f 19
        XINFO STREAM s
    """)
    run(*conns, script)


def test_maxlen_approx_leaves_whole_nodes(conns):
    # Redis's "XADD with MAXLEN option and the '~' argument" leaves 600
    script = [("XADD", "s", "MAXLEN", "~", "555", f"{i + 1}-0", "xitem", str(i)) for i in range(1000)]
    script += cmds("""
        XLEN s
        XINFO STREAM s
        XTRIM s MAXLEN ~ 444
        XLEN s
        XTRIM s MAXLEN 399
        XINFO STREAM s
        XTRIM s MAXLEN ~ 0
        XINFO STREAM s
        XTRIM s MINID ~ 900
        XTRIM s MINID 950
        XINFO STREAM s
        XRANGE s - + COUNT 3
    """)
    run(*conns, script)


def test_node_byte_limit(conns):
    # big values close nodes by bytes, as listpacks do
    script = []
    for i in range(1, 120):
        size = (i * 37) % 700
        script.append(("XADD", "s", f"{i}-0", "field", "v" * size, "n", str(i * 1000)))
    script += cmds("""
        XINFO STREAM s
        XTRIM s MAXLEN ~ 60
        XINFO STREAM s
        XTRIM s MINID ~ 100
        XINFO STREAM s
    """)
    run(*conns, script)


def test_node_byte_limit_config(conns):
    r, e = conns
    set_config(r, e, "stream-node-max-bytes", 300)
    script = [("XADD", "s", f"{i}-{i % 3}", "k", "x" * (i % 50), "num", str(-i * 4099))
              for i in range(1, 80)]
    script += [("XADD", "s", "100-0", "other", "fields")]
    script += cmds("""
        XINFO STREAM s
        XTRIM s MAXLEN ~ 30
        XINFO STREAM s
    """)
    run(*conns, script)
    set_config(r, e, "stream-node-max-bytes", 0)
    run(r, e, [("XADD", "s2", f"{i}", "k", "x" * 100) for i in range(1, 150)]
        + cmds("XINFO STREAM s2"))


def test_limit_and_exact_trims(conns):
    r, e = conns
    set_config(r, e, "stream-node-max-entries", 10)
    script = [("XADD", "s", f"{i}-0", "xitem", "v") for i in range(1, 101)]
    script += cmds("""
        XADD s MAXLEN ~ 55 LIMIT 30 101-0 xitem v
        XLEN s
        XADD s MAXLEN ~ 55 LIMIT 30 102-0 xitem v
        XLEN s
        XTRIM s MAXLEN ~ 0 LIMIT 5
        XTRIM s MAXLEN ~ 0 LIMIT 10
        XTRIM s MAXLEN 5
        XINFO STREAM s
        XTRIM s MINID 99
        XINFO STREAM s
        XTRIM s MINID = 101-0
        XRANGE s - +
    """)
    run(*conns, script)


def test_trim_with_groups_policies(conns):
    r, e = conns
    set_config(r, e, "stream-node-max-entries", 2)
    script = cmds("""
        XADD s 1-0 f v
        XADD s 2-0 f v
        XADD s 3-0 f v
        XADD s 4-0 f v
        XADD s 5-0 f v
        XGROUP CREATE s g 0
        XREADGROUP GROUP g c STREAMS s >
        XACK s g 1-0 2-0 4-0
        XTRIM s MAXLEN = 0 ACKED
        XRANGE s - +
        XINFO STREAM s
        XPENDING s g
        XADD s 6-0 f v
        XADD s 7-0 f v
        XTRIM s MAXLEN = 1 DELREF
        XRANGE s - +
        XPENDING s g
        XINFO STREAM s
        XADD s 8-0 f v
        XGROUP CREATE s g2 0
        XADD s MAXLEN = 1 ACKED 9-0 f v
        XLEN s
        XREADGROUP GROUP g2 c STREAMS s >
        XADD s MAXLEN = 1 KEEPREF 10-0 f v
        XLEN s
        XPENDING s g2
    """)
    run(*conns, script)


def test_xsetid(conns):
    run(*conns, cmds("""
        XADD s 1-0 f v
        XADD s 2-0 f v
        XSETID s
        XSETID s 5 ENTRIESADDED
        XSETID s 5 ENTRIESADDED -1
        XSETID s 5 ENTRIESADDED 1
        XSETID s 5 MAXDELETEDID 6
        XSETID s 5 MAXDELETEDID +
        XSETID s +
        XSETID s 1
        XSETID s 5 FOO
        XSETID nokey 5
        XSETID s 5 ENTRIESADDED 7 MAXDELETEDID 3
        XINFO STREAM s
        XDEL s 2-0
        XSETID s 2-0
        XSETID s 4
        XINFO STREAM s
        XADD s 4-0 f v
        XADD s 5-0 f v
        XADD s 5-1 f v
        XSETID s 5-1 MAXDELETEDID 0-0
        XINFO STREAM s
        SET str x
        XSETID str 5
        XADD e MAXLEN 0 1-0 a b
        XINFO STREAM e
        XSETID e 200-0
        XINFO STREAM e
        XADD e 100-0 a b
        XADD e 201-0 a b
        XDEL e 201-0
        XSETID e 200
        XSETID e 0
    """))


def test_xdelex(conns):
    run(*conns, cmds("""
        XADD s 1-0 f v
        XADD s 2-0 f v
        XADD s 3-0 f v
        XDELEX s IDS 1 1-0 foo
        XDELEX s IDS
        XDELEX s IDS 1
        XDELEX s IDS 2 1-0
        XDELEX s IDS 1 1-0 2-0
        XDELEX s IDS x 1-0
        XDELEX s IDS 0 1-0
        XDELEX s IDS -1 1-0
        XDELEX s IDS 01 1-0
        XDELEX s FOO IDS 1 1-0
        XDELEX s KEEPREF KEEPREF IDS 1 1-0
        XDELEX s IDS 1 1-0 KEEPREF KEEPREF
        XDELEX s KEEPREF IDS 1 1-0 DELREF
        XDELEX s IDS 1 foo
        XDELEX s IDS 1 +
        XDELEX s IDS 1 foo IDS 1 1-0
        XDELEX nokey IDS 2 1-0 foo
        XDELEX s ACKED IDS 2 2-0 9-0
        XINFO STREAM s
        XGROUP CREATE s g1 0
        XGROUP CREATE s g2 0
        XREADGROUP GROUP g1 c STREAMS s >
        XDELEX s ACKED IDS 1 3-0
        XACK s g1 3-0
        XDELEX s ACKED IDS 1 3-0
        XREADGROUP GROUP g2 c STREAMS s >
        XDELEX s ACKED IDS 2 3-0 8-0
        XDELEX s DELREF IDS 1 3-0
        XPENDING s g2
        XINFO STREAM s
        XDELEX s IDS 1 1-0 IDS 2 1-0 2-0
        SET str x
        XDELEX str IDS 1 1-0
    """))


def test_resp3_replies(conns3):
    run(*conns3, cmds("""
        XADD s 1-0 f v
        XADD s 2-0 f v g w
        XRANGE s - +
        XRANGE s - + COUNT 0
        XREVRANGE s + - COUNT 1
        XINFO STREAM s
        XINFO STREAM s FULL
        XADD s NOMKSTREAM 3-0 f v
        XADD nokey NOMKSTREAM 3-0 f v
        XDELEX s IDS 2 1-0 5-0
        XINFO STREAM s
    """))
