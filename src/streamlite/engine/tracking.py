"""Client-side caching: CLIENT TRACKING and its invalidation messages (Redis's ``tracking.c``).

Model. A client turns tracking on with ``CLIENT TRACKING ON``; from then on:

- **default mode**: the keys of every read-only command it runs (its own, and
  those of the commands its scripts and transactions run) are remembered in one
  table, key -> ids of the clients that read it. ``OPTIN`` remembers only after
  ``CLIENT CACHING YES``, ``OPTOUT`` always except after ``CLIENT CACHING NO``
  (either for the next command only).
- **BCAST mode**: nothing is remembered; the client registers prefixes (``PREFIX``,
  none means every key) and hears of every key changed under them.

When a key changes (``Database.touch``, Redis's ``signalModifiedKey``: writes,
expiry, eviction) its readers get one ``invalidate`` message and the key leaves
the table (they must read it again to hear of the next change); ``NOLOOP`` clients
do not hear of their own changes. Broadcast keys are gathered per prefix and sent
in one message per client when the front calls ``flush_broadcasts`` (the server
does at the end of each batch, Redis's ``beforeSleep``). FLUSHDB/FLUSHALL send
every tracking client one message with a null instead of keys.

Messages go to the client itself as a RESP3 push ``>2 invalidate [keys]``, or to
the client it ``REDIRECT``s to: a RESP3 push there too, or for a RESP2 client in
subscribed mode a pub/sub ``message`` on ``__redis__:invalidate``. A RESP2 client
without redirection gets nothing, as in Redis. If the redirect client is gone,
the client is flagged ``broken_redirect`` and (RESP3) told with a
``tracking-redir-broken`` push.

The table holds at most ``tracking-table-max-keys`` keys (0: no limit); past it
the oldest remembered keys are invalidated (Redis picks random ones, a few per
cycle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .record import Record
from .replies import Push

if TYPE_CHECKING:
    from .client import Client
    from .core import Engine

CHANNEL = b"__redis__:invalidate"


class ClientTracking(Record):
    """One client's tracking options (present while tracking is on)."""

    __slots__ = _fields = ("redirect", "bcast", "optin", "optout", "noloop", "caching",
                           "broken_redirect", "prefixes")

    def __init__(self, redirect: int = 0, bcast: bool = False, optin: bool = False,
                 optout: bool = False, noloop: bool = False, caching: bool = False,
                 broken_redirect: bool = False, prefixes: list[bytes] | None = None) -> None:
        self.redirect = redirect
        self.bcast = bcast
        self.optin = optin
        self.optout = optout
        self.noloop = noloop
        self.caching = caching  # CLIENT CACHING given for the next command
        self.broken_redirect = broken_redirect
        self.prefixes: list[bytes] = [] if prefixes is None else prefixes


