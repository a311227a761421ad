"""The C accelerator against its pure-Python twins, on random inputs (hypothesis).

Each compiled function (``streamlite/_speedups.c``) must return exactly what the
Python function it replaces returns. These tests call the extension directly, so
they run whenever it is built, STREAMLITE_PURE or not; without it they skip
(except in CI, where the build is required: see ``test_built_in_ci``).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from bisect import bisect_right
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamlite import accel
from streamlite.engine.replies import (
    NULL_ARRAY,
    BigNumber,
    Double,
    ErrorReply,
    MultiReply,
    Push,
    RawResp,
    RespSet,
    SimpleString,
    Verbatim,
)
from streamlite.engine.stream.stream import _M64, Stream
from streamlite.protocol.resp import encode_py


def _load() -> Any:
    try:
        mod = importlib.import_module("streamlite._speedups")
    except ImportError:
        return None
    mod.setup(SimpleString=SimpleString, ErrorReply=ErrorReply, RespSet=RespSet, Push=Push,
              MultiReply=MultiReply, RawResp=RawResp, NULL_ARRAY=NULL_ARRAY, fallback=encode_py)
    return mod


sp = _load()
needs_c = pytest.mark.skipif(sp is None, reason="the C accelerator is not built")


def test_built_in_ci() -> None:
    """CI installs with a compiler: the accelerator must have been built there."""
    if (os.environ.get("CI") or os.environ.get("STREAMLITE_REQUIRE_ACCEL")) and sp is None:
        pytest.fail("CI: streamlite._speedups was not built (see setup.py)")


def test_pure_switch_and_info() -> None:
    """STREAMLITE_PURE=1 forces the pure path; INFO server says which path runs."""
    code = ("from streamlite import accel; from streamlite.engine.core import Engine; "
            "from streamlite.engine.info import section_server; "
            "print(accel.ACTIVE, section_server(Engine())['streamlite_accelerator'])")
    env = dict(os.environ, STREAMLITE_PURE="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["pure", "pure"]
    env.pop("STREAMLITE_PURE")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    expected = "c" if sp is not None else "pure"
    assert out == [expected, expected]
    assert accel.ACTIVE in ("c", "pure")


def test_stale_build_not_used() -> None:
    """A build from older sources (another API number) is left alone: pure path."""
    code = ("import sys, types; m = types.ModuleType('streamlite._speedups'); m.API = -1; "
            "sys.modules['streamlite._speedups'] = m; "
            "from streamlite import accel; from streamlite.protocol.resp import encode; "
            "print(accel.ACTIVE, 'out of date' in accel.describe(), encode(b'x', 2))")
    env = {k: v for k, v in os.environ.items() if k != "STREAMLITE_PURE"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["pure", "True", "b'$1\\r\\nx\\r\\n'"]


# -- encode --------------------------------------------------------------------------

_scalars = st.one_of(
    st.binary(max_size=40),
    st.binary(min_size=1100, max_size=1200),  # lengths past the header caches
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(),  # big ints: the fallback
    st.none(),
    st.just(NULL_ARRAY),
    st.booleans(),
    st.binary(max_size=20).map(SimpleString),
    st.binary(max_size=20).map(ErrorReply),  # \r and \n become spaces
    st.floats(allow_nan=False).map(Double),
    st.floats(allow_nan=False),
    st.binary(max_size=10).map(BigNumber),
    st.binary(max_size=10).map(Verbatim),
    st.text(max_size=10),
    st.sampled_from([RawResp(b"*0\r\n"), RawResp(b"*1\r\n$1\r\nx\r\n")]),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=6),
        st.lists(children, max_size=6).map(tuple),
        st.lists(children, max_size=6).map(RespSet),
        st.lists(children, max_size=6).map(Push),
        st.lists(children, max_size=6).map(MultiReply),
        st.dictionaries(st.binary(max_size=8), children, max_size=5),
    )


_replies = st.recursive(_scalars, _containers, max_leaves=40)


@needs_c
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_replies, st.sampled_from([2, 3]))
def test_encode_matches_python(v: Any, proto: int) -> None:
    assert sp.encode(v, proto) == encode_py(v, proto)


@needs_c
def test_encode_edge_cases() -> None:
    for v in (b"", 0, -1, 9999, 10000, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, [], {}, (),
              [[[[]]]], ErrorReply(b"ERR a\r\nb"), [b"x" * 5000], Double(float("inf"))):
        for proto in (2, 3):
            assert sp.encode(v, proto) == encode_py(v, proto), (v, proto)
    assert sp.encode(b"ab") == encode_py(b"ab")  # proto defaults to 2


@needs_c
def test_encode_errors_like_python() -> None:
    with pytest.raises(TypeError):
        encode_py(object(), 2)
    with pytest.raises(TypeError):
        sp.encode([object()], 2)
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(RecursionError):
        sp.encode(deep, 2)


# -- Stream.entries ----------------------------------------------------------------

_names = st.sampled_from([b"f", b"g", b"name", b"x" * 130])
_values = st.one_of(st.binary(max_size=12), st.sampled_from([b"1", b"12345", b"-7", b""]),
                    st.binary(min_size=120, max_size=300),
                    # a few big ones: with stream-node-max-bytes 0 a node's data passes
                    # 64 KB (its offsets widen from 'H' to 'I')
                    st.builds(lambda n, c: c * n, st.integers(5000, 40000),
                              st.sampled_from([b"a", b"z"])))
_ops = st.lists(
    st.one_of(
        # add: ms step, seq, fields (same names as often as not)
        st.tuples(st.just("add"), st.integers(0, 3), st.integers(0, 2**64 - 1),
                  st.lists(st.tuples(_names, _values), min_size=1, max_size=4)),
        st.tuples(st.just("del"), st.integers(0, 200)),
        st.tuples(st.just("trim"), st.integers(0, 60)),
    ),
    max_size=120,
)


def _build(ops: list[Any], max_entries: int, max_bytes: int) -> tuple[Stream, list[int]]:
    s = Stream()
    ids: list[int] = []
    ms, seq = 1, 0
    for op in ops:
        if op[0] == "add":
            step = op[1]
            if step:
                ms += step
                seq = op[2] if op[2] % 3 == 0 else 0
            else:
                seq += 1
                if seq > _M64:
                    ms, seq = ms + 1, 0
            fields = [x for pair in op[3] for x in pair]
            if op[2] % 2:  # the node's master fields again: the F_SAME encoding
                fields = [b"f", op[3][0][1]]
            sid = (ms << 64) | seq
            s.add(sid, fields, max_entries, max_bytes)
            ids.append(sid)
        elif op[0] == "del" and ids:
            s.delete(ids[op[1] % len(ids)])
        elif op[0] == "trim":
            s.trim(1, maxlen=op[1])
    return s, ids


@needs_c
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ops, st.sampled_from([1, 2, 5, 100]), st.sampled_from([0, 60, 4096]),
       st.data())
def test_entries_match_python(ops: list[Any], max_entries: int, max_bytes: int,
                              data: st.DataObject) -> None:
    s, ids = _build(ops, max_entries, max_bytes)
    bounds = [0, (1 << 128) - 1, *ids, *(i + 1 for i in ids), *(max(i - 1, 0) for i in ids)]
    for _ in range(5):
        start = data.draw(st.sampled_from(bounds))
        end = data.draw(st.sampled_from(bounds))
        count = data.draw(st.sampled_from([-1, 0, 1, 2, 3, 10, 100]))
        want_sids: list[int] = []
        want = s.entries_py(start, end, count, False, want_sids)
        got_sids: list[int] = []
        got: list[Any] = []
        if not (start > end or not s._nodes or count == 0):
            i = max(bisect_right(s._keys, start) - 1, 0)
            got = sp.entries_fwd(s._nodes, i, start >> 64, start & _M64, end >> 64, end & _M64,
                                 count, [], got_sids)
        assert got == want
        assert got_sids == want_sids
        # the same range straight to RESP bytes (XRANGE's RawResp reply)
        raw = s.entries_resp(start, end, count)
        if raw is not None:
            assert raw == encode_py(want, 2) == encode_py(want, 3)
        # and through the public method (whichever path is active), without sids
        assert s.entries(start, end, count) == want


@needs_c
def test_entries_reject_corrupt_nodes() -> None:
    s = Stream()
    s.add(1 << 64, [b"f", b"v"])
    node = s._nodes[0]
    node.offs[0] = 1000  # past the data
    with pytest.raises(ValueError):
        sp.entries_fwd(s._nodes, 0, 0, 0, _M64, _M64, -1, [], None)


# -- loading: a Redis stream listpack as a node ----------------------------------------

def _node_state(n: Any) -> tuple[Any, ...]:
    return (n.fields, n.same_size, n.live, n.dead, n.body, n.base, n.ids.typecode,
            n.ids.tobytes(), bytes(n.flags), n.offs.typecode, n.offs.tobytes(), bytes(n.data))


def _load_both(lp: bytes, master: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlite.engine import rdbstream
    from streamlite.engine.serialize import FormatError

    try:
        want: Any = _node_state(rdbstream._node_from_listpack_py(lp, master))
    except FormatError as e:
        want = ("error", str(e))
    monkeypatch.setattr(rdbstream, "_from_lp", sp.node_from_listpack)
    try:
        got: Any = _node_state(rdbstream._node_from_listpack(lp, master))
    except FormatError as e:
        got = ("error", str(e))
    assert got == want


_mutations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.integers(0, 10_000), st.integers(0, 255)),
        st.tuples(st.just("cut"), st.integers(0, 10_000)),
        st.tuples(st.just("grow"), st.binary(min_size=1, max_size=8)),
    ),
    max_size=3,
)


@needs_c
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ops, st.sampled_from([1, 3, 100]), _mutations, st.data())
def test_node_from_listpack_matches_python(ops: list[Any], max_entries: int,
                                           mutations: list[Any], data: st.DataObject) -> None:
    import struct

    from streamlite.engine.rdbstream import _node_listpack

    s, _ = _build(ops, max_entries, 4096)
    if not s._nodes:
        return
    k = data.draw(st.integers(0, len(s._nodes) - 1))
    master = s._keys[k]
    lp = bytearray(_node_listpack(s._nodes[k], master))
    for m in mutations:  # damage it: both must refuse it with the same error, or agree
        if m[0] == "set" and len(lp) > 6:
            lp[6 + m[1] % (len(lp) - 6)] = m[2]
        elif m[0] == "cut":
            del lp[m[1] % (len(lp) + 1):]
        elif m[0] == "grow":
            lp[-1:-1] = m[1]
        if data.draw(st.integers(0, 4)) and len(lp) >= 6:  # mostly keep the total right
            lp[0:4] = struct.pack("<I", len(lp))
    with pytest.MonkeyPatch.context() as mp:
        _load_both(bytes(lp), master, mp)


@needs_c
def test_node_from_listpack_integer_field_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Field names and values that a listpack holds as integers (the master entry's
    fields included) come back as their decimal text on both paths (the C path once
    gave b"%lld": Python 3.11's PyBytes_FromFormat knows no %lld)."""
    from streamlite.engine.rdbstream import _node_listpack

    s, _ = _build([("add", 0, 0, [(b"102", b"7"), (b"-5", b"x"), (b"f", b"-9000000000")]),
                   ("add", 1, 0, [(b"102", b"8"), (b"-5", b"y"), (b"f", b"1")])], 100, 4096)
    lp = _node_listpack(s._nodes[0], s._keys[0])
    _load_both(lp, s._keys[0], monkeypatch)
    from streamlite.engine import rdbstream

    node = rdbstream._node_from_listpack(lp, s._keys[0])
    assert b"%lld" not in repr(_node_state(node)).encode()


