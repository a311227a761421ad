"""The configuration table: Redis's config names, types, defaults and validation.

One ``Spec`` per config (``CONFIG GET``/``SET``/``REWRITE``, ``redis.conf`` files
and ``--name value`` options all go through it). Values live in
``engine.config`` (a plain dict, name -> Python value) so engine code reads them
with ``c.engine.config.get("stream-node-max-entries", 100)``:

==============  ===============================  =========================
kind            Python value                     CONFIG GET text
==============  ===============================  =========================
``bool``        ``bool``                         ``yes`` / ``no``
``int``         ``int``                          decimal
``memory``      ``int`` (bytes; percent < 0)     decimal (``n%``)
``enum``        ``str`` (canonical name)         the name
``string``      ``str``                          the text
special         see the spec's ``parse``         see the spec's ``fmt``
==============  ===============================  =========================

Specials: ``save`` is ``[(seconds, changes), ...]``, ``client-output-buffer-limit``
is ``{"normal"|"replica"|"pubsub": (hard, soft, soft_seconds)}``,
``notify-keyspace-events`` is its canonical flag string (e.g. ``"AKE"``), ``bind``
a list of addresses, ``dir`` an absolute path.

Changing a value may need an action outside the table (turning the AOF on, a new
fsync policy): ``Spec.apply`` does that through ``engine.persistence`` and
``engine.front``, as the engine itself does no I/O.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..numparse import string2ll
from .glob import match as glob_match
from .record import Record

if TYPE_CHECKING:
    from .core import Engine

INT_MAX = (1 << 31) - 1
INT_MIN = -(1 << 31)
UINT_MAX = (1 << 32) - 1
LONG_MAX = (1 << 63) - 1
LLONG_MAX = LONG_MAX
ULLONG_MAX = (1 << 64) - 1

MIN_HZ, MAX_HZ = 1, 500


class ConfigError(Exception):
    """A value a config does not accept; ``str(e)`` is Redis's reason text."""


class Spec(Record):
    _fields = ("name", "kind", "default", "alias", "flags", "lo", "hi", "choices", "percent",
               "validate", "parse", "fmt", "apply", "unsigned")
    name: str
    kind: str  # bool | int | memory | enum | string | special
    default: Any
    alias: str | None
    flags: frozenset[str]
    lo: int
    hi: int
    choices: tuple[str, ...]
    percent: bool  # memory configs that also take "n%"
    validate: Callable[[Any], str | None] | None
    parse: Callable[[list[str]], Any] | None  # special kinds
    fmt: Callable[[Any], str] | None
    apply: Callable[[Engine, Any], str | None] | None
    unsigned: bool

    def __init__(self, name: str, kind: str, default: Any, alias: str | None = None,
                 flags: frozenset[str] = frozenset(), lo: int = 0, hi: int = LLONG_MAX,
                 choices: tuple[str, ...] = (), percent: bool = False,
                 validate: Callable[[Any], str | None] | None = None,
                 parse: Callable[[list[str]], Any] | None = None,
                 fmt: Callable[[Any], str] | None = None,
                 apply: Callable[[Engine, Any], str | None] | None = None,
                 unsigned: bool = False) -> None:
        self.name = name
        self.kind = kind
        self.default = default
        self.alias = alias
        self.flags = flags
        self.lo = lo
        self.hi = hi
        self.choices = choices
        self.percent = percent
        self.validate = validate
        self.parse = parse
        self.fmt = fmt
        self.apply = apply
        self.unsigned = unsigned

    @property
    def multi_arg(self) -> bool:
        return "multi-arg" in self.flags


# -- value parsing -------------------------------------------------------------


def _string2ll(s: str) -> int | None:
    """``numparse.string2ll`` of a value kept as text (non-ASCII is never a digit)."""
    return string2ll(s.encode("utf-8", "surrogatepass"))


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
          "g": 1000**3, "gb": 1024**3}


def memtoull(s: str) -> int | None:
    """Redis's ``memtoull``: digits with an optional unit (1k = 1000, 1kb = 1024)."""
    i = 0
    while i < len(s) and s[i].isdigit() and s[i].isascii():
        i += 1
    mul = _UNITS.get(s[i:].lower())
    if mul is None:
        return None
    digits = s[:i]
    v = int(digits) if digits else 0
    v *= mul
    if v > ULLONG_MAX:
        return None
    return v


