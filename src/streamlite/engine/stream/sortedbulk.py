"""Runs of IDs added to and removed from a ``SortedList`` at once (the PELs' hot path).

The model: a consumer group's PEL (a ``SortedDict``) and each consumer's (a
``SortedList``) mostly see runs: XREADGROUP ``>`` delivers IDs above every pending
one, in order, and XACK acknowledges the oldest pending IDs, in order. One by one,
``SortedList.add`` and ``remove`` cost ~0.4 us each in Python, four per message.
``append_run`` puts a run above the list's largest value in one step, and
``remove_run`` takes off a run that is the list's first values; anything else is
left to the caller's one-by-one path (they return False, the list unchanged).

Both work on sortedcontainers 2.4's layout (``_lists`` of sublists, their ``_maxes``,
``_len``, the positional ``_index`` cleared when the layout changes, sublists of at
most twice ``_load`` and, but the last, at least half of it) as its own ``_expand``
and ``_delete`` do; the tests check the result with ``SortedList._check``.
"""

from __future__ import annotations

from typing import Any

from sortedcontainers import SortedList


def append_run(sl: SortedList, values: list[Any]) -> bool:
    """Add ``values`` (ascending, distinct) when they all sort after ``sl``'s values."""
    if not values:
        return True
    lists = sl._lists
    maxes = sl._maxes
    if maxes and values[0] <= maxes[-1]:
        return False
    if not lists:
        lists.append([])
        maxes.append(None)
    last = lists[-1]
    last.extend(values)
    load = sl._load
    while len(last) > load << 1:  # split as _expand does
        half = last[load:]
        del last[load:]
        maxes[-1] = last[-1]
        lists.append(half)
        maxes.append(half[-1])
        last = half
    maxes[-1] = last[-1]
    sl._len += len(values)
    del sl._index[:]
    return True


def remove_run(sl: SortedList, values: list[Any]) -> bool:
    """Remove ``values`` (ascending) when they are ``sl``'s first ``len(values)`` values."""
    n = len(values)
    if not n:
        return True
    if n > sl._len:
        return False
    lists = sl._lists
    i = j = 0
    while i < n:  # check first: unchanged unless all match
        sub = lists[j]
        take = min(len(sub), n - i)
        if sub[:take] != values[i:i + take]:
            return False
        i += take
        j += 1
    maxes = sl._maxes
    i = 0
    while i < n:
        sub = lists[0]
        take = min(len(sub), n - i)
        if take == len(sub):
            del lists[0]
            del maxes[0]
        else:
            del sub[:take]
        i += take
    sl._len -= n
    del sl._index[:]
    load = sl._load
    if len(lists) > 1 and len(lists[0]) < load >> 1:  # merge as _delete does
        first = lists[0]
        first.extend(lists[1])
        del lists[1]
        del maxes[1]
        maxes[0] = first[-1]
        if len(first) > load << 1:
            half = first[load:]
            del first[load:]
            maxes[0] = first[-1]
            lists.insert(1, half)
            maxes.insert(1, half[-1])
    return True
