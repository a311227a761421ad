"""Every key, stream and consumer group of the order pipeline, in one place.

The stage streams and their teams are those of seed 001 (section 4); ``order-events`` is
seed 000's stream of domain events that ranking, notification, analytics and alerts
consume (fan-out: one group each).

The layout is made for Redis Cluster, and is the same on every backend: every atomic
step (one Lua script) touches keys of one hash slot only.

* An order's keys share its own hash tag: ``order:{ORD-00000001}`` (the state) and
  ``order:{ORD-00000001}:events`` (its history), so a state change and its history entry
  are one step, and orders spread over every slot.
* Cross-order state is grouped by what changes together: the order counters and index
  under ``{orders}``; analytics under ``{analytics}``; a product's hash
  ``product:<sku>`` with its per-order holds ``{product:<sku>}:hold:<order>``; alerts
  with their counts under ``{alerts}``. Each is changed by an idempotent follow-up step
  of its own (see :mod:`.followups` and :func:`.store.once`), whose marker lives in the
  same slot as the keys it changes (:func:`done_key`).
"""

from __future__ import annotations

from streamlite.events import colocated, dlq_stream

# ---------------------------------------------------------------- stage streams
ORDER_RECEIVED = "order-received"        # ORDER_CREATED: a new order to check
INVENTORY_CHECK = "inventory-check"      # STOCK_RESERVED / OUT_OF_STOCK / LOW_STOCK
PAYMENT_PROCESSING = "payment-processing"  # PAYMENT_REQUESTED: charge the customer
PAYMENT_RESULT = "payment-result"        # PAYMENT_COMPLETED / PAYMENT_FAILED
SHIPPING_DISPATCH = "shipping-dispatch"  # ORDER_SHIPPED: courier and tracking number
ORDER_EVENTS = "order-events"            # every domain event, for the fan-out consumers

STAGE_STREAMS = [ORDER_RECEIVED, INVENTORY_CHECK, PAYMENT_PROCESSING, PAYMENT_RESULT,
                 SHIPPING_DISPATCH]
PIPELINE_STREAMS = [*STAGE_STREAMS, ORDER_EVENTS]

# ---------------------------------------------------------------- output streams
OUTBOX = "notifications:outbox"          # customer messages, for a mail relay to send
ALERTS = "alerts"                        # low stock, out of stock, failed payments

# ---------------------------------------------------------------- consumer groups
G_INVENTORY = "inventory"        # order-received (reserve), payment-result (release)
G_PAYMENT = "payment"            # inventory-check: request the payment
G_GATEWAY = "payment-gateway"    # payment-processing: charge through the gateway
G_SHIPPING = "shipping"          # payment-result: courier + tracking number
G_ORDERS = "order-service"       # shipping-dispatch: complete the order
G_RANKING = "ranking"            # order-events
G_NOTIFICATION = "notification"  # order-events
G_ANALYTICS = "analytics"        # order-events
G_ALERTS = "alerts"              # order-events and inventory-check

# (stream, group) of every subscription, in pipeline order (the dashboard's order too)
SUBSCRIPTIONS: list[tuple[str, str]] = [
    (ORDER_RECEIVED, G_INVENTORY),
    (INVENTORY_CHECK, G_PAYMENT),
    (INVENTORY_CHECK, G_ALERTS),
    (PAYMENT_PROCESSING, G_GATEWAY),
    (PAYMENT_RESULT, G_SHIPPING),
    (PAYMENT_RESULT, G_INVENTORY),
    (SHIPPING_DISPATCH, G_ORDERS),
    (ORDER_EVENTS, G_RANKING),
    (ORDER_EVENTS, G_NOTIFICATION),
    (ORDER_EVENTS, G_ANALYTICS),
    (ORDER_EVENTS, G_ALERTS),
]

DLQ_STREAMS = {s: dlq_stream(s) for s in PIPELINE_STREAMS}

# ---------------------------------------------------------------- orders
ORDER_SEQ = "{orders}:seq"               # INCR: order numbers
ORDER_INDEX = "{orders}:index"           # zset: order id by creation time (ms)
STATUS_COUNTS = "{orders}:status"        # hash: status -> orders in it now
FUNNEL = "{orders}:funnel"               # hash: status -> orders that ever reached it
CANCEL_REASONS = "{orders}:cancelled"    # hash: reason -> cancelled orders
COUNTED = "{orders}:counted"             # hash: order -> history events counted above


def order_key(order_id: str) -> str:
    """The order's current state (a projection of its events), in its own slot."""
    return f"order:{{{order_id}}}"


def order_events_key(order_id: str) -> str:
    """The order's history: every state change, in order (event sourcing)."""
    return f"order:{{{order_id}}}:events"


def request_key(idempotency_key: str) -> str:
    """Idempotency-Key of a create request -> the order it created."""
    return f"order:request:{{{idempotency_key}}}"


# ---------------------------------------------------------------- catalog, stock
CATALOG = "catalog"                      # set of SKUs
CATALOG_READY = "catalog:ready"


def product_key(sku: str) -> str:
    """Hash: name, price, stock (available), reserved, sold, received (all stock ever)."""
    return f"product:{sku}"


def hold_key(sku: str, order_id: str) -> str:
    """The units of ``sku`` held for an order: ``held:<left>:<before>``, then ``released``
    or ``sold`` (see :mod:`.followups`); in the product's slot."""
    return colocated(product_key(sku), f":hold:{order_id}")


# ---------------------------------------------------------------- effects
RANKING = "ranking:products"             # zset: sku -> quantity sold (seed 000)
ANALYTICS_TOTALS = "{analytics}:totals"
ANALYTICS_MINUTES = "{analytics}:minutes"  # zset: minute (epoch s) -> same
ALERT_COUNTS = "{alerts}:counts"
GATEWAY_CONFIG = "gateway:config"
DEMO_SETTINGS = "demo:settings"          # hash: rate, paused (the dashboard's demo controls)
GATEWAY_CHARGES = "gateway:charges"      # hash: order id -> charge (the gateway's ledger)


def analytics_minute_key(minute_epoch_s: int) -> str:
    return f"{{analytics}}:minute:{minute_epoch_s}"


def done_key(home: str, ident: str) -> str:
    """Marker: the effect on ``home`` (and the keys of its slot) for event ``ident`` was
    applied (see :func:`.store.once`); in ``home``'s slot."""
    return colocated(home, f":done:{ident}")
