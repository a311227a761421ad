"""In-flight keepalive, ownership-checked dead-lettering and XNACK.

* A handler slower than ``claim_idle_ms`` runs exactly once while another worker keeps
  reclaiming (its owner keeps the entries fresh); entries waiting in the owner's queue
  are kept too.
* A dead worker stops refreshing: its entries are reclaimed.
* An entry is dead-lettered at most once, whoever tries.
* XNACK (streamlite; Redis 8.8+) releases entries: a graceful stop releases what was read
  but not started, a retry with no delay releases the entry at once. Redis 8.2 has no
  XNACK: the worker falls back (handles what it read; retries with XCLAIM ... IDLE).

Worker processes on the server backends; on the embedded engine (one process owns it)
the workers are Apps in this process, and a "killed" one has its tasks cancelled
without a graceful stop.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from typing import Any

from streamlite.events import (
    App,
    ConsumerOptions,
    Context,
    DeadLetters,
    Message,
    Producer,
    Retry,
    RetryPolicy,
)
from streamlite.events.pel import PendingOps

from .helpers import seen, start_worker, wait_for
from .test_failures import has_xnack, published_ids, settled

SLOW_MS = 2000
CLAIM_IDLE_MS = 1000


def opts(**kw: Any) -> ConsumerOptions:
    base = dict(start_id="0", block_ms=200, claim_idle_ms=CLAIM_IDLE_MS,
                claim_interval_ms=100, retry=RetryPolicy(max_deliveries=3, backoff_ms=50,
                                                         jitter=0))
    base.update(kw)
    return ConsumerOptions(**base)  # type: ignore[arg-type]


def recording_app(url: str, record: list[tuple[str, str, int]], sleep_s: float = 0.0,
                  **kw: Any) -> App:
    app = App(url, defaults=opts(**kw))

    @app.handler("jobs", group="workers")
    async def h(payload: dict, ctx: Context) -> None:
        record.append((ctx.event_id, ctx.consumer, ctx.delivery_count))
        if sleep_s:
            await asyncio.sleep(sleep_s)

    return app


def abort(app: App) -> None:
    """What kill -9 does to a worker in this process: every task just stops (no
    graceful stop, no acks, no keepalive)."""
    for c in app.consumers:
        for t in (*c.tasks, *c.workers, c.keepalive, c.acker):
            if t is not None:
                t.cancel()


def test_slow_handler_runs_once_while_another_reclaims(backend, rc):
    Producer(backend.url).publish_many("jobs", [{"i": i} for i in range(4)])
    ids = published_ids(rc)
    if backend.multiprocess:
        # A: 2 handlers of 2 s at once, 2 more entries waiting in its queue (4 s in all);
        # it never runs XAUTOCLAIM itself (that would also keep its entries, by
        # claiming them back: only the keepalive must)
        a = start_worker(backend.url, "--sleep-ms", str(SLOW_MS), "--concurrency", "2",
                         "--batch", "4", "--claim-idle", str(CLAIM_IDLE_MS),
                         "--claim-interval", "600000")
        b = None
        try:
            wait_for(lambda: len(seen(rc)) >= 2, what="A busy")
            # B reclaims anything idle for 1 s, every 100 ms
            b = start_worker(backend.url, "--claim-idle", str(CLAIM_IDLE_MS),
                             "--claim-interval", "100", "--concurrency", "4")
            wait_for(lambda: settled(rc), timeout=40, what="all acked")
        finally:
            for p in (a, b):
                if p is not None:
                    p.terminate()
                    p.wait(15)
        rows = seen(rc)
    else:
        rows = []
        a_app = recording_app(backend.url, rows, SLOW_MS / 1000, concurrency=2, batch_size=4,
                              claim_interval_ms=600_000)
        b_app = recording_app(backend.url, rows, claim_interval_ms=100)

        async def go() -> None:
            await a_app.start()
            while len(rows) < 2:
                await asyncio.sleep(0.02)
            await b_app.start()
            try:
                for _ in range(800):
                    if settled(rc):
                        break
                    await asyncio.sleep(0.05)
            finally:
                await asyncio.gather(a_app.stop(5), b_app.stop(5))

        asyncio.run(asyncio.wait_for(go(), 60))
    counts = Counter(r[0] for r in rows)
    assert set(counts) == set(ids) and set(counts.values()) == {1}, rows  # once each
    assert len({r[1] for r in rows}) == 1  # all by A: B never got one
    assert {r[2] for r in rows} == {1}  # never redelivered
    pend = rc.xinfo_groups("jobs")[0]
    assert pend["pending"] == 0
    assert DeadLetters(rc, "jobs").count() == 0


def test_killed_slow_worker_entries_are_reclaimed(backend, rc):
    Producer(backend.url).publish_many("jobs", [{"i": i} for i in range(4)])
    ids = published_ids(rc)
    if backend.multiprocess:
        a = start_worker(backend.url, "--sleep-ms", "5000", "--concurrency", "2",
                         "--batch", "4", "--claim-idle", str(CLAIM_IDLE_MS))
        try:
            wait_for(lambda: len(seen(rc)) >= 2, what="A busy")
            a.send_signal(signal.SIGKILL)
            a.wait(10)
            b = start_worker(backend.url, "--claim-idle", str(CLAIM_IDLE_MS),
                             "--claim-interval", "100", "--concurrency", "4")
            try:
                wait_for(lambda: settled(rc), timeout=40, what="B took A's entries")
            finally:
                b.terminate()
                b.wait(15)
        finally:
            if a.poll() is None:
                a.kill()
        rows = seen(rc)
    else:
        rows = []
        a_app = recording_app(backend.url, rows, 5.0, concurrency=2, batch_size=4)
        b_app = recording_app(backend.url, rows)

        async def go() -> None:
            await a_app.start()
            while len(rows) < 2:
                await asyncio.sleep(0.02)
            abort(a_app)
            await b_app.start()
            try:
                for _ in range(800):
                    if settled(rc):
                        break
                    await asyncio.sleep(0.05)
            finally:
                await b_app.stop(5)

        asyncio.run(asyncio.wait_for(go(), 60))
    by_b = [r for r in rows if r[2] >= 2 or r[1] != rows[0][1]]
    assert {r[0] for r in by_b} == set(ids)  # B handled every one of them
    assert all(r[2] >= 2 for r in by_b if r[0] in {x[0] for x in rows[:2]})
    assert DeadLetters(rc, "jobs").count() == 0


def test_dead_letter_happens_once(backend, rc):
    """Two consumers both try to dead-letter one entry (the stale owner and the one that
    reclaimed it), and the owner tries twice: one dead letter, written by the owner."""
    (eid,) = Producer(backend.url).publish_many("jobs", [{"i": 1}])
    rc.xgroup_create("jobs", "workers", id="0")
    rc.xreadgroup("workers", "A", {"jobs": ">"})
    rc.xclaim("jobs", "workers", "B", 0, [eid])  # B took it over
    ar = backend.async_client()

    async def go() -> list[str | None]:
        a = PendingOps(ar, "jobs", "workers", "A")
        b = PendingOps(ar, "jobs", "workers", "B")
        out = [await a.dead_letter("{jobs}:dlq", eid, ["f", "A"], 1000),
               await b.dead_letter("{jobs}:dlq", eid, ["f", "B"], 1000),
               await b.dead_letter("{jobs}:dlq", eid, ["f", "B2"], None),
               await a.dead_letter("{jobs}:dlq", eid, ["f", "A2"], None)]
        await ar.aclose()
        return out

    res = asyncio.run(go())
    assert res[0] is None and res[1] is not None and res[2:] == [None, None]
    assert [f for _, f in rc.xrange("{jobs}:dlq")] == [{b"f": b"B"}]
    assert rc.xpending("jobs", "workers")["pending"] == 0


def test_touch_only_refreshes_own_entries(backend, rc):
    ids = Producer(backend.url).publish_many("jobs", [{"i": i} for i in range(3)])
    rc.xgroup_create("jobs", "workers", id="0")
    rc.xreadgroup("workers", "A", {"jobs": ">"})
    rc.xclaim("jobs", "workers", "B", 0, [ids[2]], idle=50_000)
    rc.xack("jobs", "workers", ids[1])
    ar = backend.async_client()

    async def go() -> set[str]:
        kept = await PendingOps(ar, "jobs", "workers", "A").touch(ids, 7_000)
        await ar.aclose()
        return kept

    assert asyncio.run(go()) == {ids[0]}
    info = {x["message_id"].decode(): x for x in rc.xpending_range("jobs", "workers", "-", "+",
                                                                    10)}
    assert info[ids[0]]["consumer"] == b"A" and info[ids[0]]["time_since_delivered"] >= 7_000
    assert info[ids[0]]["times_delivered"] == 1  # JUSTID: the counter is unchanged
    assert info[ids[2]]["consumer"] == b"B"  # B's entry was not taken back


def test_graceful_stop_releases_unstarted_entries(backend, rc):
    """In this process: a stop with entries read but not started. With XNACK they are
    released (pending, no owner, the delivery not counted); without it (Redis 8.2, or
    use_xnack=False) the worker handles them before it stops."""
    Producer(backend.url).publish_many("jobs", [{"i": i} for i in range(12)])
    xnack = has_xnack(rc)
    for use_xnack in ([True, False] if xnack else [True]):
        rc.xgroup_destroy("jobs", "workers")
        rows: list[tuple[str, str, int]] = []
        app = recording_app(backend.url, rows, 0.3, concurrency=2, batch_size=10,
                            use_xnack=use_xnack)

        async def go(app: App = app, rows: list[Any] = rows) -> None:
            await app.start()
            while len(rows) < 2:
                await asyncio.sleep(0.02)
            await app.stop(5)

        asyncio.run(asyncio.wait_for(go(), 30))
        pending = rc.xpending_range("jobs", "workers", "-", "+", 100)
        if xnack and use_xnack:
            assert len(rows) < 12 and len(pending) == 12 - len(rows)
            assert all(p["consumer"] == b"" and p["times_delivered"] == 0 for p in pending)
            # any consumer takes them at once (they count as idle forever)
            _, claimed, _ = rc.xautoclaim("jobs", "workers", "C", 3_600_000)
            assert len(claimed) == len(pending)
        else:
            assert len(rows) == 12 and pending == []  # read 12, handled 12


def test_retry_now_is_released_with_xnack_fail(backend, rc):
    """``Retry(delay_ms=0)``: with XNACK the entry is released (no owner) and an
    ``XREADGROUP ... CLAIM`` reader of the group gets it at once; without XNACK it is made
    reclaimable with ``XCLAIM ... IDLE claim_idle_ms`` and stays with its consumer."""
    Producer(backend.url).publish("jobs", {"i": 1})
    calls: list[int] = []
    # a claim interval far beyond the test: this worker never reclaims it itself
    app = App(backend.url, defaults=opts(claim_idle_ms=600_000, claim_interval_ms=600_000))

    @app.handler("jobs", group="workers")
    async def h(payload: dict, ctx: Context) -> None:
        calls.append(ctx.delivery_count)
        raise Retry("again, now", delay_ms=0)

    async def go() -> None:
        await app.start()
        for _ in range(400):
            if calls and rc.xpending("jobs", "workers")["pending"] == 1:
                p = rc.xpending_range("jobs", "workers", "-", "+", 1)[0]
                if p["consumer"] == b"" or p["time_since_delivered"] >= 600_000:
                    break
            await asyncio.sleep(0.025)
        await app.stop(2)

    asyncio.run(asyncio.wait_for(go(), 30))
    assert calls == [1]
    (p,) = rc.xpending_range("jobs", "workers", "-", "+", 1)
    if has_xnack(rc):
        assert p["consumer"] == b"" and p["times_delivered"] == 1  # FAIL: it counted
        res = rc.execute_command("XREADGROUP", "GROUP", "workers", "other", "COUNT", "1",
                                 "CLAIM", "600000", "STREAMS", "jobs", ">")
        (_, entries), = res  # redis-py keeps (id, fields) of each entry
        assert Message.from_entry("jobs", entries[0][0], entries[0][1]).payload() == {"i": 1}
    else:
        assert p["consumer"] == app.consumer_name.encode()
        assert p["time_since_delivered"] >= 600_000 and p["times_delivered"] == 1


class _CrashBeforeAck:
    """An asyncio client that looks like a cluster client (so a DLQ in another slot
    takes the non-atomic path) and whose first XACK fails: the process "crashed" between
    the XADD to the dead-letter stream and the XACK."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.crashes = 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get_nodes(self) -> list[Any]:
        return []

    def get_node_from_key(self, key: str) -> Any:
        return None

    async def xack(self, *a: Any) -> Any:
        if self.crashes:
            self.crashes -= 1
            raise ConnectionError("killed between XADD and XACK")
        return await self._inner.xack(*a)


