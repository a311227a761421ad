"""INFO: the sections and fields Redis prints, filled from the engine and its front.

Each section is a function returning an ordered dict of field -> value; the
front (``engine.front.Front``) adds what only it knows (port, connections,
network bytes). ``render`` joins the sections in Redis's text format.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlite
from streamlite import accel

from . import keysizes as _keysizes

if TYPE_CHECKING:
    from .core import Engine


def human_bytes(n: float) -> str:
    """Redis's ``bytesToHuman``: 1.49M, 192B, 23.54G."""
    if n < 1024:
        return f"{int(n)}B"
    for unit, div in (("K", 1024), ("M", 1024**2), ("G", 1024**3), ("T", 1024**4),
                      ("P", 1024**5)):
        if n < div * 1024 or unit == "P":
            return f"{n / div:.2f}{unit}"
    return f"{n}B"  # pragma: no cover


def state(engine: Engine) -> dict[str, Any]:
    """Per-engine INFO state: start time, run id, memory peak."""
    st = engine.info_state
    if st is None:
        st = engine.info_state = {
            "start_ms": engine.clock.ms(),
            "run_id": os.urandom(20).hex(),
            "replid": os.urandom(20).hex(),
            "peak": 0,
            "peak_time": engine.clock.ms() // 1000,
            "startup_memory": engine.used_memory(),
        }
    return st


