"""Stream nodes past their compact layout, against Redis 8.2, on the C and the pure path.

A node stores its IDs as 32-bit (ms - first ms, seq) pairs and its data offsets as 16
bits until an entry needs more (engine/stream/stream.py): an ms span past 2**32 - 1
inside one node, a seq past 2**32 (``5-4294967296``, ``18446744073709551615-...``), a
node whose data passes 64 KB (stream-node-max-bytes 0 or large). Each script below
runs on redis-server and on a streamlite server (``STREAMLITE_PURE`` 0 and 1): every
reply must be the same, through XDEL, XTRIM, XSETID, groups and XCLAIM, DEBUG RELOAD,
and DUMP/RESTORE both ways (a payload from each server restored on the other, then
read back). IDs are explicit (clock-sized ms like 1700000000000 stand for ``*``, whose
IDs would differ between the servers' clocks; ``<ms>-*`` is deterministic).
tests/server/test_fastpath.py widens nodes under the compiled XADD path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from tests.diff.stream_helpers import norm_info, norm_xpending
from tests.persistence.rdb_support import raw_client
from tests.support.redis_proc import have_redis, start_redis, start_streamlite

pytestmark = [pytest.mark.redis,
              pytest.mark.skipif(not have_redis(), reason="needs redis-server")]
DEBUG = ["--enable-debug-command", "yes"]
BIG = "x" * 30000


@pytest.fixture(params=["c", "pure"])
def servers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("STREAMLITE_PURE", "1" if request.param == "pure" else "0")
    ref, sl = start_redis(DEBUG), start_streamlite(DEBUG)
    try:
        yield ref, sl
    finally:
        ref.cleanup()
        sl.cleanup()


def _call(raw: Any, argv: list[str]) -> Any:
    try:
        return raw(*argv)
    except redis.ResponseError as e:
        return ("error", str(e))


def run(ref: Any, sl: Any, script: str) -> list[Any]:
    """Each line on both servers, the replies compared; the replies."""
    a = raw_client(redis.Redis(port=ref.port))
    b = raw_client(redis.Redis(port=sl.port))
    out = []
    for line in script.strip().splitlines():
        if not line.strip():
            continue
        argv = [BIG if x == "BIG" else x for x in line.split()]
        x, y = _call(a, argv), _call(b, argv)
        if argv[0] == "XINFO":  # fields newer than 8.2 dropped, wall-clock times masked
            x, y = norm_info(x), norm_info(y)
        elif argv[0] == "XPENDING":  # idle times masked
            x, y = norm_xpending(x), norm_xpending(y)
        assert x == y, f"{line}\n redis: {str(x)[:500]}\n streamlite: {str(y)[:500]}"
        out.append(y)
    return out


def swap_dumps(ref: Any, sl: Any, keys: list[str]) -> None:
    """``key`` DUMPed on each server and RESTOREd on the other as ``key:from``; both
    sides then hold the same four keys per key (checked by the scripts after)."""
    a = raw_client(redis.Redis(port=ref.port))
    b = raw_client(redis.Redis(port=sl.port))
    for k in keys:
        pa, pb = a("DUMP", k), b("DUMP", k)
        assert b("RESTORE", f"{k}:from", 0, pa) == b"OK"  # Redis's payload on streamlite
        assert a("RESTORE", f"{k}:from", 0, pb) == b"OK"  # ours on Redis
        assert b("RESTORE", f"{k}:self", 0, pb) == b"OK"
        assert a("RESTORE", f"{k}:self", 0, pa) == b"OK"


READ = """
XLEN {k}
XRANGE {k} - +
XREVRANGE {k} + - COUNT 3
XRANGE {k} 5-4294967295 5-4294967297
XRANGE {k} 4294967300 4294967302
XRANGE {k} 18446744073709551615-4 +
XREVRANGE {k} 4294967301-1 -
XINFO STREAM {k}
"""


def reads(*keys: str) -> str:
    return "".join(READ.format(k=k) for k in keys)


def test_wide_ids_in_one_node(servers: Any) -> None:
    """ms deltas past 32 bits and seqs past 32 bits, inside one node, then every change."""
    ref, sl = servers
    run(ref, sl, """
