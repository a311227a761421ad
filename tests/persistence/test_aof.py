"""The AOF and snapshots at the engine level, with real files: round trips of every type,
rewrites, truncation at every offset, corruption, disk errors, redis-check-aof."""

from __future__ import annotations

import errno
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from streamlite.engine import FakeClock
from streamlite.persistence import AofError, SnapshotError
from streamlite.persistence.aof import AofWriteError

from .helpers import Durable, argv_of, canonical, incr_files, populate_every_type


def fill(d: Durable) -> None:
    populate_every_type(d.engine)
    d.p.after_writes()


def aof_dir(path) -> Path:
    return Path(path) / "appendonlydir"


# -- round trips ------------------------------------------------------------------------


def test_every_type_round_trips_through_the_incremental_log(tmp_path):
    clock = FakeClock()
    d = Durable(str(tmp_path), clock)
    fill(d)
    d("MULTI")
    d("INCR", "n")
    d("LPUSH", "list", "z")
    d("EXEC")
    d("EVAL", "redis.call('SET', 'e1', 'x'); redis.call('RPUSH', 'e2', 'y'); return 1", "0")
    before = canonical(d.engine, times=False)
    d.close()
    d2 = Durable(str(tmp_path), clock)
    assert canonical(d2.engine, times=False) == before
    d2.close()


@pytest.mark.parametrize("preamble", [True, False])
def test_rewrite_then_restart_keeps_everything(tmp_path, preamble):
    clock = FakeClock()
    d = Durable(str(tmp_path), clock, aof_use_rdb_preamble=preamble)
    fill(d)
    assert d("BGREWRITEAOF") == b"Background append only file rewriting started"
    for i in range(50):  # writes while the child works go to the new incremental file
        d("XADD", "s", "*", "during", str(i))
        clock.advance(1)
    d.p.wait_children()
    names = sorted(os.listdir(aof_dir(tmp_path)))
    assert names == ["appendonly.aof.2.base.aof", "appendonly.aof.2.incr.aof",
                     "appendonly.aof.manifest"]
    assert (aof_dir(tmp_path) / "appendonly.aof.manifest").read_bytes() == (
        b"file appendonly.aof.2.base.aof seq 2 type b\n"
        b"file appendonly.aof.2.incr.aof seq 2 type i\n")
    base = (aof_dir(tmp_path) / "appendonly.aof.2.base.aof").read_bytes()
    assert (b"RESTORE" in base) == preamble and (b"XADD" in base) != preamble
    before = canonical(d.engine, times=preamble, layout=preamble)
    d.close()
    d2 = Durable(str(tmp_path), clock)
    assert canonical(d2.engine, times=preamble, layout=preamble) == before
    d2.close()


@pytest.fixture(params=["read", "mapped"])
def snapshot_reading(request, monkeypatch):
    """Snapshots read into memory, or every one through a mapping of the file (the
    path of those of 1 MB and more): the loaders must keep no view of the pages."""
    from streamlite.persistence import snapshot

    maps: list[object] = []
    if request.param == "mapped":
        real = snapshot.Mapped

        def counting(*a):
            maps.append(a)
            return real(*a)

        monkeypatch.setattr(snapshot, "_MAP_MIN", 1)
        monkeypatch.setattr(snapshot, "Mapped", counting)
    else:
        monkeypatch.setattr(snapshot, "_MAP_MIN", 1 << 62)
        return None
    return maps


def test_snapshot_round_trip_is_exact(tmp_path, snapshot_reading):
    clock = FakeClock()
    d = Durable(str(tmp_path), clock, appendonly=False)
    fill(d)
    assert d("SAVE") == b"OK"
    before = canonical(d.engine)
    d.close()
    d2 = Durable(str(tmp_path), clock, appendonly=False)
    assert canonical(d2.engine) == before
    assert d2.p.loaded_keys == sum(len(db) for db in d2.engine.dbs)
    assert d2("DEBUG", "RELOAD") == b"OK"  # the snapshot it writes, read back the same way
    assert canonical(d2.engine) == before
    d2.close()
    if snapshot_reading is not None:
        assert len(snapshot_reading) == 2  # the start's load and DEBUG RELOAD's