def _parse_value(spec: Spec, args: list[str]) -> Any:
    if spec.kind == "special":
        assert spec.parse is not None
        return spec.parse(args)
    s = args[0]
    k = spec.kind
    if k == "bool":
        low = s.lower()
        if low == "yes":
            v: Any = True
        elif low == "no":
            v = False
        else:
            raise ConfigError("argument must be 'yes' or 'no'")
    elif k == "enum":
        low = s.lower()
        if low not in spec.choices:
            raise ConfigError(
                "argument(s) must be one of the following: " + ", ".join(spec.choices)
            )
        v = low
    elif k == "string":
        v = s
    else:  # int / memory
        num: int | None
        if k == "memory":
            num = memtoull(s)
            if num is None and spec.percent and len(s) > 1 and s.endswith("%"):
                p = _string2ll(s[:-1])
                num = -p if p is not None and p >= 0 else None
            if num is None:
                raise ConfigError(
                    "argument must be a memory or percent value" if spec.percent
                    else "argument must be a memory value"
                )
        else:
            num = _string2ll(s)
            if num is None:
                raise ConfigError("argument couldn't be parsed into an integer")
        if spec.percent and num < 0:
            if num < spec.lo:
                raise ConfigError(f"percentage argument must be less or equal to {-spec.lo}")
        elif num < spec.lo or num > spec.hi:
            raise ConfigError(f"argument must be between {spec.lo} and {spec.hi} inclusive")
        v = num
    if spec.validate is not None:
        err = spec.validate(v)
        if err:
            raise ConfigError(err)
    return v


def format_value(spec: Spec, v: Any) -> str:
    if spec.fmt is not None:
        return spec.fmt(v)
    k = spec.kind
    if k == "bool":
        return "yes" if v else "no"
    if k == "memory" and spec.percent and v < 0:
        return f"{-v}%"
    if v is None:
        return ""
    return str(v)


# -- special configs -----------------------------------------------------------


def _parse_save(args: list[str]) -> list[tuple[int, int]]:
    if len(args) == 1 and args[0] == "":
        args = []
    if len(args) % 2:
        raise ConfigError("Invalid save parameters")
    out: list[tuple[int, int]] = []
    for i in range(0, len(args), 2):
        try:
            secs, changes = int(args[i]), int(args[i + 1])
        except ValueError:
            raise ConfigError("Invalid save parameters")
        if secs < 1 or changes < 0:
            raise ConfigError("Invalid save parameters")
        out.append((secs, changes))
    return out


def _fmt_save(v: list[tuple[int, int]]) -> str:
    return " ".join(f"{s} {c}" for s, c in v)


OBUF_CLASSES = ("normal", "replica", "pubsub")
_OBUF_NAMES = {"normal": "normal", "slave": "replica", "replica": "replica", "pubsub": "pubsub"}
OBUF_DEFAULT = {
    "normal": (0, 0, 0),
    "replica": (256 * 1024 * 1024, 64 * 1024 * 1024, 60),
    "pubsub": (32 * 1024 * 1024, 8 * 1024 * 1024, 60),
}


def _parse_obuf(args: list[str]) -> dict[str, tuple[int, int, int]]:
    if len(args) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    new: dict[str, tuple[int, int, int]] = {}
    for i in range(0, len(args), 4):
        cls = _OBUF_NAMES.get(args[i].lower())
        if cls is None:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        hard, soft = memtoull(args[i + 1]), memtoull(args[i + 2])
        try:
            secs = int(args[i + 3])
        except ValueError:
            secs = -1
        if hard is None or soft is None or secs < 0:
            raise ConfigError(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            )
        new[cls] = (hard, soft, secs)
    return new  # merged into the current value by set_values


def _fmt_obuf(v: dict[str, tuple[int, int, int]]) -> str:
    parts = []
    for cls in OBUF_CLASSES:
        hard, soft, secs = v.get(cls, OBUF_DEFAULT[cls])
        parts.append(f"{'slave' if cls == 'replica' else cls} {hard} {soft} {secs}")
    return " ".join(parts)


_NOTIFY_ALL = "g$lshzxetd"
_NOTIFY_ORDER = "g$lshzxetdnoc"  # the classes, in the order CONFIG GET lists them


