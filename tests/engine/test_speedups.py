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


# -- loading: a node of our own format (AOF bases, snapshots, our RESTORE payloads) ------

def _node_parts(fn: Any, buf: bytes, pos: int, end: int) -> Any:
    import struct

    try:
        f, live, dead, body, base, ids, flags, offs, data, after = fn(buf, pos, end)
    except (ValueError, struct.error):  # RESTORE and the loaders catch both
        return "error"
    except OverflowError:  # IDs or offsets out of order: _dec_stream's FormatError
        return "order"
    assert type(f) is list and type(flags) is bytearray and type(data) is bytes
    assert ids.typecode in "IQ" and offs.typecode in "HI"
    return (f, live, dead, body, base, ids.typecode, ids.tobytes(), bytes(flags),
            offs.typecode, offs.tobytes(), data, after)


@needs_c
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ops, st.sampled_from([1, 3, 100]), _mutations, st.data())
def test_stream_node_matches_python(ops: list[Any], max_entries: int, mutations: list[Any],
                                    data: st.DataObject) -> None:
    from streamlite.engine import serialize

    s, _ = _build(ops, max_entries, 4096)
    out: list[bytes] = []
    serialize._enc_stream(out, s)
    buf = bytearray(b"".join(out))
    starts = [52]  # after the counters: u64, two IDs, u64, u32 node count
    for _ in s._nodes:
        starts.append(serialize.stream_node_py(bytes(buf), starts[-1], len(buf))[-1])
    for m in mutations:  # damage it: both refuse it, or agree
        if m[0] == "set" and buf:
            buf[m[1] % len(buf)] = m[2]
        elif m[0] == "cut":
            del buf[m[1] % (len(buf) + 1):]
        elif m[0] == "grow":
            buf[len(buf) // 2:len(buf) // 2] = m[1]
    raw = bytes(buf)
    ends = [len(raw), *starts, len(raw) - 1, len(raw) + 5]
    for pos in {*starts, data.draw(st.integers(-2, len(raw) + 2))}:
        end = data.draw(st.sampled_from(ends))
        want = _node_parts(serialize.stream_node_py, raw, pos, end)
        assert _node_parts(sp.stream_node, raw, pos, end) == want
        assert _node_parts(sp.stream_node, memoryview(raw), pos, end) == want
    if not mutations:  # undamaged: every node reads back, up to where the next begins
        for n, pos, nxt in zip(s._nodes, starts, starts[1:], strict=False):
            got = _node_parts(sp.stream_node, raw, pos, len(raw))
            assert got != "error" and (got[1], got[2], got[-1]) == (n.live, n.dead, nxt)
            # in the layout the node had: the same widths, base and arrays
            assert got[4:7] == (n.base, n.ids.typecode, n.ids.tobytes())
            assert got[8:10] == (n.offs.typecode, n.offs.tobytes())
