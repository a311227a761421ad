"""redis-py's asyncio client against the server: concurrency, pipelines, RESP3."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


@pytest.mark.parametrize("protocol", [2, 3])
def test_concurrent_clients(sl, protocol):
    async def main() -> None:
        clients = [aioredis.Redis(port=sl.port, protocol=protocol) for _ in range(20)]
        try:
            results = await asyncio.gather(*(c.echo(f"m{i}") for i, c in enumerate(clients)))
            assert results == [f"m{i}".encode() for i in range(20)]
            ids = await asyncio.gather(*(c.client_id() for c in clients))
            assert len(set(ids)) == 20
        finally:
            for c in clients:
                await c.aclose()

    _run(main())


def test_pipeline_of_a_thousand(sl):
    async def main() -> None:
        c = aioredis.Redis(port=sl.port)
        try:
            async with c.pipeline(transaction=False) as pipe:
                for i in range(1000):
                    pipe.echo(str(i))
                out = await pipe.execute()
            assert out == [str(i).encode() for i in range(1000)]
            info = await c.info("stats")
            assert info["total_commands_processed"] >= 1000
        finally:
            await c.aclose()

    _run(main())


def test_config_and_client_commands(sl):
    async def main() -> None:
        c = aioredis.Redis(port=sl.port, decode_responses=True, protocol=3)
        try:
            assert await c.config_get("hz") == {"hz": "10"}
            assert await c.client_setname("aio")
            assert await c.client_getname() == "aio"
            assert (await c.client_info())["name"] == "aio"
            assert await c.ping()
        finally:
            await c.aclose()

    _run(main())
