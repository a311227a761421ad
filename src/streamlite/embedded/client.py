"""``redis.Redis`` and ``redis.asyncio.Redis`` with a short path for single commands.

Everything a redis-py client does works through the connection classes alone
(``sync.py``, ``aio.py``). These subclasses only replace ``execute_command``:
redis-py's generic path (retry policy, observability hooks, pooled connection
checks) costs more than running the command does, and none of it has anything
to do in process. The short path takes a connection, runs the command, converts
the reply and applies the same response callback redis-py would, with the same
``NEVER_DECODE`` / ``EMPTY_RESPONSE`` options. Pipelines, pub/sub and
transactions are redis-py's own classes, on the same connections.
"""

from __future__ import annotations

import inspect
from typing import Any

import redis
import redis.asyncio
from redis.client import EMPTY_RESPONSE, NEVER_DECODE, CaseInsensitiveDict
from redis.exceptions import ConnectionError, ResponseError

from .convert import convert, raised_by
from .host import QUEUED_REPLY
from .session import encode_args


def _is_himport(name: Any) -> bool:
    # HIMPORT SET needs redis-py's per-connection fieldset bookkeeping: generic path
    if type(name) is str:
        return name[:1] in "Hh" and name[:7].upper() == "HIMPORT"
    return isinstance(name, bytes) and name[:7].upper() == b"HIMPORT"


class EmbeddedRedis(redis.Redis):
    """A ``redis.Redis`` whose single commands take a short path into the engine."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        name = args[0]
        if self._single_connection_client or (
            (type(name) is not str or name[:1] in "Hh") and _is_himport(name)
        ):
            return super().execute_command(*args, **options)
        pool = self.connection_pool
        conn = pool.get_connection()
        try:
            s = conn._session  # type: ignore[attr-defined]
            never_decode = NEVER_DECODE in options
            try:
                value = s.host.call(s, encode_args(args, conn.encoder))
                enc = conn.encoder
                if type(value) is bytes and not enc.decode_responses:
                    response = value  # a bulk string, not decoded: convert() would keep it
                elif value is QUEUED_REPLY:
                    response = conn.read_response(disable_decoding=never_decode)
                else:
                    response = convert(
                        value, s.client.protocol,
                        enc.encoding if enc.decode_responses and not never_decode else None,
                        enc.encoding_errors,
                    )
                    err = raised_by(response)
                    if err is not None:
                        if isinstance(err, ConnectionError):
                            conn.disconnect()
                        raise err
            except ResponseError:
                if EMPTY_RESPONSE in options:
                    return options[EMPTY_RESPONSE]
                raise
        finally:
            pool.release(conn)
        if options:
            options.pop(NEVER_DECODE, None)
            options.pop(EMPTY_RESPONSE, None)
            options.pop("keys", None)
        cbs = self.response_callbacks
        if type(cbs) is CaseInsensitiveDict and type(name) is str:
            cb = dict.get(cbs, name.upper())  # its get(), one frame less
        else:
            cb = cbs.get(name)
        if cb is not None:
            return cb(response, **options)
        return response


class AsyncEmbeddedRedis(redis.asyncio.Redis):
    """A ``redis.asyncio.Redis`` whose single commands take a short path into the engine."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if self.single_connection_client or _is_himport(args[0]):
            return await super().execute_command(*args, **options)
        pool = self.connection_pool
        conn = await pool.get_connection()
        try:
            s = conn._session  # type: ignore[attr-defined]
            never_decode = NEVER_DECODE in options
            try:
                value = s.host.call(s, encode_args(args, conn.encoder))
                if value is QUEUED_REPLY:
                    response = await conn.read_response(disable_decoding=never_decode)
                else:
                    enc = conn.encoder
                    response = convert(
                        value, s.client.protocol,
                        enc.encoding if enc.decode_responses and not never_decode else None,
                        enc.encoding_errors,
                    )
                    err = raised_by(response)
                    if err is not None:
                        if isinstance(err, ConnectionError):
                            conn._close()
                        raise err
            except ResponseError:
                if EMPTY_RESPONSE in options:
                    return options[EMPTY_RESPONSE]
                raise
        finally:
            await pool.release(conn)
        if options:
            options.pop(NEVER_DECODE, None)
            options.pop(EMPTY_RESPONSE, None)
            options.pop("keys", None)
        cb = self.response_callbacks.get(args[0])
        if cb is not None:
            r = cb(response, **options)
            return await r if inspect.isawaitable(r) else r
        return response