def _parse_notify(args: list[str]) -> str:
    """Redis's ``keyspaceEventsStringToFlags``: the value kept is every enabled
    letter (``A`` expanded, so ``n``/``o``/``c`` given with ``A`` are kept); CONFIG
    GET shows it as Redis does (``_fmt_notify``)."""
    if len(args) != 1:
        raise ConfigError("wrong number of arguments")
    flags: set[str] = set()
    for ch in args[0]:
        if ch == "A":
            flags.update(_NOTIFY_ALL)
        elif ch in "g$lshzxeKEtmdnocSTIV":  # S T I V: subkey channels (Redis 8.8)
            flags.add(ch)
        else:
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    return "".join(ch for ch in _NOTIFY_ORDER + "KEmSTIV" if ch in flags)


def _fmt_notify(v: str) -> str:
    """Redis's ``keyspaceEventsFlagsToString``: ``A`` when every class of it is on
    (then ``n``, ``o`` and ``c`` are not shown, as in Redis), then ``K``, ``E``, ``m``."""
    v = v.replace("A", _NOTIFY_ALL)  # values set before A was kept expanded
    if all(ch in v for ch in _NOTIFY_ALL):
        out = "A"
    else:
        out = "".join(ch for ch in _NOTIFY_ORDER if ch in v)
    return out + "".join(ch for ch in "KEmSTIV" if ch in v)


def notify_flags(engine: Engine) -> str:
    """The classes of keyspace events enabled, as their letters (``A`` expanded).

    Empty when notifications are off (neither ``K`` nor ``E``).
    """
    v: str = engine.config.get("notify-keyspace-events", "")
    if not v or ("K" not in v and "E" not in v):
        return ""
    return v.replace("A", _NOTIFY_ALL)


def _parse_bind(args: list[str]) -> list[str]:
    if len(args) > 16:
        raise ConfigError("Too many bind addresses specified.")
    if len(args) == 1 and args[0] == "":
        return []
    return list(args)


def _parse_dir(args: list[str]) -> str:
    if len(args) != 1:
        raise ConfigError("wrong number of arguments")
    path = args[0]
    if not os.path.isdir(path):
        raise ConfigError(os.strerror(2) if not os.path.exists(path) else os.strerror(20))
    return os.path.abspath(path)


def _parse_oom_values(args: list[str]) -> list[int]:
    if len(args) != 3:
        raise ConfigError("wrong number of arguments")
    out = []
    for a in args:
        v = _string2ll(a)
        if v is None or v < -2000 or v > 2000:
            raise ConfigError(
                "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
            )
        out.append(v)
    return out


def _parse_percentiles(args: list[str]) -> list[float]:
    if len(args) == 1 and args[0] == "":
        return []
    out = []
    for a in args:
        try:
            p = float(a)
        except ValueError:
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters")
        if p < 0 or p > 100:
            raise ConfigError(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
            )
        out.append(p)
    return out


def _fmt_percentiles(v: list[float]) -> str:
    return " ".join(f"{p:f}".rstrip("0").rstrip(".") for p in v)


def _parse_replicaof(args: list[str]) -> str:
    """``host port`` (the server follows that master once started), or "" for ``no one``."""
    if len(args) != 2:
        raise ConfigError("wrong number of arguments")
    if args[0].lower() == "no" and args[1].lower() == "one":
        return ""
    try:
        port = int(args[1])
    except ValueError:
        raise ConfigError("Invalid master port") from None
    if not 0 < port < 65536:
        raise ConfigError("Invalid master port")
    return f"{args[0]} {port}"


CLUSTER_UNSUPPORTED = (
    "streamlite does not implement Redis Cluster (cluster-enabled yes): run a Redis "
    "Cluster of redis-server nodes and connect to it with a redis+cluster://host:port "
    "URL (see docs/growing.md)")


def _no_cluster(v: Any) -> str | None:
    return CLUSTER_UNSUPPORTED if v else None


def _basename_check(what: str, empty_ok: bool, kind: str = "a filename") -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if not v and not empty_ok:
            return f"{what} can't be empty"
        if "/" in v or "\\" in v:
            return f"{what} can't be a path, just {kind}"
        return None

    return check


# -- apply: effects of CONFIG SET outside the table ---------------------------------


def _apply_appendonly(engine: Engine, v: bool) -> str | None:
    p = engine.persistence
    if p is None:
        return "Unable to turn on AOF. Check server logs." if v else None
    try:
        p.set_appendonly(v)
    except OSError:
        return "Unable to turn on AOF. Check server logs."
    return None


def _apply_appendfsync(engine: Engine, v: str) -> str | None:
    if engine.persistence is not None:
        engine.persistence.set_appendfsync(v)
    return None


