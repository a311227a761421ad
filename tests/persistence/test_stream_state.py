"""Every piece of stream state through every persistence path.

The state: the XNACK NACK zone (Redis 8.8: released entries, their counters and
their release order, which XREADGROUP ... CLAIM serves), the IDMP idempotent-producer
state (settings, remembered iids, counters), consumers' seen/active times, a
group's entries-read, the stream's max-deleted-id and entries-added, and function
libraries. The paths: DUMP/RESTORE, SAVE, BGSAVE, DEBUG RELOAD, an AOF rewrite with
a RESTORE base (``aof-use-rdb-preamble yes``) or a plain-command base (``no``), and
the replay of the incremental AOF.

Each piece is observed through commands (XINFO, XPENDING, XREADGROUP ... CLAIM on a
copy, a duplicate XADD IDMP on a copy, FCALL), separately, so a failure names the
piece that was dropped.
"""

from __future__ import annotations

from typing import Any

import pytest

from streamlite.engine import Engine, FakeClock

from .helpers import LIB, Durable, argv_of

# what each path carries; the plain-command paths cannot carry what no command sets
ALL = {"nack", "nack_order", "idmp", "idmp_iids", "idmp_counters", "times",
       "entries_read", "deleted", "functions"}
# Redis's own AOF (a command log, or a rewrite into commands) does not carry the
# consumers' seen/active times either, nor the IDMP statistics (iids-added,
# iids-duplicates: a duplicate XADD changes nothing, so nothing is logged); the
# remembered iids are carried by the log (an XADD IDMP is logged with its iid) but
# not by a plain-command rewrite (no command re-remembers an iid for an existing entry)
PLAIN_REWRITE = ALL - {"times", "idmp_iids", "idmp_counters"}
LOG_REPLAY = ALL - {"times", "idmp_counters"}


