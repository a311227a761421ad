"""Replication, Redis's protocol: streamlite as a master that redis-server (or another
streamlite) follows, and as a replica (``replica_link``).

The model is Redis's (``replication.c``):

- The **replication stream** is what the AOF gets: every effect ``(db, argv)`` the
  engine leaves, as RESP arrays, with a ``SELECT`` whenever the database changes
  (``feed``, a listener of ``Persistence.stage``). Its byte count is the
  **offset** (``master_repl_offset``); the last ``repl-backlog-size`` bytes are
  kept in the **backlog**, created when the first replica connects.
- A replica says ``PSYNC <replid> <offset+1>``. If the replication ID is ours (or
  our previous one, up to where it ended) and the backlog still holds that offset,
  the answer is ``+CONTINUE <replid>`` and the backlog from there (**partial
  resync**); otherwise ``+FULLRESYNC <replid> <offset>``, a bulk ``$<len>`` with an
  RDB of the dataset at that offset (``persistence.rdb``, Redis 8.2's format), then
  the stream. ``SYNC`` (old replicas, and Redis's test suite's
  ``attach_to_replication_stream``) gets the RDB and the stream without the
  ``+FULLRESYNC`` line.
- Replicas acknowledge with ``REPLCONF ACK <offset>`` (about every second, and when
  asked with ``REPLCONF GETACK *``, which the master puts in the stream); ``WAIT n
  timeout`` parks its client until ``n`` replicas acknowledged the offset of its
  writes. The master pings replicas through the stream every
  ``repl-ping-replica-period`` seconds.
- As a replica (``REPLICAOF host port``), the server refuses writes from clients
  (``-READONLY``) while ``replica-read-only`` is on; ``REPLICAOF NO ONE`` promotes
  it: the replication ID it had becomes its secondary ID (valid up to the offset it
  reached, so its own replicas can continue partially) and it gets a new one.

The RDB of a full sync is made in memory, in the event loop (Redis forks a child);
a big dataset stalls the master for that time.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from ..engine.info import state as info_state
from ..engine.record import Record
from ..persistence.rdb import rdb_bytes
from ..protocol.resp import encode_command

if TYPE_CHECKING:
    from ..engine.client import Client
    from .app import Server
    from .connection import Connection
    from .replica_link import MasterLink

_UNIT = (b"MULTI", b"EXEC")
_WAIT_REPLICA = ("ERR WAIT cannot be used with replica instances. Please also note that "
                 "since Redis 4.0 if a replica is configured to be writable (which is not "
                 "the default) writes to replicas are just local and are not propagated.")


class ReplicaInfo(Record):
    """One replica connected to us (master side)."""

    _fields = ("conn", "ip", "port", "state", "ack", "ack_time", "old_protocol")
    conn: Connection
    ip: str
    port: int
    state: str
    ack: int
    ack_time: float
    old_protocol: bool  # SYNC: no REPLCONF ACKs

    def __init__(self, conn: Connection, ip: str, port: int = 0, state: str = "online",
                 ack: int = 0, ack_time: float = 0.0, old_protocol: bool = False) -> None:
        self.conn = conn
        self.ip = ip
        self.port = port
        self.state = state
        self.ack = ack
        self.ack_time = ack_time
        self.old_protocol = old_protocol


class Waiter(Record):
    _fields = ("conn", "offset", "needed", "timer")
    conn: Connection
    offset: int
    needed: int
    timer: Any

    def __init__(self, conn: Connection, offset: int, needed: int, timer: Any = None) -> None:
        self.conn = conn
        self.offset = offset
        self.needed = needed
        self.timer = timer


class Replication:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.engine = server.engine
        self.replid2 = "0" * 40
        self.second_offset = -1
        self.offset = 0  # master_repl_offset
        self.backlog: bytearray | None = None
        self.seldb = -1  # database of the last SELECT in the stream
        self.replicas: dict[int, ReplicaInfo] = {}
        self.stats = {"sync_full": 0, "sync_partial_ok": 0, "sync_partial_err": 0}
        self.waiters: list[Waiter] = []
        self.link: MasterLink | None = None  # set while we are a replica
        self.last_ping = time.monotonic()
        self.engine.replication = self

    # -- identity --------------------------------------------------------------------------

    @property
    def replid(self) -> str:
        return str(info_state(self.engine)["replid"])

    @replid.setter
    def replid(self, value: str) -> None:
        info_state(self.engine)["replid"] = value

    def shift_replid(self) -> None:
        """A new history starts here (promotion): the old ID stays valid up to this offset."""
        self.replid2 = self.replid
        self.second_offset = self.offset + 1
        self.replid = os.urandom(20).hex()

    @property
    def is_replica(self) -> bool:
        return self.link is not None

    # -- the stream ------------------------------------------------------------------------

    def attach(self) -> None:
        """Collect effects from now on (the backlog exists from the first replica on)."""
        p = self.server.persistence
        if p is not None and self.feed not in p.listeners:
            p.listeners.append(self.feed)
            if self.engine.effects is None:
                self.engine.effects = []
        if self.backlog is None:
            self.backlog = bytearray()
            self.seldb = -1

    def flush_effects(self) -> None:
        """Feed what the commands run so far left (before a snapshot or a WAIT offset)."""
        p = self.server.persistence
        if p is not None:
            p.stage()

    def feed(self, effects: list[tuple[int, list[bytes]]]) -> None:
        """Append effects to the stream: the backlog and every online replica.

        Not while we are a replica: then the stream is our master's, proxied byte for
        byte (``proxy``), so our offsets are our master's and our replicas can move to
        it (or stay with us after a promotion) with a partial resync, as in Redis."""
        if self.backlog is None or self.link is not None:
            return
        out = []
        for db, argv in effects:
            # MULTI/EXEC go out with no database (Redis propagates them with dbid -1): a
            # transaction's SELECT is inside it
            if db != self.seldb and db >= 0 and argv[0] not in _UNIT:
                out.append(encode_command([b"SELECT", b"%d" % db]))
                self.seldb = db
            out.append(encode_command(argv))
        self._append(b"".join(out))

    def proxy(self, argv: list[bytes]) -> None:
        """A command of our master's stream, passed on as it came (we are a replica)."""
        if self.backlog is None:
            return
        if argv[0].lower() == b"select" and len(argv) == 2:
            self.seldb = int(argv[1])
        self._append(encode_command(argv))

    def feed_raw(self, argv: list[bytes]) -> None:
        """A command outside any database (PING, REPLCONF GETACK)."""
        if self.backlog is not None:
            self._append(encode_command(argv))

    def _append(self, data: bytes) -> None:
        if not data:
            return
        bl = self.backlog
        assert bl is not None
        bl += data
        limit = int(self.engine.config.get("repl-backlog-size", 1 << 20))
        if len(bl) > limit:
            del bl[: len(bl) - limit]
        self.offset += len(data)
        dirty = self.server.dirty
        for r in self.replicas.values():
            if r.state == "online" and not r.conn.closed:
                r.conn.out.append(data)
                dirty.add(r.conn)

    @property
    def backlog_first(self) -> int:
        """Offset of the first byte the backlog holds (Redis's repl_backlog_first_byte_offset)."""
        return self.offset - len(self.backlog or b"") + 1

    def disconnect_replicas(self) -> None:
        """Our dataset was replaced (a full sync from our master): replicas must resync."""
        for r in list(self.replicas.values()):
            r.conn.close()
        self.replicas.clear()

    # -- master side: SYNC / PSYNC / REPLCONF --------------------------------------------------

    def _conn(self, c: Client) -> Connection | None:
        return self.server.conns.get(c.id)

    def sync(self, c: Client, replid: bytes | None, offset: int) -> None:
        """SYNC (``replid`` None) or PSYNC: partial resync when possible, else a full one."""
        conn = self._conn(c)
        if conn is None:
            return
        self.attach()
        self.flush_effects()
        info = self.replicas.get(c.id)
        if info is None:
            ip = c.addr.decode().rsplit(":", 1)[0].strip("[]")
            info = self.replicas[c.id] = ReplicaInfo(conn, ip, c.repl_port)
        info.old_protocol = replid is None
        if replid is not None and self._can_continue(replid.decode("latin-1"), offset):
            skip = offset - self.backlog_first
            assert self.backlog is not None
            conn.out.append(b"+CONTINUE %s\r\n" % self.replid.encode())
            conn.out.append(bytes(self.backlog[skip:]))
            info.state = "online"
            self.stats["sync_partial_ok"] += 1
            self.server.log(f"Partial resynchronization request from {c.addr.decode()} "
                            f"accepted. Sending {len(self.backlog) - skip} bytes of backlog "
                            f"starting from offset {offset}.")
            return
        if replid is not None and replid != b"?":
            self.stats["sync_partial_err"] += 1
        self.stats["sync_full"] += 1
        # the database the stream is in: a master starts a new SELECT (so 0 will do); a
        # replica passes its master's stream on untouched, so its replicas start in the
        # database that stream has selected (Redis's repl-stream-db)
        stream_db = max(self.seldb, 0) if self.link is not None else 0
        rdb = rdb_bytes(self.engine, {b"repl-stream-db": b"%d" % stream_db,
                                      b"repl-id": self.replid.encode(),
                                      b"repl-offset": b"%d" % self.offset})
        if replid is not None:
            conn.out.append(b"+FULLRESYNC %s %d\r\n" % (self.replid.encode(), self.offset))
        conn.out.append(b"$%d\r\n" % len(rdb))
        conn.out.append(rdb)
        if self.link is None:
            self.seldb = -1  # the next command carries its SELECT
        info.state = "online"
        self.server.dirty.add(conn)
        self.server.log(f"Synchronization with replica {c.addr.decode()} succeeded "
                        f"(full resync, {len(rdb)} bytes)")

    def _can_continue(self, replid: str, offset: int) -> bool:
        if self.backlog is None or not self.backlog:
            return False
        if replid != self.replid and not (replid == self.replid2 and offset <= self.second_offset):
            return False
        return self.backlog_first <= offset <= self.offset + 1

    def replconf(self, c: Client, argv: list[bytes]) -> Any:
        """REPLCONF <option> <value> ...: None means no reply (ACK)."""
        from ..engine.replies import OK

        i = 1
        while i + 1 < len(argv):
            opt = argv[i].lower()
            val = argv[i + 1]
            if opt == b"ack":
                info = self.replicas.get(c.id)
                if info is not None:
                    info.ack = max(info.ack, int(val))
                    info.ack_time = time.monotonic()
                    self._check_waiters()
                return None
            if opt == b"getack":
                if self.link is not None:
                    self.link.send_ack()
                return None
            if opt == b"listening-port":
                info = self.replicas.get(c.id)
                c.repl_port = int(val)
                if info is not None:
                    info.port = int(val)
            elif opt not in (b"capa", b"ip-address", b"rdb-only", b"rdb-filter-only",
                             b"rdb-channel", b"main-ch-client-id"):
                return ("err", f"ERR Unrecognized REPLCONF option: {argv[i].decode()}")
            i += 2
        return OK

    def drop(self, conn: Connection) -> None:
        """A connection closed: forget it as a replica or a WAIT client."""
        info = self.replicas.pop(conn.client.id, None)
        if info is not None:
            self.server.log(f"Connection with replica {info.ip}:{info.port} lost.")
        for w in list(self.waiters):
            if w.conn is conn:
                self._end_wait(w, deliver=False)

    # -- WAIT ----------------------------------------------------------------------------------

    def acked(self, offset: int) -> int:
        return sum(1 for r in self.replicas.values() if r.ack >= offset and not r.old_protocol)

    def wait(self, c: Client, needed: int, timeout_ms: int) -> Any:
        """WAIT: the count now, or None after parking the client (the reply comes later)."""
        if self.link is not None:
            return ("err", _WAIT_REPLICA)
        self.flush_effects()
        target = self.offset
        have = self.acked(target)
        conn = self._conn(c)
        if have >= needed or c.in_exec or c.in_script or conn is None:
            return have  # a transaction or script never blocks (Redis: CLIENT_DENY_BLOCKING)
        w = Waiter(conn, target, needed)
        conn.waiting = True
        self.waiters.append(w)
        if timeout_ms and self.server.loop is not None:
            w.timer = self.server.loop.call_later(timeout_ms / 1000, self._timeout, w)
        if self.replicas:
            self.feed_raw([b"REPLCONF", b"GETACK", b"*"])
        return None

    def _timeout(self, w: Waiter) -> None:
        if w in self.waiters:
            self._end_wait(w)
            self.server.end_batch()

    def _check_waiters(self) -> None:
        for w in list(self.waiters):
            if self.acked(w.offset) >= w.needed:
                self._end_wait(w)

    def _end_wait(self, w: Waiter, deliver: bool = True) -> None:
        self.waiters.remove(w)
        if w.timer is not None:
            w.timer.cancel()
        if deliver and not w.conn.closed:
            w.conn.deliver(self.acked(w.offset))

    # -- periodic work -------------------------------------------------------------------------

    def tick(self) -> None:
        self._read_only()  # CONFIG SET replica-read-only applies within a tick
        now = time.monotonic()
        period = int(self.engine.config.get("repl-ping-replica-period", 10))
        if self.replicas and self.link is None and now - self.last_ping >= period:
            self.last_ping = now
            self.feed_raw([b"PING"])
        for cid, r in list(self.replicas.items()):
            if r.conn.closed:
                del self.replicas[cid]
        if self.link is not None:
            self.link.tick()

    # -- role changes ----------------------------------------------------------------------------

    def replicaof(self, host: str, port: int) -> str:
        """REPLICAOF host port: follow that master (asynchronously). Returns the OK text."""
        from .replica_link import MasterLink

        if self.link is not None and (self.link.host, self.link.port) == (host, port):
            return "OK Already connected to specified master"
        if self.link is not None:
            self.link.stop()
        self.attach()
        self.link = MasterLink(self, host, port)
        self._read_only()
        self.link.start()
        self.server.log(f"Connecting to MASTER {host}:{port}")
        return "OK"

    def no_one(self) -> None:
        """REPLICAOF NO ONE: stop following, become a master with a new history."""
        if self.link is None:
            return
        self.link.stop()
        self.link = None
        self.shift_replid()
        self.engine.read_only = None
        self.server.log("MASTER MODE enabled (user request from 'id=...')")

    def _read_only(self) -> None:
        ro = self.link is not None and bool(self.engine.config.get("replica-read-only", True))
        self.engine.read_only = (
            "READONLY You can't write against a read only replica." if ro else None)

    # -- introspection ---------------------------------------------------------------------------

    def role(self) -> list[Any]:
        if self.link is not None:
            return [b"slave", self.link.host.encode(), self.link.port,
                    self.link.state.encode(), self.link.offset]
        return [b"master", self.offset,
                [[r.ip.encode(), b"%d" % r.port, b"%d" % r.ack] for r in self.replicas.values()]]

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        link = self.link
        if link is not None:
            out.update({
                "role": "slave",
                "master_host": link.host,
                "master_port": link.port,
                "master_link_status": "up" if link.state == "connected" else "down",
                "master_last_io_seconds_ago": int(time.monotonic() - link.last_io)
                if link.state == "connected" else -1,
                "master_sync_in_progress": int(link.state == "sync"),
                "slave_read_repl_offset": link.offset,
                "slave_repl_offset": link.offset,
                "slave_priority": self.engine.config.get("replica-priority", 100),
                "slave_read_only": int(bool(self.engine.config.get("replica-read-only", True))),
                "replica_announced": 1,
            })
        else:
            out["role"] = "master"
        out["connected_slaves"] = len(self.replicas)
        now = time.monotonic()
        for i, r in enumerate(self.replicas.values()):
            lag = int(now - r.ack_time) if r.ack_time else 0
            out[f"slave{i}"] = (f"ip={r.ip},port={r.port},state={r.state},offset={r.ack},"
                                f"lag={lag}")
        offset = link.offset if link is not None else self.offset
        out.update({
            "master_failover_state": "no-failover",
            "master_replid": self.replid,
            "master_replid2": self.replid2,
            "master_repl_offset": offset,
            "second_repl_offset": self.second_offset,
            "repl_backlog_active": int(self.backlog is not None),
            "repl_backlog_size": self.engine.config.get("repl-backlog-size", 1 << 20),
            "repl_backlog_first_byte_offset": self.backlog_first if self.backlog else 0,
            "repl_backlog_histlen": len(self.backlog or b""),
        })
        return out