_elements = st.lists(
    st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-5, 130),
              st.binary(max_size=5), st.binary(min_size=60, max_size=70)),
    max_size=30,
)


@needs_c
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_elements, st.sampled_from([0, 5 << 64, 2**128 - 1]), st.booleans())
def test_node_from_listpack_random_elements(items: list[Any], master: int, header: bool) -> None:
    """Listpacks of arbitrary elements (mostly not a valid stream node): the same
    verdict. A plausible master entry is put first half of the time."""
    from streamlite.engine.rdbprim import listpack_build, lp_int, lp_str

    if header:  # a master entry, then entries of random flags and deltas
        items = [len(items), 0, 1, b"f", 0, *(x if i % 4 else x % 4 if isinstance(x, int) else x
                                             for i, x in enumerate(items))]
    els = [lp_int(x) if isinstance(x, int) else lp_str(x) for x in items]
    with pytest.MonkeyPatch.context() as mp:
        _load_both(listpack_build(els, len(els)), master, mp)


@needs_c
def test_node_from_listpack_edge_cases() -> None:
    from streamlite.engine.rdbprim import listpack_build, lp_int, lp_str

    def lp(*items: Any) -> bytes:
        els = [lp_int(x) if isinstance(x, int) else lp_str(x) for x in items]
        return listpack_build(els, len(els))

    cases = [
        # two entries with the same ID: out of order
        lp(2, 0, 1, b"f", 0, 2, 0, 0, b"v", 4, 2, 0, 0, b"w", 4),
        # a valid node with an entry of other fields, integers and a deleted entry
        lp(2, 1, 1, b"f", 0, 2, 0, 0, b"v", 4, 0, 1, 5, 2, b"a", -7, b"b", 10**15, 8,
           3, 2, 0, b"x", 4),
        # an element starting with an unknown encoding byte
        listpack_build([lp_int(1), b"\xf5\x00\x02"], 2),
        # a 24-bit integer cut short by the end of the listpack
        listpack_build([lp_int(1), b"\xf2\x01"], 2),
        # negative deltas (the IDs wrap modulo 2**64, as Python's & M64)
        lp(1, 0, 1, b"f", 0, 2, -1, -5, b"v", 4),
    ]
    with pytest.MonkeyPatch.context() as mp:
        for data in cases:
            for master in (0, (7 << 64) | 9, 2**128 - 1):
                _load_both(data, master, mp)


