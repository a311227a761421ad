"""MULTI/EXEC/DISCARD/WATCH/UNWATCH on the engine, several clients on one engine."""

from __future__ import annotations

import pytest
from tests.engine.standins import Conn, engine_with_standins

from streamlite.engine import FakeClock
from streamlite.engine.multi import queued_flags
from streamlite.engine.replies import NULL_ARRAY, ErrorReply, MultiReply, Push
from streamlite.protocol.resp import encode

EXECABORT = ErrorReply(b"EXECABORT Transaction discarded because of previous errors.")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def eng(clock):
    return engine_with_standins(clock)


@pytest.fixture
def a(eng):
    return Conn(eng)


@pytest.fixture
def b(eng):
    return Conn(eng)


def test_queue_and_exec(a):
    assert a("MULTI") == b"OK"
    assert a("SET", "k", "1") == b"QUEUED"
    assert a("INCR", "k") == b"QUEUED"
    assert a("GET", "k") == b"QUEUED"
    assert a("EXEC") == [b"OK", 2, b"2"]
    assert a("GET", "k") == b"2"
    assert a.client.multi is None


def test_empty_transaction(a):
    assert a("MULTI") == b"OK"
    assert a("EXEC") == []


def test_errors_outside_multi(a):
    assert a("EXEC") == ErrorReply(b"ERR EXEC without MULTI")
    assert a("DISCARD") == ErrorReply(b"ERR DISCARD without MULTI")


def test_nested_multi_and_watch_inside_do_not_abort(a):
    a("MULTI")
    assert a("MULTI") == ErrorReply(b"ERR MULTI calls can not be nested")
    assert a("WATCH", "x") == ErrorReply(b"ERR WATCH inside MULTI is not allowed")
    a("SET", "x", "1")
    assert a("EXEC") == [b"OK"]


@pytest.mark.parametrize(
    "bad, err",
    [
        (("NOSUCH", "a"), b"ERR unknown command 'NOSUCH', with args beginning with: 'a' "),
        (("GET",), b"ERR wrong number of arguments for 'get' command"),
        (("SAVE",), b"ERR Command not allowed inside a transaction"),
        (("PUBSUB", "NOPE"), b"ERR unknown subcommand 'NOPE'. Try PUBSUB HELP."),
        (("PUBSUB", "NUMPAT", "x"), b"ERR wrong number of arguments for 'pubsub|numpat' command"),
    ],
)
def test_queueing_errors_abort_exec(a, bad, err):
    a("MULTI")
    a("SET", "k", "v")
    assert a(*bad) == ErrorReply(err)
    assert a("SET", "k2", "v") == b"QUEUED"
    assert a("EXEC") == EXECABORT
    assert a("GET", "k") is None  # nothing ran
    assert a.client.multi is None


def test_runtime_errors_do_not_abort_the_others(a):
    a("MULTI")
    a("SET", "k", "v")
    a("LPUSH", "k", "x")
    a("SET", "k2", "v2")
    out = a("EXEC")
    assert out[0] == b"OK" and out[2] == b"OK"
    assert out[1] == ErrorReply(
        b"WRONGTYPE Operation against a key holding the wrong kind of value"
    )
    assert a("GET", "k2") == b"v2"


def test_discard(a):
    a("MULTI")
    a("SET", "k", "v")
    assert a("DISCARD") == b"OK"
    assert a("GET", "k") is None
    assert a("EXEC") == ErrorReply(b"ERR EXEC without MULTI")


def test_exec_with_wrong_arity_answers_execabort_even_outside_multi(a):
    msg = b"EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"
    assert a("EXEC", "x") == ErrorReply(msg)
    a("MULTI")
    a("SET", "k", "v")
    assert a("EXEC", "x") == ErrorReply(msg)
    assert a.client.multi is None
    assert a("GET", "k") is None


def test_watch_invalidated_by_another_client(a, b):
    a("WATCH", "k")
    b("SET", "k", "1")
    a("MULTI")
    a("SET", "k", "mine")
    assert a("EXEC") is NULL_ARRAY
    assert a("GET", "k") == b"1"
    assert encode(NULL_ARRAY, 2) == b"*-1\r\n"
    assert encode(NULL_ARRAY, 3) == b"_\r\n"


def test_watch_untouched_key_lets_exec_run(a, b):
    b("SET", "k", "x")
    a("WATCH", "k")
    b("SET", "other", "1")
    b("SET", "k", "z", "NX")  # fails: key exists, nothing touched
    b("DEL", "nokey")
    a("MULTI")
    a("GET", "k")
    assert a("EXEC") == [b"x"]


