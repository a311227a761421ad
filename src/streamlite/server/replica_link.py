"""The replica side of replication: the link to our master (``REPLICAOF host port``).

One asyncio task per link, as Redis's ``replicationCron``/``syncWithMaster`` state
machine: connect, ``PING``, ``AUTH`` (``masterauth``/``masteruser``), ``REPLCONF
listening-port`` and ``capa eof capa psync2``, then ``PSYNC <replid> <offset+1>``
(``? -1`` the first time). ``+FULLRESYNC`` is followed by the RDB (``$<len>`` or
the diskless ``$EOF:<mark>`` form), which is verified and loaded whole (a transfer
cut in the middle changes nothing: the dataset is replaced only once the whole RDB
has arrived and its checksum matched), ``+CONTINUE`` by the stream from where we
were. Then every command of the stream runs with the master's client (no checks,
no replies) and counts its bytes into our offset; ``REPLCONF GETACK`` is answered
with ``REPLCONF ACK <offset>``, and an ACK goes out every second anyway. A lost
link is retried every second, with a partial resync when the master still has our
offset in its backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import hiredis

from ..persistence.rdb import RdbError, read_rdb_bytes
from ..persistence.snapshot import install
from ..protocol.resp import encode_command

if TYPE_CHECKING:
    from .replication import Replication


class SyncError(Exception):
    pass


def command_size(argv: list[bytes]) -> int:
    """Bytes of ``argv`` as a RESP array of bulk strings (what the master sent)."""
    n = len(b"*%d\r\n" % len(argv))
    for a in argv:
        n += len(b"$%d\r\n" % len(a)) + len(a) + 2
    return n


class MasterLink:
    def __init__(self, repl: Replication, host: str, port: int) -> None:
        self.repl = repl
        self.server = repl.server
        self.engine = repl.engine
        self.host = host
        self.port = port
        self.state = "connect"  # connect | connecting | sync | connected
        self.offset = -1  # processed offset of the master's stream; -1 = none yet
        self.master_replid = "?"
        self.task: asyncio.Task[None] | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_io = time.monotonic()
        self.last_ack = 0.0
        self.client = self.engine.client()
        self.client.is_master = True
        self.client.name = b""
        self.stopped = False

    def start(self) -> None:
        loop = self.server.loop
        if loop is not None:
            self.task = loop.create_task(self._run())

    def stop(self) -> None:
        self.stopped = True
        if self.task is not None:
            self.task.cancel()
        self._close()
        self.state = "connect"

    def _close(self) -> None:
        w = self.writer
        self.writer = None
        if w is not None:
            with contextlib.suppress(Exception):
                w.close()

    # -- acknowledgements --------------------------------------------------------------------

    def send_ack(self) -> None:
        w = self.writer
        if w is not None and self.state == "connected":
            w.write(encode_command([b"REPLCONF", b"ACK", b"%d" % self.offset]))
            self.last_ack = time.monotonic()

    def tick(self) -> None:
        if self.state == "connected" and time.monotonic() - self.last_ack >= 1.0:
            self.send_ack()

    # -- the session ---------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self.stopped:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except (OSError, SyncError, RdbError, asyncio.IncompleteReadError, ValueError) as e:
                if not self.stopped:
                    self.server.log(f"Error condition on socket for SYNC: {e}", "warning")
            finally:
                self._close()
                if self.state != "connect":
                    self.state = "connect"
            if not self.stopped:
                await asyncio.sleep(1.0)

    async def _session(self) -> None:
        self.state = "connecting"
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.writer = writer
        cfg = self.engine.config

        async def ask(*argv: bytes) -> bytes:
            writer.write(encode_command(list(argv)))
            await writer.drain()
            while True:
                line = await reader.readline()
                if not line:
                    raise SyncError("master closed the connection during the handshake")
                if line.strip():  # bare newlines are the master's keepalives
                    return line.rstrip(b"\r\n")

        pong = await ask(b"PING")
        if pong.startswith(b"-") and not pong.startswith((b"-NOAUTH", b"-NOPERM", b"-ERR operation")):
            raise SyncError(f"Error reply to PING from master: '{pong.decode()}'")
        auth = cfg.get("masterauth") or ""
        if auth:
            user = cfg.get("masteruser") or ""
            argv = [b"AUTH", user.encode(), auth.encode()] if user else [b"AUTH", auth.encode()]
            reply = await ask(*argv)
            if reply.startswith(b"-"):
                raise SyncError(f"Unable to AUTH to MASTER: {reply.decode()}")
        await ask(b"REPLCONF", b"listening-port", b"%d" % int(cfg.get("port", 6379)))
        await ask(b"REPLCONF", b"capa", b"eof", b"capa", b"psync2")
        if self.offset >= 0:
            psync = [b"PSYNC", self.master_replid.encode(), b"%d" % (self.offset + 1)]
        else:
            psync = [b"PSYNC", b"?", b"-1"]
        reply = await ask(*psync)
        self.state = "sync"
        if reply.startswith(b"+FULLRESYNC"):
            parts = reply.split()
            replid, offset = parts[1].decode(), int(parts[2])
            await self._full_sync(reader, replid, offset)
        elif reply.startswith(b"+CONTINUE"):
            parts = reply.split()
            if len(parts) > 1:
                new = parts[1].decode()
                if new != self.master_replid:
                    self.repl.replid2 = self.master_replid
                    self.repl.second_offset = self.offset + 1
                    self.master_replid = new
                    self.repl.replid = new
            self.server.log("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
        else:
            raise SyncError(f"Unexpected reply to PSYNC from master: {reply.decode()}")
        self.state = "connected"
        self.last_io = time.monotonic()
        self.send_ack()
        await self._stream(reader)

    async def _full_sync(self, reader: asyncio.StreamReader, replid: str, offset: int) -> None:
        while True:
            line = await reader.readline()
            if not line:
                raise SyncError("master closed the connection before the RDB")
            if line.strip():  # bare newlines are the master's keepalives
                break
        line = line.rstrip(b"\r\n")
        if not line.startswith(b"$"):
            raise SyncError(f"Bad protocol from MASTER, the first byte is not '$': {line!r}")
        if line.startswith(b"$EOF:"):
            mark = line[5:]
            buf = bytearray()
            while not buf.endswith(mark):
                chunk = await reader.read(1 << 16)
                if not chunk:
                    raise SyncError("master closed the connection during the RDB transfer")
                buf += chunk
            data = bytes(buf[: -len(mark)])
        else:
            data = await reader.readexactly(int(line[1:]))
        self.server.log(f"MASTER <-> REPLICA sync: received {len(data)} bytes of RDB, loading")
        loaded = read_rdb_bytes(self.engine, data, "the master's RDB")
        eng = self.engine
        saved = eng.effects
        eng.effects = None
        try:
            install(eng, loaded)
        finally:
            eng.effects = [] if saved is not None else None
        self.master_replid = replid
        self.offset = offset
        self.repl.replid = replid
        self.repl.replid2 = "0" * 40
        self.repl.second_offset = -1
        self.repl.offset = offset
        self.repl.backlog = bytearray()
        stream_db = int(loaded.aux.get(b"repl-stream-db", b"0") or 0)
        self.repl.seldb = stream_db
        self.repl.disconnect_replicas()
        self.client.select(stream_db if 0 <= stream_db < len(self.engine.dbs) else 0)
        p = self.server.persistence
        if p is not None and p.writer is not None:
            p._rewrite_foreground()  # the AOF starts again from the new dataset, as Redis's
        self.server.log("MASTER <-> REPLICA sync: Finished with success")

    async def _stream(self, reader: asyncio.StreamReader) -> None:
        parser = hiredis.Reader()
        while not self.stopped:
            data = await reader.read(1 << 16)
            if not data:
                raise SyncError("connection with master lost")
            self.last_io = time.monotonic()
            parser.feed(data)
            while True:
                argv = parser.gets()
                if argv is False:
                    break
                if not isinstance(argv, list) or not argv:
                    continue
                self._apply(argv)
            self.server.end_batch()

    def _apply(self, argv: list[Any]) -> None:
        size = command_size(argv)
        name = argv[0].lower()
        if name == b"replconf" and len(argv) > 1 and argv[1].lower() == b"getack":
            self.send_ack()  # the offset before this command, as Redis answers
        else:
            try:
                self.engine.execute(self.client, argv)
            except Exception as e:  # noqa: BLE001  (a command the master sent must not stop the link)
                self.server.log(f"Error running a command from the master: {e!r}", "warning")
        self.offset += size
        self.repl.proxy(argv)  # on to our own replicas, byte for byte
