"""The stream value: entries in compact blocks, plus the bookkeeping Redis keeps.

Layout (modelled on Redis's radix tree of listpacks):

- Entries live in *nodes* of up to ``stream-node-max-entries`` entries (default
  100), closed early when the listpack Redis would use reaches
  ``stream-node-max-bytes`` (default 4096; bytes counted as a listpack counts
  them, see ``listpack``). ``_keys`` holds each node's first ("master") ID, so a
  lookup is a bisect over nodes plus a binary search inside one node.
- A node stores its IDs as (ms - ``base``, seq) pairs in one array, ``base`` being
  the ms of its first entry: ``array('I')`` (8 bytes an entry) while every ms delta
  and seq fits 32 bits, else ``array('Q')`` (the node's array is widened when an
  entry first needs it); one flag byte per entry (deleted, same-fields-as-master);
  one offset per entry into the field data, ``array('H')`` while the offsets are
  below 64 KB, else ``array('I')``; and the field data as one byte string: each
  value (and, when the entry's field names differ from the node's master fields,
  the field names too) prefixed by a varint length. The master field names are
  stored once per node, as Redis's master entry does (and one list is shared by
  consecutive nodes with the same names). Readers take either typecode: the
  array's own ``typecode`` (``itemsize`` in C) is the mode, and ``base + ids[2j]``
  is the ms in both.
- The tail node grows; ``seal`` (when a new node starts) drops its growth slack.
- Deleting marks a tombstone flag; a node whose last live entry is deleted is
  dropped (as Redis drops the listpack). Tombstones stay until then, and count
  toward the node's size, exactly as in Redis.

IDs are ints (``ms << 64 | seq``, see ``ids``); an entry's fields are a flat list
``[f1, v1, f2, v2, ...]`` of bytes.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ...accel import speedups
from ..database import register_type
from ..types.listpack import LP_EMPTY, int_size, signed64, str_size
from .ids import _SMALL as _SMALL_INTS
from .ids import format_id

if TYPE_CHECKING:
    from .groups import ConsumerGroup

F_DELETED = 1
F_SAME = 2
_M64 = (1 << 64) - 1
# the compiled twin of ``Stream.entries_py``'s forward walk (None: pure Python)
_entries_fwd = speedups.entries_fwd if speedups is not None else None
_entries_resp = speedups.entries_resp if speedups is not None else None
LISTPACK_MAX_SIZE = 1 << 30

# Trim strategies and reference policies (XADD/XTRIM/XDELEX/XACKDEL).
TRIM_MAXLEN = 1
TRIM_MINID = 2
KEEPREF = 0
DELREF = 1
ACKED = 2


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 128:
        out.append((n & 127) | 128)
        n >>= 7
    out.append(n)
    return bytes(out)


def same_size(nfields: int) -> int:
    """Listpack bytes of an entry with its node's ``nfields`` master fields, besides
    its ID and values: its flags (2) and its lp-count (``_Node.same_size``)."""
    return 2 + int_size(nfields + 3)


_U32 = 0xFFFFFFFF
_U16 = 0xFFFF


def compact_ids(base: int, ids: array[int]) -> array[int]:
    """``ids`` (absolute (ms, seq) pairs, ``array('Q')``) as a node stores them: ms
    minus ``base`` (the first entry's ms), in ``array('I')`` when everything fits."""
    rel = array("Q", ids)
    if base:
        rel[0::2] = array("Q", [m - base for m in ids[0::2]])
    if len(rel) and max(rel) <= _U32:
        return array("I", rel)
    return rel


def absolute_ids(base: int, ids: array[int]) -> array[int]:
    """A node's ``ids`` as absolute (ms, seq) pairs in ``array('Q')`` (the serialized
    form, see ``serialize``)."""
    out = array("Q", ids)
    if base:
        out[0::2] = array("Q", [base + d for d in ids[0::2]])
    return out


def compact_offs(offs: array[int]) -> array[int]:
    """Offsets as a node stores them: ``array('H')`` when all are below 64 KB."""
    return array("H", offs) if not len(offs) or offs[-1] <= _U16 else array("I", offs)


class _Node:
    """One block of entries (Redis: one listpack in the radix tree)."""

    __slots__ = ("ids", "flags", "offs", "data", "fields", "live", "dead", "body", "same_size",
                 "base")

    def __init__(self, fields: list[bytes], base: int = 0) -> None:
        self.base = base  # ms of the first entry: ids hold ms - base
        self.ids = array("I")
        self.flags = bytearray()
        self.offs = array("H")
        self.data: bytes | bytearray = bytearray()
        self.fields = fields
        self.live = 0
        self.dead = 0
        # listpack bytes without the live/deleted counters
        self.body = LP_EMPTY + int_size(len(fields)) + sum(map(str_size, fields)) + 2
        self.same_size = same_size(len(fields))

    @property
    def lp_bytes(self) -> int:
        return self.body + int_size(self.live) + int_size(self.dead)

    def __len__(self) -> int:
        return len(self.flags)

    def id_at(self, j: int) -> int:
        ids = self.ids
        return ((self.base + ids[2 * j]) << 64) | ids[2 * j + 1]

    def last_id(self) -> int:
        """ID of the last entry, tombstone or not (Redis's lpGetEdgeStreamID)."""
        return self.id_at(len(self.flags) - 1)

    def first_id(self) -> int:
        return ((self.base + self.ids[0]) << 64) | self.ids[1]

    def append_id(self, ms: int, seq: int) -> None:
        """Append an entry's ID (ms >= every ms present), widening ``ids`` to 'Q'
        when its ms delta or seq does not fit 32 bits."""
        ids = self.ids
        d = ms - self.base
        if (d > _U32 or seq > _U32) and ids.typecode == "I":
            ids = self.ids = array("Q", ids)
        ids.append(d)
        ids.append(seq)

    def append_off(self, off: int) -> None:
        """Append an entry's data offset, widening ``offs`` to 'I' past 64 KB."""
        offs = self.offs
        if off > _U16 and offs.typecode == "H":
            offs = self.offs = array("I", offs)
        offs.append(off)

    def find_ge(self, sid: int) -> int:
        """Index of the first entry with ID >= sid (len if none)."""
        lo, hi = 0, len(self.flags)
        ids = self.ids
        ms, seq = (sid >> 64) - self.base, sid & _M64
        while lo < hi:
            mid = (lo + hi) >> 1
            m = ids[2 * mid]
            if m < ms or (m == ms and ids[2 * mid + 1] < seq):
                lo = mid + 1
            else:
                hi = mid
        return lo

    def find_le(self, sid: int) -> int:
        """Index of the last entry with ID <= sid (-1 if none)."""
        lo, hi = 0, len(self.flags)
        ids = self.ids
        ms, seq = (sid >> 64) - self.base, sid & _M64
        while lo < hi:
            mid = (lo + hi) >> 1
            m = ids[2 * mid]
            if m < ms or (m == ms and ids[2 * mid + 1] <= seq):
                lo = mid + 1
            else:
                hi = mid
        return lo - 1

    def index_of(self, sid: int) -> int:
        """Index of the entry with this exact ID (live or not), -1 if absent."""
        j = self.find_ge(sid)
        if j < len(self.flags) and self.id_at(j) == sid:
            return j
        return -1

    def decode(self, j: int) -> list[bytes]:
        data = self.data if type(self.data) is bytes else bytes(self.data)
        pos = self.offs[j]
        out: list[bytes] = []
        app = out.append
        if self.flags[j] & F_SAME:
            for f in self.fields:
                n = data[pos]
                pos += 1
                if n >= 128:
                    n, pos = _read_varint(data, pos - 1)
                app(f)
                app(data[pos : pos + n])
                pos += n
            return out
        cnt = data[pos]
        pos += 1
        if cnt >= 128:
            cnt, pos = _read_varint(data, pos - 1)
        for _ in range(cnt * 2):
            n = data[pos]
            pos += 1
            if n >= 128:
                n, pos = _read_varint(data, pos - 1)
            app(data[pos : pos + n])
            pos += n
        return out

    def seal(self) -> None:
        """The node stopped being the tail: drop growth slack (a slice of an array
        and a copy of a bytearray are allocated at their exact size)."""
        if type(self.data) is bytearray:
            self.data = bytes(self.data)
        self.ids = self.ids[:]
        self.offs = self.offs[:]
        self.flags = self.flags[:]


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    n = 0
    shift = 0
    while True:
        b = data[pos]
        pos += 1
        n |= (b & 127) << shift
        if b < 128:
            return n, pos
        shift += 7


class Stream:
    __slots__ = (
        "_nodes",
        "_keys",
        "length",
        "last_id",
        "max_deleted_id",
        "entries_added",
        "groups",
        "idmp",
        "cfg",
    )

    def __init__(self) -> None:
        self._nodes: list[_Node] = []
        self._keys: list[int] = []  # master ID of each node, ascending
        self.length = 0  # live entries
        self.last_id = 0  # last-generated-id (XADD / XSETID)
        self.max_deleted_id = 0  # max-deleted-entry-id
        self.entries_added = 0  # entries-added over the stream's lifetime
        self.groups: dict[bytes, ConsumerGroup] = {}  # creation order
        self.idmp: Any = None  # IDMP (idempotent XADD) state, see ``idmp``
        self.cfg: Any = None  # XCFGSET settings, None = defaults

    # -- adding ----------------------------------------------------------------

    def add(
        self,
        sid: int,
        fields: list[bytes],
        max_entries: int = 100,
        max_bytes: int = 4096,
    ) -> None:
        """Append an entry; ``sid`` must be greater than every ID present.

        ``fields`` is the flat field/value list. A new node starts when the tail
        node holds ``max_entries`` entries (live or deleted) or its listpack would
        reach ``max_bytes`` (Redis's ``streamAppendItem`` rules).

        This is the hot path of XADD: the listpack size of the entry is counted
        inline (``str_size``'s common case: a short value that cannot be an
        integer), and a node precomputes what is the same for all its entries.
        """
        nodes = self._nodes
        ms = sid >> 64
        seq = sid & _M64
        if nodes:
            node = nodes[-1]
            live = node.live
            dead = node.dead
            lp = node.body + (2 if live < 128 else int_size(live)) + (2 if dead < 128 else int_size(dead))
            limit = max_bytes if 0 < max_bytes <= LISTPACK_MAX_SIZE else LISTPACK_MAX_SIZE
            if lp + sum(map(len, fields)) >= limit or (max_entries and len(node.flags) >= max_entries):
                node.seal()
            else:
                data = node.data
                if type(data) is not bytearray:
                    data = node.data = bytearray(data)
                ids = node.ids
                off = len(data)
                if off <= _U16 or node.offs.typecode == "I":
                    node.offs.append(off)
                else:
                    node.append_off(off)
                # listpack bytes: flags + ms delta + seq delta (+ numfields + names)
                # + values + lp-count (the master entry is the first: ms delta d)
                d = ms - node.base
                size = 2 if 0 <= d <= 127 else 3 if -4096 <= d <= 4095 else int_size(signed64(d))
                if (d <= _U32 and seq <= _U32) or ids.typecode == "Q":
                    ids.append(d)
                    ids.append(seq)
                else:
                    node.append_id(ms, seq)
                d = seq - ids[1]  # negative when the ms moved on and the seq restarted
                size += 2 if 0 <= d <= 127 else 3 if -4096 <= d <= 4095 else int_size(signed64(d))
                if fields[0::2] == node.fields:
                    node.flags.append(F_SAME)
                    size += node.same_size
                    for v in fields[1::2]:
                        n = len(v)
                        if 0 < n < 64 and (v[0] > 57 or v[0] < 45):
                            size += n + 2  # cannot be an integer
                            data.append(n)
                        elif 0 < n < 19 and 48 < v[0] <= 57 and v.isdigit():
                            # a canonical integer below 10**18: listpack's int sizes
                            x = int(v)
                            size += (2 if x < 128 else 3 if x < 4096 else 4 if x < 32768
                                     else 5 if x < 8388608 else 6 if x < 2147483648 else 10)
                            data.append(n)
                        else:
                            size += str_size(v)
                            if n < 128:
                                data.append(n)
                            else:
                                data += _varint(n)
                        data += v
                else:
                    size += self._add_fields(node, data, fields)
                node.body += size
                node.live = live + 1
                self.length += 1
                self.entries_added += 1
                self.last_id = sid
                return
        # a new node: this entry is its master entry (the field names' list is
        # shared with the previous node when equal)
        names = fields[0::2]
        if nodes and nodes[-1].fields == names:
            names = nodes[-1].fields
        node = _Node(names, ms)
        nodes.append(node)
        self._keys.append(sid)
        data = node.data
        assert type(data) is bytearray
        node.offs.append(0)
        node.append_id(ms, seq)
        node.flags.append(F_SAME)
        size = 4 + node.same_size
        for v in fields[1::2]:
            n = len(v)
            if n < 128:
                data.append(n)
            else:
                data += _varint(n)
            data += v
            size += str_size(v)
        node.body += size
        node.live = 1
        self.length += 1
        self.entries_added += 1
        self.last_id = sid

    @staticmethod
    def _add_fields(node: _Node, data: bytearray, fields: list[bytes]) -> int:
        """An entry whose field names differ from the node's master fields: the
        names are stored too. Returns its listpack bytes besides its ID."""
        node.flags.append(0)
        nf = len(fields) >> 1
        if nf < 128:
            data.append(nf)
        else:
            data += _varint(nf)
        size = 0
        for x in fields:
            n = len(x)
            if n < 128:
                data.append(n)
            else:
                data += _varint(n)
            data += x
            size += str_size(x)
        return 2 + size + int_size(nf) + int_size(2 * nf + 4)

    # -- reading ---------------------------------------------------------------

    def _locate(self, sid: int) -> tuple[_Node | None, int, int]:
        """(node, node index, entry index) of ``sid`` (live or tombstone)."""
        keys = self._keys
        i = bisect_right(keys, sid) - 1
        if i < 0:
            return None, -1, -1
        node = self._nodes[i]
        j = node.index_of(sid)
        if j < 0:
            return None, -1, -1
        return node, i, j

    def get(self, sid: int) -> list[bytes] | None:
        """Fields of the live entry ``sid``, or None."""
        node, _, j = self._locate(sid)
        if node is None or node.flags[j] & F_DELETED:
            return None
        return node.decode(j)

    def __contains__(self, sid: int) -> bool:
        node, _, j = self._locate(sid)
        return node is not None and not node.flags[j] & F_DELETED

    exists = __contains__

    def range(
        self, start: int, end: int, count: int | None = None, rev: bool = False
    ) -> Iterator[tuple[int, list[bytes]]]:
        """Live entries with ``start <= id <= end`` in ID order (reverse if ``rev``)."""
        for sid, node, j in self._walk(start, end, rev):
            yield sid, node.decode(j)
            if count is not None:
                count -= 1
                if count <= 0:
                    return

    def entries(
        self, start: int, end: int, count: int = -1, rev: bool = False,
        sids: list[int] | None = None,
    ) -> list[list[Any]]:
        """``[[id, fields], ...]`` of the live entries in ``[start, end]`` (XRANGE's
        reply), at most ``count`` of them (``count < 0``: all); ``sids`` (if given)
        receives their IDs as ints.

        The same entries as ``range``, built in one loop (the read hot path: the
        common entry, with the node's master fields, is decoded inline). With the
        C accelerator the forward walk runs compiled; ``entries_py`` is the
        pure-Python reference it is tested against.
        """
        if _entries_fwd is None or rev:
            return self.entries_py(start, end, count, rev, sids)
        out: list[list[Any]] = []
        if start > end or not self._nodes or count == 0:
            return out
        i = max(bisect_right(self._keys, start) - 1, 0)
        got: list[list[Any]] = _entries_fwd(self._nodes, i, start >> 64, start & _M64,
                                            end >> 64, end & _M64, count, out, sids)
        return got

    def entries_resp(self, start: int, end: int, count: int = -1) -> bytes | None:
        """``encode(self.entries(start, end, count))`` written by the C accelerator
        straight from the nodes (an array of bulk strings: the same bytes in RESP2
        and RESP3); None on the pure-Python path."""
        if _entries_resp is None:
            return None
        if start > end or not self._nodes or count == 0:
            return b"*0\r\n"
        i = max(bisect_right(self._keys, start) - 1, 0)
        return _entries_resp(self._nodes, i, start >> 64, start & _M64,  # type: ignore[no-any-return]
                             end >> 64, end & _M64, count)

    def entries_py(
        self, start: int, end: int, count: int = -1, rev: bool = False,
        sids: list[int] | None = None,
    ) -> list[list[Any]]:
        """``entries`` in pure Python (the reference and the fallback)."""
        out: list[list[Any]] = []
        if start > end or not self._nodes or count == 0:
            return out
        if rev:
            for sid, node, j in self._walk(start, end, True):
                out.append([format_id(sid), node.decode(j)])
                if sids is not None:
                    sids.append(sid)
                if len(out) == count:
                    break
            return out
        nodes = self._nodes
        keys = self._keys
        append = out.append
        small = _SMALL_INTS
        last_ms = -1
        prefix = b""
        i = max(bisect_right(keys, start) - 1, 0)
        first = True
        while i < len(nodes):
            node = nodes[i]
            if not first and keys[i] > end:
                break
            j = node.find_ge(start) if first else 0
            first = False
            ids = node.ids
            base = node.base
            flags = node.flags
            offs = node.offs
            data = node.data
            if type(data) is not bytes:
                data = bytes(data)
            names = node.fields
            n = len(flags)
            while j < n:
                ms = base + ids[2 * j]
                seq = ids[2 * j + 1]
                sid = (ms << 64) | seq
                if sid > end:
                    return out
                fl = flags[j]
                if not fl & F_DELETED:
                    if fl & F_SAME:
                        pos = offs[j]
                        fields: list[bytes] = []
                        app = fields.append
                        for name in names:
                            ln = data[pos]
                            if ln < 128:
                                pos += 1
                            else:
                                ln, pos = _read_varint(data, pos)
                            app(name)
                            app(data[pos : pos + ln])
                            pos += ln
                    else:
                        fields = node.decode(j)
                    if ms != last_ms:
                        last_ms = ms
                        prefix = b"%d-" % ms
                    append([prefix + small[seq] if seq < 4096 else prefix + b"%d" % seq,
                            fields])
                    if sids is not None:
                        sids.append(sid)
                    if len(out) == count:
                        return out
                j += 1
            i += 1
        return out

    def range_ids(self, start: int, end: int, rev: bool = False) -> Iterator[int]:
        """IDs of live entries in ``[start, end]``."""
        for sid, _, _ in self._walk(start, end, rev):
            yield sid

    def _walk(
        self, start: int, end: int, rev: bool, tombstones: bool = False
    ) -> Iterator[tuple[int, _Node, int]]:
        if start > end or not self._nodes:
            return
        nodes = self._nodes
        keys = self._keys
        if not rev:
            i = max(bisect_right(keys, start) - 1, 0)
            first = True
            while i < len(nodes):
                node = nodes[i]
                if not first and keys[i] > end:
                    return
                j = node.find_ge(start) if first else 0
                first = False
                ids = node.ids
                base = node.base
                flags = node.flags
                n = len(flags)
                while j < n:
                    sid = ((base + ids[2 * j]) << 64) | ids[2 * j + 1]
                    if sid > end:
                        return
                    if tombstones or not flags[j] & F_DELETED:
                        yield sid, node, j
                    j += 1
                i += 1
        else:
            i = bisect_right(keys, end) - 1
            first = True
            while i >= 0:
                node = nodes[i]
                j = node.find_le(end) if first else len(node.flags) - 1
                first = False
                ids = node.ids
                base = node.base
                flags = node.flags
                while j >= 0:
                    sid = ((base + ids[2 * j]) << 64) | ids[2 * j + 1]
                    if sid < start:
                        return
                    if tombstones or not flags[j] & F_DELETED:
                        yield sid, node, j
                    j -= 1
                i -= 1

    def first_entry(self) -> tuple[int, list[bytes]] | None:
        for sid, node, j in self._walk(0, (1 << 128) - 1, False):
            return sid, node.decode(j)
        return None

    def last_entry(self) -> tuple[int, list[bytes]] | None:
        for sid, node, j in self._walk(0, (1 << 128) - 1, True):
            return sid, node.decode(j)
        return None

    @property
    def first_id(self) -> int:
        """ID of the first live entry, 0 when empty (XINFO's recorded-first-entry-id)."""
        for sid, _, _ in self._walk(0, (1 << 128) - 1, False):
            return sid
        return 0

    def last_valid_id(self) -> int:
        """ID of the last live entry, 0 when empty (Redis's streamLastValidID)."""
        for sid, _, _ in self._walk(0, (1 << 128) - 1, True):
            return sid
        return 0

    def first_id_any(self) -> int | None:
        """First ID stored, tombstones included (Redis's streamGetEdgeID without skipping)."""
        for sid, _, _ in self._walk(0, (1 << 128) - 1, False, tombstones=True):
            return sid
        return None

    # -- deleting --------------------------------------------------------------

    def delete(self, sid: int) -> bool:
        """Remove one live entry; True if it was there. (Callers update max_deleted_id.)"""
        node, i, j = self._locate(sid)
        if node is None or node.flags[j] & F_DELETED:
            return False
        self._tombstone(node, i, j, drop_empty=True)
        return True

    def _tombstone(self, node: _Node, i: int, j: int, drop_empty: bool) -> None:
        self.length -= 1
        if drop_empty and node.live == 1:
            del self._nodes[i]
            del self._keys[i]
            return
        node.flags[j] |= F_DELETED
        node.live -= 1
        node.dead += 1

    def _drop_node(self, i: int) -> None:
        node = self._nodes[i]
        self.length -= node.live
        del self._nodes[i]
        del self._keys[i]

    def trim(
        self,
        strategy: int,
        maxlen: int = 0,
        minid: int = 0,
        approx: bool = False,
        limit: int = 0,
        policy: int = KEEPREF,
        acked: Callable[[int], bool] | None = None,
        on_delete: Callable[[int], None] | None = None,
    ) -> int:
        """Trim from the head as Redis's ``streamTrim``; returns entries removed.

        Whole nodes go while they lie entirely in the trimmed range; the first
        node that does not is trimmed entry by entry unless ``approx``. With
        ``ACKED`` only entries ``acked(id)`` may go (others are skipped); with
        ``DELREF`` ``on_delete(id)`` is called for every removed entry.
        """
        if strategy == 0:
            return 0
        nodes = self._nodes
        deleted = 0
        i = 0
        while i < len(nodes):
            if strategy == TRIM_MAXLEN and self.length <= maxlen:
                break
            node = nodes[i]
            entries = node.live
            if limit and deleted + entries > limit:
                break
            if strategy == TRIM_MAXLEN:
                remove_node = self.length - entries >= maxlen
            else:
                remove_node = node.last_id() < minid
            if remove_node:
                if policy == ACKED and acked is not None:
                    live = [
                        (node.id_at(j), j)
                        for j in range(len(node.flags))
                        if not node.flags[j] & F_DELETED
                    ]
                    ok = [(sid, j) for sid, j in live if acked(sid)]
                    if len(ok) == len(live):
                        self._drop_node(i)
                        deleted += entries
                        continue
                    for _sid, j in ok:
                        self._tombstone(node, i, j, drop_empty=False)
                    deleted += len(ok)
                    i += 1
                    continue
                if policy == DELREF and on_delete is not None:
                    for j in range(len(node.flags)):
                        if not node.flags[j] & F_DELETED:
                            on_delete(node.id_at(j))
                self._drop_node(i)
                deleted += entries
                continue
            if approx:
                break
            # trim inside this node, entry by entry
            flags = node.flags
            for j in range(len(flags)):
                if strategy == TRIM_MAXLEN:
                    if self.length <= maxlen:
                        break
                else:
                    if node.id_at(j) >= minid:
                        break
                if flags[j] & F_DELETED:
                    continue
                sid = node.id_at(j)
                if policy == ACKED and acked is not None and not acked(sid):
                    continue
                if policy == DELREF and on_delete is not None:
                    on_delete(sid)
                self._tombstone(node, i, j, drop_empty=False)
                deleted += 1
            break
        return deleted

    # -- copying ---------------------------------------------------------------

    def dup(self) -> Stream:
        """A deep copy (COPY): entries, counters, groups, consumers and PELs."""
        from .groups import ConsumerGroup

        new = Stream()
        for node in self._nodes:
            n = _Node.__new__(_Node)
            n.base = node.base
            n.ids = node.ids[:]
            n.flags = bytearray(node.flags)
            n.offs = node.offs[:]
            n.data = bytes(node.data)
            n.fields = node.fields
            n.same_size = node.same_size
            n.live = node.live
            n.dead = node.dead
            n.body = node.body
            new._nodes.append(n)
        new._keys = list(self._keys)
        new.length = self.length
        new.last_id = self.last_id
        new.max_deleted_id = self.max_deleted_id
        new.entries_added = self.entries_added
        for name, g in self.groups.items():
            ng = ConsumerGroup(name, g.last_id, g.entries_read)
            for cname, cons in g.consumers.items():
                nc = ng.create_consumer(cname, cons.seen_time)
                assert nc is not None
                nc.active_time = cons.active_time
            for sid, nack in g.pel.items():
                owner = ng.consumers[nack.consumer.name] if nack.consumer is not None else None
                if owner is None:
                    ng.add_nack_orphan(sid, nack.delivery_time).delivery_count = nack.delivery_count
                else:
                    ng.add_nack(sid, owner, nack.delivery_time, nack.delivery_count)
            ng.nacked = dict(g.nacked)  # the XNACK zone, in release order
            new.groups[name] = ng
        if self.idmp is not None:
            new.idmp = self.idmp.dup()
        return new

    # -- introspection ---------------------------------------------------------

    @property
    def node_count(self) -> int:
        """Storage blocks (XINFO's radix-tree-keys)."""
        return len(self._nodes)

    def rax_nodes(self) -> int:
        """Nodes of the radix tree Redis would hold for these node keys.

        Redis keys each listpack by its master ID as 16 big-endian bytes in a
        compressed radix tree; for a set of equal-length keys that tree is
        canonical: one node per branching point, one compressed node per chain
        of single-child steps, one leaf per key, plus the root's prefix.
        """
        keys = self._keys
        n = len(keys)
        if n == 0:
            return 1
        if n == 1:
            return 2
        internal = 0
        compressed = 0  # edges parent(d) -> child(c) with c > d + 1 hold a compressed node
        stack: list[int] = []  # depths of the internal nodes on the rightmost path
        last = 16  # depth of the subtree root completed most recently (a leaf: 16)
        prev = keys[0]
        for k in keys[1:]:
            lcp = 16 - ((prev ^ k).bit_length() + 7) // 8
            prev = k
            while stack and stack[-1] > lcp:
                d = stack.pop()
                if last > d + 1:
                    compressed += 1
                last = d
            if not stack or stack[-1] < lcp:
                stack.append(lcp)
                internal += 1
            if last > lcp + 1:
                compressed += 1
            last = 16
        while stack:
            d = stack.pop()
            if last > d + 1:
                compressed += 1
            last = d
        return n + internal + compressed + (1 if last > 0 else 0)

    def encoding(self) -> bytes:
        return b"stream"

    def mem_usage(self) -> int:
        """Bytes held: node arrays and data, plus groups and their PELs."""
        size = 120 + 8 * (len(self._nodes) + len(self._keys)) * 2
        for node in self._nodes:
            size += (
                120
                + node.ids.buffer_info()[1] * node.ids.itemsize
                + 64
                + node.offs.buffer_info()[1] * node.offs.itemsize
                + 64
                + len(node.flags)
                + 57
                + len(node.data)
                + 33
                + 56
                + sum(33 + len(f) for f in node.fields)
            )
        for g in self.groups.values():
            size += g.mem_usage()
        if self.idmp is not None:
            size += self.idmp.mem_usage()
        return size


register_type(Stream, b"stream")