def _set_pcfg(attr: str) -> Callable[[Engine, Any], str | None]:
    def apply(engine: Engine, v: Any) -> str | None:
        if engine.persistence is not None:
            engine.persistence.set_config(attr, v)
        return None

    return apply


def _apply_observe(engine: Engine, v: Any) -> str | None:
    """The slow log / latency thresholds and latency-tracking: the engine caches what
    its hot path tests (``Engine.refresh_observe``)."""
    engine.refresh_observe()
    return None


def _apply_hz(engine: Engine, v: int) -> str | None:
    engine.config["hz"] = min(max(v, MIN_HZ), MAX_HZ)
    return None


def _apply_front(name: str) -> Callable[[Engine, Any], str | None]:
    def apply(engine: Engine, v: Any) -> str | None:
        return engine.front.config_changed(name, v)

    return apply


# -- the table ---------------------------------------------------------------------

_I = frozenset({"immutable"})
_M: frozenset[str] = frozenset()


def _b(name: str, default: bool, alias: str | None = None, flags: frozenset[str] = _M, **kw: Any) -> Spec:
    return Spec(name, "bool", default, alias, flags, **kw)


def _n(name: str, default: int, lo: int, hi: int, alias: str | None = None,
       flags: frozenset[str] = _M, **kw: Any) -> Spec:
    return Spec(name, "int", default, alias, flags, lo=lo, hi=hi, **kw)


def _mem(name: str, default: int, lo: int, hi: int, alias: str | None = None,
         flags: frozenset[str] = _M, **kw: Any) -> Spec:
    return Spec(name, "memory", default, alias, flags, lo=lo, hi=hi, **kw)


def _e(name: str, default: str, choices: tuple[str, ...], flags: frozenset[str] = _M, **kw: Any) -> Spec:
    return Spec(name, "enum", default, None, flags, choices=choices, **kw)


def _s(name: str, default: str, alias: str | None = None, flags: frozenset[str] = _M, **kw: Any) -> Spec:
    return Spec(name, "string", default, alias, flags, **kw)


def _sp(name: str, default: Any, parse: Callable[[list[str]], Any], fmt: Callable[[Any], str] | None,
        flags: frozenset[str] = _M, alias: str | None = None, **kw: Any) -> Spec:
    return Spec(name, "special", default, alias, flags, parse=parse, fmt=fmt, **kw)


_YNLOCAL = ("no", "yes", "local")