def build(run: Any, clock: FakeClock) -> None:
    """A stream with every kind of state, built with times that differ."""
    for i in range(1, 11):
        run("XADD", "s", f"{i}-0", "f", f"v{i}")
    run("XDEL", "s", "10-0", "3-0")  # max-deleted-id 10-0
    run("XGROUP", "CREATE", "s", "g", "0")
    run("XGROUP", "CREATE", "s", "lagging", "0", "ENTRIESREAD", "2")
    clock.advance(1000)
    run("XREADGROUP", "GROUP", "g", "alice", "COUNT", "5", "STREAMS", "s", ">")
    clock.advance(250)
    run("XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">")
    clock.advance(50)
    run("XGROUP", "CREATECONSUMER", "s", "g", "idle")
    clock.advance(70)
    run("XNACK", "s", "g", "FAIL", "IDS", "2", "5-0", "2-0")
    run("XNACK", "s", "g", "FATAL", "IDS", "1", "7-0")
    run("XNACK", "s", "g", "SILENT", "IDS", "1", "1-0", "RETRYCOUNT", "4")
    run("XNACK", "s", "g", "FAIL", "IDS", "1", "9-0", "FORCE")  # not delivered: FORCE
    run("XNACK", "s", "g", "FAIL", "IDS", "1", "5-0")  # re-released: to the zone's tail
    run("XCFGSET", "s", "IDMP-DURATION", "600", "IDMP-MAXSIZE", "40")
    clock.advance(10)
    run("XADD", "s", "IDMP", "p1", "i1", "*", "k", "v")
    run("XADD", "s", "IDMPAUTO", "p2", "*", "k", "w")
    run("XADD", "s", "IDMP", "p1", "i1", "*", "k", "v")  # a duplicate: counted
    clock.advance(5)
    run("FUNCTION", "LOAD", LIB)
    run("SET", "plain", "x")


def observe(e: Engine) -> dict[str, Any]:
    """Each piece of state, as commands show it. Probes run on a copy, then drop it."""
    c = e.client()

    def run(*argv: Any) -> Any:
        return e.execute(c, argv_of(*argv))

    info = run("XINFO", "STREAM", "s")
    full = run("XINFO", "STREAM", "s", "FULL")
    groups = {g[b"name"]: g for g in run("XINFO", "GROUPS", "s")}
    fgroups = {g[b"name"]: g for g in full[b"groups"]}
    out: dict[str, Any] = {}
    out["nack"] = (
        fgroups[b"g"][b"nacked-count"],
        run("XPENDING", "s", "g", "-", "+", "100"),
        run("XPENDING", "s", "g"),
    )
    out["idmp"] = (info[b"idmp-duration"], info[b"idmp-maxsize"])
    out["idmp_counters"] = (info[b"iids-added"], info[b"iids-duplicates"])
    out["times"] = [(g, cons[b"name"], cons[b"seen-time"], cons[b"active-time"])
                    for g, fg in fgroups.items() for cons in fg[b"consumers"]]
    out["entries_read"] = {name: (g[b"last-delivered-id"], g[b"entries-read"], g[b"lag"])
                           for name, g in groups.items()}
    out["deleted"] = (info[b"max-deleted-entry-id"], info[b"entries-added"],
                      info[b"recorded-first-entry-id"], info[b"last-generated-id"],
                      info[b"length"])
    out["functions"] = (run("FUNCTION", "LIST", "WITHCODE"), run("FCALL", "pget", "1", "plain"))
    # probes on a copy: the order CLAIM serves the NACK zone, and the remembered iids
    assert run("COPY", "s", "probe") == 1
    claimed = run("XREADGROUP", "GROUP", "g", "z", "CLAIM", "0", "STREAMS", "probe", ">")
    out["nack_order"] = [x[0] for x in claimed[0][1]][:5]
    dup = run("XADD", "probe", "IDMP", "p1", "i1", "*", "k", "v")
    out["idmp_iids"] = (dup, run("XLEN", "probe") == info[b"length"],
                        info[b"pids-tracked"], info[b"iids-tracked"])
    run("DEL", "probe")
    return out


def expected_nack_order() -> list[bytes]:
    return [b"2-0", b"7-0", b"1-0", b"9-0", b"5-0"]


def check(before: dict[str, Any], after: dict[str, Any], pieces: set[str]) -> None:
    assert before["nack_order"] == expected_nack_order()
    assert before["idmp_iids"][1]  # the probe's duplicate added nothing
    for piece in sorted(pieces):
        assert after[piece] == before[piece], piece


def make(tmp_path: Any, clock: FakeClock, **cfg: Any) -> Durable:
    d = Durable(str(tmp_path), clock, **cfg)
    build(d, clock)
    return d


# -- the paths ----------------------------------------------------------------------------


def test_dump_restore_keeps_every_piece(clock):
    e = Engine(clock)
    c = e.client()

    def run(*argv: Any) -> Any:
        return e.execute(c, argv_of(*argv))

    build(run, clock)
    before = observe(e)
    payload = run("DUMP", "s")
    other = Engine(FakeClock(clock.ms()))
    oc = other.client()
    assert other.execute(oc, argv_of("RESTORE", "s", "0", payload)) == b"OK"
    assert other.execute(oc, argv_of("SET", "plain", "x")) == b"OK"
    # functions are not DUMP payloads (FUNCTION DUMP/RESTORE are not implemented)
    assert other.execute(oc, argv_of("FUNCTION", "LOAD", LIB)) == b"plib"
    check(before, observe(other), ALL)
    # and in place (RESTORE ... REPLACE into the same engine)
    assert run("RESTORE", "s", "0", payload, "REPLACE") == b"OK"
    check(before, observe(e), ALL)


@pytest.mark.parametrize("how", ["SAVE", "BGSAVE"])
def test_snapshot_keeps_every_piece(tmp_path, how):
    clock = FakeClock()
    d = make(tmp_path, clock, appendonly=False)
    assert d(how) in (b"OK", b"Background saving started")
    d.p.wait_children()
    before = observe(d.engine)
    d.close()
    d2 = Durable(str(tmp_path), clock, appendonly=False)
    check(before, observe(d2.engine), ALL)
    d2.close()


def test_debug_reload_keeps_every_piece(tmp_path):
    clock = FakeClock()
    d = make(tmp_path, clock, appendonly=False)
    before = observe(d.engine)
    assert d("DEBUG", "RELOAD") == b"OK"
    check(before, observe(d.engine), ALL)
    d.close()


@pytest.mark.parametrize("preamble", [True, False])
def test_aof_rewrite_keeps_every_piece(tmp_path, preamble):
    clock = FakeClock()
    d = make(tmp_path, clock, aof_use_rdb_preamble=preamble)
    assert d("BGREWRITEAOF") == b"Background append only file rewriting started"
    d.p.wait_children()
    before = observe(d.engine)
    d.close()
    d2 = Durable(str(tmp_path), clock)
    check(before, observe(d2.engine), ALL if preamble else PLAIN_REWRITE)
    d2.close()


def test_aof_log_replay_keeps_every_piece(tmp_path):
    clock = FakeClock()
    d = make(tmp_path, clock)
    before = observe(d.engine)
    d.close()
    d2 = Durable(str(tmp_path), clock)
    check(before, observe(d2.engine), LOG_REPLAY)
    d2.close()


def test_rewrite_then_more_log_then_replay(tmp_path):
    """A RESTORE base, then XNACKs and IDMP adds logged after it, replayed on top."""
    clock = FakeClock()
    d = Durable(str(tmp_path), clock)
    for i in range(1, 4):
        d("XADD", "s", f"{i}-0", "f", "v")
    d("XGROUP", "CREATE", "s", "g", "0")
    d("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    d("BGREWRITEAOF")
    d.p.wait_children()
    d("XNACK", "s", "g", "FAIL", "IDS", "2", "3-0", "1-0")
    d("XADD", "s", "IDMP", "p", "i", "*", "k", "v")
    before = observe_small(d.engine)
    d.close()
    d2 = Durable(str(tmp_path), clock)
    assert observe_small(d2.engine) == before
    assert before[0] == 2
    d2.close()


def observe_small(e: Engine) -> Any:
    c = e.client()
    full = e.execute(c, argv_of("XINFO", "STREAM", "s", "FULL"))
    info = e.execute(c, argv_of("XINFO", "STREAM", "s"))
    return (full[b"groups"][0][b"nacked-count"],
            e.execute(c, argv_of("XPENDING", "s", "g", "-", "+", "10")),
            info[b"iids-tracked"])
