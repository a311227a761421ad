"""One client connection: parse requests, run them, buffer the replies.

``data_received`` parses every complete command in the bytes read and runs them
in order; the replies of one read go out in a single ``transport.write`` once
the server has flushed the writes to the AOF (``Server.end_batch``).

With the C accelerator, ``data_received`` is each connection's ``fastpath.ReadPath``
(``_readpath.c``): a read of fast commands (PING/ECHO/XADD) with nothing pending runs
from its bytes to ``transport.write`` in C, with this method's effects; anything else
comes to this method, unchanged, and a read it stopped in goes on in ``_fast_resume``.

Parsing: the compiled ``fast_run`` first (``_received``; its parser takes exactly the
arrays of bulk strings), then hiredis (C) for the common case, reads made of whole RESP arrays
of bulk strings. The pure-Python ``RequestParser`` (Redis's exact rules and
error texts) takes over for inline commands, unauthenticated clients (Redis
limits their request sizes), reads that end inside a command (so length limits
are checked before the rest arrives, as Redis does) and malformed input; it
hands back to hiredis at the next command boundary. hiredis is only ever fed
from a boundary, so the read itself is all a hand-over needs.

Output is bounded while a batch runs, not only after it: each reply's size is
taken off ``room`` (see ``_room``), and when it runs out ``_output_check`` looks
at the client's pending output (replies not yet written plus the transport's
buffer). Over the hard limit of its ``client-output-buffer-limit`` class (or
the soft one for longer than its seconds) the client is closed at once, its
remaining pipelined commands not run, as Redis's ``closeClientOnOutputBufferLimitReached``
does. Over ``OUTPUT_HIGH_WATER`` the client is *throttled*: its remaining
commands wait in ``pending`` and its socket is not read until the kernel took
the output (``resume_writing``), so a client that sends and never reads cannot
make the server grow without bound even with Redis's default limits (0 0 0 for
normal clients). Redis has no such back-pressure; a client that reads its
replies never notices it.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import hiredis

from ..engine.client import Client
from ..engine.replies import NO_REPLY, OK, Blocked, ErrorReply, MultiReply, Push
from ..persistence import datadir
from ..protocol.request import RequestError, RequestParser
from ..protocol.resp import encode, encode_bounded
from . import fastpath
from .scripts import SUSPENDED

if TYPE_CHECKING:
    from .app import Server

_OK_PLUS = b"+OK\r\n"
_SUBSCRIBE_COMMANDS = frozenset(
    (b"subscribe", b"unsubscribe", b"psubscribe", b"punsubscribe", b"ssubscribe", b"sunsubscribe")
)
# hiredis allocates an array of the announced size at once: a header like
# "*3000000000" would take gigabytes, so such reads go to RequestParser, which
# checks the count first and grows the argument list as the data arrives. hiredis
# also reads a simple string, a verbatim string or a big number inside the array
# ("+OK", "=..", "(1") as bytes, as if it were a bulk string, where Redis answers
# "expected '$', got '+'", and a RESP3 set ("~") or attribute ("|") as an array:
# reads that may hold one go to RequestParser too (a bulk payload holding "\n+"
# only costs the slower parser). The regular expression runs
# only when one of those bytes is there at all (a memchr, far cheaper).
_HUGE_COUNT = re.compile(rb"\*\d{6}").search
_NON_BULK = re.compile(rb"\n[+=(~|]").search

# Pending output (bytes) above which a client's commands wait until the socket
# drained (back-pressure, see the module docstring); also the transport's
# high-water mark.
OUTPUT_HIGH_WATER = 8 << 20
OUTPUT_LOW_WATER = 2 << 20
# A batch that has replied this much is checked against the clock: past BATCH_SLICE
# seconds it yields to the event loop (``_slice``), its replies kept unsent, so that
# a client pipelining slow, big commands does not hold up every other client.
SLICE_BYTES = 1 << 20
BATCH_SLICE = 0.05
# Redis's per-client reply buffer (PROTO_REPLY_CHUNK_BYTES): replies in it do not count
# against client-output-buffer-limit, only what overflows into the reply list does.
REPLY_BUF = 16 * 1024
# A list reply with at least this many elements is encoded in steps, checked
# against the hard output limit as it grows (``encode_bounded``).
_BIG_REPLY = 256


class Connection(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server = server
        self.engine = server.engine
        self.transport: asyncio.Transport | None = None
        self.client: Client = None  # type: ignore[assignment]
        self.reader = hiredis.Reader()
        self.parser: RequestParser | None = None
        self.pending: deque[list[bytes]] = deque()  # parsed, waiting (blocked, paused)
        self.waiting = False  # blocked or paused: new commands go to ``pending``
        self.out: list[bytes] = []
        self.running = False  # executing one of its own commands
        self.deferred: list[bytes] = []  # pushes to itself during that command
        self.closed = False
        self.close_after_reply = False
        self.net_in = 0
        self.net_out = 0
        self.cmds = 0
        self.obuf_soft_since = 0.0
        self.throttled = False  # over OUTPUT_HIGH_WATER: commands wait, socket not read
        self._throttle_wait = False  # ``waiting`` was set by ``throttle``
        self.sliced = False  # yielded in the middle of a batch (``_slice``)
        self.batch_started = 0.0
        self.write_paused = False  # the transport called pause_writing
        self.room = 0  # reply bytes ``run`` may add before ``_output_check`` (``_room``)
        self.fd = -1  # kept from forked children (``datadir.guard``)
        self.fast_tail = b""  # a command's start, kept by ``fastpath.run`` for the next read
        # the compiled per-read path (_readpath.c), unless a subclass has its own
        # data_received (embedded/served.py's takes the host's lock around it)
        if fastpath.ReadPath is not None and type(self).data_received is _DATA_RECEIVED:
            self.data_received = fastpath.reader(self)  # type: ignore[method-assign]

    # -- connection lifecycle ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        srv = self.server
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                ka = srv.engine.config.get("tcp-keepalive", 300)
                if ka:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                    if hasattr(socket, "TCP_KEEPIDLE"):
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, ka)
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, ka // 3))
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
            except OSError:
                pass
        transport.set_write_buffer_limits(OUTPUT_HIGH_WATER, OUTPUT_LOW_WATER)  # type: ignore[attr-defined]
        if sock is not None:
            self.fd = sock.fileno()
            datadir.guard(self.fd)  # a background job's fork must not keep it open
        refusal = srv.refuse_connection(peer)
        if refusal is not None:
            self.closed = True
            transport.write(refusal)  # type: ignore[attr-defined]
            transport.close()
            return
        c = self.engine.client()
        c.addr = _fmt_addr(peer)
        c.laddr = _fmt_addr(local)
        c.push = self.push
        c.raw_replies = True  # replies are written as RESP: pre-encoded ones welcome
        self.client = c
        if not c.authenticated:
            self._use_parser(b"")
        srv.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.fd >= 0:
            datadir.unguard(self.fd)
            self.fd = -1
        if self.client is None:
            return
        if not self.closed:  # the peer closed: Redis's read of the EOF counts as a read
            self.server.reads_processed += 1
        self.closed = True
        self.server.remove(self)
        self.client.engine.drop_client(self.client)

    def close(self) -> None:
        """Close after what is buffered has been sent."""
        if self.closed:
            return
        self.closed = True
        if self.out:
            self.flush()
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        self.out.clear()
        self.pending.clear()
        if self.transport is not None:
            self.transport.abort()

    # -- output limits and back-pressure ---------------------------------------------

    def pending_output(self) -> int:
        """Bytes of replies not yet taken by the kernel: Redis's output buffer."""
        t = self.transport
        return sum(map(len, self.out)) + (t.get_write_buffer_size() if t is not None else 0)

    def _throttle_at(self, hard: int = -1, soft: int = 0) -> int:
        """Pending output at which this client's commands wait for its socket: its hard
        limit when it has one (it is closed there, as in Redis), else OUTPUT_HIGH_WATER
        (or its soft limit when larger, so that the soft limit's timer can run)."""
        if hard < 0:
            hard, soft, _ = self.server.output_limits(self.client)
        if hard:
            return hard + REPLY_BUF
        return max(soft + REPLY_BUF, OUTPUT_HIGH_WATER)

    def _room(self) -> int:
        """Reply bytes this client may get before ``_output_check`` must look again."""
        t = self.transport
        size = (sum(map(len, self.out)) if self.out else 0) + (
            t.get_write_buffer_size() if t is not None else 0)
        hard, soft, _ = self.server.output_limits(self.client)
        if hard:
            cap = hard + REPLY_BUF
        else:
            cap = OUTPUT_HIGH_WATER if soft + REPLY_BUF < OUTPUT_HIGH_WATER else soft + REPLY_BUF
        if soft and size < soft + REPLY_BUF and soft + REPLY_BUF < cap:
            cap = soft + REPLY_BUF
        return min(cap - size, SLICE_BYTES)

    def _output_check(self) -> bool:
        """Replies passed ``_room``: True when this client must run no more commands now
        (closed for its output limit, or throttled until its socket drains)."""
        size = self.pending_output()
        self.server.check_output_limits(self, size)
        if self.closed:
            return True
        if size >= self._throttle_at():
            self.throttle()
            return True
        if time.monotonic() - self.batch_started > BATCH_SLICE:
            self._slice()
            return True
        return False

    def _slice(self) -> None:
        """This batch ran long: let the event loop serve others, then go on. Its replies
        stay unsent meanwhile (``flush`` waits), as they would in one long batch."""
        self.sliced = True
        self.throttle()
        assert self.server.loop is not None
        self.server.loop.call_soon(self._continue_slice)

    def _continue_slice(self) -> None:
        self.sliced = False
        self.batch_started = time.monotonic()
        if self.closed:
            return
        if self.write_paused:  # the output is over the high-water mark: wait for it
            self.flush()
            return
        self.unthrottle()
        if not self.throttled:
            self.server.end_batch(self)

    def throttle(self) -> None:
        if self.throttled or self.closed:
            return
        self.throttled = True
        if not self.waiting:  # new commands go to ``pending`` (the hot loop checks only this)
            self.waiting = True
            self._throttle_wait = True
        if self.transport is not None:
            self.transport.pause_reading()

    def unthrottle(self) -> None:
        """The socket took the output: run what waited, read again."""
        if not self.throttled or self.closed or self.write_paused:
            return
        self.throttled = False
        if self._throttle_wait:
            self._throttle_wait = False
            self.waiting = False
        if not self.waiting:
            self.run_pending()
            self.server.end_batch(self)
        if not self.throttled and not self.closed and self.transport is not None:
            self.transport.resume_reading()

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.pending_output() >= self._throttle_at():
            self.throttle()

    def resume_writing(self) -> None:
        self.write_paused = False
        self.unthrottle()

    # -- output --------------------------------------------------------------------

    def push(self, msg: Any) -> None:
        """Deliver an out-of-band message (pub/sub) to this client."""
        if self.closed:
            return
        data = encode(msg, self.client.protocol)
        if self.running:  # a push to the client running the command follows its reply
            self.deferred.append(data)
        else:
            self.out.append(data)
            self.server.dirty.add(self)

    def flush(self) -> None:
        if self.sliced and not self.closed:
            return  # the rest of the batch comes first (``_continue_slice``)
        out = self.out
        t = self.transport
        if out and t is not None:
            data = out[0] if len(out) == 1 else b"".join(out)
            out.clear()
            self.net_out += len(data)
            self.server.writes_processed += 1
            t.write(data)  # may call pause_writing
            size = t.get_write_buffer_size()
            if size:
                self.server.check_output_limits(self, size)
        if self.throttled and not self.write_paused and not self.closed:
            # throttled by ``_output_check`` but under the transport's high-water mark:
            # no resume_writing will come, so carry on in the next turn of the loop
            assert self.server.loop is not None
            self.server.loop.call_soon(self.unthrottle)

    # -- input ---------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        srv = self.server
        n = len(data)
        self.net_in += n
        srv.net_in += n
        srv.reads_processed += 1
        self.client.last_interaction_ms = srv.now_ms()
        self.batch_started = time.monotonic()
        if self.fast_tail:  # the start of a command the last read ended in (fastpath.py)
            data = self.fast_tail + data
            self.fast_tail = b""
        if self.parser is not None:
            self._parser_received(data)
        else:
            self._received(data)
        srv.end_batch(self)

    def _received(self, data: bytes) -> None:
        """A read from a command boundary, no RequestParser in charge: while the guard
        of ``fastpath`` holds, the compiled ``fast_run`` answers PING/ECHO/XADD straight
        from the bytes read (its parser takes exactly the arrays of bulk strings, so
        ``~`` or ``=`` inside them are only data), and the rest of the read goes to
        ``_dispatch``."""
        if fastpath.fast_run is not None and data[0] == 0x2A and fastpath.usable(self):
            self.room = self._start_room()
            pos = fastpath.run(self, data)
            if pos < 0 or pos == len(data):
                return
            self._dispatch(data[pos:], self.room)
        else:
            self._dispatch(data)

    def _fast_resume(self, data: bytes, pos: int, status: int, extra: Any) -> None:
        """The compiled per-read path (``fastpath.ReadPath``, ``_readpath.c``) stopped
        at ``pos`` of ``data`` with fast_run's ``status``, its replies in ``out``: the
        rest of the read as ``data_received`` goes on with it."""
        p = fastpath.settle(self, data, pos, status, extra)
        if p is None:
            p = fastpath.run(self, data, pos)
        if 0 <= p < len(data):
            self._dispatch(data[p:] if p else data, self.room)
        self.server.end_batch(self)

    def _start_room(self) -> int:
        """The reply room at the start of a read: with nothing pending (the common case)
        every limit leaves at least REPLY_BUF, so the limits need not be looked up
        before that much is replied."""
        tr = self.transport
        return REPLY_BUF if not self.out and tr is not None \
            and not tr.get_write_buffer_size() else self._room()

    def _dispatch(self, data: bytes, room: int | None = None) -> None:
        """Commands from a boundary: hiredis, or RequestParser for what it must see.
        ``room``: the reply room left when the compiled path ran the read's start."""
        if data[0] != 0x2A or _HUGE_COUNT(data) or (  # inline, giant count, non-bulk
                (b"+" in data or b"=" in data or b"(" in data or b"~" in data or b"|" in data)
                and _NON_BULK(data)):
            self._use_parser(data)
            self._parser_received(b"")
        else:
            self._hiredis_received(data, room)

    def _hiredis_received(self, data: bytes, room: int | None = None) -> None:
        """Parse with hiredis; a read that ends mid-command goes to RequestParser.

        hiredis is used only from a command boundary, so when it stops inside a
        command (or meets something malformed) ``data`` and the number of
        commands already taken from it are all the fallback needs.

        The common case (not paused, not loading, replies on) runs each command
        inline: this loop is the server's hot path for what the compiled fast path
        (``_received``) does not answer.
        """
        if room is None:
            room = self._start_room()
        reader = self.reader
        reader.feed(data)
        gets = reader.gets
        has_data = reader.has_data
        pending = self.pending
        srv = self.server
        c = self.client
        execute = self.engine.execute
        append = self.out.append
        done = 0
        while True:
            try:
                argv = gets()
            except Exception:  # noqa: BLE001  ProtocolError, or a map keyed by an array
                break          # (TypeError: unhashable): RequestParser names the error
            if argv is False:
                break
            if type(argv) is list and argv:
                for x in argv:
                    if type(x) is not bytes:
                        break
                else:
                    done += 1
                    if self.waiting:  # blocked, paused or throttled
                        pending.append(argv)
                    elif srv.paused_until or srv.loading or c.reply_mode != b"on":
                        if not self.run(argv):
                            return  # closing
                        room = self._room()
                    else:  # self.run(argv), inlined
                        self.cmds += 1
                        self.running = True
                        try:
                            reply = execute(c, argv)
                        except Exception as e:  # noqa: BLE001  (a bug in one command must not kill the server)
                            reply = srv.internal_error(c, argv, e)
                        finally:
                            self.running = False
                        t = type(reply)
                        if t is bytes:
                            room -= len(reply)
                            append(b"$%d\r\n%b\r\n" % (len(reply), reply))
                        elif reply is OK:
                            append(_OK_PLUS)
                        elif t is Blocked:
                            srv.block(self, reply)
                        elif reply is SUSPENDED:  # a busy script: its reply comes later
                            self.waiting = True
                        elif reply is not NO_REPLY:
                            if t is list and len(reply) >= _BIG_REPLY:
                                enc = self._encode_big(reply)
                                if enc is None:
                                    return  # closed: over its hard output limit
                            else:
                                enc = encode(reply, c.protocol)
                            room -= len(enc)
                            append(enc)
                        if self.deferred:
                            room -= sum(map(len, self.deferred))
                            self.out.extend(self.deferred)
                            self.deferred.clear()
                        if c.closing:
                            self.close_after_reply = True
                            return
                        if room < 0:
                            if self._output_check() and self.closed:
                                return
                            room = self._room()
                    # hiredis is asked only here, after a whole command: inside one
                    # it may have consumed every byte and still wait for more
                    if not has_data():
                        return  # at a command boundary: the common case
                    continue
                break
            # anything else (None for "*-1" but also "$-1" or "_", [] for "*0" but
            # also "~0" ...): RequestParser tells them apart, as Redis does
            break
        if self.closed or self.close_after_reply:
            return
        self._fallback(data, done)

    def _fallback(self, data: bytes, skip: int) -> None:
        """Re-parse ``data`` with RequestParser, skipping the ``skip`` commands already run."""
        self.reader = hiredis.Reader()
        self._use_parser(data)
        p = self.parser
        assert p is not None
        try:
            for _ in range(skip):
                if p.get() is None:
                    break
        except RequestError:
            pass
        self._parser_received(b"")

    def _use_parser(self, data: bytes) -> None:
        p = RequestParser(self.engine.config.get("proto-max-bulk-len", 512 * 1024 * 1024))
        p.authenticated = self.client.authenticated if self.client is not None else True
        if data:
            p.feed(data)
        self.parser = p

    def _parser_received(self, data: bytes) -> None:
        p = self.parser
        assert p is not None
        if data:
            p.feed(data)
        c = self.client
        limit = self.engine.config.get("client-query-buffer-limit", 1 << 30)
        while not self.closed and not self.close_after_reply:
            p.authenticated = c.authenticated
            p.max_bulk = self.engine.config.get("proto-max-bulk-len", 512 * 1024 * 1024)
            try:
                argv = p.get()
            except RequestError as e:
                self.protocol_error(str(e))
                return
            if argv is None:
                break
            if not argv:
                continue
            if self.waiting or self.throttled:
                self.pending.append(argv)
            elif not self.run(argv):
                break
        if self.closed:
            return
        if p.pending() > limit:
            self.server.log(f"Closing client that reached max query buffer length (id={c.id})")
            self.server.stat_qbuf_disconnections += 1
            self.abort()
            return
        # back to hiredis at a command boundary once nothing special is needed
        if (not p.pending() and not p.in_command() and c.authenticated
                and not self.pending):
            self.parser = None

    def protocol_error(self, text: str) -> None:
        # newlines become spaces, as Redis's addReplyErrorFormat makes them
        msg = text.encode("latin-1", "replace").replace(b"\r", b" ").replace(b"\n", b" ")
        self.out.append(b"-" + msg + b"\r\n")
        self.engine.count_error(ErrorReply(msg))
        self.close_after_reply = True

    # -- running commands ------------------------------------------------------------

    def run(self, argv: list[bytes]) -> bool:
        """Run one command; False when the connection must stop reading input."""
        c = self.client
        srv = self.server
        self.cmds += 1
        if srv.paused_until and srv.pause_applies(argv):
            self.pending.appendleft(argv)
            self.waiting = True
            srv.paused_conns.add(self)
            return True
        if srv.loading:
            reply = srv.run_while_loading(c, argv)
        else:
            mode = c.reply_mode
            self.running = True
            try:
                reply = self.engine.execute(c, argv)
            except Exception as e:  # noqa: BLE001  (a bug in one command must not kill the server)
                reply = srv.internal_error(c, argv, e)
            finally:
                self.running = False
            if type(reply) is Blocked:
                srv.block(self, reply)
                if self.deferred:
                    self.out.extend(self.deferred)
                    self.deferred.clear()
                return True
            if reply is SUSPENDED:  # a busy script: its reply comes later (ScriptHost)
                self.waiting = True
                return True
            if mode != b"on":
                # (un)subscribe confirmations are pushes: Redis writes them even
                # under CLIENT REPLY OFF/SKIP (CLIENT_PUSHING), in RESP2 too
                pushed = (type(reply) is Push or type(reply) is MultiReply) and (
                    argv[0].lower() in _SUBSCRIBE_COMMANDS
                )
                if mode == b"skip":
                    if c.reply_mode == b"skip":
                        c.reply_mode = b"on"
                    if not pushed:
                        reply = NO_REPLY
                elif c.reply_mode != b"on" and not pushed:
                    reply = NO_REPLY
        if reply is not NO_REPLY:
            t = type(reply)
            if t is bytes:
                data = b"$%d\r\n%b\r\n" % (len(reply), reply)
            elif reply is OK:
                data = _OK_PLUS
            elif t is list and len(reply) >= _BIG_REPLY:
                got = self._encode_big(reply)
                if got is None:
                    return False  # closed: over its hard output limit
                data = got
            else:
                data = encode(reply, c.protocol)
            self.room -= len(data)
            self.out.append(data)
        if self.deferred:
            self.room -= sum(map(len, self.deferred))
            self.out.extend(self.deferred)
            self.deferred.clear()
        if c.closing:
            self.close_after_reply = True
            return False
        if self.room < 0:
            if self._output_check():
                return not self.closed
            self.room = self._room()
        return True

    def _encode_big(self, reply: list[Any]) -> bytes | None:
        """A long array reply, encoded in steps against the client's hard output limit
        (Redis stops buffering a reply once the client is over it); None when the client
        went over it and was closed."""
        hard = self.server.output_limits(self.client)[0]
        if not hard:
            return encode(reply, self.client.protocol)
        data = encode_bounded(reply, self.client.protocol,
                              hard + REPLY_BUF - self.pending_output())
        if data is None:
            self.server.output_limit_reached(self)
        return data

    def run_pending(self) -> None:
        """Run commands that arrived while blocked or paused."""
        self.waiting = False
        pending = self.pending
        while (pending and not self.waiting and not self.throttled and not self.closed
               and not self.close_after_reply):
            if not self.run(pending.popleft()):
                break
        if not pending and self.parser is not None and not self.waiting and not self.throttled:
            self._parser_received(b"")

    def deliver(self, reply: Any) -> None:
        """The reply of a blocked command (served, timed out or unblocked)."""
        self.out.append(encode(reply, self.client.protocol))
        self.server.dirty.add(self)
        self.server.resume.append(self)

    # -- introspection (CLIENT LIST) ------------------------------------------------------

    def info(self) -> dict[str, Any]:
        t = self.transport
        obl = t.get_write_buffer_size() if t is not None else 0
        qbuf = (self.parser.pending() if self.parser is not None else 0) + len(self.fast_tail)
        sock = t.get_extra_info("socket") if t is not None else None
        return {
            "fd": sock.fileno() if sock is not None else -1,
            "qbuf": qbuf,
            "qbuf-free": 0,
            "obl": obl,
            "oll": 0,
            "omem": obl,
            "tot-mem": obl + qbuf,
            "events": "rw" if obl else "r",
            "tot-net-in": self.net_in,
            "tot-net-out": self.net_out,
            "tot-cmds": self.cmds,
            "multi-mem": 0,
            "argv-mem": 0,
            "rbs": 16384,
            "rbp": 16384,
        }


_DATA_RECEIVED = Connection.data_received
fastpath.setup_received(Connection, REPLY_BUF)


def _fmt_addr(addr: Any) -> bytes:
    if isinstance(addr, tuple) and len(addr) >= 2:
        host, port = addr[0], addr[1]
        if ":" in host:  # IPv6, bracketed as Redis's anetFormatAddr does
            return f"[{host}]:{port}".encode()
        return f"{host}:{port}".encode()
    if isinstance(addr, str):
        return f"{addr}:0".encode()
    return b"?:0"