SPECS: list[Spec] = [
    # -- networking and clients
    _n("port", 6379, 0, 65535, apply=_apply_front("port")),
    _sp("bind", ["127.0.0.1"], _parse_bind, lambda v: " ".join(v),
        frozenset({"multi-arg"}), apply=_apply_front("bind")),
    _b("protected-mode", True),
    _n("tcp-backlog", 511, 0, INT_MAX, flags=_I),
    _n("timeout", 0, 0, INT_MAX),
    _n("tcp-keepalive", 300, 0, INT_MAX),
    _n("maxclients", 10000, 1, UINT_MAX, unsigned=True, apply=_apply_front("maxclients")),
    _s("unixsocket", "", flags=_I),
    Spec("unixsocketperm", "int", 0, None, _I, lo=0, hi=0o777,
         fmt=lambda v: format(v, "o")),
    _mem("proto-max-bulk-len", 512 * 1024 * 1024, 1024 * 1024, LONG_MAX),
    _mem("client-query-buffer-limit", 1024 * 1024 * 1024, 1024 * 1024, LONG_MAX),
    _sp("client-output-buffer-limit", dict(OBUF_DEFAULT), _parse_obuf, _fmt_obuf,
        frozenset({"multi-arg"})),
    _n("max-new-connections-per-cycle", 10, 1, 1000),
    _n("max-new-tls-connections-per-cycle", 1, 1, 1000),
    _mem("maxmemory-clients", 0, -100, LONG_MAX, percent=True),
    _n("io-threads", 1, 1, 128, flags=_I),
    _n("socket-mark-id", 0, 0, UINT_MAX, flags=_I, unsigned=True),
    # -- security
    _s("requirepass", "", flags=frozenset({"sensitive"})),
    _s("aclfile", "", flags=_I),
    _n("acllog-max-len", 128, 0, LONG_MAX),
    _e("acl-pubsub-default", "resetchannels", ("allchannels", "resetchannels")),
    _e("enable-protected-configs", "no", _YNLOCAL, flags=_I),
    _e("enable-debug-command", "no", _YNLOCAL, flags=_I),
    _e("enable-module-command", "no", _YNLOCAL, flags=_I),
    _b("hide-user-data-from-log", False),
    # -- general
    _b("daemonize", False, flags=_I),
    _e("supervised", "no", ("upstart", "systemd", "auto", "no"), flags=_I),
    _s("pidfile", "", flags=_I),
    _e("loglevel", "notice", ("debug", "verbose", "notice", "warning", "nothing")),
    _s("logfile", "", flags=_I),
    _b("syslog-enabled", False, flags=_I),
    _s("syslog-ident", "redis", flags=_I),
    _e("syslog-facility", "local0", ("user",) + tuple(f"local{i}" for i in range(8)), flags=_I),
    _n("databases", 16, 1, INT_MAX, flags=_I),
    _b("always-show-logo", False, flags=_I),
    _b("set-proc-title", True, flags=_I),
    _s("proc-title-template", "{title} {listen-addr} {server-mode}"),
    _s("locale-collate", ""),
    _n("hz", 10, 0, INT_MAX, apply=_apply_hz),
    _b("dynamic-hz", True),
    _n("shutdown-timeout", 10, 0, INT_MAX),
    _e("shutdown-on-sigint", "default", ("default", "save", "nosave", "now", "force")),
    _e("shutdown-on-sigterm", "default", ("default", "save", "nosave", "now", "force")),
    _s("ignore-warnings", ""),
    _b("crash-log-enabled", True),
    _b("crash-memcheck-enabled", True),
    _b("disable-thp", True, flags=_I),
    _b("jemalloc-bg-thread", True),
    _e("oom-score-adj", "no", ("no", "yes", "relative", "absolute")),
    _sp("oom-score-adj-values", [0, 200, 800], _parse_oom_values,
        lambda v: " ".join(map(str, v)), frozenset({"multi-arg"})),
    # -- snapshotting
    _sp("save", [(3600, 1), (300, 100), (60, 10000)], _parse_save, _fmt_save,
        frozenset({"multi-arg"}), apply=_set_pcfg("save")),
    _b("stop-writes-on-bgsave-error", True, apply=_set_pcfg("stop_writes_on_bgsave_error")),
    _b("rdbcompression", True),
    _b("rdbchecksum", True, flags=_I),
    _s("dbfilename", "dump.sldb", flags=frozenset({"protected"}),
       validate=_basename_check("dbfilename", True), apply=_set_pcfg("dbfilename")),
    _e("snapshot-format", "auto", ("auto", "redis", "streamlite"),
       apply=_set_pcfg("snapshot_format")),
    _b("rdb-del-sync-files", False),
    _b("rdb-save-incremental-fsync", True),
    _sp("dir", "", _parse_dir, None, frozenset({"protected", "deny-loading"}),
        apply=_set_pcfg("dir")),
    _e("sanitize-dump-payload", "no", ("no", "yes", "clients")),
    # -- append only file
    _b("appendonly", False, flags=frozenset({"deny-loading"}), apply=_apply_appendonly),
    _s("appendfilename", "appendonly.aof", flags=_I,
       validate=_basename_check("appendfilename", False)),
    _s("appenddirname", "appendonlydir", flags=_I,
       validate=_basename_check("appenddirname", False, "a dirname")),
    # BACKUP (Redis 8.10): the backup directory under dir, and how long a sealed backup
    # is kept before it is cleaned up by itself (0: until BACKUP CLEANUP)
    _s("backupdirname", "backupdir", flags=_I,
       validate=_basename_check("backupdirname", False, "a dirname")),
    _n("backup-sealed-ttl", 0, 0, INT_MAX),
    _e("appendfsync", "everysec", ("everysec", "always", "no"), apply=_apply_appendfsync),
    _b("no-appendfsync-on-rewrite", False),
    _n("auto-aof-rewrite-percentage", 100, 0, INT_MAX,
       apply=_set_pcfg("auto_aof_rewrite_percentage")),
    _mem("auto-aof-rewrite-min-size", 64 * 1024 * 1024, 0, LLONG_MAX,
         apply=_set_pcfg("auto_aof_rewrite_min_size")),
    _b("aof-load-truncated", True, apply=_set_pcfg("aof_load_truncated")),
    _b("aof-use-rdb-preamble", True, apply=_set_pcfg("aof_use_rdb_preamble")),
    _b("aof-timestamp-enabled", False),
    _b("aof-rewrite-incremental-fsync", True),
    _b("aof-disable-auto-gc", False),
    # -- memory management
    _mem("maxmemory", 0, 0, ULLONG_MAX),
    _e("maxmemory-policy", "noeviction", (
        "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
        "allkeys-lfu", "allkeys-random", "noeviction",
        "volatile-lrm", "allkeys-lrm")),  # least recently modified: Redis 8.6
    _n("maxmemory-samples", 5, 1, INT_MAX),
    _n("maxmemory-eviction-tenacity", 10, 0, 100),
    _n("lfu-log-factor", 10, 0, INT_MAX),
    _n("lfu-decay-time", 1, 0, INT_MAX),
    _b("lazyfree-lazy-eviction", False),
    _b("lazyfree-lazy-expire", False),
    _b("lazyfree-lazy-server-del", False),
    _b("lazyfree-lazy-user-del", False),
    _b("lazyfree-lazy-user-flush", False),
    _b("activerehashing", True),
    _b("activedefrag", False),
    _n("active-expire-effort", 1, 1, 10),
    _n("tracking-table-max-keys", 1000000, 0, LONG_MAX),
    # -- scripting
    _n("busy-reply-threshold", 5000, 0, LONG_MAX, alias="lua-time-limit"),
    # -- slow log, latency
    _n("slowlog-log-slower-than", 10000, -1, LLONG_MAX, apply=_apply_observe),
    _n("slowlog-max-len", 128, 0, LONG_MAX),
    _n("latency-monitor-threshold", 0, 0, LLONG_MAX, apply=_apply_observe),
    _b("latency-tracking", True, apply=_apply_observe),
    _sp("latency-tracking-info-percentiles", [50.0, 99.0, 99.9], _parse_percentiles,
        _fmt_percentiles, frozenset({"multi-arg"})),
    # -- events
    _sp("notify-keyspace-events", "", _parse_notify, _fmt_notify),
    # -- data types
    _n("hash-max-listpack-entries", 512, 0, LONG_MAX, alias="hash-max-ziplist-entries"),
    _mem("hash-max-listpack-value", 64, 0, LONG_MAX, alias="hash-max-ziplist-value"),
    _n("list-max-listpack-size", -2, INT_MIN, INT_MAX, alias="list-max-ziplist-size"),
    _n("list-compress-depth", 0, 0, INT_MAX),
    _n("set-max-intset-entries", 512, 0, LONG_MAX),
    _n("set-max-listpack-entries", 128, 0, LONG_MAX),
    _mem("set-max-listpack-value", 64, 0, LONG_MAX),
    _n("zset-max-listpack-entries", 128, 0, LONG_MAX, alias="zset-max-ziplist-entries"),
    _mem("zset-max-listpack-value", 64, 0, LONG_MAX, alias="zset-max-ziplist-value"),
    _mem("hll-sparse-max-bytes", 3000, 0, LONG_MAX),
    _mem("stream-node-max-bytes", 4096, 0, LONG_MAX),
    _n("stream-node-max-entries", 100, 0, LLONG_MAX),
    # -- replication and cluster (stored; streamlite is a standalone server)
    _sp("replicaof", "", _parse_replicaof, None, frozenset({"immutable", "multi-arg"}),
        alias="slaveof"),
    _s("masterauth", "", flags=frozenset({"sensitive"})),
    _s("masteruser", "", flags=frozenset({"sensitive"})),
    _b("replica-serve-stale-data", True, alias="slave-serve-stale-data"),
    _b("replica-read-only", True, alias="slave-read-only"),
    _b("replica-lazy-flush", False, alias="slave-lazy-flush"),
    _b("replica-ignore-maxmemory", True, alias="slave-ignore-maxmemory"),
    _n("replica-priority", 100, 0, INT_MAX, alias="slave-priority"),
    _mem("repl-backlog-size", 1024 * 1024, 1, LLONG_MAX),
    _n("repl-backlog-ttl", 3600, 0, LONG_MAX),
    _n("repl-timeout", 60, 1, INT_MAX),
    _n("repl-ping-replica-period", 10, 1, INT_MAX, alias="repl-ping-slave-period"),
    _b("repl-diskless-sync", True),
    _n("repl-diskless-sync-delay", 5, 0, INT_MAX),
    _n("min-replicas-to-write", 0, 0, INT_MAX, alias="min-slaves-to-write"),
    _n("min-replicas-max-lag", 10, 0, INT_MAX, alias="min-slaves-max-lag"),
    _b("cluster-enabled", False, flags=_I, validate=_no_cluster),
    _s("cluster-config-file", "nodes.conf", flags=_I),
    _n("cluster-node-timeout", 15000, 0, LLONG_MAX),
]