# -- embedded: reply values as redis-py gets them ----------------------------------------

def _norm(x: Any) -> Any:
    """A comparable form: exceptions by type and text, containers by type and items."""
    if isinstance(x, BaseException):
        return ("exception", type(x), x.args)
    if isinstance(x, list):
        return (type(x), [_norm(y) for y in x])
    if isinstance(x, dict):
        return (type(x), [(_norm(k), _norm(v)) for k, v in x.items()])
    return (type(x), x)


@needs_c
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_replies, st.sampled_from([2, 3]))
def test_convert_matches_python(v: Any, proto: int) -> None:
    from streamlite.embedded.convert import convert_py

    sp.setup_convert(SimpleString=SimpleString, Verbatim=Verbatim, NULL_ARRAY=NULL_ARRAY,
                     fallback=convert_py)
    try:
        want = _norm(convert_py(v, proto, None))
    except TypeError as e:
        want = ("TypeError", str(e))
    try:
        got = _norm(sp.convert(v, proto))
    except TypeError as e:
        got = ("TypeError", str(e))
    assert got == want


def _parsed(f: Any, items: list[bytes]) -> Any:
    from streamlite.engine.errors import CommandError

    try:
        return f(items)
    except CommandError as e:
        return ("error", e.msg)


_digits = st.text("0123456789", min_size=0, max_size=22).map(str.encode)
_id_like = st.one_of(
    st.builds(lambda a, b: a + b"-" + b, _digits, _digits),
    st.builds(lambda a, b, c: a + b"-" + b + b"-" + c, _digits, _digits, _digits),
    _digits, st.sampled_from([b"-", b"+", b"*", b"1-*", b"0-0", b"18446744073709551615-1",
                              b"18446744073709551616-0", b"1-18446744073709551615",
                              b"9999999999999999999-9999999999999999999", b"01-02", b" 1-2",
                              b"1-2\x00x", b"\xd9\xa1-1"]),
    st.binary(max_size=8),
)


