"""Idempotent XADD (Redis 8.6 ``IDMP``/``IDMPAUTO``) state kept per stream.

For each producer ID the stream remembers the idempotent IDs (iids) it added,
oldest first, with the entry ID each one produced and when. An iid is forgotten
after ``duration`` seconds or when its producer holds more than ``maxsize`` of
them (oldest first). ``XCFGSET`` with changed settings forgets everything.
"""

from __future__ import annotations

DEFAULT_DURATION = 100  # seconds (config stream-idmp-duration)
DEFAULT_MAXSIZE = 100  # iids per producer (config stream-idmp-maxsize)


class IdmpState:
    __slots__ = ("duration", "maxsize", "producers", "iids_added", "iids_duplicates")

    def __init__(self, duration: int, maxsize: int) -> None:
        self.duration = duration
        self.maxsize = maxsize
        # pid -> {iid: (entry id, added ms)} in insertion order
        self.producers: dict[bytes, dict[bytes, tuple[int, int]]] = {}
        self.iids_added = 0
        self.iids_duplicates = 0

    def _expire(self, pid: bytes, now: int) -> dict[bytes, tuple[int, int]] | None:
        iids = self.producers.get(pid)
        if iids is None:
            return None
        horizon = now - self.duration * 1000
        while iids:
            first = next(iter(iids))
            if iids[first][1] > horizon:
                break
            del iids[first]
        if not iids:
            del self.producers[pid]
            return None
        return iids

    def lookup(self, pid: bytes, iid: bytes, now: int) -> int | None:
        """The entry ID ``iid`` produced for ``pid``, if still remembered."""
        iids = self._expire(pid, now)
        if iids is None:
            return None
        hit = iids.get(iid)
        return hit[0] if hit is not None else None

    def record(self, pid: bytes, iid: bytes, sid: int, now: int) -> None:
        iids = self.producers.setdefault(pid, {})
        iids[iid] = (sid, now)
        self.iids_added += 1
        while len(iids) > self.maxsize:
            del iids[next(iter(iids))]

    def configure(self, duration: int, maxsize: int) -> None:
        if duration != self.duration or maxsize != self.maxsize:
            self.producers.clear()
        self.duration = duration
        self.maxsize = maxsize

    def pids_tracked(self, now: int) -> int:
        for pid in list(self.producers):
            self._expire(pid, now)
        return len(self.producers)

    def iids_tracked(self, now: int) -> int:
        for pid in list(self.producers):
            self._expire(pid, now)
        return sum(len(v) for v in self.producers.values())

    def dup(self) -> IdmpState:
        new = IdmpState(self.duration, self.maxsize)
        new.producers = {pid: dict(iids) for pid, iids in self.producers.items()}
        new.iids_added = self.iids_added
        new.iids_duplicates = self.iids_duplicates
        return new

    def mem_usage(self) -> int:
        size = 120
        for pid, iids in self.producers.items():
            size += 100 + len(pid)
            size += sum(100 + len(k) for k in iids)
        return size


def auto_iid(fields: list[bytes]) -> bytes:
    """IDMPAUTO's idempotent ID: a digest of the field/value pairs, in any order."""
    pairs = sorted(zip(fields[0::2], fields[1::2], strict=True))
    import hashlib  # on first use: not needed at the server's start

    h = hashlib.blake2b(digest_size=16)
    for f, v in pairs:
        h.update(len(f).to_bytes(4, "big"))
        h.update(f)
        h.update(len(v).to_bytes(4, "big"))
        h.update(v)
    return b"\x00auto:" + h.digest()
