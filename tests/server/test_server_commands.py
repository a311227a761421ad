"""INFO, COMMAND, CLIENT, MEMORY, TIME, DEBUG, MONITOR over the wire."""

from __future__ import annotations

import re
import socket
import time

import pytest
import redis
from tests.server.conftest import is_closed, run_both
from tests.support.diff import RedisConn

pytestmark = pytest.mark.redis


def test_info_sections_parse(r):
    info = r.info()
    for key in ("redis_version", "tcp_port", "uptime_in_seconds", "connected_clients",
                "blocked_clients", "used_memory", "used_memory_human", "maxmemory_policy",
                "rdb_changes_since_last_save", "aof_enabled", "total_commands_processed",
                "instantaneous_ops_per_sec", "total_connections_received", "role"):
        assert key in info, key
    assert info["redis_version"].startswith("8.")
    assert info["connected_clients"] >= 1
    assert info["used_memory"] > 1_000_000
    assert info["role"] == "master"
    assert set(r.info("server")) >= {"redis_version", "process_id", "run_id"}
    assert "cmdstat_info" in r.info("commandstats")
    assert "used_memory" in r.info("everything")
    assert r.info("nosuchsection") == {}
    conn = RedisConn(r.connection_pool.connection_kwargs["port"])
    raw = conn.call("INFO", "server", "clients")
    conn.close()
    assert raw.startswith(b"# Server\r\n") and b"\r\n\r\n# Clients\r\n" in raw
    assert raw.endswith(b"\r\n") and not raw.endswith(b"\r\n\r\n")


def test_info_stats_count_errors(r):
    before = r.info("stats")["total_error_replies"]
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCHCOMMAND")
    assert r.info("stats")["total_error_replies"] == before + 1
    assert "errorstat_ERR" in r.info("errorstats")


def test_command_introspection(r, sl, redis_server):
    count = r.command_count()
    assert count >= 20
    conn = RedisConn(sl.port)
    info = conn.call("COMMAND", "INFO", "ping", "client", "nosuch")
    conn.close()
    assert info[0][0] == b"ping" and info[0][1] == -1
    assert info[2] is None
    assert any(sub[0] == b"client|list" for sub in info[1][9])
    a, b = RedisConn(redis_server.port), RedisConn(sl.port)
    run_both(a, b, [
        ("COMMAND", "GETKEYS", "ping"), ("COMMAND", "GETKEYS", "nosuch", "a"),
        ("COMMAND", "GETKEYS", "echo"), ("COMMAND", "GETKEYS"), ("COMMAND", "COUNT", "x"),
        ("COMMAND", "NOSUCH"), ("COMMAND", "LIST", "FILTERBY", "nope", "x"),
        ("COMMAND", "INFO", "nosuch"), ("COMMAND", "DOCS", "nosuch"),
        ("COMMAND", "LIST", "FILTERBY", "PATTERN", "client|l*"),
    ])
    a.close()
    b.close()
    conn = RedisConn(sl.port)
    names = conn.call("COMMAND", "LIST")
    assert b"ping" in names and b"config|get" in names
    docs = conn.call("COMMAND", "DOCS", "echo")
    assert docs[0] == b"echo"
    conn.close()


def test_redis_py_command_parsing(r):
    cmds = r.command()
    assert "ping" in cmds and cmds["ping"]["arity"] == -1


def test_client_list_kill_and_info(sl):
    a = redis.Redis(port=sl.port)
    b = RedisConn(sl.port)
    a.client_setname("alpha")
    b.call("CLIENT", "SETNAME", "beta")
    ida, idb = a.client_id(), b.call("CLIENT", "ID")
    names = {c["name"]: c for c in a.client_list()}
    assert names["alpha"]["id"] == str(ida) and names["beta"]["id"] == str(idb)
    assert names["alpha"]["cmd"] == "client|list"
    assert names["beta"]["cmd"] == "client|id"
    only = a.client_list(client_id=[idb])
    assert [c["name"] for c in only] == ["beta"]
    me = a.client_info()
    assert me["name"] == "alpha" and int(me["db"]) == 0
    assert a.client_kill_filter(_id=idb) == 1
    assert is_closed(b.sock)
    addr = names["alpha"]["addr"]
    c = redis.Redis(port=sl.port)
    assert c.client_kill(addr) is True
    assert a.ping()  # redis-py reconnects
    c.close()
    a.close()
    b.close()


def test_client_kill_skipme_and_old_form_error(raw):
    c = raw()
    myid = c.call("CLIENT", "ID")
    assert c.call("CLIENT", "KILL", "ID", str(myid)) == 0
    assert c.call("CLIENT", "KILL", "ID", str(myid), "SKIPME", "no") == 1
    assert is_closed(c.sock)


