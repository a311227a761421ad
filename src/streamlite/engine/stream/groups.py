"""Consumer groups, consumers and pending entries lists (PELs).

As in Redis, each group has one PEL (ID -> NACK) and each consumer a PEL of the
IDs it owns; a NACK (delivery time, delivery count, owner) is shared by both.
Group PELs are ``SortedDict``s and consumer PELs ``SortedList``s, so XPENDING
ranges, XAUTOCLAIM scans, history reads and XACK are O(log n) per entry.

Groups and consumers are kept in name order (Redis keeps them in radix trees,
which iterate in byte order).

A group's entries-read counter and lag follow Redis's rules
(``streamEstimateDistanceFromFirstEverEntry``): ``entries_read`` is -1 when
unknown, and lag is None when it cannot be known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sortedcontainers import SortedDict, SortedList

from .sortedbulk import append_run, remove_run

if TYPE_CHECKING:
    from .stream import Stream

INVALID_ENTRIES_READ = -1  # Redis's SCG_INVALID_ENTRIES_READ
LLONG_MAX = (1 << 63) - 1  # delivery counters saturate here (XNACK FATAL sets it)


def bump_delivery(nack: NACK) -> None:
    """One more delivery; the counter saturates at LLONG_MAX (a FATAL-NACKed entry)."""
    if nack.delivery_count < LLONG_MAX:
        nack.delivery_count += 1


class NACK:
    """A pending entry: delivered, not yet acknowledged."""

    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, consumer: Consumer | None, now: int, count: int = 1) -> None:
        self.delivery_time = now
        self.delivery_count = count
        self.consumer = consumer


class Consumer:
    __slots__ = ("name", "pel", "seen_time", "active_time")

    def __init__(self, name: bytes, now: int) -> None:
        self.name = name
        self.pel: SortedList = SortedList()  # IDs this consumer owns
        self.seen_time = now  # last attempted interaction
        self.active_time = -1  # last successful interaction (-1 = never)


class ConsumerGroup:
    __slots__ = ("name", "last_id", "entries_read", "pel", "consumers", "_by_time", "nacked")

    def __init__(self, name: bytes, last_id: int, entries_read: int) -> None:
        self.name = name
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: SortedDict = SortedDict()  # id -> NACK
        self.consumers: SortedDict = SortedDict()  # name -> Consumer
        # (delivery_time << 128 | id) of every NACK, built on first use by
        # XREADGROUP ... CLAIM and maintained from then on
        self._by_time: SortedList | None = None
        # the NACK zone (XNACK): released entries, unowned, delivery time 0, in the
        # order they were released (Redis keeps them FIFO at the head of its
        # time-ordered PEL list); XREADGROUP ... CLAIM serves them first
        self.nacked: dict[int, None] = {}

    # -- consumers -------------------------------------------------------------

    def consumer(self, name: bytes) -> Consumer | None:
        c: Consumer | None = self.consumers.get(name)
        return c

    def create_consumer(self, name: bytes, now: int) -> Consumer | None:
        """Create ``name``; None if it already exists."""
        if name in self.consumers:
            return None
        c = Consumer(name, now)
        self.consumers[name] = c
        return c

    def delete_consumer(self, c: Consumer) -> int:
        """Remove a consumer and its pending entries; returns how many were pending."""
        n = len(c.pel)
        for sid in c.pel:
            nack = self.pel.pop(sid)
            self._untime(nack.delivery_time, sid)
        del self.consumers[c.name]
        return n

    # -- PEL -------------------------------------------------------------------

    def add_nack(self, sid: int, consumer: Consumer, now: int, count: int = 1) -> NACK:
        nack = NACK(consumer, now, count)
        self.pel[sid] = nack
        consumer.pel.add(sid)
        if self._by_time is not None:
            self._by_time.add((now << 128) | sid)
        return nack

    def add_new_nacks(self, sids: list[int], nacks: list[NACK], consumer: Consumer) -> None:
        """``add_nack`` for IDs not pending, ascending, with their NACKs owned by
        ``consumer`` (XREADGROUP ``>``; no delivery-time index): in one step when they
        sort after every pending ID (``sortedbulk.append_run``), else one by one."""
        pel = self.pel
        if append_run(pel._list, sids):
            dict.update(pel, zip(sids, nacks, strict=True))
        else:
            for sid, nack in zip(sids, nacks, strict=True):
                pel[sid] = nack
        if not append_run(consumer.pel, sids):
            for sid in sids:
                consumer.pel.add(sid)

    def remove_nacks(self, sids: list[int]) -> int:
        """``remove_nack`` for each of ``sids`` (XACK; no delivery-time index): how
        many were pending. A run of the oldest pending IDs of one consumer leaves both
        PELs in one step (``sortedbulk.remove_run``)."""
        pel = self.pel
        pop = dict.pop  # the sorted keys are updated below
        gone: list[int] = []
        owners: list[Consumer | None] = []
        for sid in sids:
            nack = pop(pel, sid, None)
            if nack is not None:
                gone.append(sid)
                owners.append(nack.consumer)
        if not gone:
            return 0
        keys = pel._list
        if not remove_run(keys, gone):
            for sid in gone:
                keys.remove(sid)
        owner = owners[0]
        if owner is not None and owners.count(owner) == len(owners) and remove_run(owner.pel,
                                                                                   gone):
            return len(gone)
        for sid, owner in zip(gone, owners, strict=True):
            if owner is not None:
                owner.pel.remove(sid)
            else:
                self.nacked.pop(sid, None)
        return len(gone)

    def add_nack_orphan(self, sid: int, now: int) -> NACK:
        """A NACK with no owner yet (XCLAIM ... FORCE); ``set_owner`` gives it one."""
        nack = NACK(None, now, 1)
        self.pel[sid] = nack
        if self._by_time is not None:
            self._by_time.add((now << 128) | sid)
        return nack

    def remove_nack(self, sid: int) -> NACK | None:
        """Acknowledge: drop ``sid`` from the group and its consumer's PEL."""
        nack: NACK | None = self.pel.pop(sid, None)
        if nack is None:
            return None
        if nack.consumer is not None:
            nack.consumer.pel.remove(sid)
        else:
            self.nacked.pop(sid, None)
        self._untime(nack.delivery_time, sid)
        return nack

    def set_owner(self, sid: int, nack: NACK, consumer: Consumer) -> None:
        if nack.consumer is consumer:
            return
        if nack.consumer is not None:
            nack.consumer.pel.remove(sid)
        else:
            self.nacked.pop(sid, None)  # a released entry leaves the NACK zone
        consumer.pel.add(sid)
        nack.consumer = consumer

    def release(self, sid: int, nack: NACK, count: int) -> None:
        """XNACK: unown ``sid``, set its delivery time to 0 and its counter to
        ``count``, and put it at the tail of the NACK zone."""
        if nack.consumer is not None:
            nack.consumer.pel.remove(sid)
            nack.consumer = None
        self.set_time(sid, nack, 0)
        nack.delivery_count = count
        self.nacked.pop(sid, None)
        self.nacked[sid] = None

    def add_released(self, sid: int, count: int) -> NACK:
        """XNACK ... FORCE for an ID not pending: a new released (unowned) entry."""
        nack = self.add_nack_orphan(sid, 0)
        nack.delivery_count = count
        self.nacked[sid] = None
        return nack

    def set_time(self, sid: int, nack: NACK, when: int) -> None:
        if nack.delivery_time == when:
            return
        if self._by_time is not None:
            self._by_time.discard((nack.delivery_time << 128) | sid)
            self._by_time.add((when << 128) | sid)
        nack.delivery_time = when

    def _untime(self, when: int, sid: int) -> None:
        if self._by_time is not None:
            self._by_time.discard((when << 128) | sid)

    def time_index(self) -> SortedList | None:
        """The delivery-time index if something built it (see ``by_time``), else None."""
        return self._by_time

    def by_time(self) -> SortedList:
        """Pending IDs ordered by delivery time (then ID), as ``time << 128 | id``."""
        if self._by_time is None:
            self._by_time = SortedList(
                (n.delivery_time << 128) | sid for sid, n in self.pel.items()
            )
        return self._by_time

    def references(self, sid: int) -> bool:
        """True while ``sid`` is undelivered to this group or pending in it."""
        return sid > self.last_id or sid in self.pel

    # -- lag -------------------------------------------------------------------

    def lag(self, s: Stream) -> int | None:
        """Entries not yet delivered to the group; None when it cannot be known."""
        if not s.entries_added or not s.length:
            return 0
        first = s.first_id
        if self.last_id < first and s.max_deleted_id < first:
            return s.length
        if self.entries_read != INVALID_ENTRIES_READ and not range_has_tombstones(
            s, self.last_id, None
        ):
            return s.entries_added - self.entries_read
        est = estimate_entries_read(s, self.last_id)
        if est != INVALID_ENTRIES_READ:
            return s.entries_added - est
        return None

    def mem_usage(self) -> int:
        size = 200 + len(self.name)
        # dict slot + sorted key + NACK object + its ints (measured with tracemalloc)
        size += len(self.pel) * 104
        for c in self.consumers.values():
            size += 200 + len(c.name) + len(c.pel) * 40
        return size