def test_watch_invalidated_by_own_write_before_multi(a):
    a("WATCH", "k")
    a("SET", "k", "1")
    a("MULTI")
    a("GET", "k")
    assert a("EXEC") is NULL_ARRAY


def test_same_key_in_other_db_does_not_count(a, b):
    a("WATCH", "k")
    b("SELECT", "5")
    b("SET", "k", "1")
    a("MULTI")
    a("PING")
    assert a("EXEC") == [b"PONG"]


def test_watch_is_per_database_of_the_watch(a, b):
    a("SELECT", "3")
    a("WATCH", "k")
    a("SELECT", "0")
    b("SELECT", "3")
    b("SET", "k", "1")
    a("MULTI")
    a("PING")
    assert a("EXEC") is NULL_ARRAY


def test_unwatch_and_discard_clear(a, b):
    a("WATCH", "k")
    b("SET", "k", "1")
    assert a("UNWATCH") == b"OK"
    a("MULTI")
    a("PING")
    assert a("EXEC") == [b"PONG"]
    a("WATCH", "k")
    b("SET", "k", "2")
    a("MULTI")
    a("DISCARD")
    a("MULTI")
    a("PING")
    assert a("EXEC") == [b"PONG"]


def test_dirty_watch_stays_dirty_across_more_watches(a, b):
    a("WATCH", "k")
    b("SET", "k", "1")
    a("WATCH", "z")
    a("MULTI")
    a("PING")
    assert a("EXEC") is NULL_ARRAY


def test_exec_unwatches(a, b):
    a("WATCH", "k")
    a("MULTI")
    a("SET", "k", "4")
    assert a("EXEC") == [b"OK"]
    b("SET", "k", "5")
    a("MULTI")
    a("PING")
    assert a("EXEC") == [b"PONG"]
    assert a.client.watched == set()
    assert a.engine.watched == {}


def test_watch_invalidated_by_a_transaction_of_another_client(a, b):
    a("WATCH", "k")
    b("MULTI")
    b("SET", "k", "1")
    b("EXEC")
    a("MULTI")
    a("PING")
    assert a("EXEC") is NULL_ARRAY


def test_watched_key_expiring_before_exec_aborts(a, clock):
    a("SET", "k", "1", "PX", "100")
    a("WATCH", "k")
    clock.advance(200)
    a("MULTI")
    a("PING")
    assert a("EXEC") is NULL_ARRAY


def test_key_already_expired_at_watch_is_not_a_change(a, b, clock):
    a("SET", "k", "1", "PX", "10")
    clock.advance(50)
    a("WATCH", "k")
    b("GET", "k")  # would delete the expired key: logically no change
    a("MULTI")
    a("PING")
    assert a("EXEC") == [b"PONG"]
    a("SET", "k", "1", "PX", "10")
    clock.advance(50)
    a("WATCH", "k")
    b("SET", "k", "2")  # a real change
    a("MULTI")
    a("PING")
    assert a("EXEC") is NULL_ARRAY


def test_expire_and_persist_count_as_changes(a, b):
    a("SET", "k", "1")
    a("WATCH", "k")
    b("PEXPIRE", "k", "100000")
    a("MULTI")
    a("PING")
    assert a("EXEC") is NULL_ARRAY


@pytest.mark.parametrize("flush", [("FLUSHALL",), ("FLUSHDB",)])
def test_flush_invalidates_watched_existing_keys(a, b, flush):
    a("SET", "k", "1")
    a("WATCH", "k")
    b(*flush)
    a("MULTI")
    a("PING")
    assert a("EXEC") is NULL_ARRAY


def test_flush_does_not_invalidate_watched_missing_keys(a, b):
    a("WATCH", "nokey")
    b("FLUSHALL")
    a("MULTI")
    a("PING")
    assert a("EXEC") == [b"PONG"]


def test_flushdb_of_another_db_does_not_count(a, b):
    a("SET", "k", "1")
    a("WATCH", "k")
    b("SELECT", "1")
    b("FLUSHDB")
    a("MULTI")
    a("PING")
    assert a("EXEC") == [b"PONG"]


def test_blocking_command_inside_exec_answers_timed_out(a, eng):
    seen = []
    orig = eng.commands[b"tblock"].handler

    def spy(c, argv):
        seen.append(c.in_exec)
        return orig(c, argv)

    eng.commands[b"tblock"].handler = spy
    try:
        a("MULTI")
        a("TBLOCK", "nokey")
        a("SET", "x", "1")
        assert a("EXEC") == [None, b"OK"]
        assert seen == [True]
        assert a.client.in_exec is False
    finally:
        eng.commands[b"tblock"].handler = orig


