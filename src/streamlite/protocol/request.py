"""Parsing client requests exactly as Redis does (``processInlineBuffer`` and
``processMultibulkBuffer`` in ``networking.c``), with its protocol error texts.

The server parses the common case (RESP arrays of bulk strings) with hiredis,
which is C; this pure-Python parser takes over for inline commands, for large
arguments (where the length limits must be checked before the data arrives), and
to name the exact error when a request is malformed. It is I/O-free: feed bytes,
take commands.
"""

from __future__ import annotations

from ..numparse import string2ll
from .inline import split_args

INLINE_MAX = 64 * 1024  # PROTO_INLINE_MAX_SIZE
BIG_ARG = 256 * 1024  # a bulk this long is gathered apart from the buffer (see ``feed``)
INT_MAX = (1 << 31) - 1


class RequestError(Exception):
    """A protocol error: the text (without ``-``) to reply before closing."""


class RequestParser:
    """Splits a byte stream into commands (lists of bytes)."""

    __slots__ = ("buf", "pos", "max_bulk", "authenticated", "_mbulk", "_args", "_bulklen",
                 "_big", "_big_left", "_big_skip", "_big_have")

    def __init__(self, max_bulk: int = 512 * 1024 * 1024) -> None:
        self.buf = bytearray()
        self.pos = 0
        self.max_bulk = max_bulk
        self.authenticated = True  # False: Redis's limits for unauthenticated clients
        self._mbulk = 0  # arguments still to read of the current multibulk
        self._args: list[bytes] = []
        self._bulklen = -1
        # a big argument (BIG_ARG or more) is gathered apart, as the reads that make it
        # (one join at the end), not through ``buf``: a 200 MB value then costs about
        # 2x its size at its peak instead of 3x (Redis's PROTO_MBULK_BIG_ARG idea)
        self._big: list[bytes] | None = None
        self._big_left = 0  # payload bytes still to come
        self._big_skip = 0  # bytes of its CRLF still to skip
        self._big_have = 0

    def feed(self, data: bytes) -> None:
        if self._big is not None:
            data = self._feed_big(data)
            if not data:
                return
        if self.pos and self.pos == len(self.buf):
            self.buf.clear()
            self.pos = 0
        self.buf += data

    def _feed_big(self, data: bytes) -> bytes:
        """Take what the big argument still needs from ``data``; the rest is returned."""
        big = self._big
        assert big is not None
        take = min(len(data), self._big_left)
        if take:
            big.append(data if take == len(data) else data[:take])
            self._big_left -= take
            self._big_have += take
        skip = min(len(data) - take, self._big_skip)
        self._big_skip -= skip
        return data[take + skip:] if take or skip else data

    def pending(self) -> int:
        """Bytes received and not yet parsed into a command."""
        return len(self.buf) - self.pos + self._big_have

    def in_command(self) -> bool:
        """True while part of a multibulk command has been read."""
        return self._mbulk > 0

    def _compact(self) -> None:
        if self.pos > 65536 and self.pos > len(self.buf) // 2:
            del self.buf[: self.pos]
            self.pos = 0

    def get(self) -> list[bytes] | None:
        """The next complete command, ``[]`` for an empty one, or None for more data."""
        if self._mbulk == 0:
            if self.pos >= len(self.buf):
                return None
            if self.buf[self.pos] != 0x2A:  # '*'
                return self._inline()
            r = self._mbulk_header()
            if r is None or isinstance(r, list):
                return r  # more data needed, or an empty command
        return self._bulks()

    def _inline(self) -> list[bytes] | None:
        buf, pos = self.buf, self.pos
        nl = buf.find(b"\n", pos)
        if nl >= 0 and buf.find(0, pos, nl) >= 0:
            # Redis looks for the newline with strchr: a NUL before it hides it, and
            # the request waits for more data until it is too big (64K)
            nl = -1
        if nl < 0 or nl - pos > INLINE_MAX:
            # Redis reads 16K at a time and gives up once 64K are pending with no
            # newline among them: a longer line is too big wherever its newline is
            if (len(buf) if nl < 0 else nl) - pos > INLINE_MAX:
                raise RequestError("ERR Protocol error: too big inline request")
            return None
        end = nl - 1 if nl > pos and buf[nl - 1] == 0x0D else nl
        line = bytes(buf[pos:end])
        args = split_args(line)
        if args is None:
            raise RequestError("ERR Protocol error: unbalanced quotes in request")
        self.pos = nl + 1
        self._compact()
        return args

    def _find_cr(self, pos: int) -> int:
        """The next CR from ``pos``, as Redis's strchr finds it: a NUL before it hides it."""
        buf = self.buf
        cr = buf.find(b"\r", pos)
        if cr >= 0 and buf.find(0, pos, cr) >= 0:
            return -1
        return cr

    def _mbulk_header(self) -> list[bytes] | None | bool:
        buf, pos = self.buf, self.pos
        cr = self._find_cr(pos)
        if cr < 0 or cr - pos > INLINE_MAX:
            if (len(buf) if cr < 0 else cr) - pos > INLINE_MAX:
                raise RequestError("ERR Protocol error: too big mbulk count string")
            return None
        if cr + 1 >= len(buf):  # need the \n too
            return None
        ll = string2ll(bytes(buf[pos + 1:cr]))
        if ll is None or ll > INT_MAX:
            raise RequestError("ERR Protocol error: invalid multibulk length")
        if ll > 10 and not self.authenticated:
            raise RequestError("ERR Protocol error: unauthenticated multibulk length")
        self.pos = cr + 2
        if ll <= 0:
            self._compact()
            return []
        self._mbulk = ll
        self._args = []
        self._bulklen = -1
        return True

    def _bulks(self) -> list[bytes] | None:
        buf = self.buf
        while self._mbulk:
            pos = self.pos
            if self._bulklen == -1:
                cr = self._find_cr(pos)
                if cr < 0 or cr - pos > INLINE_MAX:
                    if (len(buf) if cr < 0 else cr) - pos > INLINE_MAX:
                        raise RequestError("ERR Protocol error: too big bulk count string")
                    return None
                if cr + 1 >= len(buf):
                    return None
                if buf[pos] != 0x24:  # '$'
                    ch = chr(buf[pos])
                    raise RequestError(f"ERR Protocol error: expected '$', got '{ch}'")
                ll = string2ll(bytes(buf[pos + 1:cr]))
                if ll is None or ll < 0 or ll > self.max_bulk:
                    raise RequestError("ERR Protocol error: invalid bulk length")
                if ll > 16384 and not self.authenticated:
                    raise RequestError("ERR Protocol error: unauthenticated bulk length")
                self.pos = pos = cr + 2
                self._bulklen = ll
            n = self._bulklen
            if self._big is not None:
                if self._big_left or self._big_skip:
                    return None
                arg = b"".join(self._big)
                self._big = None
                self._big_have = 0
            elif len(buf) - pos < n + 2:
                if n >= BIG_ARG:  # gather it apart from here on (``feed``)
                    self._big = []
                    self._big_left = n
                    self._big_skip = 2
                    rest = bytes(buf[pos:])
                    del buf[pos:]
                    self._feed_big(rest)
                return None
            else:
                with memoryview(buf) as view:
                    arg = bytes(view[pos:pos + n])
                self.pos = pos + n + 2
            self._args.append(arg)
            self._bulklen = -1
            self._mbulk -= 1
        args = self._args
        self._args = []
        self._compact()
        return args

    def take_rest(self) -> bytes:
        """Unparsed bytes (to hand back to a faster parser at a command boundary)."""
        rest = bytes(self.buf[self.pos:])
        self.buf.clear()
        self.pos = 0
        return rest
