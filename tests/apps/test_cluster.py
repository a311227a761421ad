"""The order pipeline on a real Redis Cluster (3 masters, 3 replicas), beyond the runs
marked ``cluster_too`` (1,000 orders, kill -9 of a worker process and of the whole app):
the key layout puts every atomic step in one slot and spreads orders over every master;
the dashboard shows every stream; the operations CLI works on the app's streams by
cluster URL; a one-server URL to a cluster node is refused at start."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from streamlite.apps import keys
from streamlite.apps.orders import order_id_for

from .support import FAST, AppProc, env, http, order_body, wait_drained, wait_final


@pytest.fixture
def cluster(redis_cluster):
    redis_cluster.flushall()
    return redis_cluster


def slot(cl, key: str) -> int:
    with cl.nodes[0].client() as c:
        return int(c.execute_command("CLUSTER", "KEYSLOT", key))


def test_layout_one_slot_per_order_spread_over_masters(cluster):
    ids = [order_id_for(n) for n in range(1, 31)]
    for oid in ids:
        assert slot(cluster, keys.order_key(oid)) == slot(cluster, keys.order_events_key(oid))
    assert len({cluster.master_of(keys.order_key(oid)).port for oid in ids}) == 3
    counters = {keys.STATUS_COUNTS, keys.FUNNEL, keys.CANCEL_REASONS, keys.ORDER_INDEX,
                keys.COUNTED, keys.ORDER_SEQ}
    assert len({slot(cluster, k) for k in counters}) == 1
    assert slot(cluster, keys.hold_key("IPAD-AIR", "ORD-1")) == \
        slot(cluster, keys.product_key("IPAD-AIR"))
    assert slot(cluster, keys.done_key(keys.ANALYTICS_TOTALS, "x")) == \
        slot(cluster, keys.analytics_minute_key(60)) == slot(cluster, keys.ANALYTICS_MINUTES)
    assert slot(cluster, keys.done_key(keys.ALERTS, "x")) == slot(cluster, keys.ALERT_COUNTS)


def test_dashboard_and_cli_on_the_cluster(cluster):
    url = cluster.url()
    app = AppProc(url, FAST).start()
    try:
        assert "(Redis Cluster)" in "".join(app.lines)
        ids = []
        for i in range(12):
            body = order_body("IPAD-AIR", 1 + i % 2)
            if i % 4 == 1:
                body["customer_email"] = f"c{i}@mail.invalid"  # its e-mails: dead letters
            st, o = http("POST", f"{app.api}/api/orders", body)
            assert st == 201, o
            ids.append(o["order_id"])
        final = wait_final(app.api, ids, timeout=90)
        assert {s["status"] for s in final.values()} == {"COMPLETED"}
        wait_drained(app.api)
        st, snap = http("GET", f"{app.api}/api/dashboard")
        assert st == 200 and "error" not in snap
        shown = {s["name"]: s for s in snap["streams"]}
        assert set(keys.PIPELINE_STREAMS) <= set(shown)
        assert all(shown[s]["length"] > 0 for s in keys.PIPELINE_STREAMS)
        assert {(s, g["name"]) for s in shown for g in shown[s]["groups"]} >= \
            set(keys.SUBSCRIPTIONS)
        assert snap["status_counts"]["COMPLETED"] == 12
        assert snap["totals"]["completed"] == 12
        dlq = {d["stream"]: d for d in snap["dlq"]}
        assert dlq[keys.ORDER_EVENTS]["length"] >= 3

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "streamlite", *args, "--url", url],
                                  capture_output=True, text=True, timeout=60, env=env())

        out = cli("top", "--json")
        assert out.returncode == 0, out.stderr
        rows = [json.loads(x) for x in out.stdout.splitlines()]
        assert {(r["stream"], r["group"]) for r in rows} >= set(keys.SUBSCRIPTIONS)
        out = cli("tail", keys.ORDER_EVENTS, "--from", "0", "--count", "3", "--json")
        assert out.returncode == 0, out.stderr
        assert [json.loads(x)["event_type"] for x in out.stdout.splitlines()] == \
            ["ORDER_CREATED"] * 3
        out = cli("dlq", "list", keys.ORDER_EVENTS, "--json")
        assert out.returncode == 0, out.stderr
        letters = [json.loads(x) for x in out.stdout.splitlines()]
        assert len(letters) >= 3 and {x["group"] for x in letters} == {"notification"}
    finally:
        assert app.stop() == 0, app.stderr()[-3000:]


def test_run_refuses_a_cluster_node_given_as_one_server(cluster):
    node = f"redis://127.0.0.1:{cluster.nodes[0].port}/0"
    p = subprocess.run([sys.executable, "-m", "streamlite", "run", "--url", node, "--port",
                        "0", "--demo", "0"], capture_output=True, text=True, timeout=60,
                       env=env())
    assert p.returncode == 3, p.stderr
    assert "node of a Redis Cluster" in p.stderr and "redis+cluster://" in p.stderr
    assert "Traceback" not in p.stderr


def test_interrupted_steps_are_finished_by_the_next_reader(cluster):
    """What a process killed at the worst moment leaves on a cluster, set up by hand:
    order A's stock reservation applied without its follow-ups (a worker died between
    the step and them); order B only as its order-received entry (the API died before
    storing it); C an ORDER_CREATED entry with an id the API never handed out. The
    pipeline then finishes A and B exactly once and dead-letters C."""
    import asyncio

    from streamlite.apps.catalog import ensure_catalog, load_products
    from streamlite.apps.followups import holds
    from streamlite.apps.model import ORDER_CREATED, RECEIVED, STOCK_RESERVED, validate_order
    from streamlite.apps.orders import Change, create_order, creation_data, event_id
    from streamlite.apps.store import apply, envelope, now_ms
    from streamlite.events import connect_async

    from .support import check_invariants

    async def setup() -> tuple[str, str]:
        r = connect_async(cluster.url())
        await ensure_catalog(r, 1000)
        catalog = await load_products(r)
        a, _ = await create_order(r, validate_order(order_body("IPAD-AIR", 2), catalog))
        oid = a["order_id"]
        c = Change(oid, a, now_ms())
        c.ops.require(keys.order_key(oid), "version", a["version"])
        assert a["status"] == RECEIVED
        await holds(r, oid, "reserve", a["items"])
        c.record(STOCK_RESERVED, {"order_id": oid, "items": [
            {"sku": "IPAD-AIR", "quantity": 2}]})
        assert await apply(r, c.ops) == 0  # the step alone: no follow-ups, no mark
        b_id = order_id_for(int(await r.incr(keys.ORDER_SEQ)))
        b = creation_data(b_id, validate_order(order_body("WATCH-S9", 1), catalog))
        await r.xadd(keys.ORDER_RECEIVED, envelope(ORDER_CREATED, b,
                                                    event_id(b_id, ORDER_CREATED), now_ms()))
        forged = dict(b, order_id="ORD-99999999")
        await r.xadd(keys.ORDER_RECEIVED, envelope(ORDER_CREATED, forged,
                                                    "ORD-99999999:ORDER_CREATED", now_ms()))
        await r.aclose()
        return oid, b_id

    a_id, b_id = asyncio.run(setup())
    # A's ORDER_CREATED is still unhandled, as after the worker's death: its handler
    # finds A past that step and finishes the step's follow-ups (STOCK_RESERVED was
    # never published: without them A would stay RESERVED)
    app = AppProc(cluster.url(), FAST).start()
    r = cluster.client(decode_responses=True)
    try:
        final = wait_final(app.api, [a_id, b_id], timeout=90)
        assert {s["status"] for s in final.values()} == {"COMPLETED"}
        wait_drained(app.api)
        st, d = http("GET", f"{app.api}/api/dlq")
        dl = {x["stream"]: x for x in d["dead_letters"]}[keys.ORDER_RECEIVED]["entries"]
        assert len(dl) == 1 and "not an order id the API handed out" in dl[0]["error"]
        http("POST", f"{app.api}/api/dlq/order-received/purge", {})
    finally:
        assert app.stop() == 0, app.stderr()[-3000:]
    check_invariants(r, expect_orders=2)
    r.close()