SPECS_BY_NAME: dict[str, Spec] = {}
for _spec in SPECS:
    SPECS_BY_NAME[_spec.name] = _spec
    if _spec.alias:
        SPECS_BY_NAME[_spec.alias] = _spec


def lookup(name: str) -> Spec | None:
    return SPECS_BY_NAME.get(name.lower())


def defaults() -> dict[str, Any]:
    """A fresh dict of every config's default value (``engine.config``)."""
    out: dict[str, Any] = {}
    for s in SPECS:
        v = s.default
        out[s.name] = dict(v) if isinstance(v, dict) else (list(v) if isinstance(v, list) else v)
    out["dir"] = os.getcwd()
    return out


def get_text(engine: Engine, spec: Spec) -> str:
    return format_value(spec, engine.config.get(spec.name, spec.default))


def config_get(engine: Engine, patterns: list[str]) -> dict[str, str]:
    """CONFIG GET: name -> text for every config a pattern matches (aliases too)."""
    out: dict[str, str] = {}
    for pat in patterns:
        if not any(ch in pat for ch in "*?["):
            spec = lookup(pat)
            if spec is not None and pat not in out:
                out[pat] = get_text(engine, spec)
            continue
        p = pat.encode()
        for name, spec in SPECS_BY_NAME.items():
            if name in out or "hidden" in spec.flags:
                continue
            if glob_match(p, name.encode(), nocase=True):
                out[name] = get_text(engine, spec)
    return out