def test_dead_letter_after_crash_between_xadd_and_xack(backend, rc):
    """A dead-letter stream outside the stream's slot cannot be written atomically with
    the XACK. A crash between the two leaves the entry pending; the next attempt must not
    add a second dead letter: ``XADD ... IDMP`` where the server has it (streamlite;
    Redis 8.6+). The reference Redis 8.2 has no IDMP: there the repeat adds a second
    dead letter (the documented limit of a cross-slot DLQ on old servers)."""
    (eid,) = Producer(backend.url).publish_many("jobs", [{"i": 1}])
    rc.xgroup_create("jobs", "workers", id="0")
    rc.xreadgroup("workers", "A", {"jobs": ">"})
    ar = backend.async_client()
    client = _CrashBeforeAck(ar)

    async def go() -> list[str | None]:
        ops = PendingOps(client, "jobs", "workers", "A")
        out: list[str | None] = []
        try:
            await ops.dead_letter("elsewhere:dlq", eid, ["f", "v"], 1000)
        except ConnectionError:
            out.append("crashed")
        out.append(await ops.dead_letter("elsewhere:dlq", eid, ["f", "v"], 1000))
        out.append(await ops.dead_letter("elsewhere:dlq", eid, ["f", "v"], 1000))
        await ar.aclose()
        return out

    res = asyncio.run(go())
    assert res[0] == "crashed" and res[1] is not None and res[2] is None
    assert rc.xpending("jobs", "workers")["pending"] == 0
    dls = rc.xrange("elsewhere:dlq")
    if has_idmp(rc):
        assert [f for _, f in dls] == [{b"f": b"v"}]
        assert res[1] == dls[0][0].decode()  # the first dead letter's ID
    else:
        assert len(dls) == 2


