"""``sortedbulk``'s runs against ``SortedList``'s own add/remove (and its invariants).

Random lists (small load factors, so runs cross sublists, split and merge) get random
runs: each is applied both ways, one by one with ``add``/``remove`` on a copy, and with
``append_run``/``remove_run``; when the run function declines (not a run at the end or
at the start), the list must be unchanged. ``SortedList._check`` validates the layout.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sortedcontainers import SortedDict, SortedList
from tests.conftest import Runner

from streamlite.engine import Engine, FakeClock
from streamlite.engine.stream.sortedbulk import append_run, remove_run

ops = st.lists(st.tuples(st.sampled_from(["append", "remove", "index"]),
                         st.integers(0, 40), st.integers(-3, 3)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.integers(4, 8), st.lists(st.integers(0, 200), unique=True, max_size=60), ops)
def test_runs_match_one_by_one(load, start, script):
    sl = SortedList()
    sl._reset(load)
    for v in start:
        sl.add(v)
    ref = list(sl)
    for op, n, shift in script:
        if op == "index":  # builds the positional index, which the runs must reset
            if len(sl):
                assert sl[len(sl) // 2] == ref[len(ref) // 2]
            continue
        if op == "append":
            top = ref[-1] if ref else 0
            run = list(range(top + 1 + shift, top + 1 + shift + n))
            ok = append_run(sl, run)
            expected = not run or not ref or run[0] > ref[-1]
            assert ok == expected
            if ok:
                ref = sorted(ref + run)
        else:
            k = min(n, len(ref))
            run = ref[:k]
            if shift > 0 and run:  # not the first values: declined
                run = ref[1:k + 1] if k < len(ref) else run[::-1]
            ok = remove_run(sl, run)
            expected = run == ref[:len(run)]
            assert ok == expected
            if ok:
                ref = ref[len(run):]
        sl._check()
        assert list(sl) == ref
        assert len(sl) == len(ref)
        for v in ref[:3] + ref[-3:]:
            assert v in sl and sl.index(v) == ref.index(v)


def test_a_sorted_dicts_keys():
    """As the group PEL uses it: the keys of a ``SortedDict``, the dict beside."""
    d = SortedDict()
    d._list._reset(4)
    for i in range(10):
        d[i] = i
    new = list(range(10, 50))
    assert append_run(d._list, new)
    dict.update(d, zip(new, new, strict=True))
    d._list._check()
    assert list(d.items()) == [(i, i) for i in range(50)]
    assert list(d.irange(20, 25)) == list(range(20, 26))
    for i in range(30):
        dict.pop(d, i)
    assert remove_run(d._list, list(range(30)))
    d._list._check()
    assert list(d) == list(range(30, 50)) and d.peekitem(0) == (30, 30)


cmds = st.lists(st.one_of(
    st.tuples(st.just("read"), st.sampled_from([b"a", b"b"]), st.integers(1, 30)),
    st.tuples(st.just("ack"), st.sampled_from(["oldest", "shuffled", "some"]),
              st.integers(1, 40)),
    st.tuples(st.just("claim"), st.sampled_from([b"a", b"b"]), st.integers(1, 5)),
    st.tuples(st.just("setid"), st.just(b""), st.integers(0, 60)),
    st.tuples(st.just("add"), st.just(b""), st.integers(1, 50)),
), max_size=25)


@settings(max_examples=100, deadline=None)
@given(cmds, st.randoms(use_true_random=False))
def test_group_pels_through_the_commands(script, rnd):
    """XREADGROUP/XACK/XCLAIM/SETID on a group: both kinds of PEL keep their layout
    and agree with a model of who owns what (``XPENDING`` reads them back). A load
    factor of 4 makes the runs cross sublists, split and merge them."""
    saved = SortedList.DEFAULT_LOAD_FACTOR
    SortedList.DEFAULT_LOAD_FACTOR = 4
    try:
        _group_script(Runner(Engine(FakeClock())), script, rnd)
    finally:
        SortedList.DEFAULT_LOAD_FACTOR = saved


def _group_script(r: Runner, script: list[Any], rnd: Any) -> None:
    for i in range(1, 61):
        r("XADD", "s", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    owner: dict[bytes, bytes] = {}
    top = 60
    for op, who, n in script:
        if op == "read":
            got = r("XREADGROUP", "GROUP", "g", who, "COUNT", n, "STREAMS", "s", ">")
            for sid, _ in (got[0][1] if got else []):
                owner[sid] = who
        elif op == "ack":
            pending = sorted(owner, key=lambda x: int(x.split(b"-")[0]))
            ids = pending[:n] + ([b"999-0"] if n % 3 == 0 else [])
            if who == "shuffled":
                rnd.shuffle(ids)
            elif who == "some":
                ids = ids[::2]
            if ids:
                assert r("XACK", "s", "g", *ids) == sum(1 for x in set(ids) if x in owner)
            for x in ids:
                owner.pop(x, None)
        elif op == "claim":
            ids = list(owner)[:n]
            if ids:
                r("XCLAIM", "s", "g", who, "0", *ids)
                for x in ids:
                    owner[x] = who
        elif op == "setid":
            r("XGROUP", "SETID", "s", "g", f"{n}-0")
        else:
            for _ in range(n):
                top += 1
                r("XADD", "s", f"{top}-0", "f", "v")
        g = r.engine.dbs[0].data[b"s"].groups[b"g"]
        g.pel._list._check()
        for c in g.consumers.values():
            c.pel._check()
        want = sorted(owner.items(), key=lambda kv: int(kv[0].split(b"-")[0]))
        got = r("XPENDING", "s", "g", "-", "+", "1000")
        assert [(e[0], e[1]) for e in got] == want
        for who in (b"a", b"b"):
            mine = r("XPENDING", "s", "g", "-", "+", "1000", who)
            assert [e[0] for e in mine] == [k for k, v in want if v == who]
