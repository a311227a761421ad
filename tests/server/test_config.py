"""CONFIG GET/SET/RESETSTAT/REWRITE, config files and --name options."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest
import redis
from tests.server.conftest import run_both
from tests.support.diff import RedisConn
from tests.support.redis_proc import free_port, wait_port

pytestmark = pytest.mark.redis

SAME_AS_REDIS = [
    "maxmemory", "maxmemory-policy", "maxclients", "timeout", "tcp-keepalive", "hz",
    "hash-max-listpack-entries", "hash-max-ziplist-entries", "hash-max-listpack-value",
    "list-max-listpack-size", "list-max-ziplist-size", "set-max-intset-entries",
    "set-max-listpack-entries", "set-max-listpack-value", "zset-max-listpack-entries",
    "zset-max-listpack-value", "stream-node-max-entries", "stream-node-max-bytes",
    "appendonly", "appendfsync", "appendfilename", "appenddirname",
    "auto-aof-rewrite-percentage", "auto-aof-rewrite-min-size", "aof-load-truncated",
    "databases", "protected-mode", "proto-max-bulk-len", "client-query-buffer-limit",
    "client-output-buffer-limit", "busy-reply-threshold", "lua-time-limit",
    "notify-keyspace-events", "requirepass", "slowlog-max-len", "save",
]


def test_defaults_match_redis(redis_server, sl):
    a, b = RedisConn(redis_server.port), RedisConn(sl.port)
    run_both(a, b, [("CONFIG", "GET", name) for name in SAME_AS_REDIS])
    a.close()
    b.close()


def test_config_set_matches_redis(redis_server, sl):
    a, b = RedisConn(redis_server.port), RedisConn(sl.port)
    run_both(a, b, [
        ("CONFIG", "SET", "maxmemory", "abc"), ("CONFIG", "SET", "maxmemory", "-1"),
        ("CONFIG", "SET", "maxmemory", "10mb", "hz", "0"), ("CONFIG", "GET", "maxmemory"),
        ("CONFIG", "GET", "hz"), ("CONFIG", "SET", "maxmemory", "1gb"),
        ("CONFIG", "GET", "maxmemory"), ("CONFIG", "SET", "maxmemory", "5k"),
        ("CONFIG", "GET", "maxmemory"), ("CONFIG", "SET", "maxmemory", "0"),
        ("CONFIG", "SET", "hz", "10"),
        ("CONFIG", "SET", "appendfsync", "sometimes"), ("CONFIG", "SET", "protected-mode", "maybe"),
        ("CONFIG", "SET", "nosuch", "1"), ("CONFIG", "SET", "nosuch", "1", "maxclients", "x"),
        ("CONFIG", "SET", "maxclients", "x", "nosuch", "1"), ("CONFIG", "SET", "daemonize", "no"),
        ("CONFIG", "SET", "databases", "3"), ("CONFIG", "SET", "dir", "/tmp"),
        ("CONFIG", "SET", "dbfilename", "x"), ("CONFIG", "SET", "hz", "5", "hz", "6"),
        ("CONFIG", "SET", "hz", "5", "HZ", "6"), ("CONFIG", "SET", "hz"), ("CONFIG", "SET", "a", "b", "c"),
        ("CONFIG", "SET", "save", "1 2 3"), ("CONFIG", "SET", "save", "0 1"),
        ("CONFIG", "SET", "save", "10 x"), ("CONFIG", "SET", "save", "100 10 20 5"),
        ("CONFIG", "GET", "save"), ("CONFIG", "SET", "save", ""), ("CONFIG", "GET", "save"),
        ("CONFIG", "SET", "notify-keyspace-events", "KEA"), ("CONFIG", "GET", "notify-keyspace-events"),
        ("CONFIG", "SET", "notify-keyspace-events", "Ex$lmn"),
        ("CONFIG", "GET", "notify-keyspace-events"),
        ("CONFIG", "SET", "notify-keyspace-events", "Z"), ("CONFIG", "SET", "notify-keyspace-events", ""),
        ("CONFIG", "SET", "maxclients", "0"), ("CONFIG", "SET", "maxclients", "5000"),
        ("CONFIG", "GET", "maxclients"), ("CONFIG", "SET", "maxclients", "10000"),
        ("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2"),
        ("CONFIG", "SET", "client-output-buffer-limit", "nope 1 2 3"),
        ("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1x 2 3"),
        ("CONFIG", "SET", "client-output-buffer-limit", "pubsub 64mb 16mb 30 normal 1 2 3"),
        ("CONFIG", "GET", "client-output-buffer-limit"),
        ("CONFIG", "SET", "client-output-buffer-limit",
         "normal 0 0 0 pubsub 33554432 8388608 60"),
        ("CONFIG", "SET", "lua-time-limit", "100"), ("CONFIG", "GET", "busy-reply-threshold"),
        ("CONFIG", "SET", "busy-reply-threshold", "5000"),
        ("CONFIG", "SET", "list-max-listpack-size", "-3"), ("CONFIG", "GET", "list-max-ziplist-size"),
        ("CONFIG", "SET", "hash-max-ziplist-entries", "64"),
        ("CONFIG", "GET", "hash-max-listpack-entries"),
        ("CONFIG", "SET", "hash-max-listpack-entries", "512", "list-max-listpack-size", "-2"),
        ("CONFIG", "SET", "stream-node-max-bytes", "1kb"), ("CONFIG", "GET", "stream-node-max-bytes"),
        ("CONFIG", "SET", "stream-node-max-bytes", "4096"),
        ("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"), ("CONFIG", "GET", "maxmemory-policy"),
        ("CONFIG", "SET", "maxmemory-policy", "NOEVICTION"), ("CONFIG", "GET", "maxmemory-policy"),
        ("CONFIG", "SET", "proto-max-bulk-len", "100"), ("CONFIG", "SET", "timeout", "-1"),
        ("CONFIG", "GET", "MAXMEMORY"), ("CONFIG", "GET", "nosuch"),
        ("CONFIG", "GET", "maxmemory", "maxmemory"),
        ("CONFIG",), ("CONFIG", "NOSUCH"), ("CONFIG", "GET"), ("CONFIG", "RESETSTAT", "x"),
        ("CONFIG", "HELP"), ("CONFIG", "REWRITE"),
    ])
    a.close()
    b.close()


def test_glob_patterns_match_redis(redis_server, sl):
    """Compared as maps: Redis answers in its hash table's (per-process random) order."""
    names = ["maxmemory hz", "hash-max-*", "*listpack*", "stream-node-*", "maxmemory*", "aof-load-truncat?",
             "appendf*", "[z]set-max-*", "*-ziplist-*"]
    a, b = RedisConn(redis_server.port), RedisConn(sl.port)
    for pat in names:
        x = a.call("CONFIG", "GET", *pat.split())
        y = b.call("CONFIG", "GET", *pat.split())
        xs = dict(zip(x[::2], x[1::2], strict=True))
        ys = dict(zip(y[::2], y[1::2], strict=True))
        assert ys == xs, pat
    a.close()
    b.close()