def has_idmp(rc) -> bool:
    try:
        rc.execute_command("XADD", "idmp-probe", "IDMP", "p", "k", "*", "f", "v")
    except Exception:  # noqa: BLE001 - Redis 8.2: "Invalid stream ID ..." or syntax
        return False
    finally:
        rc.delete("idmp-probe")
    return True


def test_backoff_then_release_with_xnack(backend, rc):
    """A retry after a backoff. With XNACK the worker keeps the entry for the backoff
    (still its own, kept fresh) and then releases it (``XNACK ... FAIL``): it is retried
    although ``claim_idle_ms`` is 10 minutes. On Redis 8.2 the entry is aged instead
    (``XCLAIM ... IDLE claim_idle_ms - delay``) and reclaimed when the backoff is over.
    Either way it runs twice in all, the second time on delivery 2."""
    Producer(backend.url).publish("jobs", {"i": 1})
    calls: list[int] = []
    app = App(backend.url, defaults=opts(claim_idle_ms=600_000, claim_interval_ms=100))

    @app.handler("jobs", group="workers")
    async def h(payload: dict, ctx: Context) -> None:
        calls.append(ctx.delivery_count)
        if ctx.delivery_count == 1:
            raise Retry("later", delay_ms=3_000)

    during: list[dict[str, Any]] = []

    async def go() -> None:
        await app.start()
        for _ in range(600):
            if calls and not during:
                await asyncio.sleep(0.2)
                during.extend(rc.xpending_range("jobs", "workers", "-", "+", 1))
            if len(calls) == 2 and rc.xpending("jobs", "workers")["pending"] == 0:
                break
            await asyncio.sleep(0.025)
        await app.stop(2)

    asyncio.run(asyncio.wait_for(go(), 40))
    assert calls == [1, 2]
    assert rc.xpending("jobs", "workers")["pending"] == 0
    (p,) = during
    assert p["consumer"] == app.consumer_name.encode() and p["times_delivered"] == 1
    if has_xnack(rc):
        assert p["time_since_delivered"] < 3_000  # held, not aged
    else:
        assert p["time_since_delivered"] >= 600_000 - 3_000  # aged for XAUTOCLAIM


