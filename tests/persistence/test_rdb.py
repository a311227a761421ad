"""RDB files, Redis's format: Redis 8.2's files load into streamlite identically, and
streamlite's load into Redis 8.2 identically (every type, encoding and stream edge
case, compared field by field and with Redis's own DEBUG DIGEST-VALUE); random
datasets round-trip; damaged files are refused whole, with the offset."""

from __future__ import annotations

import os
import random
import shutil
import struct

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamlite.engine import Engine, FakeClock
from streamlite.engine.crc64 import crc64
from streamlite.engine.rdbprim import enc_length, enc_string
from streamlite.persistence.rdb import RdbError, rdb_bytes, read_rdb_bytes
from streamlite.persistence.snapshot import SnapshotError, install, read_snapshot
from tests.support.redis_proc import ServerProc, have_redis, start_redis, start_streamlite

from .helpers import argv_of, canonical, populate_every_type
from .rdb_support import dataset_commands, differences, digests, run_all, state

needs_redis = pytest.mark.skipif(not have_redis(), reason="needs redis-server")
DEBUG = ["--enable-debug-command", "yes"]


def round_trip(src: Engine) -> Engine:
    dst = Engine(src.clock)
    install(dst, read_rdb_bytes(dst, rdb_bytes(src), "mem.rdb"))
    return dst


def test_every_type_round_trips_through_an_rdb_file():
    """populate_every_type includes what only streamlite has (IDMP, the XNACK zone): it
    travels in the stream extension and comes back."""
    src = Engine(FakeClock())
    populate_every_type(src)
    assert canonical(round_trip(src)) == canonical(src)


@needs_redis
def test_redis_rdb_loads_into_streamlite_identically(tmp_path):
    red = start_redis(DEBUG)
    try:
        r = redis.Redis(port=red.port)
        run_all(r, dataset_commands())
        want, want_digests = state(r), digests(r)
        r.save()
        d = tmp_path / "sl"
        d.mkdir()
        shutil.copy(os.path.join(red.dir, "dump.rdb"), d / "dump.rdb")
    finally:
        red.cleanup()
    sl = start_streamlite(["--dbfilename", "dump.rdb", *DEBUG], dir=str(d))
    try:
        s = redis.Redis(port=sl.port)
        assert differences(want, state(s)) == []
        # and back: streamlite's RDB of what it loaded, in a fresh Redis, has Redis's digests
        assert s.config_get("snapshot-format") == {"snapshot-format": "auto"}
        s.save()
    finally:
        sl.stop()
    red2 = start_redis(["--dbfilename", "dump.rdb", *DEBUG], dir=str(d))
    try:
        r2 = redis.Redis(port=red2.port)
        assert digests(r2) == want_digests
        assert differences(want, state(r2)) == []
    finally:
        red2.stop()


@needs_redis
def test_streamlite_rdb_loads_into_redis_identically(tmp_path):
    sl = start_streamlite(["--dbfilename", "dump.rdb", *DEBUG], dir=str(tmp_path))
    try:
        s = redis.Redis(port=sl.port)
        run_all(s, dataset_commands())
        want = state(s)
        s.bgsave()
        _wait_bgsave(s)
    finally:
        sl.stop()
    with open(tmp_path / "dump.rdb", "rb") as f:
        assert f.read(9) == b"REDIS0012"
    red = start_redis(["--dbfilename", "dump.rdb", *DEBUG], dir=str(tmp_path))
    try:
        assert differences(want, state(redis.Redis(port=red.port))) == []
    finally:
        red.stop()


