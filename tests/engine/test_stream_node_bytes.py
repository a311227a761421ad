"""Stream.add counts each node's listpack bytes inline (its hot path): the count must
equal the listpack arithmetic of ``listpack.str_size``/``int_size`` entry by entry,
since nodes close (and MAXLEN ~ trims) where Redis's listpacks reach their limit."""

from __future__ import annotations

import random

from streamlite.engine.stream.stream import F_SAME, Stream
from streamlite.engine.types.listpack import LP_EMPTY, int_size, signed64, str_size


def _reference_body(node, entries) -> int:  # type: ignore[no-untyped-def]
    """Listpack bytes (without the live/deleted counters) of a node, from scratch."""
    master = node.fields
    body = LP_EMPTY + int_size(len(master)) + sum(map(str_size, master)) + 2
    mms, mseq = entries[0][0] >> 64, entries[0][0] & ((1 << 64) - 1)
    for sid, fields in entries:
        ms, seq = sid >> 64, sid & ((1 << 64) - 1)
        size = 2 + int_size(signed64(ms - mms)) + int_size(signed64(seq - mseq))
        nf = len(fields) // 2
        if list(fields[0::2]) == list(master):
            size += sum(str_size(v) for v in fields[1::2]) + int_size(nf + 3)
        else:
            size += sum(map(str_size, fields)) + int_size(nf) + int_size(2 * nf + 4)
        body += size
    return body


VALUES = [b"v", b"0", b"7", b"-1", b"127", b"128", b"4095", b"4096", b"32767", b"32768",
          b"8388607", b"8388608", b"2147483647", b"2147483648", b"999999999999999999",
          b"9223372036854775807", b"9223372036854775808", b"01", b"-0", b"", b"x" * 63,
          b"x" * 64, b"x" * 300, b"12a", b"+5", b"1" * 18, b"1" * 19]


def test_node_bytes_match_the_listpack_arithmetic() -> None:
    rnd = random.Random(3)
    for _ in range(60):
        s = Stream()
        max_entries = rnd.choice([0, 3, 100])
        max_bytes = rnd.choice([0, 120, 4096])
        added: list[tuple[int, list[bytes]]] = []
        sid = 1 << 64
        for _ in range(rnd.randint(1, 300)):
            names = [b"a", b"b", b"c"] if rnd.random() < 0.7 else rnd.sample([b"a", b"z", b"1"], 2)
            fields: list[bytes] = []
            for n in names:
                fields += [n, rnd.choice(VALUES)]
            step = rnd.random()
            if step < 0.5:
                sid += rnd.choice([1, 300, 5000])
            else:  # a later millisecond, its sequence from anywhere (negative deltas too)
                ms = (sid >> 64) + rnd.choice([1, 7, 200, 5000, 1 << 40])
                sid = (ms << 64) | rnd.choice([0, 3, 130, 4097, 40000, 1 << 50])
            s.add(sid, fields, max_entries, max_bytes)
            added.append((sid, fields))
        i = 0
        for node in s._nodes:
            entries = added[i : i + len(node)]
            i += len(node)
            assert node.body == _reference_body(node, entries)
            assert all(bool(node.flags[j] & F_SAME) == (list(f[0::2]) == list(node.fields))
                       for j, (_, f) in enumerate(entries))
        assert i == len(added)
        assert [f for _, f in s.range(0, (1 << 128) - 1)] == [f for _, f in added]


def test_restored_stream_appends_like_the_original(r) -> None:  # type: ignore[no-untyped-def]
    """A stream loaded from DUMP (RESTORE, snapshots, the AOF base) keeps appending
    to its tail node with the master fields, byte for byte as the stream it came from."""
    for i in range(5):
        r("XADD", "src", f"1-{i}", "a", "x", "b", str(i))
    payload = r("DUMP", "src")
    assert r("RESTORE", "dst", "0", payload) == b"OK"
    for key in ("src", "dst"):
        for i in range(5, 9):
            r("XADD", key, f"1-{i}", "a", "y", "b", str(i))
        r("XADD", key, "2-0", "other", "z")
    src, dst = (r.engine.dbs[0].data[k] for k in (b"src", b"dst"))  # type: ignore[attr-defined]
    assert len(src._nodes) == len(dst._nodes) == 1
    a, b = src._nodes[0], dst._nodes[0]
    assert (bytes(a.data), a.flags, a.offs, a.ids, a.body, list(a.fields)) == (
        bytes(b.data), b.flags, b.offs, b.ids, b.body, list(b.fields))
    assert r("XRANGE", "src", "-", "+") == r("XRANGE", "dst", "-", "+")
    assert r("MEMORY", "USAGE", "src") == r("MEMORY", "USAGE", "dst")