def split_multi(spec: Spec, value: str) -> list[str]:
    """The arguments of a CONFIG SET value (multi-arg configs split on spaces)."""
    return value.split(" ") if spec.multi_arg else [value]


def set_values(
    engine: Engine,
    pairs: list[tuple[Spec, list[str]]],
    *,
    apply: bool = True,
) -> None:
    """Parse, set and apply several configs at once; on any error restore them all.

    Raises ``ConfigError`` with ``(spec.name, reason)`` as args.
    """
    cfg = engine.config
    old = {spec.name: cfg.get(spec.name) for spec, _ in pairs}
    done: list[Spec] = []
    try:
        for spec, args in pairs:
            try:
                v = _parse_value(spec, args)
            except ConfigError as e:
                raise ConfigError(spec.name, str(e))
            if spec.name == "client-output-buffer-limit":
                merged = dict(cfg.get(spec.name) or OBUF_DEFAULT)
                merged.update(v)
                v = merged
            cfg[spec.name] = v
            done.append(spec)
        if apply:
            applied: list[Spec] = []
            for spec in done:
                if spec.apply is None or cfg[spec.name] == old[spec.name]:
                    continue
                err = spec.apply(engine, cfg[spec.name])
                if err:
                    for prev in applied:  # roll back what was applied
                        cfg[prev.name] = old[prev.name]
                        if prev.apply is not None:
                            prev.apply(engine, old[prev.name])
                    raise ConfigError(spec.name, err)
                applied.append(spec)
    except ConfigError:
        for spec in done:
            cfg[spec.name] = old[spec.name]
        raise


def load_lines(engine: Engine, lines: list[list[str]]) -> None:
    """Apply config-file directives (``[name, arg, ...]``) at startup, in order.

    Raises ``ConfigError(index, reason)`` naming the offending line's index.
    """
    save_seen = False
    for i, argv in enumerate(lines):
        if not argv:
            continue
        name = argv[0].lower()
        spec = lookup(name)
        if spec is None:
            if name in ("list-max-ziplist-entries", "list-max-ziplist-value",
                        "lua-replicate-commands") and len(argv) == 2:
                continue
            raise ConfigError(i, "Bad directive or wrong number of arguments")
        if not spec.multi_arg and len(argv) != 2:
            raise ConfigError(i, "wrong number of arguments")
        args = argv[1:]
        if spec.multi_arg and len(args) == 1 and args[0]:
            # --save "900 1": one argument holding several, split as Redis does
            args = args[0].split()
        try:
            v = _parse_value(spec, args)
        except ConfigError as e:
            raise ConfigError(i, str(e))
        if spec.name == "save":
            # several "save" lines accumulate; the first one replaces the default
            if save_seen:
                v = list(engine.config.get("save") or []) + v
            save_seen = True
        elif spec.name == "client-output-buffer-limit":
            merged = dict(engine.config.get(spec.name) or OBUF_DEFAULT)
            merged.update(v)
            v = merged
        elif spec.name == "hz":
            v = min(max(v, MIN_HZ), MAX_HZ)
        engine.config[spec.name] = v
    _apply_observe(engine, None)


