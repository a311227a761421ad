"""Randomized test of key and field expiry on the engine against a small model:
whatever mix of TTL commands, time steps, reads and active expire cycles, a key (or
field) is visible exactly while ``now <= its expiry``, and PTTL says how long is left."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streamlite.engine import Engine, FakeClock

KEYS = st.sampled_from([b"a", b"b", b"c"])
MS = st.integers(min_value=1, max_value=50)

OPS = st.one_of(
    st.tuples(st.just("set"), KEYS, st.one_of(st.none(), MS)),
    st.tuples(st.just("pexpire"), KEYS, st.integers(min_value=-5, max_value=50)),
    st.tuples(st.just("persist"), KEYS),
    st.tuples(st.just("advance"), st.integers(min_value=0, max_value=30)),
    st.tuples(st.just("get"), KEYS),
    st.tuples(st.just("pttl"), KEYS),
    st.tuples(st.just("cycle"), st.integers(min_value=1, max_value=3)),
    st.tuples(st.just("hpexpire"), KEYS, MS),
    st.tuples(st.just("hget"), KEYS),
)


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(OPS, max_size=60))
def test_expiry_matches_model(ops):
    clock = FakeClock()
    eng = Engine(clock)
    c = eng.client()

    def r(*argv):
        return eng.execute(c, [a if isinstance(a, bytes) else str(a).encode() for a in argv])

    keys: dict[bytes, int | None] = {}  # live key -> expiry (None = none)
    fields: dict[bytes, int | None] = {}  # hash "h"+key field "f" -> expiry

    def alive(k: bytes) -> bool:
        if k not in keys:
            return False
        when = keys[k]
        if when is not None and clock.ms() > when:
            del keys[k]
            return False
        return True

    for op in ops:
        kind = op[0]
        if kind == "set":
            _, k, px = op
            if px is None:
                r("SET", k, "v")
                keys[k] = None
            else:
                r("SET", k, "v", "PX", px)
                keys[k] = clock.ms() + px
        elif kind == "pexpire":
            _, k, ms = op
            got = r("PEXPIRE", k, ms)
            if alive(k):
                assert got == 1
                if ms <= 0:
                    del keys[k]
                else:
                    keys[k] = clock.ms() + ms
            else:
                assert got == 0
        elif kind == "persist":
            _, k = op
            had = alive(k) and keys[k] is not None
            assert r("PERSIST", k) == int(had)
            if had:
                keys[k] = None
        elif kind == "advance":
            clock.advance(op[1])
        elif kind == "get":
            _, k = op
            assert r("GET", k) == (b"v" if alive(k) else None)
        elif kind == "pttl":
            _, k = op
            want = -2 if not alive(k) else (-1 if keys[k] is None else keys[k] - clock.ms())
            assert r("PTTL", k) == want
        elif kind == "cycle":
            for _ in range(op[1]):
                eng.active_expire(budget=2)
        elif kind == "hpexpire":
            _, k, ms = op
            r("HSET", b"h" + k, "f", "v")
            r("HPEXPIRE", b"h" + k, ms, "FIELDS", "1", "f")
            fields[k] = clock.ms() + ms
        elif kind == "hget":
            _, k = op
            when = fields.get(k)
            live = k in fields and (when is None or clock.ms() <= when)
            if k in fields and not live:
                del fields[k]
            assert r("HGET", b"h" + k, "f") == (b"v" if live else None)
        # invariants: nothing live is ever gone, nothing expired is ever visible
        for k in list(keys):
            visible = r("EXISTS", k) == 1
            assert visible == alive(k)
    eng.active_expire(budget=1000)
    clock.advance(100)
    eng.active_expire(budget=1000)
    live = [k for k in list(keys) if alive(k)]
    assert all(keys[k] is None for k in live)
    assert set(eng.dbs[0].data) == set(live)  # the hashes' fields all expired too
