"""``streamlite worker``: real processes. N workers consume; a worker killed with -9 is
restarted (same consumer name); SIGHUP replaces every worker one by one; SIGTERM stops
them all gracefully; --reload restarts on a source change and keeps the running
workers when the new code does not start; an embedded directory is held by the
supervisor (workers attach)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

from streamlite.events import Producer, connect

from .conftest import ROOT, subprocess_env
from .helpers import wait_for


def start_supervisor(url: str, *args: str, spec: str = "tests.events.runner_app:app",
                     cwd: str = ROOT, env: dict[str, str] | None = None
                     ) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "streamlite", "worker", spec, "--url", url,
                             "--grace", "5", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            cwd=cwd, env=env or subprocess_env())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def pids(rc: Any) -> set[int]:
    return {int(x) for x in rc.smembers("worker-pids")}


def handled(rc: Any) -> set[int]:
    return {int(x.decode().split("|")[0]) for x in rc.lrange("handled", 0, -1)}


def stop(sup: subprocess.Popen[str]) -> str:
    """SIGTERM the supervisor; its whole stderr."""
    if sup.poll() is None:
        sup.send_signal(signal.SIGTERM)
    assert sup.stderr is not None
    os.set_blocking(sup.stderr.fileno(), True)
    try:
        _, err = sup.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        sup.kill()
        _, err = sup.communicate()
    return _ERR.pop(sup.pid, "") + (err or "")


def scenario(url: str, rc: Any) -> None:
    p = Producer(url)
    sup = start_supervisor(url, "--workers", "2")
    try:
        wait_for(lambda: len(pids(rc)) == 2, 60, "2 workers consuming")
        first = pids(rc)
        p.publish_many("jobs", [{"n": i} for i in range(40)])
        wait_for(lambda: handled(rc) == set(range(40)), 30, "first batch handled")
        assert {int(x.decode().split("|")[1]) for x in rc.lrange("handled", 0, -1)} <= first

        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(pids(rc)) == 3, 30, "the killed worker restarted")
        assert rc.scard("worker-names") == 2  # the restarted worker kept its slot's name
        p.publish_many("jobs", [{"n": i} for i in range(40, 80)])
        wait_for(lambda: handled(rc) == set(range(80)), 30, "second batch handled")

        before = pids(rc) - {victim}
        sup.send_signal(signal.SIGHUP)
        wait_for(lambda: len(pids(rc)) == 5 and not any(alive(x) for x in before), 60,
                 "rolling reload")
        assert rc.scard("worker-names") == 4  # new generation, new names
        p.publish_many("jobs", [{"n": i} for i in range(80, 100)])
        wait_for(lambda: handled(rc) == set(range(100)), 30, "third batch handled")
        current = pids(rc) - before - {victim}
    finally:
        err = stop(sup)
        p.close()
    assert sup.returncode == 0, err
    wait_for(lambda: not any(alive(x) for x in current), 10, "workers stopped")
    assert "exited with code" in err and "reload done" in err, err
    assert rc.xpending("jobs", "workers")["pending"] == 0


def test_worker_runner_processes(backend: Any, rc: Any) -> None:
    scenario(backend.url, rc)


def test_embedded_directory_held_by_the_supervisor() -> None:
    """Nobody owns the directory: the supervisor opens it, the workers attach; this
    process attaches too, and takes it over once the supervisor is gone."""
    import streamlite

    d = tempfile.mkdtemp(prefix="sl-runner-")
    url = f"streamlite://{d}"
    sup = start_supervisor(url, "--workers", "2")
    try:
        wait_for(lambda: os.path.exists(os.path.join(d, "streamlite.sock")), 30, "socket")
        rc = connect(url)
        assert streamlite.embedded.is_attached(rc)
        wait_for(lambda: len(pids(rc)) == 2, 60, "2 workers consuming")
        Producer(rc).publish_many("jobs", [{"n": i} for i in range(20)])
        wait_for(lambda: handled(rc) == set(range(20)), 30, "handled")
        with open(os.path.join(d, "streamlite.lock")) as f:
            assert str(sup.pid) in f.read()  # the supervisor owns it
    finally:
        err = stop(sup)
    assert sup.returncode == 0, err
    assert handled(rc) == set(range(20))  # this process took the directory over
    rc.close()
    shutil.rmtree(d, ignore_errors=True)


APP_V = """
import os
from streamlite.events import App, ConsumerOptions

app = App("redis://127.0.0.1:1/0", grace_period_s=5,
          defaults=ConsumerOptions(start_id="0", block_ms=200))

@app.handler("jobs", group="workers")
async def handle(evt: dict, ctx) -> None:
    await ctx.redis.rpush("versions", "{version}")

@app.after_startup
async def announce() -> None:
    await app.redis.sadd("worker-pids", os.getpid())
