"""Loading a data directory says so: where, how big, how far (once a second), and what
was loaded; in the embedded owner's log and in the server's."""

from __future__ import annotations

import logging
import os
import re

import redis

import streamlite
from streamlite.persistence import manager
from tests.support.redis_proc import free_port

from .procs import streamlite_cmd


def _fill(d: str, n: int = 6000) -> None:
    r = streamlite.connect(d, appendfsync="no")
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"k{i}", "x" * 100)
    pipe.execute()
    r.close()


def test_embedded_owner_logs_its_load_with_progress(tmp_path, caplog, monkeypatch):
    d = str(tmp_path / "data")
    _fill(d)
    monkeypatch.setattr(manager, "PROGRESS_EVERY_S", 0.0)  # every chunk, not every second
    with caplog.at_level(logging.INFO, logger="streamlite.embedded"):
        r = streamlite.connect(d)
        assert r.dbsize() == 6000
        r.close()
    lines = [rec.getMessage() for rec in caplog.records]
    real = os.path.realpath(d)
    assert any(re.fullmatch(rf"Loading the append only file of {re.escape(real)} "
                            r"\(\d+\.\d MB in 2 files\)", ln) for ln in lines), lines
    progress = [ln for ln in lines if ln.startswith("Loading: ")]
    assert len(progress) >= 2, lines
    keys = [int(re.search(r"(\d+) keys", ln).group(1)) for ln in progress]  # type: ignore[union-attr]
    assert keys == sorted(keys) and keys[-1] > 0
    assert all(re.search(r"\d+% \(\d+\.\d MB of \d+\.\d MB\), \d+ keys, \d+\.\d s elapsed$", ln)
               for ln in progress), progress
    assert any(re.fullmatch(r"DB loaded from append only file: 600\d commands, 6000 keys, "
                            r"\d+\.\d{3} seconds", ln) for ln in lines), lines
    assert any(ln.startswith(f"{real}: opened by this process") and "6000 keys" in ln
               and "other processes attach through" in ln for ln in lines), lines


def test_server_logs_its_load(tmp_path):
    import subprocess
    import time

    d = str(tmp_path / "data")
    _fill(d, 2000)
    log = str(tmp_path / "server.log")
    port = free_port()
    p = subprocess.Popen(streamlite_cmd("server", "--port", str(port), "--dir", d,
                                        "--appendonly", "yes", "--save", "", "--logfile", log))
    try:
        r = redis.Redis(port=port)
        deadline = time.monotonic() + 60
        while True:
            try:
                if r.info("persistence")["loading"] == 0:
                    break
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass
            assert time.monotonic() < deadline, "the server never loaded"
            time.sleep(0.05)
        assert r.dbsize() == 2000
        r.close()
    finally:
        p.terminate()
        p.wait(30)
    with open(log) as f:
        text = f.read()
    assert f"Loading the append only file of {os.path.realpath(d)}" in text, text
    assert re.search(r"DB loaded from append only file: 200\d commands, 2000 keys", text), text
    assert "is served on unix socket" in text