@needs_c
@settings(max_examples=500, deadline=None)
@given(st.lists(_id_like, max_size=8))
def test_parse_ids_matches_python(items: list[bytes]) -> None:
    """XACK's IDs: the C loop (``<ms>-<seq>`` of digits) and ``parse_strict`` for each
    agree on every value and every error."""
    from streamlite.engine.stream.ids import parse_ids_py, parse_strict

    got = _parsed(lambda xs: sp.parse_ids(parse_strict, xs), items)
    assert got == _parsed(parse_ids_py, items)


# -- loading: the nodes of a stream of our own format (AOF bases, snapshots, RESTORE) -----

def _nodes_outcome(fn: Any, buf: bytes | memoryview, pos: int, end: int, nnodes: int) -> Any:
    """What ``stream_nodes`` (C or its Python twin) makes of the bytes: every slot of
    every node (types and typecodes too), which nodes share their field list, keys,
    counters; or the error (a FormatError's text; running past the end: "error", as
    the Python twin raises struct.error where the C raises ValueError, and the callers
    catch both)."""
    import struct

    from streamlite.engine.serialize import FormatError
    from streamlite.engine.stream.stream import _Node, same_size

    try:
        nodes, keys, live, last, after = fn(buf, pos, end, nnodes, _Node, same_size,
                                            FormatError)
    except FormatError as e:
        return ("format", str(e))
    except (ValueError, struct.error):
        return "error"
    for n in nodes:
        assert type(n) is _Node and type(n.fields) is list
        assert type(n.flags) is bytearray and type(n.data) is bytes
        assert type(n.live) is type(n.dead) is type(n.body) is type(n.base) is int
    shared = [a.fields is b.fields for a, b in zip(nodes, nodes[1:], strict=False)]
    return ([_slots(n) for n in nodes], shared, keys, live, last, after)