def test_client_reply_off_skip_on(sl):
    s = socket.create_connection(("127.0.0.1", sl.port))
    s.settimeout(3)
    s.sendall(b"CLIENT REPLY OFF\r\nPING\r\nECHO a\r\nCLIENT REPLY ON\r\nECHO b\r\n"
              b"CLIENT REPLY SKIP\r\nECHO c\r\nECHO d\r\n")
    time.sleep(0.3)
    assert s.recv(1000) == b"+OK\r\n$1\r\nb\r\n$1\r\nd\r\n"
    s.close()


def test_memory_time_debug(r):
    assert r.memory_usage("nosuchkey") is None
    stats = r.memory_stats()
    assert stats["total.allocated"] > 0
    t = r.time()
    assert abs(t[0] - time.time()) < 5
    assert r.execute_command("DEBUG", "SLEEP", "0") == b"OK"
    with pytest.raises(redis.ResponseError, match="oops"):
        r.execute_command("DEBUG", "ERROR", "ERR oops")
    assert r.execute_command("MEMORY", "DOCTOR")


def test_monitor_shows_commands(sl):
    mon = socket.create_connection(("127.0.0.1", sl.port))
    mon.settimeout(5)
    mon.sendall(b"MONITOR\r\n")
    assert mon.recv(100) == b"+OK\r\n"
    c = redis.Redis(port=sl.port)
    c.execute_command("ECHO", 'he said "hi"\n')
    c.execute_command("SELECT", "2")
    c.execute_command("AUTH", "default", "whatever")
    c.config_get("maxmemory")  # admin: not shown
    c.ping()
    time.sleep(0.3)
    data = b""
    while b'"PING"' not in data:
        data += mon.recv(10000)
    lines = [ln for ln in data.decode().split("\r\n")
             if ln and '"HELLO"' not in ln and '"CLIENT"' not in ln]
    assert lines[0].startswith("+") and '[0 127.0.0.1:' in lines[0]
    assert lines[0].endswith('"ECHO" "he said \\"hi\\"\\n"')
    assert lines[1].endswith('"SELECT" "2"')
    assert '[2 127.0.0.1:' in lines[2] and lines[2].endswith('"AUTH" "(redacted)" "(redacted)"')
    assert lines[3].endswith('"PING"')
    assert "CONFIG" not in data.decode()
    ts = float(lines[0][1:].split(" ")[0])
    assert abs(ts - time.time()) < 10
    mon.close()
    c.close()


def test_monitor_with_redis_py(sl):
    c = redis.Redis(port=sl.port)
    with c.monitor() as m:
        other = redis.Redis(port=sl.port)
        other.echo("watched")
        for cmd in m.listen():
            if cmd["command"] == "ECHO watched":
                break
        other.close()
    c.close()


def _silent(conn: RedisConn, wait: float = 0.3) -> bool:
    conn.sock.settimeout(wait)
    try:
        conn.sock.recv(1, socket.MSG_PEEK)
    except TimeoutError:
        return True
    return False


def test_client_pause_like_redis(redis_server, sl):
    from streamlite.engine.registry import COMMANDS

    if b"set" not in COMMANDS:
        pytest.fail("waiting for SET (keys/strings helper) to land in main")
    for port in (redis_server.port, sl.port):
        a, b = RedisConn(port), RedisConn(port)
        # ALL: every command waits, even CLIENT UNPAUSE, until the pause ends
        assert a.call("CLIENT", "PAUSE", "600", "ALL") == b"OK"
        b.sock.sendall(b"PING\r\n")
        assert _silent(b), port
        b.sock.settimeout(20)
        assert b.sock.recv(100) == b"+PONG\r\n"
        # WRITE: reads go on, writes wait until CLIENT UNPAUSE
        assert a.call("CLIENT", "PAUSE", "100000", "WRITE") == b"OK"
        assert b.call("PING") == b"PONG"
        b.sock.sendall(b"SET paused-key v\r\n")
        assert _silent(b), port
        assert a.call("CLIENT", "UNPAUSE") == b"OK"
        b.sock.settimeout(20)
        assert b.sock.recv(100) == b"+OK\r\n"
        a.close()
        b.close()


