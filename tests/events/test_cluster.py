"""The framework on a real Redis Cluster (3 masters, 3 replicas), beyond the scenarios
that every backend runs (tests/events runs them all on ``redis-cluster`` too): default
options with a hand-made cluster client, keys spread over slots, a dead-letter stream in
another slot, the CLI over every primary, refusing a one-server URL to a cluster node,
and (slow) kill -9 of a master under load."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from redis.asyncio.cluster import ClusterNode, RedisCluster

from streamlite.events import (
    App,
    AsyncProducer,
    ConsumerOptions,
    Context,
    Producer,
    RetryPolicy,
    connect,
    dlq_stream,
)
from streamlite.events.connection import ClusterNodeError
from streamlite.events.failover import WriteRetry
from streamlite.events.idempotency import AsyncIdempotency
from streamlite.events.keys import partition_stream
from streamlite.events.partition import lease_key
from tests.support.redis_cluster import RedisClusterProc, start_cluster

from .conftest import subprocess_env
from .helpers import run_until


@pytest.fixture
def cluster(redis_cluster: RedisClusterProc) -> Iterator[RedisClusterProc]:
    redis_cluster.flushall()
    yield redis_cluster


def slot_of(cl: RedisClusterProc, key: str) -> int:
    """The slot as the cluster itself computes it (CLUSTER KEYSLOT)."""
    with cl.nodes[0].client() as c:
        return int(c.execute_command("CLUSTER", "KEYSLOT", key))


def async_cluster_client(cl: RedisClusterProc) -> RedisCluster:
    return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", n.port) for n in cl.nodes])


def test_app_with_a_hand_made_cluster_client(cluster):
    """App(client=RedisCluster(...)) with default options: it starts (the XNACK probe
    tolerates the cluster client), handles, retries, and a sync handler publishes with
    ctx.publish_sync (no url needed)."""
    p = Producer(cluster.url())
    for i in range(30):
        p.publish("orders", {"n": i}, event_type="ORDER")
    seen: Counter[int] = Counter()
    failed: set[int] = set()

    async def main() -> None:
        client = async_cluster_client(cluster)
        app = App(client=client, defaults=ConsumerOptions(
            start_id="0", claim_idle_ms=1000, claim_interval_ms=100,
            retry=RetryPolicy(backoff_ms=50, jitter=0)))

        @app.handler("orders", group="billing", idempotent=True)
        async def bill(evt: dict, ctx: Context) -> None:
            if evt["n"] % 7 == 0 and evt["n"] not in failed:
                failed.add(evt["n"])
                raise RuntimeError("once")
            seen[evt["n"]] += 1

        @app.handler("orders", group="mailer")
        def mail(evt: dict, ctx: Context) -> None:
            ctx.publish_sync("outbox", {"n": evt["n"]}, event_type="MAIL")

        rc = connect(cluster.url())
        await run_until(app, lambda: len(seen) == 30 and rc.exists("outbox")
                        and rc.xlen("outbox") == 30, timeout=60)
        await client.aclose()

    asyncio.run(main())
    assert seen == Counter(range(30))
    assert len(failed) == 5


def test_one_server_url_to_a_cluster_node_is_refused(cluster):
    node_url = f"redis://127.0.0.1:{cluster.nodes[0].port}"

    async def start() -> None:
        app = App(node_url)

        @app.handler("orders", group="g")
        async def h(evt: dict) -> None: ...

        await app.start()

    with pytest.raises(ClusterNodeError, match="redis\\+cluster://"):
        asyncio.run(start())
    out = subprocess.run([sys.executable, "-m", "streamlite", "top", "--once", "--url",
                          node_url], capture_output=True, text=True, timeout=60,
                         env=subprocess_env())
    assert out.returncode == 3, out.stderr
    assert "node of a Redis Cluster" in out.stderr and "redis+cluster://" in out.stderr
    assert out.stdout == ""


def test_markers_and_partitions_spread_over_slots(cluster):
    """Idempotency markers of one group land on every master; each partition of a
    hash-tagged stream has a slot of its own, shared with its lease and DLQ."""
    idem = AsyncIdempotency(async_cluster_client(cluster))
    marker_slots = {slot_of(cluster, idem.key("billing", f"evt-{i}")) for i in range(60)}
    assert len(marker_slots) > 50
    owners = {cluster.master_of(idem.key("billing", f"evt-{i}")).port for i in range(60)}
    assert len(owners) == 3
    for stream in ("ledger", "{shop}.ledger"):
        parts = [partition_stream(stream, i) for i in range(8)]
        assert len({slot_of(cluster, s) for s in parts}) == 8
        for i, s in enumerate(parts):
            assert slot_of(cluster, lease_key(stream, i, "posting")) == slot_of(cluster, s)
            assert slot_of(cluster, dlq_stream(s)) == slot_of(cluster, s)


def test_partitioned_stream_with_hash_tag_on_cluster(cluster):
    """publish_partitioned / partitioned_handler on a hash-tagged stream: per-key order
    and every event once, the partitions on several masters."""
    p = Producer(cluster.url())
    keys = [f"acct-{k}" for k in range(6)]
    for n in range(10):
        for k in keys:
            p.publish_partitioned("{shop}.ledger", k, {"k": k, "n": n}, partitions=4)
    got: dict[str, list[int]] = {k: [] for k in keys}

    async def main() -> None:
        app = App(cluster.url(), defaults=ConsumerOptions(start_id="0"))

        @app.partitioned_handler("{shop}.ledger", group="posting", partitions=4,
                                 lease_ms=3000)
        async def post(evt: dict) -> None:
            got[evt["k"]].append(evt["n"])

        await run_until(app, lambda: sum(map(len, got.values())) == 60, timeout=60)

    asyncio.run(main())
    assert all(v == list(range(10)) for v in got.values()), got
    masters = {cluster.master_of(partition_stream("{shop}.ledger", i)).port for i in range(4)}
    assert len(masters) > 1


def test_dead_letter_stream_in_another_slot(cluster):
    """A DLQ configured in another slot than its stream: written without the one-slot
    script (check, XADD, XACK); each poison message once, nothing left pending."""
    assert slot_of(cluster, "dead-letters") != slot_of(cluster, "jobs")
    p = Producer(cluster.url())
    ids = [p.publish("jobs", {"n": i}, event_type="POISON" if i % 3 == 0 else "OK")
           for i in range(12)]
    ok: list[int] = []

    async def main() -> None:
        app = App(cluster.url(), defaults=ConsumerOptions(
            start_id="0", dead_letter_stream="dead-letters", claim_interval_ms=100,
            retry=RetryPolicy(max_deliveries=2, backoff_ms=20, jitter=0)))

        @app.handler("jobs", group="w", event="POISON")
        async def poison(evt: dict) -> None:
            raise RuntimeError("bad")

        @app.handler("jobs", group="w", event="OK")
        async def good(evt: dict) -> None:
            ok.append(evt["n"])

        rc = connect(cluster.url())
        await run_until(app, lambda: rc.exists("dead-letters") and
                        rc.xlen("dead-letters") == 4 and len(ok) == 8
                        and rc.xpending("jobs", "w")["pending"] == 0, timeout=60)

    asyncio.run(main())
    rc = connect(cluster.url())
    dl = rc.xrange("dead-letters")
    assert sorted(f[b"dlq_original_id"].decode() for _, f in dl) == \
        sorted(i for n, i in enumerate(ids) if n % 3 == 0)
    assert {f[b"dlq_deliveries"] for _, f in dl} == {b"2"}


def test_cli_sees_every_primary(cluster):
    """top lists the streams of all three masters; a stream asked for by name that does
    not exist is exit 4, never an empty table; produce/tail/dlq/trim work by cluster URL."""
    rc = connect(cluster.url())
    names = [f"s{i}" for i in range(40)]
    for s in names:
        rc.xadd(s, {"f": "v"})
        rc.xgroup_create(s, "g", id="0")
    assert len({cluster.master_of(s).port for s in names}) == 3

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "streamlite", *args, "--url",
                               cluster.url()], capture_output=True, text=True,
                              timeout=60, env=subprocess_env())

    out = cli("top", "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert {r["stream"] for r in rows} == set(names)
    assert all(r["group"] == "g" and r["lag"] == 1 for r in rows)
    out = cli("top", "--once", "--stream", "nosuch")
    assert out.returncode == 4 and "no stream nosuch" in out.stderr
    out = cli("produce", "s7", "-f", "a=1", "--json")
    assert out.returncode == 0, out.stderr
    out = cli("tail", "s7", "--from", "0", "--count", "2", "--json")
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 2
    out = cli("trim", "s7", "--maxlen", "1", "--exact")
    assert out.returncode == 0 and rc.xlen("s7") == 1
    out = cli("dlq", "list", "s7", "--json")
    assert out.returncode == 0 and out.stdout == ""


def test_publishing_through_a_slot_migration(cluster):
    """The slot of a busy stream moves to another master while a producer publishes to
    it (clients see ASK, TRYAGAIN, then MOVED): every publish returns, every event is in
    the stream once, and a consumer group reads on from the new master."""
    from streamlite.events.keys import key_slot

    p = Producer(cluster.url())
    slot = key_slot("moving")
    dest = next(n for n in cluster.primaries() if n is not cluster.master_of("moving"))
    acked: list[str] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            n = 0
            while not stop.is_set() or n < 50:
                from streamlite.events.envelope import new_event_id

                eid = new_event_id()
                p.publish("moving", {"n": n}, event_id=eid)
                acked.append(eid)
                n += 1
        except BaseException as e:
            errors.append(e)

    rc = connect(cluster.url())
    for i in range(2000):  # a stream big enough to take MIGRATE a moment, and markers
        rc.xadd("moving", {"old": i})
    rc.xgroup_create("moving", "g", id="0")
    t = threading.Thread(target=publish)
    t.start()
    try:
        time.sleep(0.3)
        before = len(acked)
        cluster.migrate_slot(slot, dest)
        during = len(acked) - before     # published while the slot was moving
        time.sleep(0.3)
    finally:
        stop.set()
        t.join(60)
    assert not errors, errors
    assert cluster.master_of("moving").port == dest.port
    ids = [f[b"event_id"].decode() for _, f in rc.xrange("moving") if b"event_id" in f]
    assert Counter(ids) == Counter(acked) and len(acked) >= 50 and during > 0
    got = rc.xreadgroup("g", "c", {"moving": ">"}, count=10_000)
    assert len(got[0][1]) == 2000 + len(acked)


# ------------------------------------------------------------------ failover (slow)
@pytest.fixture
def own_cluster() -> Iterator[RedisClusterProc]:
    """A cluster of this test's own: it kills one of the masters."""
    cl = start_cluster(node_timeout_ms=2000)
    try:
        yield cl
    finally:
        cl.cleanup()