class Tracking:
    """The engine-wide tables: keys -> reader ids, prefixes -> broadcast state."""

    __slots__ = ("engine", "table", "items", "prefixes", "clients", "current")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.table: dict[bytes, dict[int, None]] = {}
        self.items = 0  # sum of the readers of every key (INFO tracking_total_items)
        # prefix -> (clients registered, keys changed since the last broadcast -> who)
        self.prefixes: dict[bytes, tuple[dict[Client, None], dict[bytes, Client | None]]] = {}
        self.clients: dict[Client, None] = {}  # every client with tracking on
        self.current: Client | None = None  # the client running the top-level command

    # -- turning it on and off ---------------------------------------------------------

    def enable(self, c: Client, redirect: int, bcast: bool, optin: bool, optout: bool,
               noloop: bool, prefixes: list[bytes]) -> None:
        st = c.tracking
        if st is None:
            st = c.tracking = ClientTracking()
            self.clients[c] = None
        st.redirect = redirect
        st.broken_redirect = False
        st.bcast, st.optin, st.optout, st.noloop = bcast, optin, optout, noloop
        if bcast:
            for p in prefixes or [b""]:
                if p not in st.prefixes:
                    st.prefixes.append(p)
                    entry = self.prefixes.get(p)
                    if entry is None:
                        entry = self.prefixes[p] = ({}, {})
                    entry[0][c] = None

    def disable(self, c: Client) -> None:
        st = c.tracking
        if st is None:
            return
        for p in st.prefixes:
            entry = self.prefixes.get(p)
            if entry is not None:
                entry[0].pop(c, None)
                if not entry[0]:
                    del self.prefixes[p]
        c.tracking = None
        self.clients.pop(c, None)
        if self.current is c:
            self.current = None

    # -- remembering and invalidating ----------------------------------------------------

    def remember(self, c: Client, keys: list[bytes]) -> None:
        """The keys a read-only command of tracking client ``c`` read."""
        st = c.tracking
        if st is None or st.bcast:
            return
        if (st.optin and not st.caching) or (st.optout and st.caching):
            return
        table = self.table
        cid = c.id
        for k in keys:
            ids = table.get(k)
            if ids is None:
                ids = table[k] = {}
            if cid not in ids:
                ids[cid] = None
                self.items += 1
        limit = int(self.engine.config.get("tracking-table-max-keys", 0))
        while limit and len(table) > limit:
            self.invalidate(next(iter(table)), bcast=False)

    def invalidate(self, key: bytes, bcast: bool = True) -> None:
        """``key`` changed: tell its readers, and note it for the broadcasts."""
        if bcast and self.prefixes:
            who = self.current
            for p, (_, pending) in self.prefixes.items():
                if key.startswith(p):
                    pending[key] = who
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.items -= len(ids)
        by_id = self._by_id()
        for cid in ids:
            target = by_id.get(cid)
            if target is None or target.tracking is None or target.tracking.bcast:
                continue
            if target.tracking.noloop and target is self.current:
                continue
            self.send(target, [key])

    def flushed(self) -> None:
        """FLUSHDB / FLUSHALL: every tracking client is told (a null), the table is emptied."""
        for c in list(self.clients):
            self.send(c, None)
        self.table.clear()
        self.items = 0

    def flush_broadcasts(self) -> None:
        """Send the keys changed under each prefix to its BCAST clients (one message
        per prefix and client; NOLOOP clients without their own changes)."""
        for _, (clients, pending) in list(self.prefixes.items()):
            if not pending:
                continue
            keys = sorted(pending)  # Redis keeps them in a radix tree: lexicographic
            for c in list(clients):
                st = c.tracking
                if st is None:
                    continue
                if st.noloop:
                    mine = [k for k in keys if pending[k] is not c]
                    if mine:
                        self.send(c, mine)
                else:
                    self.send(c, keys)
            pending.clear()

    # -- sending -----------------------------------------------------------------------

    def _by_id(self) -> Any:
        return self.engine.clients_by_id

    def send(self, c: Client, keys: list[bytes] | None) -> None:
        """Redis's ``sendTrackingMessage``: to ``c`` or the client it redirects to."""
        st = c.tracking
        payload: Any = keys  # None: a null (FLUSHALL), $-1 in RESP2 as Redis
        if st is not None and st.redirect:
            target = self._by_id().get(st.redirect)
            if target is None:
                st.broken_redirect = True
                if c.wire_protocol > 2:
                    c.push(Push([b"tracking-redir-broken", st.redirect]))
                return
            if target.wire_protocol > 2:
                target.push(Push([b"invalidate", payload]))
            elif target.in_pubsub:
                target.push(Push([b"message", CHANNEL, payload]))
            return
        if c.wire_protocol > 2:
            c.push(Push([b"invalidate", payload]))


def tracking_of(engine: Engine) -> Tracking:
    """The engine's tracking tables, created when a client first turns tracking on."""
    t: Tracking | None = engine.tracking
    if t is None:
        t = engine.tracking = Tracking(engine)
    return t