def test_bgsave_writes_a_loadable_snapshot_and_expired_keys_are_skipped(tmp_path):
    clock = FakeClock()
    d = Durable(str(tmp_path), clock, appendonly=False)
    fill(d)
    d("SET", "soon", "x", "PX", "50")
    assert d("BGSAVE") == b"Background saving started"
    assert d("BGSAVE") == b"ERR Background save already in progress"
    d.p.wait_children()
    assert d.p.info()["rdb_last_bgsave_status"] == "ok"
    before = canonical(d.engine)
    d.close()
    clock.advance(100)
    d2 = Durable(str(tmp_path), clock, appendonly=False)
    assert d2("EXISTS", "soon") == 0
    del before[(0, b"soon")]
    assert canonical(d2.engine) == before
    assert d2.p.info()["rdb_last_load_keys_expired"] == 1
    d2.close()


def test_aof_takes_precedence_over_the_snapshot(tmp_path):
    d = Durable(str(tmp_path))
    d("SET", "a", "aof")
    d("SAVE")
    d("SET", "a", "newer")
    d.close()
    d2 = Durable(str(tmp_path))
    assert d2("GET", "a") == b"newer"
    d2.close()
    d3 = Durable(str(tmp_path), appendonly=False)
    assert d3("GET", "a") == b"aof"
    d3.close()


# -- truncation ---------------------------------------------------------------------------


def _small_log(path: str) -> bytes:
    """A small incremental file holding a few commands of several types and a MULTI block."""
    clock = FakeClock()
    d = Durable(path, clock)
    cmds = [
        ("SET", "a", "1"), ("RPUSH", "l", "x", "y"), ("INCR", "a"),
        ("XADD", "s", "1-1", "f", "v"), ("HSET", "h", "k", "v"),
        ("MULTI",), ("SET", "m1", "1"), ("SET", "m2", "2"), ("EXEC",),
        ("SADD", "set", "q"), ("SELECT", "2"), ("SET", "b", "in2"),
    ]
    for c in cmds:
        d(*c)
    d.close()
    return Path(incr_files(path)[-1]).read_bytes()


def test_truncation_at_every_offset_keeps_exactly_the_complete_commands(tmp_path):
    src = tmp_path / "src"
    data = _small_log(str(src))
    incr_name = os.path.basename(incr_files(str(src))[-1])
    states: dict[int, dict] = {}
    boundaries = []
    for cut in range(len(data) + 1):
        work = tmp_path / f"cut{cut % 2}"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(src, work)
        (aof_dir(work) / incr_name).write_bytes(data[:cut])
        d = Durable(str(work), FakeClock())
        kept = (aof_dir(work) / incr_name).stat().st_size
        state = canonical(d.engine)
        d.close()
        assert kept <= cut
        if kept == cut:
            boundaries.append(cut)
            states[cut] = state
        else:  # the tail was dropped with a log line; what is left is a boundary state
            assert any("short read" in m for m in d.logs)
            assert state == states[kept], (cut, kept)
    # every command is a boundary except inside MULTI ... EXEC
    assert len(boundaries) >= 8 and boundaries[-1] == len(data)


def _replay_with_chunk(path: Path, data: bytes, chunk: int) -> tuple[object, ...]:
    from streamlite.engine.core import Engine
    from streamlite.persistence.aof import replay

    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    eng = Engine()
    seen: list[int] = []
    try:
        n = replay(eng, str(path), allow_truncated=True, log=lambda m: None, chunk=chunk,
                   progress=seen.append)
    except AofError as e:
        return ("error", str(e))
    return n, path.stat().st_size, sum(seen), canonical(eng)