"""


@pytest.fixture
def app_dir() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="sl-reload-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def write(path: str, text: str, bump: float) -> None:
    with open(path, "w") as f:
        f.write(text)
    t = time.time() + bump  # a new mtime even within the file system's granularity
    os.utime(path, (t, t))


def test_reload_on_source_change(backend_session: Any, backend: Any, app_dir: str) -> None:
    if backend.name not in ("redis", "embedded"):
        pytest.skip("the reload watcher does not depend on the backend")
    rc = backend.client()
    mod = os.path.join(app_dir, "reload_app.py")
    write(mod, APP_V.format(version="v1"), 0)
    sup = start_supervisor(backend.url, "--reload", "--reload-dir", app_dir,
                           spec="reload_app:app", cwd=app_dir)
    p = Producer(backend.url)
    try:
        wait_for(lambda: len(pids(rc)) == 1, 60, "worker consuming")
        p.publish("jobs", {"n": 1})
        wait_for(lambda: rc.lrange("versions", 0, -1) == [b"v1"], 30, "v1 handled")

        write(mod, "this is not python\n", 2)  # the new worker cannot start...
        wait_for(lambda: "did not start" in _peek(sup), 60, "failed reload logged")
        p.publish("jobs", {"n": 2})  # ... and the old one keeps consuming
        wait_for(lambda: rc.lrange("versions", 0, -1) == [b"v1", b"v1"], 30, "v1 again")

        write(mod, APP_V.format(version="v2"), 4)
        wait_for(lambda: len(pids(rc)) >= 2 and "reload done" in _peek(sup), 60, "reloaded")
        p.publish("jobs", {"n": 3})
        wait_for(lambda: rc.lrange("versions", 0, -1)[-1:] == [b"v2"], 30, "v2 handled")
    finally:
        err = stop(sup)
        p.close()
        rc.close()
    assert sup.returncode == 0, err


_ERR: dict[int, str] = {}


def _peek(sup: subprocess.Popen[str]) -> str:
    """The supervisor's stderr so far (read without blocking)."""
    assert sup.stderr is not None
    os.set_blocking(sup.stderr.fileno(), False)
    try:
        chunk = sup.stderr.read()
    except (BlockingIOError, TypeError):
        chunk = None
    _ERR[sup.pid] = _ERR.get(sup.pid, "") + (chunk or "")
    return _ERR[sup.pid]


def test_in_memory_url_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from streamlite.cli import main

    assert main(["worker", "tests.events.runner_app:app", "--url", "streamlite://"]) == 2
    assert "in-memory" in capsys.readouterr().err
    assert main(["worker", "tests.events.runner_app:nothing"]) == 2
    assert main(["worker", "tests.events.runner_app:app", "--workers", "0"]) == 2


def test_workers_stop_when_the_supervisor_is_killed(backend: Any, rc: Any) -> None:
    if backend.name != "redis":
        pytest.skip("process supervision does not depend on the backend")
    sup = start_supervisor(backend.url, "--workers", "2")
    try:
        wait_for(lambda: len(pids(rc)) == 2, 60, "2 workers consuming")
        sup.kill()  # no graceful stop: the workers find their parent gone
        sup.wait(10)
        wait_for(lambda: not any(alive(x) for x in pids(rc)), 30, "orphaned workers stopped")
    finally:
        stop(sup)


class FakeProc:
    def __init__(self, code: int | None) -> None:
        self.code, self.pid = code, 4242

    def poll(self) -> int | None:
        return self.code


def test_crashed_worker_backoff_doubles_and_resets(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlite.events import runner
    from streamlite.events.runner import BACKOFF_FIRST_S, BACKOFF_MAX_S, Slot, Supervisor

    now = [1000.0]  # the supervisor's clock, frozen (no timing in the assertions)
    monkeypatch.setattr(runner.time, "monotonic", lambda: now[0])

    sup = Supervisor("tests.events.runner_app:app", workers=1)
    spawned: list[int] = []

    def fake_spawn(slot: Slot) -> None:
        spawned.append(slot.index)
        slot.proc = FakeProc(1)  # type: ignore[assignment]
        slot.started_at = time.monotonic()
        slot.restart_at = None

    sup._spawn = fake_spawn  # type: ignore[method-assign]
    slot = sup.slots[0]
    fake_spawn(slot)
    delays = []
    for _ in range(8):
        sup._check_children()  # it died: a restart is scheduled
        assert slot.proc is None and slot.restart_at is not None
        delays.append(slot.restart_at - now[0])
        slot.restart_at = 0.0  # due now
        sup._check_children()  # restarted
    assert delays[:4] == [BACKOFF_FIRST_S, 1.0, 2.0, 4.0]
    assert max(delays) <= BACKOFF_MAX_S and len(spawned) == 9
    slot.proc = FakeProc(None)  # type: ignore[assignment]
    slot.started_at = now[0] - 31  # ran long enough: healthy again
    sup._check_children()
    assert slot.backoff_s == BACKOFF_FIRST_S


def test_ready_line_carries_the_grace_period() -> None:
    from streamlite.events.runner import Slot, Supervisor

    sup = Supervisor("tests.events.runner_app:app", workers=1)
    r, w = os.pipe()
    slot = Slot(0, proc=FakeProc(None), ready_r=r)  # type: ignore[arg-type]
    os.write(w, b"ready 4242 host-1-w0 12.5\n")
    os.close(w)
    assert sup._poll_ready(slot, 1.0) and slot.ready_r is None
    assert sup._grace == {4242: 12.5}
