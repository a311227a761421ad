"""Failure injection with real worker processes: kill -9, SIGTERM, poison, restarts."""

from __future__ import annotations

import signal
from collections import Counter

from redis.exceptions import RedisError, ResponseError

from streamlite.events import DeadLetters, Message, Producer

from .helpers import seen, start_worker, wait_for


def has_xnack(rc) -> bool:
    """Whether the backend has XNACK (Redis 8.8+, streamlite; the reference Redis 8.2
    answers ``unknown command``, and redis-py's cluster client refuses to send a command
    the cluster's COMMAND table lacks)."""
    try:
        rc.execute_command("XNACK", "probe", "g", "SILENT", "IDS", 1, "0-1")
    except ResponseError as e:
        assert "unknown command" in str(e)
        return False
    except RedisError as e:
        assert "doesn't exist" in str(e)
        return False
    return True


def published_ids(rc, stream: str = "jobs") -> list[str]:
    return [Message.from_entry(stream, i, f).event_id for i, f in rc.xrange(stream)]


def settled(rc, stream: str = "jobs", group: str = "workers") -> bool:
    groups = rc.xinfo_groups(stream)
    return bool(groups) and groups[0]["pending"] == 0 and groups[0]["lag"] == 0


def test_kill9_mid_batch_is_reclaimed(backend, rc):
    backend.need_processes()
    Producer(backend.url).publish_many("jobs", [{"i": i} for i in range(60)])
    ids = published_ids(rc)
    a = start_worker(backend.url, "--sleep-ms", "40", "--concurrency", "4", "--batch", "10")
    try:
        wait_for(lambda: len(seen(rc)) >= 8, what="worker A busy")
        a.send_signal(signal.SIGKILL)
        a.wait(10)
        victim_pending = rc.xpending("jobs", "workers")["pending"]
        assert victim_pending > 0  # A died holding unacknowledged entries
        b = start_worker(backend.url, "--claim-idle", "1000", "--concurrency", "8",
                         "--batch", "20")
        try:
            wait_for(lambda: settled(rc), timeout=40, what="all acked")
        finally:
            b.terminate()
            b.wait(15)
    finally:
        if a.poll() is None:
            a.kill()
    rows = seen(rc)
    assert {r[0] for r in rows} == set(ids)  # none lost
    assert DeadLetters(rc, "jobs").count() == 0  # none dead-lettered wrongly
    consumers = {r[1] for r in rows}
    assert len(consumers) == 2
    b_name = [c for c in consumers if any(r[1] == c and r[2] >= 2 for r in rows)]
    assert b_name, "B reclaimed A's entries (delivery count >= 2)"


def test_sigterm_during_processing_loses_nothing(backend, rc):
    """A stops gracefully with handlers running and entries read but not started: it
    finishes the running ones; the others it releases with XNACK where the server has
    it (any consumer takes them at once, their delivery not counted), else it handles
    them too before exiting. Either way every entry runs exactly once."""
    backend.need_processes()
    Producer(backend.url).publish_many("jobs", [{"i": i} for i in range(30)])
    ids = published_ids(rc)
    a = start_worker(backend.url, "--sleep-ms", "150", "--concurrency", "4", "--batch", "4",
                     "--grace", "10")
    wait_for(lambda: len(seen(rc)) >= 4, what="A busy")
    a.send_signal(signal.SIGTERM)
    out, err = a.communicate(timeout=20)
    assert a.returncode == 0, err
    assert "STOPPED" in out
    left = rc.xpending_range("jobs", "workers", "-", "+", 100)
    if has_xnack(rc):
        # released: pending with no owner, delivery not counted
        assert left and all(x["consumer"] == b"" and x["times_delivered"] == 0 for x in left)
    else:  # A finished and acked everything it had taken
        assert left == []
    done_by_a = len(seen(rc))
    assert 0 < done_by_a < 30
    b = start_worker(backend.url, "--concurrency", "8", "--batch", "10")
    try:
        wait_for(lambda: settled(rc), timeout=30, what="B finishes")
    finally:
        b.terminate()
        b.wait(15)
    rows = seen(rc)
    counts = Counter(r[0] for r in rows)
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1  # a clean shutdown causes no redelivery
    assert {r[2] for r in rows} == {1}  # and no delivery counted twice
    assert DeadLetters(rc, "jobs").count() == 0


