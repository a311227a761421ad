"""The operations CLI, run as subprocesses; outputs and exit codes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any

from streamlite.events import App, ConsumerOptions, DeadLetters, RetryPolicy

from .conftest import subprocess_env
from .helpers import run_until


def cli(backend: Any, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    url = [] if "--url" in args else ["--url", backend.url]
    return subprocess.run([sys.executable, "-m", "streamlite", *args, *url],
                          capture_output=True, text=True, env=subprocess_env(), timeout=60,
                          input=input)


def jl(out: str) -> list[Any]:
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def test_produce_and_tail(backend, rc):
    backend.need_processes()
    r = cli(backend, "produce", "orders", "--type", "ORDER_CREATED", "--data",
            '{"order_id": 7}', "-H", "traceparent=00-ab-cd-01", "--json")
    assert r.returncode == 0, r.stderr
    (one,) = jl(r.stdout)
    r = cli(backend, "produce", "orders", "--file", "-", "--json",
            input='{"n": 1}\n{"n": 2}\n')
    assert r.returncode == 0 and len(jl(r.stdout)) == 2
    r = cli(backend, "produce", "orders", "-f", "a=1", "--count", "3")
    assert r.returncode == 0 and len(r.stdout.split()) == 3
    assert rc.xlen("orders") == 6
    r = cli(backend, "tail", "orders", "--from", "0", "--count", "3", "--json")
    rows = jl(r.stdout)
    assert r.returncode == 0 and [x["payload"] for x in rows] == [
        {"order_id": 7}, {"n": 1}, {"n": 2}]
    assert rows[0]["id"] == one["id"] and rows[0]["headers"] == {"traceparent": "00-ab-cd-01"}
    assert rows[0]["event_type"] == "ORDER_CREATED"
    r = cli(backend, "tail", "orders", "--group", "audit", "--from", "0", "--ack",
            "--exit-when-idle", "--block", "100")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 6
    assert rc.xpending("orders", "audit")["pending"] == 0
    # follow mode: new entries only, ends after --count
    p = subprocess.Popen([sys.executable, "-m", "streamlite", "tail", "orders", "--count", "1",
                          "--json", "--url", backend.url], stdout=subprocess.PIPE,
                         text=True, env=subprocess_env())
    # it shows only entries added after it started, whenever that was: add until it has
    deadline = time.monotonic() + 30
    while p.poll() is None and time.monotonic() < deadline:
        rc.xadd("orders", {"event_type": "LIVE", "x": "1"})
        time.sleep(0.3)
    out, _ = p.communicate(timeout=20)
    assert p.returncode == 0 and jl(out)[0]["event_type"] == "LIVE"


def test_top(backend, rc):
    backend.need_processes()
    rc.xadd("orders", {"a": "1"})
    rc.xadd("orders", {"a": "2"})
    rc.xgroup_create("orders", "billing", id="0")
    rc.xreadgroup("billing", "c1", {"orders": ">"}, count=1)
    rc.xadd("other", {"a": "1"})
    r = cli(backend, "top", "--json")
    assert r.returncode == 0, r.stderr
    rows = {(x["stream"], x["group"]): x for x in jl(r.stdout)}
    b = rows[("orders", "billing")]
    assert (b["length"], b["lag"], b["pending"]) == (2, 1, 1)
    assert b["consumers"][0]["name"] == "c1" and b["consumers"][0]["pending"] == 1
    assert rows[("other", None)]["length"] == 1
    r = cli(backend, "top", "--once", "--stream", "orders")
    assert r.returncode == 0 and "billing" in r.stdout and "other" not in r.stdout


def test_dlq_commands(backend, rc):
    backend.need_processes()
    from streamlite.events import Producer

    p = Producer(backend.url)
    for i in range(3):
        p.publish("orders", {"i": i}, event_type="BAD")
    app = App(backend.url, defaults=ConsumerOptions(start_id="0", block_ms=200,
                                                    retry=RetryPolicy(max_deliveries=1)))

    @app.handler("orders", group="billing")
    async def h(payload: dict) -> None:
        raise KeyError("missing sku")

    dl = DeadLetters(rc, "orders")
    asyncio.run(run_until(app, lambda: dl.count() == 3))
    r = cli(backend, "dlq", "list", "orders", "--json")
    assert r.returncode == 0, r.stderr
    rows = jl(r.stdout)
    assert len(rows) == 3 and all(x["error_type"] == "KeyError" for x in rows)
    assert all(x["source_stream"] == "orders" and x["group"] == "billing" for x in rows)
    r = cli(backend, "dlq", "list", "orders")
    assert r.returncode == 0 and "KeyError" in r.stdout
    r = cli(backend, "dlq", "show", "orders", rows[0]["id"], "--json")
    shown = json.loads(r.stdout)
    assert r.returncode == 0 and shown["fields"]["event_type"] == "BAD"
    assert "KeyError" in shown["traceback"]
    r = cli(backend, "dlq", "show", "orders", rows[0]["id"])
    assert r.returncode == 0 and "missing sku" in r.stdout
    assert cli(backend, "dlq", "show", "orders", "1-1").returncode == 4
    before = rc.xlen("orders")
    r = cli(backend, "dlq", "redrive", "orders", rows[0]["id"], "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["redriven"] == 1
    assert rc.xlen("orders") == before + 1 and dl.count() == 2
    assert cli(backend, "dlq", "redrive", "orders", "9-9").returncode == 4
    assert cli(backend, "dlq", "redrive", "orders").returncode == 1  # neither ids nor --all
    r = cli(backend, "dlq", "redrive", "--dlq", "{orders}:dlq", "--all", "--to", "retry")
    assert r.returncode == 0 and "redriven 2" in r.stdout and rc.xlen("retry") == 2
    rc.xadd(dl.dlq, {"x": "1"})
    r = cli(backend, "dlq", "purge", "orders", "--all", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == {"purged": 1}


def test_replay_and_trim(backend, rc):
    backend.need_processes()
    for ms in (1000, 2000, 3000, 4000, 5000):
        rc.execute_command("XADD", "ev", f"{ms}-1", "event_type", "T", "n", str(ms))
    r = cli(backend, "replay", "ev", "--from", "2000", "--to", "4000", "--into", "ev2", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == {"replayed": 3, "into": "ev2"}
    r = cli(backend, "replay", "ev", "--from", "1970-01-01T00:00:04Z", "--json")
    assert [x["id"] for x in jl(r.stdout)] == ["4000-1", "5000-1"]
    assert cli(backend, "replay", "missing", "--into", "x").returncode == 4
    assert cli(backend, "replay", "ev", "--from", "yesterday-ish").returncode == 1
    r = cli(backend, "trim", "ev", "--maxlen", "2", "--exact", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == {"trimmed": 3, "length": 2}
    r = cli(backend, "trim", "ev", "--minid", "5000", "--exact")
    assert r.returncode == 0 and rc.xlen("ev") == 1
    rc.xadd("ev3", {"old": "1"}, id="1-1")
    rc.xadd("ev3", {"new": "1"})
    r = cli(backend, "trim", "ev3", "--max-age", "1d", "--exact")
    assert r.returncode == 0 and rc.xlen("ev3") == 1  # only the 1970 entry was old
    assert cli(backend, "trim", "nope", "--maxlen", "1").returncode == 4


def test_connection_failure_exit_code():
    r = subprocess.run([sys.executable, "-m", "streamlite", "top", "--once", "--url",
                        "redis://127.0.0.1:1"], capture_output=True, text=True,
                       env=subprocess_env(), timeout=60)
    assert r.returncode == 3
    assert r.stderr.startswith("streamlite: error: cannot connect")
    r = subprocess.run([sys.executable, "-m", "streamlite", "trim", "s"], capture_output=True,
                       text=True, env=subprocess_env(), timeout=60)
    assert r.returncode == 2  # usage