def _monitor_feed(port: int) -> list[str]:
    mon = socket.create_connection(("127.0.0.1", port))
    mon.settimeout(5)
    mon.sendall(b"MONITOR\r\n")
    assert mon.recv(100) == b"+OK\r\n"
    c = RedisConn(port)
    for cmd in (("SET", "a", "1"), ("EVAL", "redis.call('set','b','2') return 1", "0"),
                ("MULTI",), ("SET", "c", "3"), ("INCR", "c"), ("EXEC",), ("SELECT", "3"),
                ("CONFIG", "GET", "hz"), ("AUTH", "x"), ("ECHO", "bye")):
        c.call(*cmd)
    data = b""
    while b'"bye"' not in data:
        data += mon.recv(65536)
    mon.close()
    c.close()
    # drop the timestamp and client address: "[db addr]" -> "[db]" / "[db lua]"
    return [re.sub(r"^\+[\d.]+ \[(\d+) ([^\]]*)\]",
                   lambda m: f"[{m.group(1)}{' lua' if m.group(2) == 'lua' else ''}]", ln)
            for ln in data.decode().split("\r\n") if ln]


def test_monitor_feed_matches_redis(redis_server, sl):
    assert _monitor_feed(sl.port) == _monitor_feed(redis_server.port)


def _errorstats(port: int) -> tuple[dict[str, str], str]:
    c = RedisConn(port)
    c.call("CONFIG", "RESETSTAT")
    for cmd in (("NOSUCH",), ("GET",), ("SET", "s", "v"), ("LPUSH", "s", "x"), ("XADD", "s", "*"),
                ("MULTI",), ("NOSUCH",), ("EXEC",), ("XREADGROUP", "GROUP", "g", "c", "STREAMS",
                                                      "nostream", ">"),
                ("CONFIG", "SET", "nosuch", "1"), ("CLIENT", "NOSUCH")):
        c.call(*cmd)
    info = c.call("INFO", "errorstats").decode()
    stats = c.call("INFO", "stats").decode()
    c.call("DEL", "s")
    c.close()
    lines = dict(ln.split(":", 1) for ln in info.split("\r\n") if ln.startswith("errorstat_"))
    total = next(ln for ln in stats.split("\r\n") if ln.startswith("total_error_replies"))
    return lines, total


def test_errorstats_match_redis(redis_server, sl):
    assert _errorstats(sl.port) == _errorstats(redis_server.port)


def _commandstats(port: int) -> dict[str, str]:
    c = RedisConn(port)
    c.call("CONFIG", "RESETSTAT")
    for cmd in (("SET", "k", "v"), ("GET", "k"), ("GET",), ("LPUSH", "k", "x"), ("CONFIG", "GET", "hz"),
                ("CONFIG", "SET", "hz"), ("CLIENT", "ID"), ("XADD", "st", "*", "f", "v"),
                ("MULTI",), ("GET", "k"), ("EXEC",), ("DEL", "k", "st")):
        c.call(*cmd)
    info = c.call("INFO", "commandstats").decode()
    c.close()
    out = {}
    for ln in info.split("\r\n"):
        if ln.startswith("cmdstat_") and not ln.startswith("cmdstat_info"):
            name, fields = ln.split(":", 1)
            kept = [f for f in fields.split(",") if not f.startswith("usec")]
            out[name] = ",".join(kept)
    return out


def test_commandstats_match_redis(redis_server, sl):
    assert _commandstats(sl.port) == _commandstats(redis_server.port)


def _unblocked_error_stats(port: int) -> tuple[bytes, str, str, str]:
    # Redis's stream-cgroups.tcl: a blocked XREADGROUP ended by XGROUP DESTROY is a failed call
    c, blocked = RedisConn(port), socket.create_connection(("127.0.0.1", port))
    c.call("CONFIG", "RESETSTAT")
    c.call("DEL", "bs")
    c.call("XGROUP", "CREATE", "bs", "g", "$", "MKSTREAM")
    blocked.sendall(b"XREADGROUP GROUP g alice BLOCK 0 STREAMS bs >\r\n")
    deadline = time.time() + 5
    while b"blocked_clients:1" not in c.call("INFO", "clients") and time.time() < deadline:
        time.sleep(0.01)
    c.call("XGROUP", "DESTROY", "bs", "g")
    blocked.settimeout(5)
    err = blocked.recv(1000)
    info = c.call("INFO", "all").decode().split("\r\n")
    c.call("DEL", "bs")
    c.close()
    blocked.close()

    def line(prefix: str) -> str:
        return re.sub(r"usec=\d+,usec_per_call=[\d.]+,", "", next(ln for ln in info if ln.startswith(prefix)))

    return (err, line("errorstat_NOGROUP"),
            line("cmdstat_xreadgroup"), line("total_error_replies"))


def test_unblocked_error_counts_like_redis(redis_server, sl):
    assert _unblocked_error_stats(sl.port) == _unblocked_error_stats(redis_server.port)
