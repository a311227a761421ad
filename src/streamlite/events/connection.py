"""Clients from URLs: ``redis://`` / ``rediss://`` / ``unix://`` for a server (Redis or the
streamlite server), ``streamlite:///path`` for the embedded engine (which attaches to the
process that owns the directory, if another one does).

Which URL a command line uses: ``streamlite.urls``.

The framework talks to every backend through redis-py only, with ``decode_responses``
off (payloads may be binary). A client passed in by the user must be configured the same
way; :func:`check_client` says so plainly when it is not.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aioredis


class EmbeddedUnavailable(RuntimeError):
    """``streamlite://`` was asked for but this build has no embedded mode."""


def _embedded(url: str, asyncio: bool) -> Any:
    import streamlite

    name = "from_url_async" if asyncio else "from_url"
    try:
        factory = getattr(streamlite, name)
    except AttributeError:
        raise EmbeddedUnavailable(
            f"this streamlite build has no embedded mode (streamlite.{name})") from None
    return factory(url, decode_responses=False)


def connect(url: str, **kwargs: Any) -> redis.Redis:
    """A sync redis-py client for ``url``."""
    if url.startswith("streamlite:"):
        return _embedded(url, asyncio=False)  # type: ignore[no-any-return]
    kwargs.setdefault("decode_responses", False)
    return redis.Redis.from_url(url, **kwargs)


def connect_async(url: str, **kwargs: Any) -> aioredis.Redis:
    """An asyncio redis-py client for ``url``."""
    if url.startswith("streamlite:"):
        return _embedded(url, asyncio=True)  # type: ignore[no-any-return]
    kwargs.setdefault("decode_responses", False)
    return aioredis.Redis.from_url(url, **kwargs)


def check_client(client: Any) -> None:
    try:
        kw = client.get_connection_kwargs()
    except AttributeError:
        return
    if kw.get("decode_responses"):
        raise ValueError("streamlite.events needs a client with decode_responses=False "
                         "(payloads are bytes); create it with streamlite.events.connect()")
