"""XNACK (Redis 8.8): release pending entries back to the group without acking them.

Redis 8.2.3, the differential reference, has no XNACK, so these tests follow the
sources named on each: the redis.io XNACK page (content/commands/xnack.md of
redis/docs: modes, FORCE, examples, "Behavior" and "Notes"), the Redis PR that
added it (redis/redis#14797: the NACK zone at the head of the time-ordered PEL,
FIFO among released entries, ``consumer = NULL``, ``delivery_time = 0``, the mode
error text, AOF rewrite as ``XNACK key group FAIL IDS 1 id RETRYCOUNT n FORCE``)
and the node-redis integration test (XNACK.spec.ts). Where those are silent the
test says "guessed" and why.
"""

from __future__ import annotations

from typing import Any

import pytest

from streamlite.engine import Engine, FakeClock
from streamlite.engine.blocking import BlockingManager
from streamlite.engine.replies import Blocked, ErrorReply
from streamlite.persistence.rewrite import dataset_commands

LLONG_MAX = (1 << 63) - 1


def err(r: Any) -> str:
    assert isinstance(r, ErrorReply), r
    return r.text


def run_err(r: Any, *argv: Any) -> str:
    try:
        out = r(*argv)
    except Exception as e:  # noqa: BLE001 - the engine raises CommandError
        return str(e)
    return err(out)


def setup_two(r: Any) -> None:
    """The documented example's start: two entries delivered to consumer1."""
    r("XADD", "mystream", "1526569498055-0", "field", "value1")
    r("XADD", "mystream", "1526569498056-0", "field", "value2")
    r("XGROUP", "CREATE", "mystream", "mygroup", "0")
    r("XREADGROUP", "GROUP", "mygroup", "consumer1", "STREAMS", "mystream", ">")


def pending(r: Any, key: str = "mystream", group: str = "mygroup") -> list[Any]:
    return r("XPENDING", key, group, "-", "+", "100")


def group_full(r: Any, key: str = "mystream") -> dict[bytes, Any]:
    return r("XINFO", "STREAM", key, "FULL")[b"groups"][0]


# -- the documented examples ---------------------------------------------------------


def test_doc_example_fail_mode_and_xpending(r):
    # xnack.md "Basic usage with FAIL mode"
    setup_two(r)
    assert r("XNACK", "mystream", "mygroup", "FAIL", "IDS", "2",
             "1526569498055-0", "1526569498056-0") == 2  # fmt: skip
    # "After NACKing, the messages appear with empty consumer in XPENDING"
    assert pending(r) == [
        [b"1526569498055-0", b"", -1, 1],
        [b"1526569498056-0", b"", -1, 1],
    ]


def test_doc_example_silent_fatal_retrycount(r):
    # xnack.md: SILENT decrements, FATAL sets LLONG_MAX, RETRYCOUNT sets the counter
    setup_two(r)
    assert r("XNACK", "mystream", "mygroup", "SILENT", "IDS", "1", "1526569498055-0") == 1
    assert pending(r)[0][3] == 0
    assert r("XNACK", "mystream", "mygroup", "FATAL", "IDS", "1", "1526569498055-0") == 1
    assert pending(r)[0][3] == LLONG_MAX
    assert r("XNACK", "mystream", "mygroup", "FAIL", "IDS", "1", "1526569498055-0",
             "RETRYCOUNT", "5") == 1  # fmt: skip
    assert pending(r)[0][3] == 5


def test_node_redis_integration_sequence(r):
    # node-redis XNACK.spec.ts 'xNack': six entries read, then four XNACK calls
    r("XGROUP", "CREATE", "k", "group", "0", "MKSTREAM")
    ids = [r("XADD", "k", f"{i}-0", "field", str(i)) for i in range(1, 7)]
    r("XREADGROUP", "GROUP", "group", "consumer-1", "STREAMS", "k", ">")
    assert r("XNACK", "k", "group", "FAIL", "IDS", "2", ids[0], ids[1]) == 2
    assert r("XNACK", "k", "group", "FAIL", "IDS", "1", ids[2], "RETRYCOUNT", "7") == 1
    assert r("XNACK", "k", "group", "FAIL", "IDS", "1", ids[3], "FORCE") == 1
    assert r("XNACK", "k", "group", "FAIL", "IDS", "2", ids[4], ids[5],
             "RETRYCOUNT", "3", "FORCE") == 2  # fmt: skip
    assert [p[3] for p in pending(r, "k", "group")] == [1, 1, 7, 1, 3, 3]


