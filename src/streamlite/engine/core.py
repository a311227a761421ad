"""The engine: keyspace, command dispatch and the effects each write leaves behind.

The engine is pure and synchronous: no sockets, files, threads or event loop.
Time comes from an injected clock (snapshotted once per top-level command, as
Redis does). A front (server, embedded) calls ``execute(client, argv)`` and gets
a reply value (see ``replies``), then drains:

- ``effects``: the deterministic commands to persist, as ``(db_index, argv)``,
  collected only while ``effects`` is a list (set by persistence);
- ``ready_keys``: keys that blocked clients wait on and that changed.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import commands as _commands  # noqa: F401  (registers every command)
from .acl import Acl
from .client import Client
from .clock import Clock, SystemClock
from .config import defaults as _config_defaults
from .database import Database
from .errors import LOADING, NOAUTH, OOM, CommandError, c_str, unknown_subcommand, wrong_args
from .front import NO_FRONT, Front
from .multi import discard_transaction, queued_flags
from .protected import protected_refusal
from .pubsub import unsubscribe_all
from .registry import COMMANDS, Command
from .replies import Blocked, ErrorReply
from .slowlog import observe
from .subcommands import arity_ok, resolve

if TYPE_CHECKING:
    from .blocking import BlockingManager
    from .evict import Evictor
    from .latency import LatencyMonitor
    from .persistence_api import Persistence
    from .replication_api import Replication
    from .scripting.busy import ScriptHost
    from .scripting.runtime import Scripting
    from .slowlog import SlowLog

_perf_ns = time.perf_counter_ns

# read-only scripts: tracking remembers the keys of the commands they run, not theirs
_SCRIPTS_RO = frozenset({"eval_ro", "evalsha_ro", "fcall_ro"})

# Commands that run immediately inside MULTI instead of being queued.
_MULTI_IMMEDIATE = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})

# The only commands a RESP2 client in subscribed mode may run (Redis's processCommand).
_PUBSUB_ALLOWED = frozenset(
    {"ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe",
     "punsubscribe", "quit", "reset"}
)
_PUBSUB_ONLY = (
    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
    "are allowed in this context"
)


def _unknown(argv: list[bytes]) -> ErrorReply:
    """Redis's text: the name as ``%.128s``, then quoted arguments while the list is under
    128 bytes, each cut to what is left (``'%.*s' ``); C strings, so each ends at a NUL."""
    args = b""
    for a in argv[1:]:
        if len(args) >= 128:
            break
        args += b"'" + c_str(a, 128 - len(args)) + b"' "
    return ErrorReply(b"ERR unknown command '" + c_str(argv[0], 128)
                      + b"', with args beginning with: " + args)


class Engine:
    """All of streamlite's data and command semantics."""

    def __init__(self, clock: Clock | None = None, databases: int = 16) -> None:
        self.clock: Clock = clock or SystemClock()
        self.dbs = [Database(self, i) for i in range(databases)]
        self._commands: dict[bytes, Command] = COMMANDS
        # the command for each exact spelling seen (b"XADD", b"xadd" ...): one dict
        # lookup per command instead of a miss and a lower-cased second try
        self._by_spelling: dict[bytes, Command] = {}
        self.config: dict[str, Any] = _config_defaults()
        self.config["databases"] = databases
        self.loading = False  # True while replaying persisted data: no expiry
        self.dirty = 0  # changes since the last save
        # set by persistence while it cannot write (Redis's -MISCONF): refuses writes
        self.write_error: str | None = None
        # set while a read-only replica (Redis's -READONLY): refuses writes from clients
        self.read_only: str | None = None
        self._next_client_id = 1
        self._now_ms: int | None = None  # time snapshot for the running command
        self._depth = 0
        self._rewrite: list[tuple[int, list[bytes]]] | None = None
        # effects for persistence: None = nobody listens
        self.effects: list[tuple[int, list[bytes]]] | None = None
        # wrap a top-level command that propagates several commands in MULTI/EXEC, as
        # Redis 7 does for an execution unit (persistence turns it on for the AOF)
        self.wrap_units = False
        # blocking: keys somebody blocks on -> count, and keys signalled since last drain
        self.blocked_on: dict[tuple[int, bytes], int] = {}
        self.ready_keys: dict[tuple[int, bytes], None] = {}
        # WATCH: key -> clients watching it
        self.watched: dict[tuple[int, bytes], set[Client]] = {}
        # pub/sub: channel -> clients in subscription order
        self.channels: dict[bytes, dict[Client, None]] = {}
        self.patterns: dict[bytes, dict[Client, None]] = {}
        self.shard_channels: dict[bytes, dict[Client, None]] = {}
        # what the fronts around the engine install (the engine's only ways out):
        # the front (connections, process, log), persistence and replication, each
        # declared as an interface in the engine (front.py, persistence_api.py,
        # replication_api.py); the BlockingManager every front of this engine shares
        self.front: Front = NO_FRONT
        self.persistence: Persistence | None = None
        self.replication: Replication | None = None
        self.blocking: BlockingManager | None = None
        # per-engine state made on first use by its module
        self.scripting: Scripting | None = None  # scripting/runtime.get_scripting
        self.evictor: Evictor | None = None  # evict.evictor
        self.slowlog: SlowLog | None = None  # slowlog.eng_slowlog
        self.latency: LatencyMonitor | None = None  # latency.monitor
        self.info_state: dict[str, Any] | None = None  # info.state
        # DEBUG switches: SET-ACTIVE-EXPIRE (fronts skip the active expire cycle while
        # off), HYPERLOGLOG's SIMD toggle (reported only)
        self.active_expire_enabled = True
        self.hll_simd = True
        # ACL users and log (engine/acl.py); requirepass is the default user's password
        self.acl = Acl(self)
        # statistics
        self.stats_expired_keys = 0
        self.stats_keyspace_hits = 0  # lookups of lookupKeyRead (Database, notify.read_miss)
        self.stats_keyspace_misses = 0
        self.stats_evicted_keys = 0  # INFO evicted_keys
        self.stats_expired_subkeys = 0  # hash fields deleted by their TTL (INFO expired_subkeys)
        self.stats_expire_cycle_cap_reached = 0  # INFO expired_time_cap_reached_count
        self.stats_expired_stale_perc = 0.0  # running average (INFO expired_stale_perc)
        self.expire_cursor = 0  # database the next active expire cycle starts with
        self.stats_commands = 0
        # name -> [calls, usec, failed_calls, rejected_calls] (INFO commandstats)
        self.command_stats: dict[str, list[Any]] = {}
        self.error_stats: dict[str, int] = {}  # error code -> count (INFO errorstats)
        # per-command latencies while latency-tracking is on (INFO latencystats, LATENCY
        # HISTOGRAM): a command_stats entry's 5th item counts the calls per usec below
        # 1024, ``latency_big`` the slower ones (``latency_hist()`` merges them)
        self.latency_big: dict[str, dict[int, int]] = {}
        # what the hot path of ``call`` tests, cached from the config (refresh_observe)
        self._observe_usec = 10000  # the smallest slow log / latency threshold (usec)
        self._lat_tracking = True
        self.stats_error_replies = 0
        # hooks a front may set: called with (client, argv) for MONITOR-like feeds
        self.on_command: Callable[[Client, list[bytes]], None] | None = None
        # how many bytes the process uses (a front sets it; maxmemory needs it)
        self.memory_probe: Callable[[], int] | None = None
        # the command whose handler is running (keyspace notifications: keymiss)
        self.running: Command | None = None
        # busy scripts (scripting/busy.py): the script past busy-reply-threshold, if any
        # (others get -BUSY), and the front's hook that runs script commands so that
        # such a script can let it serve others (None: scripts just run to the end)
        self.busy: Any = None
        self.script_host: ScriptHost | None = None
        # while a script or transaction runs as one unit, the effects from before it
        # (its own go to ``effects`` until it ends): persistence may take these meanwhile
        self._unit_outer: list[tuple[int, list[bytes]]] | None = None
        # client-side caching (tracking.Tracking), made when a client first turns it on
        self.tracking: Any = None
        # HOTKEYS (hotkeys.HotKeys): the current or last session, None when there is none
        self.hotkeys: Any = None
        # every client by id, while it is referenced (Redis's lookupClientByID)
        self.clients_by_id: weakref.WeakValueDictionary[int, Client] = (
            weakref.WeakValueDictionary())

    def refresh_observe(self) -> None:
        """Cache the slow log and latency thresholds and latency-tracking (config.py
        calls this on CONFIG SET of any of them and after reading a config file)."""
        cfg = self.config
        floor = 1 << 62
        slower = int(cfg.get("slowlog-log-slower-than", 10000))
        if slower >= 0:
            floor = slower
        lat = int(cfg.get("latency-monitor-threshold", 0))
        if lat > 0:
            floor = min(floor, lat * 1000)
        self._observe_usec = floor
        self._lat_tracking = bool(cfg.get("latency-tracking", True))

    def latency_hist(self) -> dict[str, dict[int, int]]:
        """Per command (``name`` or ``container|sub``): {usec: calls}."""
        out: dict[str, dict[int, int]] = {}
        for name, st in self.command_stats.items():
            h = st[4]
            counts = {u: n for u, n in enumerate(h) if n} if h is not None else {}
            for u, n in self.latency_big.get(name, {}).items():
                counts[u] = counts.get(u, 0) + n
            if counts:
                out[name] = counts
        return out

    # -- clients -------------------------------------------------------------

    def new_client_id(self) -> int:
        cid = self._next_client_id
        self._next_client_id += 1
        return cid

    def client(self) -> Client:
        """A new client (connection state) bound to this engine."""
        return Client(self)

    def requirepass(self) -> bytes | None:
        """The ``requirepass`` config (the default user's password as configured)."""
        pw = self.config.get("requirepass")
        if isinstance(pw, str):
            pw = pw.encode("utf-8", "surrogateescape")
        return pw or None

    # -- time ------------------------------------------------------------------

    def now_ms(self) -> int:
        """The time snapshot of the running command (or the clock outside one)."""
        t = self._now_ms
        return t if t is not None else self.clock.ms()

    # -- dispatch --------------------------------------------------------------

    @property
    def commands(self) -> dict[bytes, Command]:
        """The command table (lower-case name -> Command)."""
        return self._commands

    @commands.setter
    def commands(self, table: dict[bytes, Command]) -> None:
        self._commands = table
        self._by_spelling = {}

    def lookup_command(self, name: bytes) -> Command | None:
        cmd = self._commands.get(name)
        if cmd is None:
            cmd = self._commands.get(name.lower())
        return cmd

    def _lookup_spelling(self, name: bytes) -> Command | None:
        """``lookup_command``, remembering the spelling (a bounded cache)."""
        cmd = self._commands.get(name)
        if cmd is None:
            cmd = self._commands.get(name.lower())
            if cmd is None:
                return None
        cache = self._by_spelling
        if len(cache) >= 4096:
            cache.clear()
        cache[name] = cmd
        return cmd

    def execute(self, c: Client, argv: list[bytes]) -> Any:
        """Run one command for client ``c`` and return its reply value.

        The checks before running it follow Redis's ``processCommand``: command
        (and subcommand) name, arity, MULTI restrictions, authentication, out of
        memory, loading, subscribed mode; then MULTI queueing.
        """
        cmd = self._by_spelling.get(argv[0])
        if cmd is None:
            cmd = self._lookup_spelling(argv[0])
            if cmd is None:
                if c.multi is not None:
                    c.multi_error = True
                return self.count_error(_unknown(argv))
        c.last_command = cmd
        if not (cmd.subcommands or c.multi is not None or not c.authenticated or self.loading
                or self.write_error is not None or cmd.runs_scripts or self.busy is not None
                or self.read_only is not None or not c.user.unrestricted):
            # the common case, the same checks in the same order: arity, out of
            # memory (only denyoom commands outside MULTI), subscribed mode
            n = len(argv)
            a = cmd.arity
            if (a > 0 and n != a) or n < -a:
                return self.reject(c, cmd, wrong_args(cmd.name), cmd)
            if cmd.is_denyoom and self.config["maxmemory"]:
                err = self.precheck(c, cmd)
                if err is not None:
                    return self.reject(c, cmd, err, cmd)
            if (c.protocol == 2 and (c.channels or c.patterns or c.shard_channels)
                    and cmd.name not in _PUBSUB_ALLOWED):
                return self.reject(c, cmd, _PUBSUB_ONLY.format(cmd.name), cmd)
            return self.call(c, cmd, argv)
        n = len(argv)
        if cmd.subcommands and n > 1:
            c.last_sub = argv[1]
        real = resolve(cmd, argv)  # the subcommand for containers (PUBSUB CHANNELS, ...)
        if real is None:
            if c.multi is not None:
                c.multi_error = True
            return self.count_error(ErrorReply(unknown_subcommand(argv[1], argv[0]).encode(
                "utf-8", "surrogateescape")))
        if not arity_ok(real, n):
            return self.reject(c, real, wrong_args(self.full_name(cmd, real)), cmd)
        if "protected" in real.flags and not c.is_master:
            # DEBUG, MODULE LOAD ... under enable-*-command: before authentication and
            # ACLs, as Redis's processCommand
            err = protected_refusal(c, cmd.name)
            if err is not None:
                return self.reject(c, real, err, cmd)
        if c.multi is not None and "no-multi" in real.flags:
            return self.reject(c, real, "ERR Command not allowed inside a transaction", cmd)
        if (not c.authenticated or self.loading or self.write_error is not None
                or self.read_only is not None or not c.user.unrestricted
                or ((real.is_denyoom or c.multi is not None) and self.config["maxmemory"])):
            err = self.precheck(c, real, argv, cmd)
            if err is not None:
                return self.reject(c, real, err, cmd)
        if (c.protocol == 2 and (c.channels or c.patterns or c.shard_channels)
                and cmd.name not in _PUBSUB_ALLOWED):
            return self.reject(c, real, _PUBSUB_ONLY.format(self.full_name(cmd, real)), cmd)
        if self.busy is not None and "allow-busy" not in real.flags:
            from .scripting.busy import busy_error

            return self.reject(c, real, busy_error(self.busy), cmd)
        if c.multi is not None and cmd.name not in _MULTI_IMMEDIATE:
            return self.queue_multi(c, cmd, argv)
        if cmd.runs_scripts and self.script_host is not None:
            return self.script_host.run(self.call, c, cmd, argv)
        return self.call(c, cmd, argv)

    def precheck(self, c: Client, cmd: Command, argv: list[bytes] | None = None,
                 container: Command | None = None) -> str | None:
        """The slow-path checks of ``execute``: an error text, or None to go on.

        In Redis's order: authentication, ACL permissions (``argv`` given; a denial
        is logged in ACL LOG), out of memory, disk errors, read-only, loading."""
        if c.is_master:  # replaying the AOF: no checks
            return None
        if not c.authenticated and "no-auth" not in cmd.flags:
            if not self.acl.auth_required():
                c.authenticated = True
            else:
                return NOAUTH
        if argv is not None and not c.user.unrestricted:
            err = self.acl.check_command(c, cmd, container, argv,
                                         "multi" if c.multi is not None else "toplevel")
            if err is not None:
                return "NOPERM " + err[1]
        if (self.config["maxmemory"] and self._oom_applies(c, cmd) and not c.in_script
                and self.over_maxmemory()):
            from .evict import perform_evictions

            if not perform_evictions(self):  # maxmemory-policy: evict, or -OOM
                return OOM
        if self.write_error is not None and self._denied_on_disk_error(c, cmd):
            return self.write_error
        if self.read_only is not None and "write" in cmd.flags:
            return self.read_only
        if self.loading and "loading" not in cmd.flags:
            return LOADING
        return None

    def _denied_on_disk_error(self, c: Client, cmd: Command) -> bool:
        """Redis's ``writeCommandsDeniedByDiskError`` applies to writes (EXEC of a
        transaction holding writes included) and to PING."""
        if cmd.is_write or cmd.name == "ping":
            return True
        if cmd.name == "exec" and c.multi is not None:
            return "write" in queued_flags(c)
        return False

    def _oom_applies(self, c: Client, cmd: Command) -> bool:
        """Whether ``cmd`` is refused when out of memory (Redis's ``processCommand``):
        ``denyoom`` commands, anything queued inside MULTI (queueing takes memory),
        and EXEC of a transaction holding ``denyoom`` commands."""
        if cmd.is_denyoom:
            return True
        if c.multi is None:
            return False
        if cmd.name == "exec":
            return "denyoom" in queued_flags(c)
        return cmd.name not in ("discard", "quit", "reset")

    def over_maxmemory(self) -> bool:
        """True when ``maxmemory`` is set and the process uses more (Redis's OOM state)."""
        limit = self.config.get("maxmemory", 0)
        return bool(limit) and self.used_memory() > limit

    def used_memory(self) -> int:
        """What the front's probe measures, less what eviction freed that the probe
        does not show yet (``evict.Evictor.effective``)."""
        probe = self.memory_probe
        if probe is None:
            return 0
        ev = self.evictor
        return probe() if ev is None else ev.effective(probe())

    @staticmethod
    def full_name(cmd: Command, real: Command) -> str:
        """Redis's ``fullname``: ``get``, or ``pubsub|channels`` for a subcommand."""
        return cmd.name if real is cmd else f"{cmd.name}|{real.name}"

    def reject(self, c: Client, cmd: Command | None, msg: str,
               container: Command | None = None) -> ErrorReply:
        """Refuse a command before running it (Redis's ``rejectCommand``).

        ``msg`` is the error as the client sees it (``"ERR ..."`` or ``"NOAUTH ..."``).
        Inside MULTI the transaction is flagged so EXEC aborts; a refused EXEC
        itself discards the transaction and answers ``EXECABORT Transaction
        discarded because of: <msg without a leading "ERR ">``. Counted in
        INFO commandstats (``rejected_calls``, under ``container|sub`` for a
        subcommand) and errorstats.
        """
        if cmd is not None:
            name = cmd.name
            if container is not None and container is not cmd:
                name = f"{container.name}|{cmd.name}"
            st = self.command_stats.get(name)
            if st is None:
                st = self.command_stats[name] = [0, 0, 0, 0, None]
            st[3] += 1
        if c.multi is not None:
            c.multi_error = True
        if cmd is not None and cmd.name == "exec":
            discard_transaction(c)
            text = msg[4:] if msg.startswith("ERR ") else msg
            return self.count_error(
                ErrorReply(b"EXECABORT Transaction discarded because of: " + text.encode()))
        return self.count_error(ErrorReply(msg.encode()))

    def count_error(self, err: ErrorReply) -> ErrorReply:
        """Count an error reply in INFO errorstats (by its code, e.g. ``ERR``)."""
        self.stats_error_replies += 1
        sp = err.find(b" ")
        # surrogateescape: INFO prints the code's bytes as they came (render encodes back)
        code = (err[:sp] if sp > 0 else bytes(err)).decode("utf-8", "surrogateescape")
        self.error_stats[code] = self.error_stats.get(code, 0) + 1
        return err

    def queue_multi(self, c: Client, cmd: Command, argv: list[bytes]) -> Any:
        """Queue a command inside MULTI (checks were done by ``execute``)."""
        from .replies import QUEUED

        assert c.multi is not None
        if not (c.multi_error or c.dirty_cas):  # a doomed transaction keeps nothing
            c.multi.append(argv)
        return QUEUED

    def drop_client(self, c: Client) -> None:
        """Forget a closed connection: its MULTI state, WATCHes and subscriptions."""
        discard_transaction(c)
        unsubscribe_all(c, notify=False)
        if self.tracking is not None:
            self.tracking.disable(c)
        self.clients_by_id.pop(c.id, None)

    def call(self, c: Client, cmd: Command, argv: list[bytes]) -> Any:
        """Run ``cmd`` and collect its effects (Redis's ``call()``)."""
        depth = self._depth
        if not depth:
            self._now_ms = self.clock.ms()
            if self.tracking is not None:
                self.tracking.current = c
        self._depth = depth + 1
        dirty_before = self.dirty
        saved_rewrite = self._rewrite
        self._rewrite = None
        saved_running = self.running
        self.running = cmd
        if cmd.monitor_first and self.on_command is not None and c.blocked is None:
            self.on_command(c, argv)  # EVAL/FCALL show before their commands, as in Redis
        t0 = _perf_ns()
        try:
            reply = cmd.handler(c, argv)
        except CommandError as e:
            reply = ErrorReply(e.msg.encode("utf-8", "surrogateescape"))  # raw bytes quoted
        finally:
            self._depth = depth
            self.running = saved_running
            if not depth:
                self._now_ms = None
        usec = (_perf_ns() - t0) // 1000
        if c.tracking is not None:
            self._track(c, cmd, argv, depth)
        rewrite = self._rewrite
        self._rewrite = saved_rewrite
        if self.effects is not None and self.dirty != dirty_before:
            if rewrite is not None:
                if not depth and self.wrap_units and len(rewrite) > 1:
                    self.effects.append((rewrite[0][0], [b"MULTI"]))
                    self.effects.extend(rewrite)
                    self.effects.append((rewrite[-1][0], [b"EXEC"]))
                else:
                    self.effects.extend(rewrite)
            elif cmd.is_write:
                self.effects.append((c.db_index, argv))
        if c.loading:  # the AOF's or a snapshot's commands: not counted, as in Redis,
            if c.in_exec:  # but for total_commands_processed inside the AOF's EXEC (Redis
                self.stats_commands += 1  # runs those through call(), which counts it)
        elif c.blocked is None:  # a blocked command's re-runs count once, as in Redis
            name = cmd.name
            if cmd.subcommands:
                real = resolve(cmd, argv)
                if real is not None and real is not cmd:
                    name = f"{name}|{real.name}"
            st = self.command_stats.get(name)
            if st is None:
                st = self.command_stats[name] = [0, 0, 0, 0, None]
            st[0] += 1
            st[1] += usec
            if type(reply) is ErrorReply:
                st[2] += 1
                self.count_error(reply)
            self.stats_commands += 1
            if self._lat_tracking:  # latency-tracking: calls per usec
                if usec < 1024:
                    h = st[4]
                    if h is None:
                        h = st[4] = [0] * 1024
                    h[usec] += 1
                else:
                    big = self.latency_big.get(name)
                    if big is None:
                        big = self.latency_big[name] = {}
                    big[usec] = big.get(usec, 0) + 1
            if usec >= self._observe_usec and type(reply) is not Blocked:
                observe(c, cmd, argv, usec)  # the slow log and the latency monitor
            if self.hotkeys is not None and not depth:
                from .hotkeys import record

                record(c, cmd, argv, usec, reply)
            if self.on_command is not None and not cmd.skip_monitor:
                self.on_command(c, argv)
        elif type(reply) is ErrorReply:
            # a re-run that ends in an error (the group destroyed under XREADGROUP):
            # Redis's updateStatsOnUnblock counts it as a failed call and an error
            st = self.command_stats.get(cmd.name)
            if st is not None:
                st[2] += 1
            self.count_error(reply)
        if c.blocked is not None and usec >= self._observe_usec and type(reply) is not Blocked:
            observe(c, cmd, argv, usec)  # served after blocking: as updateStatsOnUnblock
        return reply

    def _track(self, c: Client, cmd: Command, argv: list[bytes], depth: int) -> None:
        """Client-side caching after a command of a tracking client: remember the keys
        of a read-only command (not of EVAL_RO/FCALL_RO themselves: of what they
        run); CLIENT CACHING lasts one command (MULTI keeps it to EXEC)."""
        real = resolve(cmd, argv) or cmd
        if ("readonly" in real.flags and cmd.name not in _SCRIPTS_RO
                and "pubsub" not in real.flags):
            keys = [argv[i] for i in real.key_positions(argv) if i < len(argv)]
            if keys:
                self.tracking.remember(c, keys)
        if not depth and c.multi is None and cmd.name != "client" and c.tracking is not None:
            c.tracking.caching = False

    def rewrite(self, c: Client, *argvs: list[bytes]) -> None:
        """Propagate ``argvs`` instead of the running command's own argv.

        Call with no argv to propagate nothing; call again to add more.
        """
        if self._rewrite is None:
            self._rewrite = []
        for argv in argvs:
            self._rewrite.append((c.db_index, argv))

    def propagate(self, db_index: int, argv: list[bytes]) -> None:
        """Add a command to the effects outside of the running command's own."""
        if self.effects is not None:
            self.effects.append((db_index, argv))

    def propagate_expired(self, db_index: int, key: bytes) -> None:
        if self.effects is not None:
            self.effects.append((db_index, [b"DEL", key]))

    def take_effects(self) -> list[tuple[int, list[bytes]]]:
        """The effects to persist now, handed over (a running unit's are not among them)."""
        if self._unit_outer is not None:  # a busy script: only what came before it
            outer = self._unit_outer
            self._unit_outer = []
            return outer
        eff = self.effects
        if not eff:
            return []
        self.effects = []
        return eff

    def take_ready_keys(self) -> list[tuple[int, bytes]]:
        if not self.ready_keys:
            return []
        keys = list(self.ready_keys)
        self.ready_keys.clear()
        return keys

    # -- blocking registry (maintained by fronts) ------------------------------

    def block_on(self, keys: list[tuple[int, bytes]]) -> None:
        for k in keys:
            self.blocked_on[k] = self.blocked_on.get(k, 0) + 1

    def unblock_on(self, keys: list[tuple[int, bytes]]) -> None:
        for k in keys:
            n = self.blocked_on.get(k, 0) - 1
            if n <= 0:
                self.blocked_on.pop(k, None)
            else:
                self.blocked_on[k] = n

    # -- active expiry ---------------------------------------------------------

    def active_expire(self, budget: int | None = None) -> int:
        """Delete expired keys (Redis's active expire cycle): up to ``budget`` keys
        when given, else as many as are due within Redis's time limit for a cycle,
        ``25 + 2 * (active-expire-effort - 1)`` percent of the cron period (1 / hz).

        Fronts call this periodically (Redis does from ``serverCron``, 10 times a
        second). See ``expiry.active_expire_cycle``.
        """
        from .expiry import active_expire_cycle

        if self.tracking is not None:  # no client's command runs: NOLOOP clients hear too
            self.tracking.current = None
        t0 = _perf_ns()
        if budget is None:
            hz = max(1, min(500, int(self.config.get("hz", 10))))
            perc = 25 + 2 * (int(self.config.get("active-expire-effort", 1)) - 1)
            n = active_expire_cycle(self, 1 << 62, t0 + 10_000_000 * perc // hz)
        else:
            n = active_expire_cycle(self, budget)
        threshold = self.config["latency-monitor-threshold"]
        if not threshold:
            return n
        ms = (_perf_ns() - t0) // 1_000_000
        if ms >= threshold:  # the latency monitor's "expire-cycle" event, as Redis's
            from .latency import monitor

            monitor(self).add("expire-cycle", ms, self.clock.ms() // 1000)
        return n
