"""INFO stats and clients fields that move with the workload, against a real Redis
8.2: the hash fields deleted by their TTL (``expired_subkeys``), the active expire
cycle's ``expired_stale_perc`` and ``expired_time_cap_reached_count``, the network
rates ``instantaneous_input_kbps`` / ``instantaneous_output_kbps``, the blocked
clients' ``clients_in_timeout_table`` / ``total_blocking_keys_on_nokey``, and
``latest_fork_usec`` and the children's CPU time after a BGSAVE.

The same steps run on both servers. Counts are compared exactly; the figures that
depend on timing (a running average over expire cycles, rates over the last ticks)
are checked to move off zero on both, as they do in Redis.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from tests.server.conftest import spawn
from tests.support.redis_proc import ServerProc, have_redis, start_redis

pytestmark = pytest.mark.redis

# keys that expired before the script returned: the active cycle finds them all due
MASS_EXPIRE = ("for i = 1, tonumber(ARGV[1]) do redis.call('set', 'x' .. i, 'v', 'px', 1) "
               "end return 1")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerProc, ServerProc]]:
    if not have_redis():
        pytest.skip("needs redis-server")
    r = start_redis()
    s = spawn()
    yield r, s
    r.cleanup()
    s.cleanup()


@pytest.fixture
def both(servers: tuple[ServerProc, ServerProc]) -> Iterator[list[redis.Redis]]:
    conns = [redis.Redis(port=srv.port, socket_timeout=30) for srv in servers]
    for c in conns:
        c.flushall()
        c.config_resetstat()
    yield conns
    for c in conns:
        c.flushall()
        c.close()


def _wait(conn: redis.Redis, done: Callable[[dict[str, Any]], bool],
          timeout: float = 30) -> dict[str, Any]:
    """INFO stats once ``done`` holds for it (the server's cron has run)."""
    deadline = time.monotonic() + timeout
    while True:
        info = conn.info("stats")
        if done(info) or time.monotonic() > deadline:
            return info
        time.sleep(0.05)


def test_expired_subkeys_counts_hash_fields_deleted_by_ttl(both):
    got = []
    for c in both:
        assert c.info("stats")["expired_subkeys"] == 0
        c.hset("h", mapping={f"f{i}": i for i in range(6)})
        c.execute_command("HPEXPIRE", "h", 1, "FIELDS", 3, "f1", "f2", "f3")
        c.execute_command("HPEXPIRE", "h", 10**9, "FIELDS", 1, "f4")
        time.sleep(0.01)
        c.hget("h", "f1")  # a read of an expired field: not there
        info = _wait(c, lambda i: i["expired_subkeys"] >= 3)
        got.append((info["expired_subkeys"], info["expired_keys"], c.hlen("h")))
    assert got[0] == got[1] == (3, 0, 3)


def test_mass_expiry_moves_stale_perc_and_time_cap(both):
    """200k keys due at once: the cycle stops early (Redis: at its time limit, here
    at its budget), and the running average of the stale share leaves 0."""
    got = []
    for c in both:
        before = c.info("stats")
        assert (before["expired_stale_perc"], before["expired_time_cap_reached_count"]) \
            == (0, 0)
        c.eval(MASS_EXPIRE, 0, 200_000)
        info = _wait(c, lambda i: i["expired_time_cap_reached_count"] > 0
                     and i["expired_stale_perc"] > 0)
        got.append((info["expired_time_cap_reached_count"] > 0,
                    info["expired_stale_perc"] > 0, info["expired_keys"] > 0))
    assert got == [(True, True, True)] * 2


def test_no_ttl_keeps_stale_perc_at_zero(both):
    got = []
    for c in both:
        c.mset({f"k{i}": i for i in range(100)})
        c.set("later", 1, ex=1000)
        _wait(c, lambda i: False, timeout=0.3)  # a few cycles: nothing is due
        got.append(c.info("stats")["expired_stale_perc"])
    assert got == [0, 0]


def test_instantaneous_kbps_move_with_traffic(both):
    got = []
    for c in both:
        c.set("blob", "x" * 20_000)
        for _ in range(20):
            c.get("blob")
            c.set("in", "y" * 5_000)
        info = _wait(c, lambda i: i["instantaneous_input_kbps"] > 0
                     and i["instantaneous_output_kbps"] > 0, timeout=10)
        got.append((info["instantaneous_input_kbps"] > 0,
                    info["instantaneous_output_kbps"] > 0))
    assert got == [(True, True)] * 2


def test_blocked_clients_timeout_table_and_nokey_keys(both):
    """Blocked with a timeout (BLPOP 30, XREADGROUP BLOCK): in Redis's timeout table;
    BLPOP 0 is not. XREADGROUP's stream is a key blocked on "no key" (its deletion
    ends the wait)."""
    fields = ("blocked_clients", "clients_in_timeout_table", "total_blocking_keys",
              "total_blocking_keys_on_nokey")
    got = []
    for c in both:
        c.xadd("st", {"a": 1})
        c.xgroup_create("st", "g", "$")
        port = c.connection_pool.connection_kwargs["port"]
        waiters = [redis.Redis(port=port, socket_timeout=60) for _ in range(3)]
        ids = [w.client_id() for w in waiters]
        calls = [lambda w: w.blpop("q", 30), lambda w: w.blpop("q2", 0),
                 lambda w: w.xreadgroup("g", "c", {"st": ">"}, block=30_000)]
        threads = [threading.Thread(target=f, args=(w,)) for f, w in zip(calls, waiters, strict=True)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while c.info("clients")["blocked_clients"] < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        info = c.info("clients")
        got.append([info[f] for f in fields])
        for i in ids:
            c.client_unblock(i)
        for t in threads:
            t.join()
        for w in waiters:
            w.close()
    assert got[0] == got[1] == [3, 2, 3, 1]


def test_bgsave_sets_latest_fork_usec_and_children_cpu(both):
    """The child's CPU time shows once it is reaped (getrusage's microseconds: a short
    child is not lost in clock ticks)."""
    got = []
    for c in both:
        forks = c.info("stats")["total_forks"]
        c.set("k", "v")
        c.bgsave()
        deadline = time.monotonic() + 30
        while c.info("persistence")["rdb_bgsave_in_progress"] and time.monotonic() < deadline:
            time.sleep(0.05)
        info = c.info("everything")
        children = info["used_cpu_user_children"] + info["used_cpu_sys_children"]
        got.append((info["total_forks"] - forks, info["latest_fork_usec"] > 0, children > 0))
    assert got == [(1, True, True)] * 2


def test_reads_and_writes_processed_and_the_threads_section(both):
    """Ten PINGs between two INFOs: ten more reads and writes of the client's socket
    (and one each for the INFO itself), in INFO stats and in ``# Threads``."""
    got = []
    for c in both:
        c.ping()
        before = c.info("stats")
        for _ in range(10):
            c.ping()
        after = c.info("everything")
        threads = after["io_thread_0"]
        got.append((after["total_reads_processed"] - before["total_reads_processed"],
                    after["total_writes_processed"] - before["total_writes_processed"],
                    sorted(threads), threads["clients"] >= 1,
                    threads["reads"] >= after["total_reads_processed"] - 1))
    assert got[0] == got[1]
    assert got[0][:2] == (11, 11)