@pytest.mark.slow
def test_master_killed_under_load(own_cluster):
    """kill -9 of the master holding the stream while events are published and handled:
    the replica is promoted; publishing retries through the failover (WAIT for a
    replica: an acknowledged publish is on two nodes); every acknowledged event is in
    the stream once and handled once by the idempotent handler; the killed node comes
    back as a replica."""
    cl = own_cluster
    url = cl.url()
    master = cl.master_of("jobs")
    acked: list[str] = []         # event ids of publishes that returned
    handled: Counter[str] = Counter()
    stop = threading.Event()
    errors: list[BaseException] = []

    async def publisher() -> None:
        p = AsyncProducer(url, wait_replicas=1, retry=WriteRetry(timeout_s=90))
        n = 0
        try:
            while not stop.is_set():
                from streamlite.events.envelope import new_event_id

                eid = new_event_id()
                await p.publish("jobs", {"n": n}, event_type="JOB", event_id=eid)
                acked.append(eid)
                n += 1
                await asyncio.sleep(0.005)
        except BaseException as e:  # reported by the test
            errors.append(e)
        finally:
            await p.aclose()

    def failover() -> None:
        while len(acked) < 300:
            time.sleep(0.05)
        cl.kill_master(master)           # returns once the replica is promoted
        # the promoted master has no replica: publishes wait (WAIT 1) until one is back
        cl.restart(master)               # the killed node returns as its replica
        deadline = time.monotonic() + 60
        while len(acked) < 900 and not errors and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()

    async def main() -> None:
        app = App(url, wait_replicas=1, defaults=ConsumerOptions(
            start_id="0", claim_idle_ms=2000, claim_interval_ms=200, block_ms=500))

        @app.handler("jobs", group="workers", idempotent=True)
        async def work(evt: dict, ctx: Context) -> None:
            handled[ctx.event_id] += 1

        rc = app.redis
        await app.start()
        t = threading.Thread(target=failover)
        t.start()
        try:
            await publisher()
            await asyncio.to_thread(t.join, 180)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # redeliveries after the failover settle
                if set(acked) <= set(handled) and \
                        (await rc.xpending("jobs", "workers"))["pending"] == 0:
                    break
                await asyncio.sleep(0.2)
        finally:
            stop.set()
            await app.stop(10)

    asyncio.run(main())
    assert not errors, errors
    assert len(acked) >= 900
    rc = connect(cl.url())
    in_stream = Counter(f[b"event_id"].decode() for _, f in rc.xrange("jobs"))
    assert set(acked) <= set(in_stream), "an acknowledged publish was lost"
    assert all(in_stream[e] == 1 for e in acked), "a retried publish was added twice"
    assert set(acked) <= set(handled), "an acknowledged event was never handled"
    assert max(handled.values()) == 1, "an event was handled twice"
    assert cl.master_of("jobs").port != master.port
    assert rc.xpending("jobs", "workers")["pending"] == 0
