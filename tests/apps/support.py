"""Helpers for the seed application's tests: start ``streamlite run`` as a process, talk
HTTP to it, open the data it wrote, and check the pipeline's invariants."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# fast retries and reclaiming, so failure scenarios finish in seconds; no demo traffic
FAST = ["--claim-idle-ms", "1500", "--claim-interval-ms", "200", "--retry-backoff-ms", "50",
        "--payment-latency-ms", "2", "--payment-failure-rate", "0.05",
        "--dashboard-interval", "0.3", "--demo", "0"]  # no demo orders unless a test asks


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.path.join(ROOT, "src") + os.pathsep + ROOT + os.pathsep \
        + e.get("PYTHONPATH", "")
    e["PYTHONUNBUFFERED"] = "1"
    e.pop("STREAMLITE_URL", None)
    return e


@dataclass
class AppProc:
    """``python -m streamlite run`` in a subprocess."""

    url: str
    args: list[str] = field(default_factory=list)
    http: bool = True
    proc: subprocess.Popen[str] | None = None
    api: str = ""
    lines: list[str] = field(default_factory=list)
    err_path: str = ""
    cwd: str = ROOT

    def start(self, timeout: float = 60) -> AppProc:
        import tempfile

        fd, self.err_path = tempfile.mkstemp(prefix="app-stderr-", suffix=".log")
        os.close(fd)
        cmd = [sys.executable, "-m", "streamlite", "run", "--url", self.url, "--port", "0",
               *self.args]
        if not self.http:
            cmd.append("--no-http")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=open(self.err_path, "w"),  # noqa: SIM115
                                     text=True, env=env(), cwd=self.cwd)
        q: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                q.put(line)
            q.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = q.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"streamlite run exited ({self.proc.wait()}): "
                                   f"{self.stderr()[-3000:]}")
            self.lines.append(line)
            if "dashboard:" in line:
                self.api = line.split("dashboard:", 1)[1].strip().rstrip("/")
            if line.startswith("Ctrl-C stops"):
                return self
        self.kill()
        raise TimeoutError(f"streamlite run did not start: {self.stderr()[-3000:]}")

    def stderr(self) -> str:
        try:
            with open(self.err_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C, then wait for the graceful stop."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise
        return int(self.proc.returncode)

    def kill(self) -> None:
        """kill -9."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         raw: bytes | None = None, content_type: str = "application/json",
         timeout: float = 30) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read().decode()
            status = resp.status
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        status = e.code
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


def order_body(sku: str = "GALAXY-BOOK4", quantity: int = 1, **over: Any) -> dict[str, Any]:
    b: dict[str, Any] = {"customer_id": "2001", "customer_name": "김민수",
                         "customer_email": "kim@example.com",
                         "shipping_address": "서울시 강남구 테헤란로 152",
                         "items": [{"sku": sku, "quantity": quantity}]}
    b.update(over)
    return b