def range_has_tombstones(s: Stream, start: int | None, end: int | None) -> bool:
    """Redis's ``streamRangeHasTombstones``: the max deleted ID lies in [start, end]."""
    if not s.length or not s.max_deleted_id:
        return False
    lo = start if start is not None else 0
    hi = end if end is not None else (1 << 128) - 1
    return lo <= s.max_deleted_id <= hi


def estimate_entries_read(s: Stream, sid: int, first: int | None = None) -> int:
    """Redis's ``streamEstimateDistanceFromFirstEverEntry``: entries-read for ``sid``.

    Returns -1 when it cannot be known. ``first`` is ``s.first_id`` when the
    caller already has it (XREADGROUP asks once per entry served).
    """
    if not s.entries_added:
        return 0
    if not s.length and sid <= s.last_id:
        return s.entries_added
    if sid and sid < s.max_deleted_id:
        return INVALID_ENTRIES_READ
    if sid == s.last_id:
        return s.entries_added
    if sid > s.last_id:
        return INVALID_ENTRIES_READ
    if first is None:
        first = s.first_id
    if not s.max_deleted_id or s.max_deleted_id < first:
        if sid < first:
            return s.entries_added - s.length
        if sid == first:
            return s.entries_added - s.length + 1
    return INVALID_ENTRIES_READ
