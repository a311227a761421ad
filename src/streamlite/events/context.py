"""What a handler gets besides its payload: :class:`Context`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .envelope import Message

if TYPE_CHECKING:
    from .runtime import Runtime

# W3C trace context and baggage headers: copied from the message being handled onto the
# events a handler publishes through ctx.publish(), so a trace continues across services.
PROPAGATED_HEADERS = ("traceparent", "tracestate", "baggage", "correlation-id")


class Context:
    """The message being handled and the worker handling it (its
    :class:`~.runtime.Runtime`)."""

    __slots__ = ("runtime", "message", "stream", "group", "consumer", "delivery_count")

    def __init__(self, runtime: Runtime, message: Message, group: str, consumer: str,
                 delivery_count: int) -> None:
        self.runtime = runtime
        self.message = message
        self.stream = message.stream
        self.group = group
        self.consumer = consumer
        self.delivery_count = delivery_count

    @property
    def id(self) -> str:
        """The stream entry ID."""
        return self.message.id

    @property
    def event_type(self) -> str:
        return self.message.event_type

    @property
    def event_id(self) -> str:
        return self.message.event_id

    @property
    def headers(self) -> dict[str, str]:
        return self.message.headers

    @property
    def timestamp_ms(self) -> int:
        return self.message.timestamp_ms

    @property
    def app(self) -> Any:
        """The :class:`~.app.App` running this handler (None outside one)."""
        return self.runtime.owner

    @property
    def redis(self) -> Any:
        """The app's asyncio redis-py client."""
        return self.runtime.redis

    def trace_headers(self) -> dict[str, str]:
        h = self.message.headers
        return {k: h[k] for k in PROPAGATED_HEADERS if k in h}

    async def publish(self, stream: str, payload: Any, *, event_type: str | None = None,
                      headers: Mapping[str, str] | None = None, **kw: Any) -> str:
        """Publish an event that carries this message's trace headers along."""
        h = self.trace_headers()
        if headers:
            h.update(headers)
        return await self.runtime.producer.publish(stream, payload, event_type=event_type,
                                               headers=h, **kw)

    def publish_sync(self, stream: str, payload: Any, *, event_type: str | None = None,
                     headers: Mapping[str, str] | None = None, **kw: Any) -> str:
        """:meth:`publish` for synchronous handlers (they run in a thread pool): the
        app's own producer and client, run on the app's event loop."""
        return self.runtime.run_sync(self.publish(stream, payload, event_type=event_type,
                                              headers=headers, **kw))  # type: ignore[no-any-return]
