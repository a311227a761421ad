"""streamlite: a Redis-Streams-compatible event-streaming platform in Python."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
# The Redis version whose semantics streamlite implements (INFO server): its stream
# features up to 8.10 (XNACK 8.8, XREAD/XREADGROUP MAXCOUNT and MAXSIZE 8.10).
REDIS_VERSION = "8.10.0"

__all__ = ["REDIS_VERSION", "Embedded", "__version__", "connect", "connect_async",
           "from_url", "from_url_async", "serve"]

if TYPE_CHECKING:
    from .embedded import Embedded, connect, connect_async, from_url, from_url_async, serve

_LAZY = {"Embedded", "connect", "connect_async", "from_url", "from_url_async", "serve"}


def __getattr__(name: str) -> Any:
    # The embedded front imports redis-py and the whole engine: load it on first use,
    # so `import streamlite.engine` (the server, tools) stays light.
    if name in _LAZY:
        from . import embedded

        return getattr(embedded, name)
    raise AttributeError(f"module 'streamlite' has no attribute {name!r}")