def test_commands_longer_than_a_chunk_read_whole_load_as_hiredis_reads_them(tmp_path):
    """replay reads a command still incomplete after a chunk straight from the file: with
    16-byte chunks nearly every command goes that way, truncated or not, and the result
    (commands run, what is kept of the file, the data, errors) is hiredis's alone."""
    src = tmp_path / "src"
    d = Durable(str(src), FakeClock())
    for c in [("SET", "a", "1"), ("SET", "big", "v" * 300), ("RPUSH", "l", "x" * 40, "y"),
              ("MULTI",), ("SET", "m1", "z" * 50), ("EXEC",), ("XADD", "s", "1-1", "f", "v")]:
        d(*c)
    d.close()
    data = Path(incr_files(str(src))[-1]).read_bytes()
    variants = [data[:cut] for cut in range(len(data) + 1)]
    variants += [data + b"*2\r\n$3\r\nGET\r\n$03\r\nabc\r\n",  # not canonical
                 data + b"*1\r\n$4\r\nNOPE\r\n",  # an unknown command
                 data + b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999999999999999\r\nabc",
                 data + b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n:12\r\n"]  # not a command
    for i, v in enumerate(variants):
        small = _replay_with_chunk(tmp_path / "small" / "f.aof", v, 16)
        whole = _replay_with_chunk(tmp_path / "whole" / "f.aof", v, 1 << 16)
        assert small == whole, i
        if small[0] != "error":
            assert small[2] == len(v)  # progress counted every byte read


def test_truncation_refused_when_not_allowed(tmp_path):
    d = Durable(str(tmp_path))
    d("SET", "a", "1")
    d.close()
    f = incr_files(str(tmp_path))[-1]
    size = os.path.getsize(f)
    with open(f, "ab") as fh:
        fh.write(b"*2\r\n$3\r\nGET")
    with pytest.raises(AofError, match=rf"appendonly.aof.1.incr.aof.*offset {size}"):
        Durable(str(tmp_path), aof_load_truncated=False)


def test_multi_without_exec_at_the_end_is_dropped(tmp_path):
    d = Durable(str(tmp_path))
    d("SET", "a", "1")
    d.close()
    f = incr_files(str(tmp_path))[-1]
    with open(f, "ab") as fh:
        fh.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n2\r\n")
    d2 = Durable(str(tmp_path))
    assert d2("GET", "a") == b"1"
    assert any("MULTI without EXEC" in m for m in d2.logs)
    d2.close()


# -- corruption -----------------------------------------------------------------------------


def test_structural_corruption_is_refused_naming_file_and_offset(tmp_path):
    """A damaged RESP marker, length or line end: refused, naming file and offset, or
    (for the line end after a bulk string, which carries no information and which
    Redis's loader skips unread too) loaded with exactly the original data."""
    src = tmp_path / "src"
    clock = FakeClock()
    d = Durable(str(src), clock)
    for i in range(40):
        d("SET", f"k{i}", f"v{i}")
        d("XADD", "s", "*", "i", str(i))
    original = canonical(d.engine)
    d.close()
    refused = 0
    name = os.path.basename(incr_files(str(src))[-1])
    data = (aof_dir(src) / name).read_bytes()
    rng = random.Random(3)
    structural = [i for i, b in enumerate(data) if b in b"*$\r\n"]
    for n in range(60):
        i = rng.choice(structural)
        bad = bytearray(data)
        bad[i] = ord(rng.choice("!x@ "))
        work = tmp_path / f"w{n % 2}"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(src, work)
        (aof_dir(work) / name).write_bytes(bytes(bad))
        try:
            d = Durable(str(work), clock)
        except AofError as e:
            msg = str(e)
            assert name in msg and "offset" in msg, msg
            refused += 1
            continue
        assert canonical(d.engine) == original
        d.close()
    assert refused >= 30


def test_unknown_command_and_failing_command_are_refused(tmp_path):
    d = Durable(str(tmp_path))
    d("SET", "a", "x")
    d.close()
    f = incr_files(str(tmp_path))[-1]
    size = os.path.getsize(f)
    with open(f, "ab") as fh:
        fh.write(b"*2\r\n$4\r\nINCR\r\n$1\r\na\r\n")
    with pytest.raises(AofError, match=rf"offset {size}.*INCR.*not an integer"):
        Durable(str(tmp_path))
    os.truncate(f, size)
    with open(f, "ab") as fh:
        fh.write(b"*1\r\n$7\r\nNOTACMD\r\n")
    with pytest.raises(AofError, match=rf"Unknown command 'NOTACMD'.*offset {size}"):
        Durable(str(tmp_path))


def test_missing_file_and_bad_manifest_are_refused(tmp_path):
    d = Durable(str(tmp_path))
    d("SET", "a", "x")
    d.close()
    m = aof_dir(tmp_path) / "appendonly.aof.manifest"
    good = m.read_bytes()
    m.write_bytes(good + b"file appendonly.aof.9.incr.aof seq 9 type i\n")
    with pytest.raises(AofError, match="appendonly.aof.9.incr.aof.*doesn't exist"):
        Durable(str(tmp_path))
    m.write_bytes(b"garbage\n")
    with pytest.raises(AofError, match="Invalid AOF manifest"):
        Durable(str(tmp_path))
    m.write_bytes(good.replace(b"type i", b"type z"))
    with pytest.raises(AofError, match="Unknown AOF file type"):
        Durable(str(tmp_path))


def test_snapshot_bit_flips_and_truncations_are_refused(tmp_path, snapshot_reading):
    d = Durable(str(tmp_path), appendonly=False)
    fill(d)
    d("SAVE")
    d.close()
    snap = tmp_path / "dump.sldb"
    data = snap.read_bytes()
    rng = random.Random(5)
    for _ in range(150):
        bad = bytearray(data)
        bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
        snap.write_bytes(bytes(bad))
        with pytest.raises(SnapshotError, match="dump.sldb"):
            Durable(str(tmp_path), appendonly=False)
    for cut in sorted(rng.sample(range(len(data)), 40)):
        snap.write_bytes(data[:cut])
        with pytest.raises(SnapshotError, match="dump.sldb"):
            Durable(str(tmp_path), appendonly=False)
    snap.write_bytes(data)
    d2 = Durable(str(tmp_path), appendonly=False)
    assert d2("DBSIZE") > 10
    d2.close()


# -- DEBUG RELOAD / LOADAOF ---------------------------------------------------------------


def test_debug_reload_and_loadaof_keep_the_data(tmp_path):
    clock = FakeClock()
    d = Durable(str(tmp_path), clock)
    fill(d)
    before = canonical(d.engine, times=False)
    assert d("DEBUG", "RELOAD") == b"OK"
    assert canonical(d.engine, times=False) == before
    d("SET", "after", "reload")
    before = canonical(d.engine, times=False)
    assert d("DEBUG", "LOADAOF") == b"OK"
    assert canonical(d.engine, times=False) == before
    d.close()


def test_debug_loadaof_of_a_damaged_aof_changes_nothing(tmp_path):
    d = Durable(str(tmp_path))
    d("SET", "a", "1")
    with open(incr_files(str(tmp_path))[-1], "ab") as fh:
        fh.write(b"*1\r\n$7\r\nNOTACMD\r\n")
    assert d("DEBUG", "LOADAOF") == b"ERR Error trying to load the AOF, check server logs."
    assert d("GET", "a") == b"1"
    d.p.writer.close()
    d.p.writer = None


# -- rewrites, run-time switches ---------------------------------------------------------------


def test_automatic_rewrite_compacts(tmp_path):
    d = Durable(str(tmp_path), auto_aof_rewrite_min_size=4096, auto_aof_rewrite_percentage=100)
    for i in range(300):
        d("SET", "k", "x" * 50 + str(i))
    d.p.tick()
    assert d.p.child_kind == "rewrite"
    d.p.wait_children()
    assert d.p.info()["aof_rewrites"] == 1
    assert d.p.aof_size() < 1024
    d.close()
    d2 = Durable(str(tmp_path))
    assert d2("GET", "k") == b"x" * 50 + b"299"
    d2.close()


def test_enabling_appendonly_at_run_time_writes_the_data_first(tmp_path):
    d = Durable(str(tmp_path), appendonly=False)
    fill(d)
    d.p.set_appendonly(True)
    d("SET", "during", "enable")
    assert not (aof_dir(tmp_path) / "appendonly.aof.manifest").exists()  # not before the base
    d.p.wait_children()
    d("SET", "after", "enable")
    before = canonical(d.engine)
    d.close()
    d2 = Durable(str(tmp_path))
    assert canonical(d2.engine) == before
    d2.close()


def test_bgrewriteaof_with_aof_off_and_scheduling(tmp_path):
    d = Durable(str(tmp_path), appendonly=False)
    d("SET", "a", "1")
    assert d("BGSAVE") == b"Background saving started"
    assert d("BGREWRITEAOF") == b"Background append only file rewriting scheduled"
    assert d.p.info()["aof_rewrite_scheduled"] == 1
    d.p.wait_children()
    d.p.tick()
    assert d.p.child_kind == "rewrite"
    assert d("BGSAVE") == (b"ERR Another child process is active (AOF?): can't BGSAVE right now. "
                           b"Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
    assert d("BGSAVE", "SCHEDULE") == b"Background saving scheduled"
    d.p.wait_children()
    d.p.tick()
    d.p.wait_children()
    assert d.p.info()["rdb_saves"] == 2 and d.p.info()["aof_rewrites"] == 1
    d.close()


# -- disk errors ------------------------------------------------------------------------------


def _failing_writes(monkeypatch, code=errno.ENOSPC):
    import streamlite.persistence.aof as aofmod

    real = os.write

    def boom(fd, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(aofmod.os, "write", boom)
    return lambda: monkeypatch.setattr(aofmod.os, "write", real)


def test_everysec_write_error_refuses_writes_with_misconf_until_it_clears(tmp_path, monkeypatch):
    d = Durable(str(tmp_path), appendfsync="everysec")
    d("SET", "before", "1")
    heal = _failing_writes(monkeypatch)
    assert d("SET", "a", "1") == b"OK"  # buffered: everysec acknowledges, as Redis does
    misconf = b"MISCONF Errors writing to the AOF file: No space left on device"
    assert d("SET", "b", "1") == misconf
    assert d("PING") == misconf
    assert d("GET", "a") == b"1"
    d("MULTI")
    assert d("SET", "c", "1") == misconf
    assert d("EXEC").startswith(b"EXECABORT")
    assert d.p.info()["aof_last_write_status"] == "err"
    heal()
    d.p.tick()  # the retry writes the buffered batch
    assert d.p.info()["aof_last_write_status"] == "ok"
    assert d("SET", "b", "2") == b"OK"
    d.close()
    d2 = Durable(str(tmp_path))
    assert d2("MGET", "before", "a", "b") == [b"1", b"1", b"2"]
    d2.close()


def test_always_write_error_is_raised_before_any_reply(tmp_path, monkeypatch):
    d = Durable(str(tmp_path), appendfsync="always")
    d("SET", "before", "1")
    heal = _failing_writes(monkeypatch, errno.EIO)
    d.engine.execute(d.client, argv_of("SET", "a", "1"))
    with pytest.raises(AofWriteError):
        d.p.after_writes()
    assert d.engine.write_error == "MISCONF Errors writing to the AOF file: Input/output error"
    heal()
    d.p.tick()
    assert d.engine.write_error is None
    d.close()


def test_failed_bgsave_sets_misconf_when_save_points_are_set(tmp_path):
    d = Durable(str(tmp_path), appendonly=False, save=[(3600, 1)])
    os.mkdir(tmp_path / "dump.sldb")  # the rename into place fails in the child
    d("SET", "a", "1")
    assert d("BGSAVE") == b"Background saving started"
    d.p.wait_children()
    assert d.p.info()["rdb_last_bgsave_status"] == "err"
    assert d("SET", "b", "1").startswith(b"MISCONF Redis is configured to save RDB snapshots")
    assert d("CONFIG", "SET", "stop-writes-on-bgsave-error", "no") == b"OK"
    assert d("SET", "b", "1") == b"OK"
    d.close()


# -- redis-check-aof -----------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("redis-check-aof") is None, reason="redis-tools not installed")
@pytest.mark.parametrize("preamble", [True, False])
def test_redis_check_aof_accepts_our_files(tmp_path, preamble):
    d = Durable(str(tmp_path), aof_use_rdb_preamble=preamble)
    fill(d)
    d("BGREWRITEAOF")
    d.p.wait_children()
    d("MULTI")
    d("SET", "x", "1")
    d("INCR", "x")
    d("EXEC")
    d("SET", "after", "rewrite")
    d.close()
    manifest = aof_dir(tmp_path) / "appendonly.aof.manifest"
    out = subprocess.run(["redis-check-aof", str(manifest)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "is valid" in out.stdout
    # and it does see damage
    f = incr_files(str(tmp_path))[-1]
    with open(f, "ab") as fh:
        fh.write(b"*1\r\n$5\r\nMULTI\r\n")
    out = subprocess.run(["redis-check-aof", str(manifest)], capture_output=True, text=True)
    assert out.returncode != 0


def test_engine_without_persistence_answers_commands(r):
    assert r("SAVE").startswith(b"ERR persistence is not configured")
    assert isinstance(r("LASTSAVE"), int)


def test_turning_the_aof_on_at_start_makes_its_base_from_the_snapshot(tmp_path):
    d = Durable(str(tmp_path), appendonly=False)
    d("SET", "a", "1")
    d("SAVE")
    d.close()
    d2 = Durable(str(tmp_path))  # appendonly now on: base made from the loaded snapshot
    assert (aof_dir(tmp_path) / "appendonly.aof.1.base.aof").exists()
    d2.close()
    (tmp_path / "dump.sldb").unlink()
    d3 = Durable(str(tmp_path))
    assert d3("GET", "a") == b"1"
    d3.close()


def test_save_points_start_a_bgsave(tmp_path):
    d = Durable(str(tmp_path), appendonly=False, save=[(3600, 1000), (0, 3)])
    d("SET", "a", "1")
    d("SET", "b", "1")
    d.p.tick()
    assert d.p.child_kind is None  # 2 changes: no save point reached
    d("SET", "c", "1")
    d.p.tick()
    assert d.p.child_kind == "save"
    assert any("3 changes in 0 seconds. Saving..." in m for m in d.logs)
    d.p.wait_children()
    info = d.p.info()
    assert info["rdb_changes_since_last_save"] == 0 and info["rdb_saves"] == 1
    assert d("LASTSAVE") == info["rdb_last_save_time"]
    d.close()


def test_flushall_with_save_points_rewrites_the_snapshot(tmp_path):
    d = Durable(str(tmp_path), appendonly=False, save=[(3600, 1)])
    d("SET", "a", "1")
    d("SAVE")
    assert d("FLUSHALL") == b"OK"
    d.p.writer = None  # a crash: nothing more is written
    d2 = Durable(str(tmp_path), appendonly=False)
    assert d2("DBSIZE") == 0  # the flushed data does not come back
    d2.close()


def test_restore_payloads_mapped_from_the_file_load_as_read(tmp_path, monkeypatch):
    """A RESTORE read whole gets its payload as a view of the file's pages (aof._Mapped):
    every type, in our format and in Redis's (DUMP), loads as when hiredis reads it; the
    mapping is closed after each command (nothing kept a view: close would raise), a
    RESTORE inside MULTI is not mapped (its queued argv outlives the command), and a
    damaged payload fails as it does unmapped."""
    from streamlite.engine.core import Engine
    from streamlite.engine.serialize import dump_payload
    from streamlite.persistence import aof
    from streamlite.protocol.resp import encode_command

    from .helpers import populate_every_type

    src = Engine(FakeClock())
    populate_every_type(src)
    c = src.client()
    src.execute(c, argv_of("XADD", "bigs", "1-1", "f", "v" * 70000))
    cmds = [argv_of("SELECT", "0")]
    for key in sorted(src.dbs[0].data):
        v = src.dbs[0].data[key]
        dumped = src.execute(c, [b"DUMP", key])
        cmds.append([b"RESTORE", key, b"0", dump_payload(v)])
        cmds.append([b"RESTORE", b"redis:" + key, b"0", dumped])
    cmds += [[b"MULTI"], [b"RESTORE", b"inmulti", b"0", dump_payload(src.dbs[0].data[b"bigs"])],
             [b"EXEC"]]
    data = b"".join(encode_command(a) for a in cmds)
    made: list[object] = []
    real = aof._Mapped

    def counting(*a: object) -> object:
        m = real(*a)  # type: ignore[arg-type]
        made.append(m)
        return m

    monkeypatch.setattr(aof, "_Mapped", counting)
    mapped = _replay_with_chunk(tmp_path / "mapped" / "f.aof", data, 16)
    n_mapped = len(made)
    read = _replay_with_chunk(tmp_path / "read" / "f.aof", data, 1 << 30)
    assert mapped == read and read[0] == len(cmds)
    # every RESTORE outside MULTI still incomplete after a chunk (all of those with a
    # payload of more than two chunks); not the one in MULTI
    long = sum(1 for a in cmds[1:-3] if len(a[-1]) > 64)
    assert long >= 10 and long <= n_mapped <= len(cmds) - 4
    assert len(made) == n_mapped  # a chunk larger than the file: hiredis read it all
    assert all(m.map.closed for m in made)  # type: ignore[attr-defined]
    bad = data[:-200] + bytes([data[-200] ^ 1]) + data[-199:]  # the last payload damaged
    assert _replay_with_chunk(tmp_path / "bad16" / "f.aof", bad, 16)[0] == "error"
    assert (_replay_with_chunk(tmp_path / "bad16" / "f.aof", bad, 16)
            == _replay_with_chunk(tmp_path / "badbig" / "f.aof", bad, 1 << 30))
