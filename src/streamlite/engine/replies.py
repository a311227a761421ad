"""Reply values the engine returns; the fronts encode them for RESP2 or RESP3.

Mapping (what a command handler returns -> what the client sees):

=================  ==========================  ==========================
Python value       RESP2                       RESP3
=================  ==========================  ==========================
``int``            ``:n``                      ``:n``
``bytes``          bulk string                 bulk string
``SimpleString``   ``+text``                   ``+text``
``ErrorReply``     ``-text``                   ``-text``
``None``           null bulk ``$-1``           null ``_``
``NULL_ARRAY``     null array ``*-1``          null ``_``
``list``/tuple     array                       array
``dict``           flat array k1 v1 k2 v2..    map ``%``
``RespSet``        array                       set ``~``
``Double``/float   bulk string (``%.17g``)     double ``,``
``bool``           ``:1``/``:0``               ``#t``/``#f``
``Verbatim``       bulk string                 verbatim ``=txt:``
``Push``           array (pub/sub messages)    push ``>``
``BigNumber``      bulk string                 big number ``(``
``MultiReply``     its elements, one after     the other, as separate replies
``RawResp``        its bytes as they are       its bytes as they are
=================  ==========================  ==========================

``MultiReply`` is for the few commands that answer more than once, like
``SUBSCRIBE a b`` (one confirmation per channel): a front writes each element as
its own reply, in order.
"""

from __future__ import annotations

from typing import Any, Union


class SimpleString(bytes):
    """A status reply such as ``+OK``."""

    __slots__ = ()


class ErrorReply(bytes):
    """An error reply; the value is the full text, e.g. ``b"ERR syntax error"``."""

    __slots__ = ()

    @property
    def text(self) -> str:
        return self.decode("utf-8", "replace")


class _NullArray:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_ARRAY"

    def __bool__(self) -> bool:
        return False


NULL_ARRAY: Any = _NullArray()


class Double(float):
    """A floating point reply (RESP3 double, RESP2 bulk string)."""

    __slots__ = ()


class RespSet(list):  # type: ignore[type-arg]
    """A set reply (RESP3 ``~``); kept as a list so order is stable."""

    __slots__ = ()


class Verbatim(bytes):
    """A verbatim text reply (RESP3 ``=txt:``), e.g. INFO."""

    __slots__ = ()


class Push(list):  # type: ignore[type-arg]
    """An out-of-band message (pub/sub); RESP3 push, RESP2 array."""

    __slots__ = ()


class BigNumber(bytes):
    """A big number reply (RESP3 ``(``, RESP2 bulk string): the decimal digits."""

    __slots__ = ()


class MultiReply(list):  # type: ignore[type-arg]
    """Several replies to one command, written one after the other (SUBSCRIBE a b)."""

    __slots__ = ()


class RawResp(bytes):
    """A reply already written as RESP, the same bytes in RESP2 and RESP3 (arrays of
    bulk strings: XRANGE's entries, written by the C accelerator straight from the
    stream's nodes). Only returned to a front that writes RESP and says so with
    ``Client.raw_replies``, and only at the top level of a command (not inside
    MULTI/EXEC or a script, whose replies are values to be looked at)."""

    __slots__ = ()


OK = SimpleString(b"OK")
QUEUED = SimpleString(b"QUEUED")
PONG = SimpleString(b"PONG")


class _NoReply:
    """Returned by a command that sends nothing back (CLIENT REPLY OFF|SKIP)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_REPLY"


NO_REPLY: Any = _NoReply()

Reply = Union[int, bytes, None, list[Any], dict[Any, Any], float, bool, "Blocked", Any]


class Blocked:
    """Returned by a blocking command that has nothing to serve yet.

    The front parks the client on ``keys`` (``(db_index, key)`` pairs, in order),
    re-runs ``argv`` (which may differ from the original: e.g. ``$`` resolved to
    a concrete ID) whenever one of them is signalled, and replies
    ``timeout_reply`` once ``deadline_ms`` (absolute, engine clock; ``None`` =
    forever) has passed. ``retry_at_ms`` (optional) asks for a re-run at that time
    even if no key was touched.
    """

    __slots__ = ("keys", "argv", "deadline_ms", "timeout_reply", "retry_at_ms")

    def __init__(
        self,
        keys: list[tuple[int, bytes]],
        argv: list[bytes],
        deadline_ms: int | None,
        timeout_reply: Any = NULL_ARRAY,
        retry_at_ms: int | None = None,
    ) -> None:
        self.keys = keys
        self.argv = argv
        self.deadline_ms = deadline_ms
        self.timeout_reply = timeout_reply
        # re-run ``argv`` at this time even if no key was touched (XREADGROUP ... CLAIM
        # waits for a pending entry to become idle enough); None = only on keys
        self.retry_at_ms = retry_at_ms

    def __repr__(self) -> str:
        return f"Blocked(keys={self.keys!r}, deadline_ms={self.deadline_ms!r})"