def test_poison_messages_dead_lettered_once_through_kill9(backend, rc):
    """Worker processes share many poison messages (each fails every delivery, retried
    across processes) while one of them is killed with kill -9 mid-run and a new one
    starts: every poison message ends in the DLQ exactly once, the good ones are
    handled, nothing stays pending."""
    backend.need_processes()
    p = Producer(backend.url)
    p.publish_many("jobs", [{"i": i} for i in range(20)])
    from streamlite.events import Event

    poison = p.publish_many("jobs", [Event({"bad": i}, event_type="POISON") for i in range(20)])
    # slow enough handlers (100 ms) that one worker alone needs seconds for the 60
    # deliveries, so the kill below lands mid-run even when starting workers is slow
    args = ("--max-deliveries", "3", "--backoff", "30", "--claim-idle", "500",
            "--claim-interval", "100", "--sleep-ms", "100", "--concurrency", "4")
    ws = [start_worker(backend.url, *args) for _ in range(2)]
    dl = DeadLetters(rc, "jobs")
    try:
        wait_for(lambda: 0 < dl.count() < 20, timeout=40, what="dead-lettering under way")
        ws[0].send_signal(signal.SIGKILL)
        ws[0].wait(10)
        ws.append(start_worker(backend.url, *args))
        wait_for(lambda: dl.count() >= 20 and settled(rc), timeout=60,
                 what="every poison message dead-lettered")
    finally:
        for w in ws:
            if w.poll() is None:
                w.terminate()
        for w in ws:
            w.wait(15)
    originals = Counter(e.as_dict()["original_id"] for e in dl.list(count=1000))
    assert originals == Counter(poison)  # each exactly once
    assert rc.xpending("jobs", "workers")["pending"] == 0
    good = {r[0] for r in seen(rc)} - {Message.from_entry("jobs", i, f).event_id
                                        for i, f in rc.xrange("jobs") if i.decode() in poison}
    assert len(good) == 20
