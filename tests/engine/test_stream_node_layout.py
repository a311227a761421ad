"""The compact node layout (engine/stream/stream.py's _Node): IDs as 32-bit (ms - base,
seq) pairs and 16-bit offsets, widened per node when an entry needs it, and every
reader and copier of nodes (entries on both paths, DUMP/RESTORE in Redis's format and
ours, COPY) giving the same entries whatever the widths."""

from __future__ import annotations

from typing import Any

import pytest

from streamlite.engine import rdbstream, serialize
from streamlite.engine.stream.stream import Stream, _Node, absolute_ids, compact_ids

MAX = (1 << 64) - 1
ALL = (0, (1 << 128) - 1)


def sid(ms: int, seq: int) -> int:
    return (ms << 64) | seq


def build(entries: list[tuple[int, int, list[bytes]]], max_entries: int = 100,
          max_bytes: int = 4096) -> Stream:
    s = Stream()
    for ms, seq, fields in entries:
        s.add(sid(ms, seq), fields, max_entries, max_bytes)
    return s


def widths(s: Stream) -> list[tuple[str, str]]:
    return [(n.ids.typecode, n.offs.typecode) for n in s._nodes]


def everything(s: Stream) -> Any:
    return s.entries_py(*ALL), s.entries_py(*ALL, rev=True), s.entries(*ALL)


def copies(s: Stream) -> list[Stream]:
    """``s`` through COPY, our serialized form, and Redis's listpacks (both loaders)."""
    out = [s.dup()]
    out.append(serialize.load_value(serialize.value_bytes(s), None))  # type: ignore[arg-type]
    raw = rdbstream.write_stream(s)
    out.append(rdbstream.read_stream(serialize.Reader(raw), rdbstream.RDB_STREAM_LISTPACKS_3))
    saved = rdbstream._from_lp
    rdbstream._from_lp = None  # the pure-Python loader too
    try:
        out.append(rdbstream.read_stream(serialize.Reader(raw), rdbstream.RDB_STREAM_LISTPACKS_3))
    finally:
        rdbstream._from_lp = saved
    return out


def check(s: Stream, want: list[tuple[str, str]]) -> None:
    assert widths(s) == want
    ref = everything(s)
    for c in copies(s):
        assert widths(c) == want
        assert everything(c) == ref
        assert [n.base for n in c._nodes] == [n.base for n in s._nodes]
        assert [n.body for n in c._nodes] == [n.body for n in s._nodes]


def test_a_plain_node_is_narrow() -> None:
    s = build([(1_700_000_000_000 + i // 3, i % 3, [b"f", b"v%d" % i]) for i in range(250)])
    check(s, [("I", "H")] * 3)
    n = s._nodes[0]
    assert n.base == 1_700_000_000_000 and n.ids[:4].tolist() == [0, 0, 0, 1]


@pytest.mark.parametrize("second", [(5, 1 << 32), (5, MAX), (5 + (1 << 32), 0),
                                    (MAX, MAX)])
def test_ids_widen_when_one_does_not_fit(second: tuple[int, int]) -> None:
    s = build([(5, 1, [b"f", b"a"]), (*second, [b"f", b"b"]),])
    assert s._nodes[0].ids.typecode == "Q"
    if second != (MAX, MAX):
        s.add(sid(second[0], second[1]) + 1 if second[1] < MAX else sid(second[0] + 1, 0),
              [b"f", b"c"])
    check(s, [("Q", "H")])
    assert s.get(sid(*second)) == [b"f", b"b"]
    assert s.get(sid(5, 1)) == [b"f", b"a"]


def test_just_below_the_limits_stays_narrow() -> None:
    s = build([(5, 1, [b"f", b"a"]), (5 + (1 << 32) - 1, (1 << 32) - 1, [b"f", b"b"])])
    check(s, [("I", "H")])


def test_offsets_widen_past_64kb() -> None:
    big = b"x" * 30000
    s = build([(7, i, [b"f", big if i % 2 else b"v"]) for i in range(8)], max_bytes=0)
    check(s, [("I", "I")])
    assert s._nodes[0].offs[-1] > 0xFFFF
    assert s.get(sid(7, 7)) == [b"f", big]
    # an entry that itself passes 64 KB leaves the offsets narrow: they start below
    s2 = build([(7, 1, [b"f", b"v"]), (7, 2, [b"f", b"y" * 70000])], max_bytes=0)
    check(s2, [("I", "H")])


def test_deletes_and_trims_over_wide_nodes() -> None:
    big = b"z" * 40000
    s = build([(5, 1, [b"f", b"a"]), (5, 1 << 40, [b"f", big]), (6, 0, [b"g", big]),
               (6 + (1 << 33), 2, [b"f", b"d"]), (6 + (1 << 33), 3, [b"f", b"e"])], max_bytes=0)
    check(s, [("Q", "I")])
    assert s.delete(sid(5, 1 << 40)) and not s.delete(sid(5, 1 << 40))
    assert s.trim(2, minid=sid(6, 1)) == 2
    check(s, [("Q", "I")])
    assert [e[0] for e in s.entries_py(*ALL)] == [b"8589934598-2", b"8589934598-3"]


def test_a_restored_node_whose_master_is_not_its_first_entry() -> None:
    """Redis keys a listpack by its master ID, which may lie below the first entry's
    (a crafted payload); the node's base is its first entry's ms either way."""
    s = build([(10, 0, [b"f", b"a"]), (10, 1, [b"f", b"b"]), (12, 0, [b"f", b"c"])])
    lp = rdbstream._node_listpack(s._nodes[0], sid(3, 0))  # deltas from an older master
    for loader in (rdbstream._node_from_listpack, rdbstream._node_from_listpack_py):
        n: _Node = loader(lp, sid(3, 0))
        assert n.base == 10 and n.ids.tolist() == [0, 0, 0, 1, 2, 0]
        assert rdbstream._node_listpack(n, sid(3, 0)) == lp


def test_compact_and_absolute_ids_round_trip() -> None:
    from array import array

    for pairs in ([5, 1, 5, 2], [5, 1, 9, MAX], [1 << 40, 0, (1 << 40) + (1 << 32), 0]):
        a = array("Q", pairs)
        c = compact_ids(pairs[0], a)
        assert c.typecode == ("I" if max(c) <= 0xFFFFFFFF else "Q")
        assert absolute_ids(pairs[0], c) == a
