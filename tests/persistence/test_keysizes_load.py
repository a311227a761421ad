"""INFO keysizes after a load: keys placed by the snapshot and RDB loaders (which do
not go through ``Database.set``) are counted as those made by commands."""

from __future__ import annotations

import pytest

from streamlite.engine import Engine, FakeClock
from streamlite.engine.keysizes import check, section
from streamlite.persistence.snapshot import load_snapshot, write_snapshot


def _fill(eng: Engine) -> None:
    c = eng.client()
    for argv in (["RPUSH", "l", "1", "2", "3"], ["SADD", "s", "a"], ["SET", "e", ""],
                 ["HSET", "h", "f", "v", "g", "w"], ["ZADD", "z", "1", "m"],
                 ["SETRANGE", "big", "5000", "x"], ["XADD", "x", "1-1", "f", "v"],
                 ["SELECT", "3"], ["SET", "k", "in db three"]):
        eng.execute(c, [a.encode() for a in argv])


@pytest.mark.parametrize("fmt", ["sldb", "rdb"])
def test_loaded_keys_are_counted(tmp_path, fmt):
    src = Engine(FakeClock())
    _fill(src)
    want = section(src)
    assert want == {
        "db0_distrib_strings_sizes": "0=1,4K=1",
        "db0_distrib_lists_items": "2=1",
        "db0_distrib_sets_items": "1=1",
        "db0_distrib_zsets_items": "1=1",
        "db0_distrib_hashes_items": "2=1",
        "db3_distrib_strings_sizes": "8=1",
    }
    path = str(tmp_path / f"dump.{fmt}")
    if fmt == "rdb":
        from streamlite.persistence.rdb import write_rdb

        write_rdb(src, path)
    else:
        write_snapshot(src, path)
    dst = Engine(FakeClock())
    c = dst.client()
    dst.execute(c, [b"RPUSH", b"old", b"gone after the load"])
    load_snapshot(dst, path)
    assert section(dst) == want
    for db in dst.dbs:
        check(db)