def wait_final(api: str, ids: list[str], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    final: dict[str, Any] = {}
    while time.monotonic() < deadline:
        todo = [i for i in ids if i not in final]
        if not todo:
            return final
        for k in range(0, len(todo), 1000):
            st, body = http("POST", f"{api}/api/order-status", {"ids": todo[k:k + 1000]})
            assert st == 200, body
            for oid, s in body["orders"].items():
                if s and s["final"]:
                    final[oid] = s
        time.sleep(0.3)
    raise TimeoutError(f"{len(ids) - len(final)} of {len(ids)} orders not final in {timeout}s")


def wait_until(fn: Any, timeout: float = 60, interval: float = 0.2, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what or fn}: last {last!r}")


def wait_drained(api: str, timeout: float = 90) -> None:
    """Wait until every consumer group the dashboard shows has nothing pending and no
    lag, twice in a row. An order is final before the fan-out consumers (analytics,
    ranking, notification, alerts) have necessarily seen its last events, and a handler
    that failed is retried only after its backoff: stop the app before that and the
    check below would see a count that is merely late."""
    def drained() -> bool:
        st, snap = http("GET", f"{api}/api/dashboard")
        assert st == 200, snap
        return all(g["pending"] == 0 and not g["lag"]
                   for s in snap["streams"] for g in s["groups"])

    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        if time.monotonic() > deadline:
            raise TimeoutError(f"consumer groups not drained in {timeout}s")
        quiet = quiet + 1 if drained() else 0
        time.sleep(0.3)


# ---------------------------------------------------------------- invariants
def _json(v: str) -> Any:
    return json.loads(v)


def check_invariants(r: Any, *, expect_orders: int | None = None) -> dict[str, Any]:
    """Everything a consistent pipeline run leaves behind (``r``: sync client with
    decode_responses=True, after every order is final). Returns facts for the caller."""
    from streamlite.apps import keys
    from streamlite.apps.model import FINAL, STATUS_AFTER, rebuild
    from streamlite.apps.services import deliverable
    from streamlite.apps.store import parse_entry

    ids = r.zrange(keys.ORDER_INDEX, 0, -1)
    if expect_orders is not None:
        assert len(ids) == expect_orders
    orders: dict[str, dict[str, Any]] = {}
    histories: dict[str, list[Any]] = {}
    pipe = r.pipeline(transaction=False)
    for oid in ids:
        pipe.hgetall(keys.order_key(oid))
        pipe.xrange(keys.order_events_key(oid))
    res = pipe.execute()
    from streamlite.apps.model import from_hash

    for n, oid in enumerate(ids):
        orders[oid] = from_hash(res[2 * n])  # type: ignore[assignment]
        histories[oid] = [parse_entry(i, f) for i, f in res[2 * n + 1]]

    # every order final; its state is its history folded (event sourcing)
    statuses = Counter(o["status"] for o in orders.values())
    for oid, o in orders.items():
        assert o["status"] in FINAL, (oid, o["status"])
        h = histories[oid]
        assert rebuild(h) == o, oid
        assert [STATUS_AFTER[e.event_type] for e in h][-1] == o["status"]
        assert len({e.event_type for e in h}) == len(h), f"{oid}: an event applied twice"
    sc = {k: int(v) for k, v in r.hgetall(keys.STATUS_COUNTS).items()}
    assert {k: v for k, v in sc.items() if v} == dict(statuses), (sc, statuses)

    # stock: nothing reserved any more, sold = completed quantities, conservation
    completed = [o for o in orders.values() if o["status"] == "COMPLETED"]
    sold: Counter[str] = Counter()
    for o in completed:
        for it in o["items"]:
            sold[it["sku"]] += it["quantity"]
    ranking = {k: int(float(v)) for k, v in r.zrange(keys.RANKING, 0, -1, withscores=True)}
    for sku in r.smembers(keys.CATALOG):
        p = {k: int(v) for k, v in r.hgetall(keys.product_key(sku)).items()
             if k in ("stock", "reserved", "sold", "received")}
        assert p["reserved"] == 0, (sku, p)
        assert p["sold"] == sold[sku], (sku, p, sold[sku])
        assert p["stock"] + p["reserved"] + p["sold"] == p["received"], (sku, p)
        assert ranking.get(sku, 0) == sold[sku], (sku, ranking.get(sku), sold[sku])

    # money: one charge per paid order, revenue = completed totals
    charges = {k: _json(v) for k, v in r.hgetall(keys.GATEWAY_CHARGES).items()}
    paid = {oid for oid, h in histories.items()
            if any(e.event_type == "PAYMENT_COMPLETED" for e in h)}
    assert set(charges) == paid
    for oid in paid:
        assert charges[oid]["amount"] == orders[oid]["total_amount"]
        assert charges[oid]["transaction_id"] == orders[oid]["transaction_id"]
    totals = {k: int(v) for k, v in r.hgetall(keys.ANALYTICS_TOTALS).items()}
    assert totals.get("revenue", 0) == sum(o["total_amount"] for o in completed)
    assert totals.get("completed", 0) == len(completed)
    assert totals.get("orders", 0) == len(orders)
    cancelled = [o for o in orders.values() if o["status"] == "CANCELLED"]
    assert totals.get("cancelled", 0) == len(cancelled)
    pay_failed = {oid for oid, h in histories.items()
                  if any(e.event_type == "PAYMENT_FAILED" for e in h)}
    assert totals.get("payment_failures", 0) == len(pay_failed)
    minutes = [r.hgetall(keys.analytics_minute_key(int(m)))
               for m in r.zrange(keys.ANALYTICS_MINUTES, 0, -1)]
    assert sum(int(m.get("revenue", 0)) for m in minutes) == totals.get("revenue", 0)
    assert sum(int(m.get("orders", 0)) for m in minutes) == len(orders)

    # notifications: exactly one per (order, kind) for deliverable addresses
    outbox = r.xrange(keys.OUTBOX)
    keys_seen = Counter((f["order_id"], f["kind"]) for _, f in outbox)
    assert max(keys_seen.values(), default=1) == 1, "an e-mail was written twice"
    want = set()
    bad_mail_events = 0
    for oid, o in orders.items():
        kinds = {"ORDER_CREATED"} | ({"ORDER_SHIPPED"} if o.get("shipped_ms") else set()) \
            | ({"ORDER_CANCELLED"} if o["status"] == "CANCELLED" else set())
        if deliverable(o["customer_email"]):
            want |= {(oid, k) for k in kinds}
        else:
            bad_mail_events += len(kinds)
    assert set(keys_seen) == want

    # dead letters: every poison message is there, and nothing else. (The framework
    # dead-letters an entry each time a delivery of it fails for good: an entry reclaimed
    # from a consumer that stalled longer than claim_idle_ms, while that consumer still
    # finishes it, can be dead-lettered by both; the sets are what must match.)
    dlq = {s: r.xrange(d) for s, d in keys.DLQ_STREAMS.items()}
    ev_dlq = dlq.pop(keys.ORDER_EVENTS)
    assert all(f["dlq_group"] == "notification" for _, f in ev_dlq)
    assert len({f["event_id"] for _, f in ev_dlq}) == bad_mail_events
    pay_dlq = dlq.pop(keys.PAYMENT_PROCESSING)
    rejected = {oid for oid, o in orders.items() if o.get("payment_token") == "tok_invalid"}
    assert {_json(f["data"])["order_id"] for _, f in pay_dlq} == rejected
    assert all(not v for v in dlq.values()), dlq

    # alerts: one per failed payment and per out-of-stock order
    alerts = r.xrange(keys.ALERTS)
    kinds = Counter(f["kind"] for _, f in alerts)
    assert kinds["PAYMENT_FAILED"] == len(pay_failed)
    oos = [o for o in cancelled if o.get("cancel_reason") == "out_of_stock"]
    assert kinds["OUT_OF_STOCK"] == len(oos)

    # nothing left to do in any group
    for s, g in keys.SUBSCRIPTIONS:
        info = {x["name"]: x for x in r.xinfo_groups(s)}[g]
        assert info["pending"] == 0, (s, g, info)
        assert info["lag"] in (0, None), (s, g, info)
    return {"orders": orders, "statuses": statuses, "histories": histories,
            "reasons": Counter(o.get("cancel_reason") for o in cancelled),
            "dlq_events": len({f["event_id"] for _, f in ev_dlq}),
            "dlq_payments": len(rejected)}