# -- CONFIG REWRITE ----------------------------------------------------------------

REWRITE_SIGNATURE = "# Generated by CONFIG REWRITE"


def _quote(s: str) -> str:
    """Redis's ``sdscatrepr``: a double-quoted string with C escapes."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif o < 32 or o == 127:
            out.append(f"\\x{o:02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _format_memory(v: int) -> str:
    gb, mb, kb = 1024**3, 1024**2, 1024
    if v and v % gb == 0:
        return f"{v // gb}gb"
    if v and v % mb == 0:
        return f"{v // mb}mb"
    if v and v % kb == 0:
        return f"{v // kb}kb"
    return str(v)


def _rewrite_lines(spec: Spec, v: Any) -> list[str] | None:
    """The lines for one config, or None when it has its default value."""
    name = spec.name
    if name == "save":
        if not v:
            return [f'{name} ""']
        return [f"{name} {s} {c}" for s, c in v]
    if name == "client-output-buffer-limit":
        lines = []
        for cls in OBUF_CLASSES:
            hard, soft, secs = v.get(cls, OBUF_DEFAULT[cls])
            if (hard, soft, secs) != OBUF_DEFAULT[cls]:
                lines.append(f"{name} {'slave' if cls == 'replica' else cls} "
                             f"{_format_memory(hard)} {_format_memory(soft)} {secs}")
        return lines
    if name == "dir":
        return [f"{name} {_quote(v)}"]
    if v == spec.default:
        return None
    if spec.kind == "memory" and not (spec.percent and v < 0):
        return [f"{name} {_format_memory(v)}"]
    text = format_value(spec, v)
    if spec.kind in ("string", "special") and not spec.multi_arg:
        text = _quote(text)
    return [f"{name} {text}"]


def rewrite_file(engine: Engine, path: str, split_args: Callable[[str], list[str] | None]) -> None:
    """CONFIG REWRITE: update ``path`` in place, keeping comments and unknown lines.

    Lines of options that are now at their default are removed; options not in the
    file yet are appended after Redis's signature comment.
    """
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            old = f.read().split("\n")
    except FileNotFoundError:
        old = []
    if old and old[-1] == "":
        old.pop()
    lines: list[str | None] = []
    where: dict[str, list[int]] = {}
    has_sig = False
    for raw in old:
        line = raw.strip(" \t\r\n")
        if not line or line.startswith("#"):
            if line == REWRITE_SIGNATURE:
                has_sig = True
            lines.append(line)
            continue
        argv = split_args(line)
        if argv and argv[0].lower() == "user":  # ACL users: rewritten below
            where.setdefault("\0user", []).append(len(lines))
            lines.append(line)
            continue
        spec = lookup(argv[0]) if argv else None
        if spec is None:
            lines.append("# ??? " + line)
            continue
        where.setdefault(spec.name, []).append(len(lines))
        lines.append(line)
    appended: list[str] = []
    for spec in SPECS:
        if "immutable" in spec.flags and spec.name not in where:
            continue
        new = _rewrite_lines(spec, engine.config.get(spec.name, spec.default))
        slots = where.get(spec.name, [])
        new = new or []
        if spec.name in ("save", "client-output-buffer-limit") and not slots and \
                engine.config.get(spec.name) == spec.default:
            new = []
        for i, idx in enumerate(slots):
            lines[idx] = new[i] if i < len(new) else None
        appended.extend(new[len(slots):])
    # the ACL users, after the other configs (Redis's rewriteConfigUserOption): every
    # user, or none when they live in an aclfile
    users = [] if engine.config.get("aclfile") else [
        "user " + line for line in engine.acl.describe_all()]
    slots = where.get("\0user", [])
    for i, idx in enumerate(slots):
        lines[idx] = users[i] if i < len(users) else None
    appended.extend(users[len(slots):])
    if appended and not has_sig:
        lines.append(REWRITE_SIGNATURE)
    lines.extend(appended)
    text = "\n".join(x for x in lines if x is not None) + "\n"
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
