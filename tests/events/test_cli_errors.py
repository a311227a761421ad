"""What a newcomer sees when a command is given wrongly (issue 19): one clear line that
names the argument, the usage of the subcommand they typed, and no traceback; and
redriving a dead letter for one consumer group only."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

from streamlite.events import App, ConsumerOptions, DeadLetters, Producer, RetryPolicy
from tests.support.redis_proc import free_port

from .conftest import subprocess_env
from .helpers import run_until


def sl(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streamlite", *args], capture_output=True,
                          text=True, env=subprocess_env(), timeout=timeout)


def test_produce_needs_a_payload_and_says_what_is_wrong_with_it(tmp_path):
    url = f"streamlite://{tmp_path}"
    r = sl("produce", "orders", "--url", url)
    assert r.returncode == 1 and "no payload" in r.stderr and "--data" in r.stderr
    r = sl("produce", "orders", "--data", "{order_id: 1}", "--url", url)
    assert r.returncode == 1
    assert "--data is not valid JSON" in r.stderr and "{order_id: 1}" in r.stderr
    assert "Traceback" not in r.stderr
    r = sl("produce", "orders", "--data", '{"order_id": 1}', "--url", url)
    assert r.returncode == 0 and r.stdout.strip().endswith("-0")


def test_dlq_ids_are_checked_before_the_server_sees_them(tmp_path):
    r = sl("dlq", "redrive", "orders", "nope-id", "--url", f"streamlite://{tmp_path}")
    assert r.returncode == 1
    assert "not a dead letter ID: 'nope-id'" in r.stderr and "server error" not in r.stderr


def test_unknown_option_shows_the_subcommands_usage():
    r = sl("run", "--bogus")
    assert r.returncode == 2
    assert "usage: streamlite run" in r.stderr and "unrecognized arguments: --bogus" in r.stderr
    r = sl("dlq", "redrive", "s", "--bogus")
    assert r.returncode == 2 and "usage: streamlite dlq redrive" in r.stderr


def test_run_refuses_a_port_out_of_range():
    r = sl("run", "--port", "99999")
    assert r.returncode == 2 and "99999 is not a port" in r.stderr


def test_url_error_lists_every_scheme():
    r = sl("top", "--once", "--url", "http://127.0.0.1:6379")
    assert r.returncode == 1
    for scheme in ("streamlite://", "redis://", "redis+cluster://"):
        assert scheme in r.stderr


def test_app_run_unreachable_is_one_line(tmp_path):
    worker = tmp_path / "worker.py"
    worker.write_text(textwrap.dedent(f"""
        from streamlite.events import App
        app = App("redis://127.0.0.1:{free_port()}/0")

        @app.handler("orders", group="billing")
        async def bill(order: dict) -> None:
            pass

        app.run()
    """))
    r = subprocess.run([sys.executable, str(worker)], capture_output=True, text=True,
                       env=subprocess_env(), timeout=60)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("streamlite: error: cannot connect to redis://")


def test_redrive_for_one_group(backend, rc):
    """A message two groups read, dead-lettered by one: redriven for that group, the
    other group's handler does not run again."""
    Producer(backend.url).publish("orders", {"n": 1}, event_type="ORDER")
    seen: dict[str, int] = {"billing": 0, "shipping": 0}
    fail = {"on": True}
    app = App(backend.url, defaults=ConsumerOptions(start_id="0", block_ms=100,
                                                    retry=RetryPolicy(max_deliveries=1)))

    @app.handler("orders", group="billing")
    async def bill(p: dict) -> None:
        seen["billing"] += 1
        if fail["on"]:
            raise ValueError("card service down")

    @app.handler("orders", group="shipping")
    async def ship(p: dict) -> None:
        seen["shipping"] += 1

    dl = DeadLetters(rc, "orders")
    asyncio.run(run_until(app, lambda: dl.count() == 1 and seen["shipping"] == 1))
    fail["on"] = False
    if backend.multiprocess:  # through the CLI
        r = subprocess.run([sys.executable, "-m", "streamlite", "dlq", "redrive", "orders",
                            "--all", "--group", "billing", "--json", "--url", backend.url],
                           capture_output=True, text=True, env=subprocess_env(), timeout=60)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["redriven"] == 1
    else:
        assert len(dl.redrive(group="billing")) == 1
    assert dl.count() == 0

    def both_done() -> bool:
        info = {g["name"]: g for g in rc.xinfo_groups("orders")}
        return all(int(info[g]["pending"]) == 0 and info[g]["lag"] == 0
                   for g in (b"billing", b"shipping"))

    asyncio.run(run_until(app, lambda: seen["billing"] == 2 and both_done()))
    assert seen == {"billing": 2, "shipping": 1}
