"""The load thread a server's start makes first (server/headstart.py): which files it
measures for its head start (``peek``), and the job it runs."""

from __future__ import annotations

import threading

import pytest

from streamlite import accel
from streamlite.server.cli import _peek_load
from streamlite.server.headstart import LoadThread, peek


def _aof(d, base: bytes, incr: bytes, dirname: str = "appendonlydir",
         fname: str = "appendonly.aof") -> None:
    aof = d / dirname
    aof.mkdir()
    (aof / f"{fname}.1.base.aof").write_bytes(base)
    (aof / f"{fname}.1.incr.aof").write_bytes(incr)
    (aof / f"{fname}.manifest").write_bytes(
        f"file {fname}.1.base.aof seq 1 type b\nfile {fname}.1.incr.aof seq 1 type i\n".encode())


def test_peek_measures_what_the_load_will_read(tmp_path):
    d = str(tmp_path)
    assert peek([["dir", d]]) == 0  # nothing there
    (tmp_path / "dump.sldb").write_bytes(b"x" * 100)
    assert peek([["dir", d]]) == 100  # appendonly no: the snapshot
    assert peek([["dir", d], ["appendonly", "yes"]]) == 100  # no AOF yet: the snapshot
    _aof(tmp_path, b"b" * 1000, b"i" * 10)
    assert peek([["dir", d], ["appendonly", "yes"]]) == 1010  # the AOF's files
    assert peek([["dir", d], ["appendonly", "yes"], ["appendonly", "no"]]) == 100  # last wins
    assert peek([["DIR", d], ["dbfilename", "other.rdb"]]) == 0


def test_peek_follows_the_aof_names(tmp_path):
    _aof(tmp_path, b"b" * 7, b"", dirname="aofs", fname="x.aof")
    assert peek([["dir", str(tmp_path)], ["appendonly", "yes"], ["appenddirname", "aofs"],
                 ["appendfilename", "x.aof"]]) == 7


def test_peek_of_a_command_line_and_a_config_file(tmp_path):
    (tmp_path / "dump.sldb").write_bytes(b"x" * 42)
    conf = tmp_path / "s.conf"
    conf.write_text(f"dir {tmp_path}\n")
    assert _peek_load([str(conf)], peek) == 42
    assert _peek_load(["--dir", str(tmp_path)], peek) == 42
    assert _peek_load(["-"], peek) == 0  # standard input is the configuration's alone
    assert _peek_load([str(tmp_path / "missing.conf")], peek) == 0  # reported later
    assert _peek_load(["--dir"], peek) == 0


@pytest.mark.parametrize("nbytes", [0, 3 << 20])
def test_the_load_thread_runs_its_job_after_its_head_start(nbytes):
    ran = threading.Event()
    t = LoadThread(nbytes)
    t.run(ran.set)
    t.join()
    assert ran.is_set() and not t.is_alive()


def test_a_cancelled_load_thread_ends_without_a_job():
    t = LoadThread(1 << 20)
    t.cancel()
    t.join()
    assert not t.is_alive()


@pytest.mark.skipif(accel.speedups is None, reason="the C accelerator is not active")
def test_prefault_and_trim_leave_memory_usable():
    sp = accel.speedups
    assert sp is not None
    sp.prefault_heap(0)
    sp.prefault_heap(5 << 20)
    blocks = [bytes(4000) for _ in range(2000)]  # carved from what was faulted in
    sp.trim_heap()
    assert sum(map(len, blocks)) == 8_000_000
    with pytest.raises(TypeError):
        sp.prefault_heap("x")


def test_the_collector_the_start_turned_off_comes_back_after_ready(tmp_path, monkeypatch):
    """``streamlite server`` keeps the garbage collector off through its imports and the
    load (``gc_after_load``); it is on again once the server serves (and at once when
    the start fails)."""
    import asyncio
    import gc

    from streamlite.engine.core import Engine
    from streamlite.server import app
    from streamlite.server.prestart import prestart

    monkeypatch.setattr(app, "GC_AFTER_READY_S", 0.01)
    was = gc.isenabled()
    try:
        for fail in (False, True):
            eng = Engine()
            eng.config.update({"port": 0, "bind": ["127.0.0.1"], "dir": str(tmp_path),
                               "save": []})
            gc.disable()
            pre = prestart(eng)
            pre.gc_after_load = True
            if fail:
                pre.error = OSError(98, "taken")
            server = app.Server(eng)

            async def run(server: app.Server = server, pre=pre, fail: bool = fail) -> bool:
                try:
                    await server.start(pre)
                except OSError:
                    assert fail
                    return gc.isenabled()
                assert not gc.isenabled()  # not yet: right after the ready line
                await asyncio.sleep(0.2)
                server.stop()
                return gc.isenabled()

            try:
                assert asyncio.run(run())
            finally:
                server.unlock()
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def test_the_persistence_a_start_makes_follows_the_configuration(tmp_path):
    """Every PersistenceConfig field from its config name, save points included (a start
    with ``--save ""`` has none: the automatic BGSAVE must not run)."""
    from streamlite.persistence import PersistenceConfig
    from streamlite.server.cli import build_engine
    from streamlite.server.prestart import persistence_config, prestart

    eng, _ = build_engine(["--dir", str(tmp_path), "--save", "", "--appendonly", "yes",
                           "--appendfsync", "always", "--aof-use-rdb-preamble", "no",
                           "--port", "0", "--bind", "127.0.0.1"])
    cfg = persistence_config(eng)
    for f in PersistenceConfig._fields:
        assert getattr(cfg, f) == eng.config[f.replace("_", "-")], f
    assert cfg.save == [] and cfg.appendfsync == "always" and not cfg.aof_use_rdb_preamble
    pre = prestart(eng)
    try:
        pre.wait_loaded()
        assert pre.persistence is not None and pre.persistence.cfg.save == []
    finally:
        pre.close()
        assert pre.persistence is not None
        pre.persistence.close()
        from streamlite.persistence import datadir

        assert pre.lock_fd is not None
        datadir.unlock_directory(pre.lock_fd)