# -- modes -----------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "after"), [("SILENT", 2), ("FAIL", 3), ("FATAL", LLONG_MAX)])
def test_modes_adjust_the_counter(r, clock, mode, after):
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    r("XCLAIM", "s", "g", "c", "0", "1-0")  # 2 deliveries
    r("XCLAIM", "s", "g", "c", "0", "1-0")  # 3
    assert r("XNACK", "s", "g", mode, "IDS", "1", "1-0") == 1
    assert pending(r, "s", "g") == [[b"1-0", b"", -1, after]]


@pytest.mark.parametrize("mode", ["SILENT", "FAIL", "FATAL"])
def test_retrycount_overrides_every_mode(r, mode):
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    assert r("XNACK", "s", "g", mode, "IDS", "1", "1-0", "RETRYCOUNT", "42") == 1
    assert pending(r, "s", "g")[0][3] == 42


def test_silent_does_not_go_below_zero(r):
    # guessed: the counter is unsigned in Redis; SILENT on 0 leaves 0 (valkey's
    # XNACK proposal says "min 0" too)
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    r("XNACK", "s", "g", "SILENT", "IDS", "1", "1-0")
    r("XNACK", "s", "g", "SILENT", "IDS", "1", "1-0")
    assert pending(r, "s", "g")[0][3] == 0


def test_mode_and_options_are_case_insensitive_and_anywhere_after_mode(r):
    # PR #14797 review: IDS, RETRYCOUNT and FORCE are parsed in one loop, any order
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    assert r("XNACK", "s", "g", "fail", "force", "retrycount", "9", "ids", "1", "1-0") == 1
    assert pending(r, "s", "g") == [[b"1-0", b"", -1, 9]]


# -- what "released" means -------------------------------------------------------------


def test_released_entries_leave_the_consumer(r, clock):
    setup_two(r)
    r("XNACK", "mystream", "mygroup", "FAIL", "IDS", "1", "1526569498055-0")
    # the consumer no longer owns it: its PEL, history read, XPENDING filters
    cons = r("XINFO", "CONSUMERS", "mystream", "mygroup")
    assert cons[0][b"pending"] == 1
    hist = r("XREADGROUP", "GROUP", "mygroup", "consumer1", "STREAMS", "mystream", "0")
    assert [e[0] for e in hist[0][1]] == [b"1526569498056-0"]
    assert r("XPENDING", "mystream", "mygroup", "-", "+", "10", "consumer1") == [
        [b"1526569498056-0", b"consumer1", 0, 2]
    ]
    # the group still holds it: summary total counts it, the per-consumer list does not
    assert r("XPENDING", "mystream", "mygroup") == [
        2, b"1526569498055-0", b"1526569498056-0", [[b"consumer1", b"1"]]
    ]
    assert r("XINFO", "GROUPS", "mystream")[0][b"pending"] == 2


def test_xinfo_stream_full_nacked_count_and_pending(r):
    # XINFO STREAM FULL's nacked-count (xinfo-stream.md, Redis 8.8); a released
    # entry's owner is written as "" and its delivery time is 0 (guessed from
    # XPENDING's "" and the documented delivery_time = 0)
    setup_two(r)
    assert group_full(r)[b"nacked-count"] == 0
    r("XNACK", "mystream", "mygroup", "FAIL", "IDS", "1", "1526569498056-0")
    g = group_full(r)
    assert g[b"nacked-count"] == 1
    assert g[b"pel-count"] == 2
    assert g[b"pending"][1] == [b"1526569498056-0", b"", 0, 1]
    assert list(g)[-1] == b"nacked-count"
    assert g[b"consumers"][0][b"pel-count"] == 1