CONFIG SET stream-node-max-entries 100
CONFIG SET stream-node-max-bytes 4096
XADD s 5-1 f v
XADD s 5-4294967295 f v
XADD s 5-4294967296 f v
XADD s 5-18446744073709551615 f v
XADD s 4294967301-0 f v
XADD s 4294967301-7 g w h u
XADD s 4294967302-* f v
XADD s 1700000000000-0 f v
XADD s 18446744073709551615-3 f v
XADD s 18446744073709551615-* f v
XADD t 1-1 f v
XADD t 1700000000000-0 f v
XADD t 1700000000000-* f v
XADD u 18446744073709551615-18446744073709551614 f v
XADD u 18446744073709551615-18446744073709551615 f v
""" + reads("s", "t", "u") + """
XDEL s 5-4294967296 4294967301-7 9-9
XDEL u 18446744073709551615-18446744073709551614
XGROUP CREATE s g 0
XREADGROUP GROUP g c COUNT 4 STREAMS s >
XCLAIM s g d 0 5-18446744073709551615 4294967301-0
XCLAIM s g d 0 5-1 JUSTID
XPENDING s g - + 10
XAUTOCLAIM s g e 0 0 COUNT 2
""" + reads("s", "u") + """
XTRIM s MINID 5-4294967296
XTRIM t MAXLEN 1
XSETID s 18446744073709551615-18446744073709551615
XSETID t 18446744073709551615-18446744073709551615
XADD t * f v
XADD s * f v
""" + reads("s", "t") + """
DEBUG RELOAD
""" + reads("s", "t", "u") + """
XPENDING s g - + 10
XINFO STREAM s FULL
""")
    swap_dumps(ref, sl, ["s", "t", "u"])
    run(ref, sl, reads("s:from", "s:self", "t:from", "t:self", "u:from", "u:self") + """
XADD u:from 18446744073709551615-18446744073709551615 f v
XADD t:from 18446744073709551615-* f v
XADD t:self 1-1 f v
DEBUG RELOAD
""" + reads("s:from", "t:from", "t:self", "u:from"))


def test_node_data_past_64kb(servers: Any) -> None:
    """Entries that push a node's data past 64 KB (its offsets widen), with node limits
    off and large, mixed with IDs that need 64 bits, then XDEL/XTRIM/reload/restore."""
    ref, sl = servers
    run(ref, sl, """
CONFIG SET stream-node-max-entries 0
CONFIG SET stream-node-max-bytes 0
XADD a 1-1 f v
XADD a 1-2 f BIG
XADD a 1-3 f BIG
XADD a 1-4 f v g BIG
XADD a 1-5 f v
XADD a 4294967400-4294967296 f v
XADD a 1700000000000-0 f v
XADD a 1700000000000-* f BIG
CONFIG SET stream-node-max-bytes 200000
CONFIG SET stream-node-max-entries 100
XADD b 7-1 f v
XADD b 7-2 f BIG
XADD b 7-3 f BIG
XADD b 7-4 f BIG
XADD b 7-5 f BIG
XADD b 7-6 f BIG
XADD b 7-7 f BIG
XADD b 7-8 f BIG
XADD b 8-1 f v
""" + reads("a", "b") + """
XRANGE a 1-4 1-5
XRANGE b 7-7 +
XDEL a 1-2 1-4
XDEL b 7-1
XTRIM b MAXLEN 2
XGROUP CREATE a g 0
XREADGROUP GROUP g c COUNT 3 STREAMS a >
XCLAIM a g d 0 1-1 1-3
""" + reads("a", "b") + """
DEBUG RELOAD
""" + reads("a", "b") + """
XINFO STREAM a FULL
""")
    swap_dumps(ref, sl, ["a", "b"])
    run(ref, sl, reads("a:from", "a:self", "b:from", "b:self") + """
XADD a:from 1700000000001-* f BIG
XADD b:from 9-1 f v
XTRIM a:from MINID 1-5
""" + reads("a:from", "b:from"))