def test_one_time_snapshot_for_the_whole_exec(a, clock):
    a("MULTI")
    a("TADVANCE", "5")
    a("TADVANCE", "5")
    t0 = clock.ms()
    t1, t2 = a("EXEC")
    assert t1 == t2 == t0
    assert a("TADVANCE", "0") == t0 + 10


def test_select_inside_exec_sticks(a):
    a("MULTI")
    a("SELECT", "2")
    a("SET", "k", "v")
    assert a("EXEC") == [b"OK", b"OK"]
    assert a.client.db_index == 2
    assert a("GET", "k") == b"v"


def test_subscribe_inside_multi(a):
    a("MULTI")
    assert a("SUBSCRIBE", "ch", "ch2") == b"QUEUED"
    a("PING")
    out = a("EXEC")
    assert out == [
        MultiReply([Push([b"subscribe", b"ch", 1]), Push([b"subscribe", b"ch2", 2])]),
        Push([b"pong", b""]),
    ]
    # RESP2 subscribed mode now: MULTI/EXEC are refused
    msg = "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    assert a("MULTI") == ErrorReply(("ERR " + msg.format("multi")).encode())
    assert a("EXEC") == ErrorReply(
        ("EXECABORT Transaction discarded because of: " + msg.format("exec")).encode()
    )


def test_queued_flags(a):
    a("MULTI")
    a("SET", "k", "v")
    a("GET", "k")
    f = queued_flags(a.client)
    assert {"write", "denyoom", "readonly"} <= f


def test_drop_client_forgets_watches_and_multi(a, eng):
    a("WATCH", "k", "j")
    a("MULTI")
    a("SUBSCRIBE", "x")
    eng.drop_client(a.client)
    assert eng.watched == {}
    assert a.client.multi is None


# -- propagation ------------------------------------------------------------------


def test_exec_propagates_multi_exec_around_its_writes(a, eng):
    eng.effects = []
    a("MULTI")
    a("SET", "a", "1")
    a("GET", "a")
    a("INCR", "a")
    a("EXEC")
    assert eng.effects == [
        (0, [b"MULTI"]),
        (0, [b"SET", b"a", b"1"]),
        (0, [b"INCR", b"a"]),
        (0, [b"EXEC"]),
    ]


def test_exec_with_one_write_propagates_it_bare(a, eng):
    # Redis 7+ wraps an execution unit only when it propagates more than one command
    eng.effects = []
    a("MULTI")
    a("SET", "a", "1")
    a("GET", "a")
    a("EXEC")
    assert eng.effects == [(0, [b"SET", b"a", b"1"])]


def test_exec_without_writes_propagates_nothing(a, eng):
    eng.effects = []
    a("MULTI")
    a("GET", "a")
    a("SET", "a", "1", "NX")
    a("SET", "a", "2", "NX")  # fails: nothing changes
    a("EXEC")
    eng.effects = []
    a("MULTI")
    a("GET", "a")
    a("SET", "a", "2", "NX")
    a("EXEC")
    assert eng.effects == []


def test_exec_propagation_follows_selects_and_replays(a, eng, clock):
    eng.effects = []
    a("MULTI")
    a("SET", "x", "1")
    a("SELECT", "4")
    a("SET", "y", "1", "PX", "5000")
    a("EXEC")
    assert eng.effects[0][1] == [b"MULTI"] and eng.effects[-1][1] == [b"EXEC"]
    assert eng.effects[1] == (0, [b"SET", b"x", b"1"])
    assert eng.effects[2][0] == 4 and eng.effects[2][1][:2] == [b"SET", b"y"]
    # replay into a fresh engine at the same time: same data
    other = engine_with_standins(FakeClock(clock.ms()))
    r = Conn(other)
    for db, argv in eng.effects:
        r("SELECT", db)
        r(*argv)
    r("SELECT", "0")
    assert r("GET", "x") == b"1"
    r("SELECT", "4")
    assert r("GET", "y") == b"1"
    assert other.dbs[4].expires[b"y"] == eng.dbs[4].expires[b"y"]


def test_aborted_exec_propagates_nothing(a, b, eng):
    a("WATCH", "k")
    b("SET", "k", "1")
    eng.effects = []
    a("MULTI")
    a("SET", "x", "1")
    a("SET", "y", "1")
    assert a("EXEC") is NULL_ARRAY
    assert eng.effects == []