def test_xreadgroup_claim_takes_released_entries_at_once_in_release_order(r, clock):
    # xnack.md: released entries are immediately claimable with any min-idle-time and
    # come before other pending entries; PR #14797: FIFO among released entries
    for i in range(1, 5):
        r("XADD", "s", f"{i}-0", "f", f"v{i}")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    clock.advance(10_000)
    r("XNACK", "s", "g", "FAIL", "IDS", "2", "3-0", "1-0")
    now = clock.ms()
    out = r("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "5000", "STREAMS", "s", ">")
    # 3-0 and 1-0 first (released, FIFO), then the idle ones by delivery time (ID)
    assert [e[0] for e in out[0][1]] == [b"3-0", b"1-0", b"2-0", b"4-0"]
    # guessed: the CLAIM reply's idle for a released entry is now - 0 (delivery time 0)
    assert out[0][1][0][2:] == [now, 1]
    assert out[0][1][2][2:] == [10_000, 1]
    assert group_full(r, "s")[b"nacked-count"] == 0
    assert {p[1] for p in pending(r, "s", "g")} == {b"c2"}
    assert [p[3] for p in pending(r, "s", "g")] == [2, 2, 2, 2]


def test_claim_with_huge_min_idle_still_takes_released(r):
    r("XADD", "s", "1-0", "f", "v")
    r("XADD", "s", "2-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    r("XNACK", "s", "g", "SILENT", "IDS", "1", "2-0")
    out = r("XREADGROUP", "GROUP", "g", "c2", "COUNT", "5", "CLAIM", str(LLONG_MAX),
            "STREAMS", "s", ">")  # fmt: skip
    assert [e[0] for e in out[0][1]] == [b"2-0"]
    assert out[0][1][0][3] == 0  # SILENT undid the first delivery


def test_re_nack_moves_to_the_tail_of_the_zone(r):
    # guessed: a released entry released again goes behind the others (it is
    # "inserted right after pel_nack_tail" like any released entry)
    for i in (1, 2):
        r("XADD", "s", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    r("XNACK", "s", "g", "FAIL", "IDS", "2", "1-0", "2-0")
    r("XNACK", "s", "g", "FAIL", "IDS", "1", "1-0")
    out = r("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "0", "STREAMS", "s", ">")
    assert [e[0] for e in out[0][1]] == [b"2-0", b"1-0"]


def test_xclaim_and_xautoclaim_take_released_entries_whatever_min_idle(r):
    # xnack.md "Behavior" 4: available via XREADGROUP CLAIM, XCLAIM or XAUTOCLAIM
    for i in (1, 2):
        r("XADD", "s", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    r("XNACK", "s", "g", "FAIL", "IDS", "2", "1-0", "2-0")
    assert r("XCLAIM", "s", "g", "c2", "3600000", "1-0", "JUSTID") == [b"1-0"]
    assert r("XAUTOCLAIM", "s", "g", "c3", "3600000", "0", "JUSTID") == [b"0-0", [b"2-0"], []]
    assert [p[1] for p in pending(r, "s", "g")] == [b"c2", b"c3"]
    assert group_full(r, "s")[b"nacked-count"] == 0


def test_xack_of_a_released_entry(r):
    setup_two(r)
    r("XNACK", "mystream", "mygroup", "FAIL", "IDS", "1", "1526569498055-0")
    assert r("XACK", "mystream", "mygroup", "1526569498055-0") == 1
    assert group_full(r)[b"nacked-count"] == 0
    assert len(pending(r)) == 1


def test_fatal_counter_saturates_on_redelivery(r):
    # guessed: Redis's counter is 64-bit and the propagated RETRYCOUNT a long long;
    # deliveries after FATAL keep LLONG_MAX instead of overflowing (valkey's
    # proposal clamps every increment at LLONG_MAX)
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    r("XNACK", "s", "g", "FATAL", "IDS", "1", "1-0")
    out = r("XREADGROUP", "GROUP", "g", "c", "CLAIM", "0", "STREAMS", "s", ">")
    assert out[0][1][0][3] == LLONG_MAX
    r("XCLAIM", "s", "g", "c", "0", "1-0")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0")
    assert pending(r, "s", "g")[0][3] == LLONG_MAX


def test_deleted_released_entry_is_dropped_by_claim(r):
    r("XADD", "s", "1-0", "f", "v")
    r("XADD", "s", "2-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    r("XNACK", "s", "g", "FAIL", "IDS", "2", "1-0", "2-0")
    r("XDEL", "s", "1-0")
    out = r("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "0", "STREAMS", "s", ">")
    assert [e[0] for e in out[0][1]] == [b"2-0"]
    assert [p[0] for p in pending(r, "s", "g")] == [b"2-0"]


# -- FORCE -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "count"),
    [(("SILENT",), 0), (("FAIL",), 0), (("FATAL",), LLONG_MAX), (("SILENT", "RETRYCOUNT", "4"), 4)],
)
def test_force_creates_unowned_entries(r, args, count):
    # xnack.md FORCE: "the delivery counter is set to 0 (or to RETRYCOUNT if
    # specified, or to LLONG_MAX if mode is FATAL)"
    mode, *rest = args
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "$")
    assert r("XNACK", "s", "g", mode, "IDS", "1", "1-0", *rest, "FORCE") == 1
    assert pending(r, "s", "g") == [[b"1-0", b"", -1, count]]
    assert r("XINFO", "CONSUMERS", "s", "g") == []


def test_force_needs_the_entry_in_the_stream(r):
    # xnack.md FORCE: "The entry must exist in the stream"; IDs not pending are
    # "ignored and not counted in the return value" without FORCE
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "$")
    assert r("XNACK", "s", "g", "FAIL", "IDS", "2", "1-0", "9-0") == 0
    assert r("XNACK", "s", "g", "FAIL", "IDS", "2", "1-0", "9-0", "FORCE") == 1
    assert [p[0] for p in pending(r, "s", "g")] == [b"1-0"]


def test_duplicate_ids_are_processed_each_time(r):
    # guessed: like Redis's loop over the IDs, a repeated ID is found (released)
    # again, counted again and adjusted again
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    r("XCLAIM", "s", "g", "c", "0", "1-0")  # count 2
    assert r("XNACK", "s", "g", "SILENT", "IDS", "2", "1-0", "1-0") == 2
    assert pending(r, "s", "g")[0][3] == 0


# -- errors ----------------------------------------------------------------------------


def test_errors(r):
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("SET", "str", "x")
    # arity -7 (xnack.md front matter)
    assert "wrong number of arguments for 'xnack'" in run_err(r, "XNACK", "s", "g", "FAIL", "IDS", "1")
    # the mode is checked first (PR #14797)
    assert run_err(r, "XNACK", "s", "g", "MAYBE", "IDS", "1", "1-0") == (
        "ERR mode must be SILENT, FAIL, or FATAL"
    )
    # the IDS block, with XACKDEL/XDELEX's texts (guessed: the same parser shape)
    assert run_err(r, "XNACK", "s", "g", "FAIL", "IDS", "0", "1-0") == (
        "ERR Number of IDs must be a positive integer"
    )
    assert run_err(r, "XNACK", "s", "g", "FAIL", "IDS", "x", "1-0") == (
        "ERR Number of IDs must be a positive integer"
    )
    assert run_err(r, "XNACK", "s", "g", "FAIL", "IDS", "3", "1-0", "2-0") == (
        "ERR The `numids` parameter must match the number of arguments"
    )
    assert run_err(r, "XNACK", "s", "g", "FAIL", "FORCE", "FORCE", "FORCE") == "ERR syntax error"
    assert run_err(r, "XNACK", "s", "g", "FAIL", "IDS", "1", "1-0", "BOGUS") == "ERR syntax error"
    # RETRYCOUNT: an integer >= 0 (guessed text, after XCLAIM's)
    for bad in ("-1", "x"):
        assert run_err(r, "XNACK", "s", "g", "FAIL", "IDS", "1", "1-0", "RETRYCOUNT", bad) == (
            "ERR Invalid RETRYCOUNT option argument for XNACK"
        )
    assert run_err(r, "XNACK", "s", "g", "FAIL", "IDS", "1", "nope") == (
        "ERR Invalid stream ID specified as stream command argument"
    )
    assert run_err(r, "XNACK", "str", "g", "FAIL", "IDS", "1", "1-0").startswith("WRONGTYPE")
    # guessed: like XACK, no key or no group means nothing was released
    assert r("XNACK", "nokey", "g", "FAIL", "IDS", "1", "1-0") == 0
    assert r("XNACK", "s", "nogroup", "FAIL", "IDS", "1", "1-0", "FORCE") == 0


def test_command_info():
    # xnack.md: arity -7, flags write fast, key spec at 1, ACL @stream
    eng = Engine(FakeClock())
    c = eng.client()
    info = eng.execute(c, [b"COMMAND", b"INFO", b"xnack"])[0]
    assert info[0] == b"xnack"
    assert info[1] == -7
    assert set(info[2]) >= {b"write", b"fast"}
    assert info[3:6] == [1, 1, 1]


# -- blocking --------------------------------------------------------------------------


def test_release_wakes_blocked_claim_waiter(clock):
    eng = Engine(clock)
    mgr = BlockingManager(eng)
    a, b = eng.client(), eng.client()

    def run(cli: Any, *argv: Any) -> Any:
        return eng.execute(cli, [x if isinstance(x, bytes) else str(x).encode() for x in argv])

    run(b, "XADD", "s", "1-0", "f", "v")
    run(b, "XGROUP", "CREATE", "s", "g", "0")
    run(b, "XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    blk = run(a, "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "CLAIM", "3600000",
              "STREAMS", "s", ">")  # fmt: skip
    assert isinstance(blk, Blocked)
    mgr.block(a, blk)
    assert list(mgr.serve_ready()) == []
    assert run(b, "XNACK", "s", "g", "SILENT", "IDS", "1", "1-0") == 1
    now = clock.ms()
    assert list(mgr.serve_ready()) == [(a, [[b"s", [[b"1-0", [b"f", b"v"], now, 0]]]])]
    assert run(b, "XPENDING", "s", "g", "-", "+", "10") == [[b"1-0", b"c2", 0, 1]]


def test_release_keeps_plain_waiter_waiting(clock):
    eng = Engine(clock)
    mgr = BlockingManager(eng)
    a, b = eng.client(), eng.client()
    run = lambda cli, *argv: eng.execute(cli, [str(x).encode() for x in argv])  # noqa: E731
    run(b, "XADD", "s", "1-0", "f", "v")
    run(b, "XGROUP", "CREATE", "s", "g", "0")
    run(b, "XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    blk = run(a, "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", ">")
    mgr.block(a, blk)
    run(b, "XNACK", "s", "g", "FAIL", "IDS", "1", "1-0")
    assert list(mgr.serve_ready()) == []
    assert a.blocked is not None


# -- propagation, AOF rewrite, COPY ---------------------------------------------------


def _b(*argv: Any) -> list[bytes]:
    return [x if isinstance(x, bytes) else str(x).encode() for x in argv]


def _state(eng: Engine) -> Any:
    c = eng.client()
    full = eng.execute(c, _b("XINFO", "STREAM", "s", "FULL", "COUNT", "0"))
    for g in full[b"groups"]:
        for cons in g[b"consumers"]:
            cons[b"seen-time"] = cons[b"active-time"] = "T"
    return full, eng.execute(c, _b("XPENDING", "s", "g", "-", "+", "100"))


def _scenario(clock: FakeClock) -> Engine:
    eng = Engine(clock)
    eng.effects = []
    c = eng.client()
    run = lambda *argv: eng.execute(c, _b(*argv))  # noqa: E731
    for i in range(1, 7):
        run("XADD", "s", f"{i}-0", "f", f"v{i}")
    run("XGROUP", "CREATE", "s", "g", "0")
    run("XREADGROUP", "GROUP", "g", "c1", "COUNT", "4", "STREAMS", "s", ">")
    clock.advance(100)
    run("XCLAIM", "s", "g", "c1", "0", "2-0")
    run("XNACK", "s", "g", "SILENT", "IDS", "2", "4-0", "2-0")
    run("XNACK", "s", "g", "FATAL", "IDS", "1", "1-0")
    run("XNACK", "s", "g", "FAIL", "IDS", "2", "6-0", "9-0", "FORCE")
    run("XNACK", "s", "g", "FAIL", "IDS", "1", "4-0", "RETRYCOUNT", "7")
    return eng


def test_propagation_is_per_id_with_explicit_count(clock):
    # PR #14797 writes each released entry as XNACK key group FAIL IDS 1 id
    # RETRYCOUNT n FORCE (AOF rewrite); commands propagate the same deterministic form
    eng = _scenario(clock)
    nacks = [argv for _, argv in eng.effects if argv[0] == b"XNACK"]
    assert nacks == [
        _b("XNACK", "s", "g", "FAIL", "IDS", "1", "4-0", "RETRYCOUNT", "0", "FORCE"),
        _b("XNACK", "s", "g", "FAIL", "IDS", "1", "2-0", "RETRYCOUNT", "1", "FORCE"),
        _b("XNACK", "s", "g", "FAIL", "IDS", "1", "1-0", "RETRYCOUNT", str(LLONG_MAX), "FORCE"),
        _b("XNACK", "s", "g", "FAIL", "IDS", "1", "6-0", "RETRYCOUNT", "0", "FORCE"),
        _b("XNACK", "s", "g", "FAIL", "IDS", "1", "4-0", "RETRYCOUNT", "7", "FORCE"),
    ]


def test_replayed_effects_rebuild_the_same_state(clock):
    eng = _scenario(clock)
    fresh = Engine(FakeClock(clock.ms()))
    c = fresh.client()
    c.is_master = True
    for _db, argv in eng.effects:
        out = fresh.execute(c, argv)
        assert not isinstance(out, ErrorReply), (argv, out)
    assert _state(fresh) == _state(eng)
    # and the NACK zone keeps its order: CLAIM serves 2-0, 1-0, 6-0, 4-0
    order = [_b("XREADGROUP", "GROUP", "g", "z", "CLAIM", "0", "STREAMS", "s", ">")]
    for e in (eng, fresh):
        out = e.execute(e.client(), order[0])
        assert [x[0] for x in out[0][1]][:4] == [b"2-0", b"1-0", b"6-0", b"4-0"]


def test_aof_rewrite_and_copy_keep_released_entries(clock):
    eng = _scenario(clock)
    fresh = Engine(FakeClock(clock.ms()))
    c = fresh.client()
    c.is_master = True
    for _db, argv in dataset_commands(eng):
        out = fresh.execute(c, argv)
        assert not isinstance(out, ErrorReply), (argv, out)
    assert _state(fresh) == _state(eng)
    cc = eng.client()
    eng.execute(cc, _b("COPY", "s", "s2"))
    full = eng.execute(cc, _b("XINFO", "STREAM", "s2", "FULL"))
    assert full[b"groups"][0][b"nacked-count"] == 4
    out = eng.execute(cc, _b("XREADGROUP", "GROUP", "g", "z", "CLAIM", "0", "STREAMS", "s2", ">"))
    assert [x[0] for x in out[0][1]][:4] == [b"2-0", b"1-0", b"6-0", b"4-0"]


def test_claim_count_takes_the_zone_in_order_across_calls(r):
    for i in range(1, 5):
        r("XADD", "s", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    r("XNACK", "s", "g", "FAIL", "IDS", "3", "4-0", "2-0", "3-0")
    first = r("XREADGROUP", "GROUP", "g", "c2", "COUNT", "2", "CLAIM", "60000", "STREAMS", "s", ">")
    assert [e[0] for e in first[0][1]] == [b"4-0", b"2-0"]
    assert group_full(r, "s")[b"nacked-count"] == 1
    second = r("XREADGROUP", "GROUP", "g", "c3", "COUNT", "2", "CLAIM", "60000", "STREAMS", "s", ">")
    assert [e[0] for e in second[0][1]] == [b"3-0"]  # 1-0 is not idle for a minute


def test_xpending_idle_filter_keeps_released_entries(r, clock):
    # guessed: a released entry is "immediately claimable with any min-idle-time"
    # (xnack.md), so XPENDING's IDLE filter, which lists claim candidates, keeps it
    r("XADD", "s", "1-0", "f", "v")
    r("XADD", "s", "2-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    r("XNACK", "s", "g", "FAIL", "IDS", "1", "2-0")
    assert r("XPENDING", "s", "g", "IDLE", "60000", "-", "+", "10") == [[b"2-0", b"", -1, 1]]