def test_flaky_handler_retried_with_backoff_across_processes(backend, rc):
    backend.need_processes()
    Producer(backend.url).publish_many("jobs", [{"i": i} for i in range(10)])
    ids = published_ids(rc)
    ws = [start_worker(backend.url, "--fail-first", "2", "--backoff", "100", "--claim-idle",
                       "800", "--sync") for _ in range(2)]
    try:
        wait_for(lambda: settled(rc), timeout=40, what="all retried and acked")
    finally:
        for w in ws:
            w.terminate()
        for w in ws:
            w.wait(15)
    rows = seen(rc)
    per = Counter(r[0] for r in rows)
    assert set(per) == set(ids)
    assert all(n == 3 for n in per.values())  # failed twice, succeeded on delivery 3
    assert sorted({r[2] for r in rows}) == [1, 2, 3]
    assert DeadLetters(rc, "jobs").count() == 0


def test_poison_reaches_dlq_after_exactly_n_deliveries(backend, rc):
    backend.need_processes()
    p = Producer(backend.url)
    p.publish_many("jobs", [{"i": i} for i in range(5)])
    poison = p.publish("jobs", {"bad": True}, event_type="POISON")
    ws = [start_worker(backend.url, "--max-deliveries", "3", "--backoff", "50",
                       "--claim-idle", "600") for _ in range(2)]
    dl = DeadLetters(rc, "jobs")
    try:
        wait_for(lambda: dl.count() == 1 and settled(rc), timeout=40, what="poison in DLQ")
    finally:
        for w in ws:
            w.terminate()
        for w in ws:
            w.wait(15)
    (e,) = dl.list()
    s = e.as_dict()
    assert s["original_id"] == poison and s["deliveries"] == 3
    assert s["source_stream"] == "jobs" and s["group"] == "workers"
    assert s["error_type"] == "RuntimeError" and "injected failure" in s["error"]
    assert "RuntimeError" in s["traceback"]
    poison_eid = Message.from_entry("jobs", poison, e.original_fields).event_id
    assert [r[2] for r in seen(rc) if r[0] == poison_eid] == [1, 2, 3]


def test_restarted_worker_finishes_own_pending_first(backend, rc):
    backend.need_processes()
    p = Producer(backend.url)
    p.publish_many("jobs", [{"i": i} for i in range(12)])
    a = start_worker(backend.url, "--consumer", "fixed-1", "--sleep-ms", "100",
                     "--concurrency", "1", "--batch", "6", "--claim-idle", "60000")
    wait_for(lambda: len(seen(rc)) >= 2, what="A busy")
    a.send_signal(signal.SIGKILL)
    a.wait(10)
    before = len(seen(rc))
    mine = {x["message_id"] for x in rc.xpending_range("jobs", "workers", "-", "+", 100,
                                                        consumername="fixed-1")}
    assert mine
    p.publish_many("jobs", [{"i": i} for i in range(12, 15)])
    a2 = start_worker(backend.url, "--consumer", "fixed-1", "--concurrency", "1",
                      "--batch", "6", "--claim-idle", "60000")
    try:
        wait_for(lambda: settled(rc), timeout=30, what="restarted worker done")
    finally:
        a2.terminate()
        a2.wait(15)
    after = seen(rc)[before:]
    redelivered = [r for r in after if r[2] >= 2]
    assert len(redelivered) == len(mine)
    # every redelivery of its own pending entries came before any new delivery
    first_new = next(i for i, r in enumerate(after) if r[2] == 1)
    assert all(r[2] >= 2 for r in after[:first_new]) and first_new == len(mine)
    assert DeadLetters(rc, "jobs").count() == 0