def section_server(engine: Engine) -> dict[str, Any]:
    st = state(engine)
    now_ms = engine.clock.ms()
    up = max(0, (now_ms - st["start_ms"]) // 1000)
    import platform  # here: 1 ms of every start otherwise

    u = platform.uname()
    hz = engine.config.get("hz", 10)
    out: dict[str, Any] = {
        "redis_version": streamlite.REDIS_VERSION,
        "redis_git_sha1": "00000000",
        "redis_git_dirty": 0,
        "redis_build_id": "0",
        "redis_mode": "standalone",
        "os": f"{u.system} {u.release} {u.machine}",
        "arch_bits": 64 if sys.maxsize > 2**32 else 32,
        "monotonic_clock": "POSIX clock_gettime",
        "multiplexing_api": "epoll" if sys.platform.startswith("linux") else "kqueue",
        "atomicvar_api": "c11-builtin",
        "gcc_version": "0.0.0",
        "process_id": os.getpid(),
        "process_supervised": "no",
        "run_id": st["run_id"],
        "tcp_port": 0,
        "server_time_usec": engine.clock.us(),
        "uptime_in_seconds": up,
        "uptime_in_days": up // 86400,
        "hz": hz,
        "configured_hz": hz,
        "lru_clock": (now_ms // 1000) & ((1 << 24) - 1),
        "executable": sys.executable,
        "config_file": "",
        "io_threads_active": 0,
        "streamlite_version": streamlite.__version__,
        "python_version": platform.python_version(),
        # the compiled hot paths (streamlite.accel): c, or pure (STREAMLITE_PURE=1, not built)
        "streamlite_accelerator": accel.ACTIVE,
    }
    out.update(engine.front.info_server())
    return out


def section_clients(engine: Engine) -> dict[str, Any]:
    front = engine.front
    clients = front.clients()
    out: dict[str, Any] = {
        "connected_clients": len(clients),
        "cluster_connections": 0,
        "maxclients": engine.config.get("maxclients", 10000),
        "client_recent_max_input_buffer": 0,
        "client_recent_max_output_buffer": 0,
        "blocked_clients": front.blocked_count(),
        "tracking_clients": len(engine.tracking.clients) if engine.tracking is not None else 0,
        "pubsub_clients": sum(1 for c in clients if c.in_pubsub),
        "watching_clients": sum(1 for c in clients if c.watched),
        "clients_in_timeout_table": 0,
        "total_watched_keys": len(engine.watched),
        "total_blocking_keys": len(engine.blocked_on),
        "total_blocking_keys_on_nokey": 0,
    }
    if out["blocked_clients"]:
        out.update(_blocked_counts(clients))
    out.update(front.info_clients())
    return out


def _blocked_counts(clients: list[Any]) -> dict[str, int]:
    """Redis's timeout table (clients blocked with a timeout) and its keys blocked on
    with "unblock on no key" (XREADGROUP's: the key's deletion ends the wait)."""
    timed = 0
    nokey: set[tuple[int, bytes]] = set()
    for c in clients:
        b = c.blocked
        if b is None:
            continue
        if getattr(b, "deadline_ms", None) is not None:
            timed += 1
        argv = getattr(b, "argv", None)
        if argv and argv[0].upper() == b"XREADGROUP":
            nokey.update(b.keys)
    return {"clients_in_timeout_table": timed, "total_blocking_keys_on_nokey": len(nokey)}


def _total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def section_memory(engine: Engine) -> dict[str, Any]:
    st = state(engine)
    used = engine.used_memory()
    if used > st["peak"]:
        st["peak"] = used
        st["peak_time"] = engine.clock.ms() // 1000
    peak = st["peak"] or used
    startup = st["startup_memory"]
    dataset = max(0, used - startup)
    total = _total_system_memory()
    maxmem = engine.config.get("maxmemory", 0)
    return {
        "used_memory": used,
        "used_memory_human": human_bytes(used),
        "used_memory_rss": used,
        "used_memory_rss_human": human_bytes(used),
        "used_memory_peak": peak,
        "used_memory_peak_human": human_bytes(peak),
        "used_memory_peak_time": st["peak_time"],
        "used_memory_peak_perc": f"{(used * 100 / peak) if peak else 100:.2f}%",
        "used_memory_overhead": startup,
        "used_memory_startup": startup,
        "used_memory_dataset": dataset,
        "used_memory_dataset_perc": f"{(dataset * 100 / used) if used else 0:.2f}%",
        "total_system_memory": total,
        "total_system_memory_human": human_bytes(total),
        **_scripts_memory(engine),
        "maxmemory": maxmem,
        "maxmemory_human": human_bytes(maxmem),
        "maxmemory_policy": engine.config.get("maxmemory-policy", "noeviction"),
        "mem_fragmentation_ratio": "1.00",
        "mem_allocator": "pymalloc",
        "memory_measure": "process-rss",
        "lazyfree_pending_objects": 0,
    }


def _scripts_memory(engine: Engine) -> dict[str, Any]:
    """Redis's script fields of INFO memory: the Lua VM (one here, for EVAL and
    functions alike, so it is reported as the EVAL VM), the EVAL script cache and the
    function libraries."""
    s = engine.scripting
    info = s.info() if s is not None else {}
    vm_eval = info.get("used_memory_lua", 0)
    scripts_eval = info.get("used_memory_scripts_eval", 0)
    functions = (sum(len(lib.code) + 64 for lib in s.functions.libraries.values())
                 if s is not None else 0)
    return {
        "used_memory_lua": vm_eval,
        "used_memory_vm_eval": vm_eval,
        "used_memory_lua_human": human_bytes(vm_eval),
        "used_memory_scripts_eval": scripts_eval,
        "number_of_cached_scripts": info.get("number_of_cached_scripts", 0),
        "number_of_functions": info.get("number_of_functions", 0),
        "number_of_libraries": info.get("number_of_libraries", 0),
        "used_memory_vm_functions": 0,
        "used_memory_vm_total": vm_eval,
        "used_memory_vm_total_human": human_bytes(vm_eval),
        "used_memory_functions": functions,
        "used_memory_scripts": scripts_eval + functions,
        "used_memory_scripts_human": human_bytes(scripts_eval + functions),
    }


def section_persistence(engine: Engine) -> dict[str, Any]:
    p = engine.persistence
    if p is not None:
        out = dict(p.info())
    else:
        start = state(engine)["start_ms"] // 1000
        out = {
            "loading": 0, "async_loading": 0, "current_cow_peak": 0, "current_cow_size": 0,
            "current_fork_perc": "0.00", "current_save_keys_processed": 0,
            "current_save_keys_total": 0, "rdb_changes_since_last_save": engine.dirty,
            "rdb_bgsave_in_progress": 0, "rdb_last_save_time": start,
            "rdb_last_bgsave_status": "ok", "aof_enabled": 0, "aof_rewrite_in_progress": 0,
            "aof_rewrite_scheduled": 0, "aof_last_bgrewrite_status": "ok",
            "aof_last_write_status": "ok",
        }
    out["loading"] = int(bool(engine.loading))
    return out


def section_stats(engine: Engine) -> dict[str, Any]:
    tr = engine.tracking
    out: dict[str, Any] = {
        "total_connections_received": 0,
        "total_commands_processed": engine.stats_commands,
        "instantaneous_ops_per_sec": 0,
        "total_net_input_bytes": 0,
        "total_net_output_bytes": 0,
        "instantaneous_input_kbps": "0.00",
        "instantaneous_output_kbps": "0.00",
        "rejected_connections": 0,
        "sync_full": 0,
        "sync_partial_ok": 0,
        "sync_partial_err": 0,
        "expired_subkeys": engine.stats_expired_subkeys,
        "expired_keys": engine.stats_expired_keys,
        "expired_stale_perc": f"{engine.stats_expired_stale_perc * 100:.2f}",
        "expired_time_cap_reached_count": engine.stats_expire_cycle_cap_reached,
        "evicted_keys": engine.stats_evicted_keys,
        "evicted_clients": 0,
        "evicted_scripts": engine.scripting.evicted_scripts if engine.scripting else 0,
        "keyspace_hits": engine.stats_keyspace_hits,
        "keyspace_misses": engine.stats_keyspace_misses,
        "pubsub_channels": len(engine.channels),
        "pubsub_patterns": len(engine.patterns),
        "pubsubshard_channels": len(engine.shard_channels),
        "latest_fork_usec": 0,
        "total_forks": 0,
        "migrate_cached_sockets": 0,
        "tracking_total_keys": len(tr.table) if tr is not None else 0,
        "tracking_total_items": tr.items if tr is not None else 0,
        "tracking_total_prefixes": len(tr.prefixes) if tr is not None else 0,
        "unexpected_error_replies": 0,
        "total_error_replies": engine.stats_error_replies,
        "total_reads_processed": 0,
        "total_writes_processed": 0,
        "client_query_buffer_limit_disconnections": 0,
        "client_output_buffer_limit_disconnections": 0,
    }
    out.update(engine.front.info_stats())
    for reason, n in engine.acl.denied.items():
        out[f"acl_access_denied_{reason}"] = n
    return out


def section_replication(engine: Engine) -> dict[str, Any]:
    repl = engine.replication
    if repl is not None:
        return dict(repl.info())
    return {
        "role": "master",
        "connected_slaves": 0,
        "master_failover_state": "no-failover",
        "master_replid": state(engine)["replid"],
        "master_replid2": "0" * 40,
        "master_repl_offset": 0,
        "second_repl_offset": -1,
        "repl_backlog_active": 0,
        "repl_backlog_size": engine.config.get("repl-backlog-size", 1048576),
        "repl_backlog_first_byte_offset": 0,
        "repl_backlog_histlen": 0,
    }


def _cpu_times() -> tuple[float, float, float, float]:
    """(sys, user, children sys, children user) seconds: ``getrusage`` as Redis
    (microseconds), ``os.times`` (clock ticks) where there is no ``resource``."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Linux
        t = os.times()
        return t.system, t.user, t.children_system, t.children_user
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_stime, me.ru_utime, ch.ru_stime, ch.ru_utime


def section_cpu(engine: Engine) -> dict[str, Any]:
    sys_s, user_s, ch_sys, ch_user = _cpu_times()
    return {
        "used_cpu_sys": f"{sys_s:.6f}",
        "used_cpu_user": f"{user_s:.6f}",
        "used_cpu_sys_children": f"{ch_sys:.6f}",
        "used_cpu_user_children": f"{ch_user:.6f}",
        "used_cpu_sys_main_thread": f"{sys_s:.6f}",
        "used_cpu_user_main_thread": f"{user_s:.6f}",
    }


def section_modules(engine: Engine) -> dict[str, Any]:
    return {}


def section_commandstats(engine: Engine) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, st in sorted(engine.command_stats.items()):
        calls, usec, failed, rejected = st[:4]
        per = usec / calls if calls else 0.0
        out[f"cmdstat_{name}"] = (
            f"calls={calls},usec={usec},usec_per_call={per:.2f},"
            f"rejected_calls={rejected},failed_calls={failed}"
        )
    return out


def section_errorstats(engine: Engine) -> dict[str, Any]:
    return {f"errorstat_{code}": f"count={n}" for code, n in sorted(engine.error_stats.items())}


def section_latencystats(engine: Engine) -> dict[str, Any]:
    """``latency_percentiles_usec_<command>`` at ``latency-tracking-info-percentiles``,
    from the per-command histograms (``latency.percentile_usec``)."""
    from .latency import percentile_usec

    pcts = engine.config.get("latency-tracking-info-percentiles") or []
    out: dict[str, Any] = {}
    for name, counts in sorted(engine.latency_hist().items()):
        parts = []
        for p in pcts:
            label = f"{float(p):f}".rstrip("0").rstrip(".")
            parts.append(f"p{label}={percentile_usec(counts, float(p)):.3f}")
        out[f"latency_percentiles_usec_{name}"] = ",".join(parts)
    return out


def section_cluster(engine: Engine) -> dict[str, Any]:
    return {"cluster_enabled": 0}


def section_keyspace(engine: Engine) -> dict[str, Any]:
    out: dict[str, Any] = {}
    now = engine.clock.ms()
    for db in engine.dbs:
        n = len(db.data)
        if not n:
            continue
        expires = len(db.expires)
        avg_ttl = 0
        if expires:
            ttls = [t - now for t in db.expires.values() if t > now]
            avg_ttl = sum(ttls) // len(ttls) if ttls else 0
        out[f"db{db.index}"] = f"keys={n},expires={expires},avg_ttl={avg_ttl},subexpiry=0"
    return out


SECTIONS: dict[str, Callable[[Engine], dict[str, Any]]] = {
    "server": section_server,
    "clients": section_clients,
    "memory": section_memory,
    "persistence": section_persistence,
    "threads": lambda engine: engine.front.info_threads(),
    "stats": section_stats,
    "replication": section_replication,
    "cpu": section_cpu,
    "modules": section_modules,
    "commandstats": section_commandstats,
    "errorstats": section_errorstats,
    "latencystats": section_latencystats,
    "cluster": section_cluster,
    "keyspace": section_keyspace,
    "keysizes": _keysizes.section,
}

DEFAULT = ["server", "clients", "memory", "persistence", "threads", "stats", "replication",
           "cpu", "modules", "errorstats", "cluster", "keyspace", "keysizes"]
ALL = ["server", "clients", "memory", "persistence", "threads", "stats", "replication", "cpu",
       "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace",
       "keysizes"]
_TITLES = {"cpu": "CPU"}


def select_sections(args: list[str]) -> list[str]:
    """The sections INFO prints for its arguments (default, all, everything, names)."""
    if not args:
        return DEFAULT
    chosen: list[str] = []
    for a in args:
        a = a.lower()
        names = {"default": DEFAULT, "all": ALL, "everything": ALL}.get(a, [a])
        for n in names:
            if n in SECTIONS and n not in chosen:
                chosen.append(n)
    return [n for n in ALL if n in chosen]


def render(engine: Engine, sections: list[str]) -> bytes:
    parts = []
    for name in sections:
        fields = SECTIONS[name](engine)
        title = _TITLES.get(name, name.capitalize())
        lines = [f"# {title}"] + [f"{k}:{v}" for k, v in fields.items()]
        parts.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(parts).encode("utf-8", "surrogateescape")
