"""Per-connection state the engine needs: selected database, protocol, MULTI, WATCH,
subscriptions. The server and the embedded front each create one per connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Engine
    from .database import Database


class Client:
    """A connection as the engine sees it. Every attribute is declared here, the ones
    the fronts keep for themselves included (``monitoring``, ``session``, ``repl_port``)."""

    def __init__(self, engine: Engine, push: Callable[[Any], None] | None = None) -> None:
        self.engine = engine
        self.id: int = engine.new_client_id()
        self.db_index = 0
        self.db: Database = engine.dbs[0]
        self.protocol = 2
        self.name: bytes = b""
        self.lib_name: bytes = b""
        self.lib_ver: bytes = b""
        # the ACL user (engine/acl.py): the default user until AUTH says otherwise
        self.user = engine.acl.default
        self.authenticated = not engine.acl.auth_required()
        # MULTI/EXEC: queued argv lists while in MULTI, else None
        self.multi: list[list[bytes]] | None = None
        self.multi_error = False  # a command failed to queue: EXEC aborts
        self.dirty_cas = False  # a WATCHed key changed
        self.watched: set[tuple[int, bytes]] = set()
        # pub/sub
        self.channels: set[bytes] = set()
        self.patterns: set[bytes] = set()
        self.shard_channels: set[bytes] = set()
        # out-of-band messages (pub/sub): the front sets a callable that delivers them
        self.push: Callable[[Any], None] = push or self._queue_push
        self.pushed: list[Any] = []
        # scripting / blocking context: while a script runs, ``protocol`` is the
        # script's (``redis.setresp``) and ``script_outer_protocol`` the connection's
        self.in_script = False
        self.script_outer_protocol = 2
        self.in_exec = False
        self.created_ms = engine.clock.ms()
        self.last_interaction_ms = self.created_ms
        self.last_command: Any = b"NULL"  # the Command last executed (set by Engine.execute)
        self.last_sub: bytes | None = None  # its subcommand, for containers (CLIENT LIST cmd=)
        self.addr = b"127.0.0.1:0"
        self.laddr = b"127.0.0.1:0"
        self.closing = False  # set by QUIT / CLIENT KILL
        self.reply_mode = b"on"  # CLIENT REPLY on|off|skip
        self.no_evict = False
        self.no_touch = False
        self.blocked: Any = None  # set by the front while the client is blocked
        self.tracking: Any = None  # tracking.ClientTracking while CLIENT TRACKING is on
        engine.clients_by_id[self.id] = self
        self.is_master = False  # True while loading the AOF (commands come from the log)
        # the client that replays the AOF or installs a snapshot: its commands are not
        # counted (commandstats, latency histograms, slow log, hot keys; total commands
        # only inside an EXEC) nor shown to MONITOR, as Redis's call() in
        # isAOFLoadingContext()
        self.loading = False
        # the front writes replies as RESP: handlers may answer with pre-encoded
        # ``RawResp`` bytes at the top level (the server sets it; see replies.RawResp)
        self.raw_replies = False
        # HIMPORT PREPARE's named fieldsets (commands/himport.py), made on first use
        self.fieldsets: dict[bytes, list[bytes]] | None = None
        # kept by the fronts: MONITOR is on (the server); the front's own object for
        # this connection, through which a blocked client's reply finds it (the
        # embedded ``Session``); the listening port a replica announced (REPLCONF)
        self.monitoring = False
        self.session: Any = None
        self.repl_port = 0

    def _queue_push(self, msg: Any) -> None:
        self.pushed.append(msg)

    def select(self, index: int) -> None:
        self.db_index = index
        self.db = self.engine.dbs[index]

    @property
    def wire_protocol(self) -> int:
        """The protocol of the connection itself, in which its pushes are written
        (tracking invalidations): a running script's ``redis.call`` replies are made in
        the script's own protocol (``protocol``), which does not change the connection's."""
        return self.script_outer_protocol if self.in_script else self.protocol

    @property
    def subscription_count(self) -> int:
        return len(self.channels) + len(self.patterns) + len(self.shard_channels)

    @property
    def in_pubsub(self) -> bool:
        return bool(self.channels or self.patterns or self.shard_channels)