def test_config_get_star_lists_every_name(r):
    cfg = r.config_get("*")
    for name in ("port", "bind", "dir", "dbfilename", "save", "appendonly", "maxmemory",
                 "requirepass", "notify-keyspace-events", "lua-time-limit"):
        assert name in cfg
    assert cfg["bind"] == "127.0.0.1"


def test_resetstat_clears_commandstats(r):
    r.ping()
    assert "cmdstat_ping" in r.info("commandstats")
    assert r.config_resetstat()
    assert "cmdstat_ping" not in r.info("commandstats")


def test_options_and_config_file_and_rewrite():
    d = tempfile.mkdtemp()
    conf = os.path.join(d, "streamlite.conf")
    with open(conf, "w") as f:
        f.write("# a comment\nmaxmemory 2mb\nhash-max-ziplist-entries 100\n"
                "save 900 1\nsave 300 10\n")
    port = free_port()
    proc = subprocess.Popen(  # the config file comes first, as for redis-server
        [sys.executable, "-m", "streamlite", "server", conf, "--port", str(port), "--dir", d,
         "--maxclients", "77", "--notify-keyspace-events", "Ex"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc=proc)
        c = redis.Redis(port=port, decode_responses=True)
        got = c.config_get("*")
        assert got["maxmemory"] == str(2 * 1024 * 1024)
        assert got["hash-max-listpack-entries"] == "100"
        assert got["save"] == "900 1 300 10"
        assert got["maxclients"] == "77"
        assert got["notify-keyspace-events"] == "xE"
        assert c.info("server")["config_file"] == conf
        c.config_set("maxmemory", "3mb")
        c.config_set("timeout", "30")
        assert c.config_rewrite()
        with open(conf) as f:
            text = f.read()
        assert "# a comment" in text
        assert "maxmemory 3mb" in text and "maxmemory 2mb" not in text
        assert "hash-max-listpack-entries 100" in text or "hash-max-ziplist-entries 100" in text
        assert "# Generated by CONFIG REWRITE" in text
        assert "timeout 30" in text
        assert "maxclients 77" in text
        c.close()
    finally:
        proc.terminate()
        proc.wait(10)


def test_config_file_errors_are_fatal():
    d = tempfile.mkdtemp()
    conf = os.path.join(d, "bad.conf")
    with open(conf, "w") as f:
        f.write("port 1234\nmaxmemory lots\n")
    out = subprocess.run([sys.executable, "-m", "streamlite", "server", conf],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "FATAL CONFIG FILE ERROR" in out.stderr
    assert "at line 2" in out.stderr
    assert "argument must be a memory value" in out.stderr
    out = subprocess.run([sys.executable, "-m", "streamlite", "server", "--nosuch", "1"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "Bad directive or wrong number of arguments" in out.stderr


def test_cluster_enabled_is_refused():
    """streamlite is a standalone server: asked for cluster mode (option or config file)
    it says so and exits, instead of starting as something it is not."""
    d = tempfile.mkdtemp()
    conf = os.path.join(d, "cluster.conf")
    with open(conf, "w") as f:
        f.write("port 0\ncluster-enabled yes\n")
    for argv in (["--port", "0", "--cluster-enabled", "yes"], [conf]):
        out = subprocess.run([sys.executable, "-m", "streamlite", "server", *argv],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 1
        assert "FATAL CONFIG FILE ERROR" in out.stderr
        assert "does not implement Redis Cluster" in out.stderr
        assert "redis+cluster://" in out.stderr
