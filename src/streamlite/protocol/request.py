"""Parsing client requests exactly as Redis does (``processInlineBuffer`` and
``processMultibulkBuffer`` in ``networking.c``), with its protocol error texts.

The server parses the common case (RESP arrays of bulk strings) with hiredis,
which is C; this pure-Python parser takes over for inline commands, for large
arguments (where the length limits must be checked before the data arrives), and
to name the exact error when a request is malformed. It is I/O-free: feed bytes,
take commands.
"""

from __future__ import annotations

from .inline import split_args

INLINE_MAX = 64 * 1024  # PROTO_INLINE_MAX_SIZE
INT_MAX = (1 << 31) - 1


class RequestError(Exception):
    """A protocol error: the text (without ``-``) to reply before closing."""


def _string2ll(b: bytes) -> int | None:
    if not b or len(b) > 20:
        return None
    if b == b"0":
        return 0
    body = b[1:] if b[:1] == b"-" else b
    if not body.isdigit() or body[:1] == b"0":
        return None
    return int(b)


class RequestParser:
    """Splits a byte stream into commands (lists of bytes)."""

    __slots__ = ("buf", "pos", "max_bulk", "authenticated", "_mbulk", "_args", "_bulklen")

    def __init__(self, max_bulk: int = 512 * 1024 * 1024) -> None:
        self.buf = bytearray()
        self.pos = 0
        self.max_bulk = max_bulk
        self.authenticated = True  # False: Redis's limits for unauthenticated clients
        self._mbulk = 0  # arguments still to read of the current multibulk
        self._args: list[bytes] = []
        self._bulklen = -1

    def feed(self, data: bytes) -> None:
        if self.pos and self.pos == len(self.buf):
            self.buf.clear()
            self.pos = 0
        self.buf += data

    def pending(self) -> int:
        """Bytes received and not yet parsed into a command."""
        return len(self.buf) - self.pos

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
        # Redis looks for the newline with strchr, which stops at a NUL: a line with a
        # NUL before its newline never completes (the client waits, and past 64 KB of
        # buffered input gets "too big inline request")
        if nl < 0 or buf.find(b"\0", pos, nl) >= 0:
            if len(buf) - pos > INLINE_MAX:
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

    def _mbulk_header(self) -> list[bytes] | None | bool:
        buf, pos = self.buf, self.pos
        cr = buf.find(b"\r", pos)
        if cr < 0:
            if len(buf) - pos > INLINE_MAX:
                raise RequestError("ERR Protocol error: too big mbulk count string")
            return None
        if cr + 1 >= len(buf):  # need the \n too
            return None
        ll = _string2ll(bytes(buf[pos + 1:cr]))
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
                cr = buf.find(b"\r", pos)
                if cr < 0:
                    if len(buf) - pos > INLINE_MAX:
                        raise RequestError("ERR Protocol error: too big bulk count string")
                    return None
                if cr + 1 >= len(buf):
                    return None
                if buf[pos] != 0x24:  # '$'
                    ch = chr(buf[pos])
                    raise RequestError(f"ERR Protocol error: expected '$', got '{ch}'")
                ll = _string2ll(bytes(buf[pos + 1:cr]))
                if ll is None or ll < 0 or ll > self.max_bulk:
                    raise RequestError("ERR Protocol error: invalid bulk length")
                if ll > 16384 and not self.authenticated:
                    raise RequestError("ERR Protocol error: unauthenticated bulk length")
                self.pos = pos = cr + 2
                self._bulklen = ll
            n = self._bulklen
            if len(buf) - pos < n + 2:
                return None
            self._args.append(bytes(buf[pos:pos + n]))
            self.pos = pos + n + 2
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