def _wait_bgsave(r: redis.Redis) -> None:
    import time

    deadline = time.monotonic() + 60
    while r.info("persistence")["rdb_bgsave_in_progress"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"


def test_old_redis_7_0_rdb_loads(tmp_path):
    """Debian's redis-server 7.0 writes RDB version 10 (streams as STREAM_LISTPACKS_2,
    consumers without an active-time): read as Redis 8.2 reads it."""
    exe = shutil.which("redis-server")
    if exe is None or b"v=7." not in __import__("subprocess").run(
            [exe, "--version"], capture_output=True).stdout:
        pytest.skip("needs Debian's redis-server 7.0")
    from tests.support import redis_proc

    old = os.environ.get("STREAMLITE_REDIS_SERVER")
    os.environ["STREAMLITE_REDIS_SERVER"] = exe
    try:
        red = redis_proc.start_redis()
    finally:
        if old is None:
            del os.environ["STREAMLITE_REDIS_SERVER"]
        else:
            os.environ["STREAMLITE_REDIS_SERVER"] = old
    try:
        r = redis.Redis(port=red.port)
        for argv in dataset_commands():
            if argv[0] in ("HPEXPIREAT", "HPERSIST") or "g2" in argv:
                continue  # not in 7.0 (field TTLs, XGROUP CREATE ... ENTRIESREAD)
            r.execute_command(*argv)
        want = state(r, redis70=True)
        r.save()
        with open(os.path.join(red.dir, "dump.rdb"), "rb") as f:
            assert f.read(9) == b"REDIS0010"
        shutil.copy(os.path.join(red.dir, "dump.rdb"), tmp_path / "dump.rdb")
    finally:
        red.cleanup()
    sl = start_streamlite(["--dbfilename", "dump.rdb"], dir=str(tmp_path))
    try:
        assert differences(want, state(redis.Redis(port=sl.port), redis70=True)) == []
    finally:
        sl.stop()


# -- random datasets -----------------------------------------------------------------------------

_bytes = st.one_of(st.binary(max_size=12), st.integers(-(2**63), 2**63 - 1).map(lambda i: b"%d" % i),
                   st.binary(min_size=60, max_size=200))


@st.composite
def datasets(draw: st.DrawFn) -> list[list[bytes]]:
    cmds: list[list[bytes]] = []
    for k in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from("slhtzx"))
        key = f"{kind}{k}".encode()
        items = draw(st.lists(_bytes, min_size=1, max_size=draw(st.sampled_from([5, 300]))))
        if kind == "s":
            cmds.append([b"SET", key, items[0]])
        elif kind == "l":
            cmds.append([b"RPUSH", key, *items])
        elif kind == "h":
            cmds.append([b"HSET", key, *[x for it in items for x in (it, it[::-1])]])
            if draw(st.booleans()):
                cmds.append([b"HPEXPIREAT", key, b"%d" % draw(st.integers(10**13, 10**14)),
                             b"FIELDS", b"1", items[0]])
        elif kind == "t":
            cmds.append([b"SADD", key, *items])
        elif kind == "z":
            for it in items:
                cmds.append([b"ZADD", key, b"%r" % draw(st.floats(allow_nan=False)), it])
        else:
            n = len(items)
            for i, it in enumerate(items):
                cmds.append([b"XADD", key, b"%d-%d" % (i // 3 + 1, i % 3), b"f", it,
                             *([b"g", it] if i % 4 == 0 else [])])
            cmds.append([b"XGROUP", b"CREATE", key, b"g", b"0"])
            cmds.append([b"XREADGROUP", b"GROUP", b"g", b"c", b"COUNT",
                         b"%d" % draw(st.integers(0, n)), b"STREAMS", key, b">"])
            for i in draw(st.lists(st.integers(0, n - 1), max_size=5)):
                cmds.append([b"XDEL", key, b"%d-%d" % (i // 3 + 1, i % 3)])
            if draw(st.booleans()):
                cmds.append([b"XNACK", key, b"g", b"FAIL", b"IDS", b"1", b"1-0"])
        if draw(st.booleans()):
            cmds.append([b"PEXPIREAT", key, b"%d" % draw(st.integers(10**13, 10**14))])
    return cmds


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_random_datasets_round_trip(cmds):
    src = Engine(FakeClock())
    c = src.client()
    for argv in cmds:
        src.execute(c, argv)
    assert canonical(round_trip(src)) == canonical(src)


# -- damaged files ---------------------------------------------------------------------------------


def _sample_rdb() -> bytes:
    e = Engine(FakeClock())
    populate_every_type(e)
    return rdb_bytes(e)


def test_damaged_files_are_refused_with_the_offset(tmp_path):
    good = _sample_rdb()
    rng = random.Random(5)
    e = Engine(FakeClock())
    for _ in range(150):
        bad = bytearray(good)
        bad[rng.randrange(9, len(bad))] ^= 1 << rng.randrange(8)
        with pytest.raises(RdbError):
            read_rdb_bytes(e, bytes(bad), "dump.rdb")
    for cut in sorted(rng.sample(range(len(good)), 80)):
        with pytest.raises(RdbError, match=r"(offset \d+|signature)"):
            read_rdb_bytes(e, good[:cut], "dump.rdb")


def test_damaged_body_with_a_valid_checksum_names_the_record(tmp_path):
    """A file whose CRC was recomputed after the damage: the parser itself refuses it and
    names the offset of the key record that failed."""
    e = Engine(FakeClock())
    c = e.client()
    e.execute(c, argv_of("RPUSH", "l", "a", "b"))
    data = bytearray(rdb_bytes(e))
    at = data.index(b"\x12\x01l")  # LIST_QUICKLIST_2 record of key "l"
    data[at + 4] = 7  # the container: neither plain (1) nor packed (2)
    body = bytes(data[:-8])
    fixed = body + struct.pack("<Q", crc64(body))
    with pytest.raises(RdbError, match=f"at offset {at}:"):
        read_rdb_bytes(e, fixed, "dump.rdb")


def test_checksum_zero_is_not_checked_and_bad_checksum_is_refused():
    e = Engine(FakeClock())
    e.execute(e.client(), argv_of("SET", "k", "v"))
    data = rdb_bytes(e)
    zero = data[:-8] + bytes(8)
    loaded = read_rdb_bytes(e, zero, "x.rdb")
    assert loaded.keys == 1
    with pytest.raises(RdbError, match="Wrong RDB checksum"):
        read_rdb_bytes(e, data[:-8] + bytes(7) + b"\x01", "x.rdb")


def test_module_values_are_refused_clearly():
    e = Engine(FakeClock())
    body = (b"REDIS0012" + b"\xfe\x00" + bytes((7,)) + enc_string(b"k")
            + enc_length((123456789 << 10) | 3) + b"\xff")
    with pytest.raises(RdbError, match="module type '.*', which streamlite cannot load"):
        read_rdb_bytes(e, body + struct.pack("<Q", crc64(body)), "m.rdb")
    aux = b"REDIS0012" + b"\xf7" + enc_length(99) + b"\x02\x02" + b"\xff"
    with pytest.raises(RdbError, match="module AUX data"):
        read_rdb_bytes(e, aux + struct.pack("<Q", crc64(aux)), "m.rdb")


def test_snapshot_reader_tells_the_formats_apart(tmp_path):
    """DEBUG RELOAD and start-up read either format, whatever snapshot-format says."""
    e = Engine(FakeClock())
    e.execute(e.client(), argv_of("SET", "k", "v"))
    p = tmp_path / "dump.sldb"
    p.write_bytes(rdb_bytes(e))
    assert read_snapshot(e, str(p)).keys == 1
    p.write_bytes(b"REDIS0099" + bytes(20))
    with pytest.raises(SnapshotError, match="Can't handle RDB format version 99"):
        read_snapshot(e, str(p))


# -- Redis's own test RDBs (tests/assets of a Redis source tree, when one is at hand) -----------


def _redis_assets() -> list[str]:
    from tests.conformance.redis_suite import CACHE

    roots = [os.environ.get("REDIS_SRC", "")]
    if os.path.isdir(CACHE):
        roots += [os.path.join(CACHE, d) for d in sorted(os.listdir(CACHE))]
    for root in roots:
        d = os.path.join(root, "tests", "assets")
        if root and os.path.isdir(d):
            return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".rdb"))
    return []


@needs_redis
@pytest.mark.skipif(not _redis_assets(), reason="needs a Redis source tree (see docs/conformance.md)")
@pytest.mark.parametrize("path", _redis_assets(), ids=os.path.basename)
def test_redis_test_suite_rdb_files_load_as_in_redis(path, tmp_path):
    """Each RDB of Redis's own tests (zipmaps, ziplists, intsets, quicklists of Redis 2.x to
    7.0, corrupt ones): streamlite loads what Redis 8.2 loads, identically, and refuses
    what it refuses."""
    shutil.copy(path, tmp_path / "dump.rdb")
    red = _redis_loading(str(tmp_path))
    with open(path, "rb") as f:
        data = f.read()
    e = Engine()
    if red is None:
        with pytest.raises(RdbError):
            read_rdb_bytes(e, data, os.path.basename(path))
        return
    try:
        want = state(redis.Redis(port=red.port), times=False)
    finally:
        red.stop()
    sl = start_streamlite(["--dbfilename", "dump.rdb"], dir=str(tmp_path))
    try:
        assert differences(want, state(redis.Redis(port=sl.port), times=False)) == []
    finally:
        sl.stop()


def _redis_loading(d: str) -> ServerProc | None:
    """redis-server on ``d``/dump.rdb once it has loaded it, or None if it refused it."""
    import time

    try:
        red = start_redis(["--dbfilename", "dump.rdb"], dir=d)
    except RuntimeError:
        return None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if red.proc.poll() is not None:
            return None
        try:
            if redis.Redis(port=red.port).ping():
                return red
        except (redis.BusyLoadingError, redis.ConnectionError):
            time.sleep(0.05)
    red.stop()
    raise AssertionError("redis-server neither loaded nor refused the file")


def test_lru_idle_times_and_lfu_counters_travel():
    clock = FakeClock()
    src = Engine(clock)
    c = src.client()
    src.execute(c, argv_of("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"))
    src.execute(c, argv_of("SET", "old", "v"))
    clock.advance(500_000)
    src.execute(c, argv_of("SET", "new", "v"))
    dst = Engine(clock)
    dst.config["maxmemory-policy"] = "allkeys-lru"
    install(dst, read_rdb_bytes(dst, rdb_bytes(src), "lru.rdb"))
    cd = dst.client()
    assert dst.execute(cd, argv_of("OBJECT", "IDLETIME", "old")) == 500
    assert dst.execute(cd, argv_of("OBJECT", "IDLETIME", "new")) == 0
    src.execute(c, argv_of("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"))
    payload = src.execute(c, argv_of("DUMP", "old"))
    src.execute(c, argv_of("RESTORE", "hot", "0", payload, "FREQ", "77"))
    dst = Engine(clock)
    dst.config["maxmemory-policy"] = "allkeys-lfu"
    install(dst, read_rdb_bytes(dst, rdb_bytes(src), "lfu.rdb"))
    assert dst.execute(dst.client(), argv_of("OBJECT", "FREQ", "hot")) == 77
