"""The two sorts Redis's SORT and GEO commands use, so that equal keys come out in
Redis's order.

- ``stable_sort``: C ``qsort`` as glibc (up to 2.36) runs it for these sizes, a
  merge sort, so equal elements keep their order;
- ``pqsort``: Redis's ``pqsort.c``, Bentley & McIlroy's quicksort that only
  recurses into the parts overlapping the wanted range [``lrange``, ``rrange``]
  (used when a COUNT/LIMIT keeps part of the result). It is not stable: equal
  elements end up in the order its partitioning leaves them, which is what
  this port reproduces step by step (indexes instead of pointers).

``pqsort``'s ``cmp(a, b)`` is a three-way comparison (< 0, 0, > 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Cmp = Callable[[Any, Any], int]


def stable_sort(v: list[Any], key: Callable[[Any], Any], reverse: bool = False) -> None:
    """A merge sort by ``key`` (``reverse``: a comparator negated, equal keys still in
    their order), which is what ``qsort`` with such a comparator gives."""
    v.sort(key=key, reverse=reverse)


def pqsort(v: list[Any], cmp: Cmp, lrange: int, rrange: int) -> None:
    """Sort ``v`` in place so that positions ``lrange``..``rrange`` hold what a full
    sort would put there (the rest is partially ordered)."""
    _pqsort(v, 0, len(v), cmp, lrange, rrange)


def _med3(v: list[Any], a: int, b: int, c: int, cmp: Cmp) -> int:
    if cmp(v[a], v[b]) < 0:
        return b if cmp(v[b], v[c]) < 0 else (c if cmp(v[a], v[c]) < 0 else a)
    return b if cmp(v[b], v[c]) > 0 else (a if cmp(v[a], v[c]) < 0 else c)


def _vecswap(v: list[Any], a: int, b: int, n: int) -> None:
    for i in range(n):
        v[a + i], v[b + i] = v[b + i], v[a + i]


def _outside(lr: int, rr: int, first: int, last: int) -> bool:
    return (lr < first and rr < first) or (lr > last and rr > last)


def _pqsort(v: list[Any], a: int, n: int, cmp: Cmp, lr: int, rr: int) -> None:
    while True:
        if n < 7:  # insertion sort
            for pm in range(a + 1, a + n):
                pl = pm
                while pl > a and cmp(v[pl - 1], v[pl]) > 0:
                    v[pl], v[pl - 1] = v[pl - 1], v[pl]
                    pl -= 1
            return
        pm = a + n // 2
        if n > 7:
            pl, pn = a, a + n - 1
            if n > 40:
                d = n // 8
                pl = _med3(v, pl, pl + d, pl + 2 * d, cmp)
                pm = _med3(v, pm - d, pm, pm + d, cmp)
                pn = _med3(v, pn - 2 * d, pn - d, pn, cmp)
            pm = _med3(v, pl, pm, pn, cmp)
        v[a], v[pm] = v[pm], v[a]
        pa = pb = a + 1
        pc = pd = a + n - 1
        while True:
            while pb <= pc:
                r = cmp(v[pb], v[a])
                if r > 0:
                    break
                if r == 0:
                    v[pa], v[pb] = v[pb], v[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                r = cmp(v[pc], v[a])
                if r < 0:
                    break
                if r == 0:
                    v[pc], v[pd] = v[pd], v[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            v[pb], v[pc] = v[pc], v[pb]
            pb += 1
            pc -= 1
        pn = a + n
        r = min(pa - a, pb - pa)
        _vecswap(v, a, pb - r, r)
        r = min(pd - pc, pn - pd - 1)
        _vecswap(v, pb, pn - r, r)
        r = pb - pa
        if r > 1 and not _outside(lr, rr, a, a + r - 1):
            _pqsort(v, a, r, cmp, lr, rr)
        r = pd - pc
        if r <= 1:
            return
        a, n = pn - r, r
        if _outside(lr, rr, a, a + r - 1):
            return
