"""BACKUP (Redis 8.10): the state machine, the file set, and a restore from it.

No released Redis here has BACKUP: the replies follow the command pages and what
redis-py's own tests expect (tests/clientsuite); the files must restore the data
as it was at the seal, with the live AOF on or off.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

import pytest

from .helpers import Durable, canonical, populate_every_type


def _wait(d: Durable, state: bytes) -> dict[bytes, Any]:
    deadline = time.monotonic() + 30
    while (st := d("BACKUP", "STATUS"))[b"state"] != state:
        assert st[b"state"] in (b"pending", b"snapshotting"), st
        assert time.monotonic() < deadline, st
        time.sleep(0.02)
    return st


def _restore(files: list[bytes], into: str) -> Durable:
    aof = os.path.join(into, "appendonlydir")
    os.makedirs(aof)
    for f in files:
        shutil.copy(f.decode(), aof)
    return Durable(into)


@pytest.mark.parametrize("appendonly", [False, True])
def test_a_sealed_backup_restores_the_data_at_the_seal(tmp_path, appendonly: bool) -> None:
    d = Durable(str(tmp_path / "live"), appendonly=appendonly)
    populate_every_type(d.engine)
    d("SET", "before", "1")
    assert d("BACKUP", "START") == b"OK"
    d("SET", "during", "2")  # after the fork: in the INCR file, not the base
    d("SELECT", "5")
    d("RPUSH", "l5", "a", "b")
    d("SELECT", "0")
    st = _wait(d, b"incrementing")
    assert st[b"error"] == b"" and st[b"start_time"] > 0 and st[b"end_time"] == 0
    [base] = d("BACKUP", "LIST")
    assert base.endswith(b"/backupdir/appendonly.aof.1.base.rdb") and os.path.isabs(base)
    d("DEL", "before")
    d("INCR", "during")
    assert d("BACKUP", "SEAL") == b"OK"
    want = canonical(d.engine, times=False)
    d("SET", "after", "3")  # not in the backup
    st = d("BACKUP", "STATUS")
    assert st[b"state"] == b"sealed" and 0 < st[b"start_time"] <= st[b"end_time"]
    files = d("BACKUP", "LIST")
    assert [os.path.basename(f) for f in files] == [
        b"appendonly.aof.1.base.rdb", b"appendonly.aof.1.incr.aof", b"appendonly.aof.manifest"]
    back = _restore(files, str(tmp_path / "restored"))
    assert canonical(back.engine, times=False) == want
    back.close()
    assert d("BACKUP", "CLEANUP") == b"OK"
    assert d("BACKUP", "STATUS")[b"state"] == b"idle" and d("BACKUP", "LIST") == []
    assert os.listdir(tmp_path / "live" / "backupdir") == []
    assert d.engine.effects is None or appendonly  # recording stopped with the backup
    d.close()


def test_states_and_refusals(tmp_path) -> None:
    d = Durable(str(tmp_path), appendonly=False)
    assert d("BACKUP", "STATUS") == {b"state": b"idle", b"error": b"", b"start_time": 0,
                                     b"end_time": 0}
    assert d("BACKUP", "ABORT") == b"ERR No backup in progress"
    assert d("BACKUP", "SEAL") == b"ERR No backup ready to seal"
    assert d("BACKUP", "CLEANUP") == b"OK"  # idle stays idle
    assert d("BACKUP", "START") == b"OK"
    assert d("BACKUP", "START") == b"ERR Backup already in progress"
    assert d("BACKUP", "CLEANUP").startswith(b"ERR Backup in progress")
    _wait(d, b"incrementing")
    assert d("BACKUP", "ABORT") == b"OK"
    st = d("BACKUP", "STATUS")
    assert st[b"state"] == b"failed" and st[b"error"] == b"aborted by user"
    assert d("BACKUP", "SEAL") == b"ERR No backup ready to seal"
    # the aborted backup's files stay until CLEANUP or the next START
    assert os.listdir(tmp_path / "backupdir")
    assert d("BACKUP", "START") == b"OK"
    _wait(d, b"incrementing")
    assert d("BACKUP", "ABORT") == b"OK"
    assert d("BACKUP", "CLEANUP") == b"OK"
    assert os.listdir(tmp_path / "backupdir") == []
    with open(tmp_path / "backupdir" / "someone-elses", "w"):
        pass
    assert d("BACKUP", "START").startswith(b"ERR Backup directory ")  # must be empty
    os.unlink(tmp_path / "backupdir" / "someone-elses")
    assert d("BACKUP", "START") == b"OK"
    assert d("BACKUP", "ABORT") == b"OK"  # while snapshotting: the child is stopped
    assert d("BACKUP", "CLEANUP") == b"OK"
    assert d("BACKUP", "BOGUS").startswith(b"ERR unknown subcommand")
    assert d("BACKUP", "SEAL", "x").startswith(b"ERR wrong number of arguments")
    d.close()


def test_pending_while_another_job_runs_and_sealed_ttl(tmp_path) -> None:
    d = Durable(str(tmp_path), appendonly=False)
    d.engine.config["backup-sealed-ttl"] = 3600
    d("SET", "k", "v")
    assert d("BGSAVE") == b"Background saving started"
    assert d("BACKUP", "START") == b"OK"
    assert d("BACKUP", "STATUS")[b"state"] in (b"pending", b"snapshotting", b"incrementing")
    d.p.wait_children()
    _wait(d, b"incrementing")
    assert d("BACKUP", "SEAL") == b"OK"
    d.p.tick()
    assert d("BACKUP", "STATUS")[b"state"] == b"sealed"
    d.p.backup._sealed_at -= 3600  # as if the hour went by
    d.p.tick()  # the TTL passed: cleaned up by itself
    assert d("BACKUP", "STATUS")[b"state"] == b"idle"
    d.close()


def test_without_the_rdb_preamble_the_base_is_resp(tmp_path) -> None:
    d = Durable(str(tmp_path / "live"), appendonly=False, aof_use_rdb_preamble=False)
    d("SET", "k", "v")
    d("BACKUP", "START")
    _wait(d, b"incrementing")
    d("SET", "k2", "v2")
    d("BACKUP", "SEAL")
    files = d("BACKUP", "LIST")
    assert files[0].endswith(b".1.base.aof")
    with open(files[0], "rb") as f:
        assert f.read(1) == b"*"  # a RESP command stream
    back = _restore(files, str(tmp_path / "restored"))
    assert back("MGET", "k", "k2") == [b"v", b"v2"]
    back.close()
    d.close()


def test_an_array_makes_the_base_resp(tmp_path) -> None:
    """RDB has no encoding for arrays here: the base falls back to the RESP form."""
    d = Durable(str(tmp_path / "live"), appendonly=False)
    d("ARSET", "a", "0", "x", "y")
    d("BACKUP", "START")
    _wait(d, b"incrementing")
    d("BACKUP", "SEAL")
    files = d("BACKUP", "LIST")
    assert files[0].endswith(b".1.base.aof")
    back = _restore(files, str(tmp_path / "restored"))
    assert back("ARGETRANGE", "a", "0", "1") == [b"x", b"y"]
    back.close()
    d.close()