def _slots(n: Any) -> tuple[Any, ...]:
    return (*_node_state(n), n.ids.typecode, n.offs.typecode)


def _encoded(s: Stream) -> tuple[bytearray, list[int]]:
    """``_enc_stream``'s bytes, and where each node starts (and where the last ends)."""
    from streamlite.engine import serialize

    out: list[bytes] = []
    serialize._enc_stream(out, s)
    buf = bytearray(b"".join(out))
    starts = [_FIRST_NODE]
    for _ in s._nodes:
        starts.append(serialize.stream_node_py(bytes(buf), starts[-1], len(buf))[-1])
    return buf, starts


def _both_nodes(raw: bytes, pos: int, end: int, nnodes: int) -> Any:
    from streamlite.engine import serialize

    want = _nodes_outcome(serialize.stream_nodes_py, raw, pos, end, nnodes)
    assert _nodes_outcome(sp.stream_nodes, raw, pos, end, nnodes) == want
    assert _nodes_outcome(sp.stream_nodes, memoryview(raw), pos, end, nnodes) == want
    return want


_FIRST_NODE = 52  # after the counters: u64, two IDs, u64, u32 node count


@needs_c
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ops, st.sampled_from([1, 3, 100]), _mutations, st.data())
def test_stream_nodes_match_python(ops: list[Any], max_entries: int, mutations: list[Any],
                                   data: st.DataObject) -> None:
    """Narrow and wide nodes, shared field lists, tombstones, empty and one-node streams,
    undamaged and damaged (bytes changed, cut, inserted): the same nodes or the same
    error both ways."""
    s, _ = _build(ops, max_entries, 4096)
    buf, _ = _encoded(s)
    nnodes = len(s._nodes)
    for m in mutations:  # damage it: both refuse it, or agree
        if m[0] == "set" and buf:
            buf[m[1] % len(buf)] = m[2]
        elif m[0] == "cut":
            del buf[m[1] % (len(buf) + 1):]
        elif m[0] == "grow":
            buf[len(buf) // 2:len(buf) // 2] = m[1]
    raw = bytes(buf)
    count = data.draw(st.sampled_from([nnodes, nnodes, max(nnodes - 1, 0), nnodes + 1]))
    end = data.draw(st.sampled_from([len(raw), len(raw), max(len(raw) - 1, 0)]))
    pos = data.draw(st.sampled_from([_FIRST_NODE, _FIRST_NODE, _FIRST_NODE + 1, -1]))
    got = _both_nodes(raw, pos, end, count)
    if not mutations and (count, end, pos) == (nnodes, len(raw), _FIRST_NODE):
        # undamaged: every node reads back in the layout it had (widths, base, arrays)
        assert got[0] == [_slots(n) for n in s._nodes]
        assert got[2] == s._keys


@needs_c
def test_stream_nodes_wide_and_damaged() -> None:
    """The cases random streams rarely reach: offsets past 64 KB (array('I')), IDs whose
    ms delta or seq needs 64 bits (array('Q')), and each error of the loop, the first
    one when there are several."""
    import struct

    s = Stream()
    big = b"x" * 40_000
    for i in range(4):  # one node past 64 KB of data: 32-bit offsets
        s.add((5 << 64) | i, [b"f", big], 100, 1 << 30)
    s.add(((5 + (1 << 40)) << 64) | 1, [b"f", b"y"], 100, 1 << 30)  # a 64-bit ms delta
    s.add(((6 << 40) << 64) | (1 << 63), [b"g", b"y"], 3, 1 << 30)  # a new node, 64-bit seq
    s.add((7 << 40) << 64, [b"g", b"z"], 3, 1 << 30)
    s.add((8 << 40) << 64, [b"g", b"w"], 3, 1 << 30)
    s.add((9 << 40) << 64, [b"g", b"v"], 3, 1 << 30)  # a third node, sharing its field list
    s.delete((5 << 64) | 2)
    assert [n.offs.typecode for n in s._nodes] == ["I", "H", "H"]
    assert [n.ids.typecode for n in s._nodes] == ["Q", "Q", "I"]
    buf, starts = _encoded(s)
    ok = _both_nodes(bytes(buf), _FIRST_NODE, len(buf), 3)
    assert ok[0] == [_slots(n) for n in s._nodes]
    assert ok[1] == [False, True]
    assert _both_nodes(bytes(buf), _FIRST_NODE, len(buf), 0) == ([], [], [], 0, -1, _FIRST_NODE)
    # the first node's parts: fields (u32 count, a length, "f"), header, IDs, flags, offsets
    ids_at = _FIRST_NODE + 29
    flags_at = ids_at + 5 * 16 + 4
    offs_at = flags_at + 5 + 4
    third_ids = starts[2] + 29
    cases = [
        ((ids_at + 16, "<Q", 4),), ("format", "stream IDs or offsets out of order"),  # ms < first
        ((starts[1] + 29 + 48 + 4 + 3 + 4 + 4, "<I", 70_000),),  # the second node's: 16-bit
        ("format", "stream IDs or offsets out of order"),  # (its last below 64 KB)
        ((offs_at + 16, "<I", 1 << 30),), ("format", "inconsistent stream node"),
        ((offs_at, "<I", 1),), ("format", "inconsistent stream node"),
        ((ids_at - 20, "<I", 9),), ("format", "inconsistent stream node"),  # live count
        ((flags_at, "<B", 1),), ("format", "inconsistent stream node"),  # a tombstone more
        ((third_ids, "<Q", 0),), ("format", "stream nodes out of order"),
        ((ids_at - 4, "<I", 5 * 16 - 4),), "error",  # IDs not a whole number of u64
        ((ids_at - 4, "<I", 1 << 31),), "error",  # past the end
        # an error of a node and one of a later node: the first one is reported
        ((third_ids, "<Q", 0), (offs_at, "<I", 1)), ("format", "inconsistent stream node"),
        ((starts[2], "<I", 1 << 31), (ids_at + 16, "<Q", 4)),
        ("format", "stream IDs or offsets out of order"),
    ]
    for patches, want in zip(cases[0::2], cases[1::2], strict=True):
        damaged = bytearray(buf)
        for at, fmt, value in patches:
            struct.pack_into(fmt, damaged, at, value)
        assert _both_nodes(bytes(damaged), _FIRST_NODE, len(damaged), 3) == want, patches


@needs_c
def test_stream_nodes_big() -> None:
    """A stream past the size above which the C copies without the GIL (1 MB): the same
    nodes; an error only that copy finds (a tombstone count, an ms below its node's
    first) still the Python loop's."""
    import struct

    s = Stream()
    for i in range(3000):
        s.add(((1 << 40) + i) << 64 | (i % 7), [b"f", b"v" * 400, b"g", b"%d" % i], 100)
    s.delete(((1 << 40) + 2950) << 64 | (2950 % 7))
    buf, starts = _encoded(s)
    assert len(buf) > 1 << 20
    nnodes = len(s._nodes)
    ok = _both_nodes(bytes(buf), _FIRST_NODE, len(buf), nnodes)
    assert ok[0] == [_slots(n) for n in s._nodes]
    last = starts[-2] + 4 + 8 + 2 + 20  # the last node's IDs: 2 fields of 1 byte
    flags = last + 16 * len(s._nodes[-1]) + 4
    for at, fmt, value, want in [
        (last + 16 * 2, "<Q", 5, "stream IDs or offsets out of order"),
        (flags + 1, "<B", 1, "inconsistent stream node"),
    ]:
        damaged = bytearray(buf)
        struct.pack_into(fmt, damaged, at, value)
        assert _both_nodes(bytes(damaged), _FIRST_NODE, len(damaged), nnodes) == ("format",
                                                                                   want)
