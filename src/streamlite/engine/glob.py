"""Redis's glob-style pattern matching (``stringmatchlen``) for KEYS, SCAN, PSUBSCRIBE."""

from __future__ import annotations

from functools import lru_cache


def _match(p: bytes, s: bytes, nocase: bool) -> bool:
    pi = si = 0
    plen, slen = len(p), len(s)
    star_p = star_s = -1
    while si < slen:
        if pi < plen:
            c = p[pi]
            if c == 0x2A:  # '*'
                while pi + 1 < plen and p[pi + 1] == 0x2A:
                    pi += 1
                if pi + 1 == plen:
                    return True
                star_p, star_s = pi, si
                pi += 1
                continue
            if c == 0x3F:  # '?'
                pi += 1
                si += 1
                continue
            if c == 0x5B:  # '['
                j = pi + 1
                negate = j < plen and p[j] == 0x5E
                if negate:
                    j += 1
                matched = False
                while j < plen and p[j] != 0x5D:
                    if p[j] == 0x5C and j + 1 < plen:
                        j += 1
                        if p[j] == s[si]:
                            matched = True
                    elif j + 2 < plen and p[j + 1] == 0x2D:
                        lo, hi = p[j], p[j + 2]
                        if lo > hi:
                            lo, hi = hi, lo
                        ch = s[si]
                        if nocase:
                            lo, hi, ch = _lower(lo), _lower(hi), _lower(ch)
                        if lo <= ch <= hi:
                            matched = True
                        j += 2
                    else:
                        a, b = p[j], s[si]
                        if (a == b) or (nocase and _lower(a) == _lower(b)):
                            matched = True
                    j += 1
                if j >= plen:  # unterminated class: Redis treats end as class end
                    j = plen - 1
                if negate:
                    matched = not matched
                if matched:
                    pi = j + 1
                    si += 1
                    continue
            elif c == 0x5C and pi + 1 < plen:  # backslash escape
                if p[pi + 1] == s[si] or (nocase and _lower(p[pi + 1]) == _lower(s[si])):
                    pi += 2
                    si += 1
                    continue
            elif c == s[si] or (nocase and _lower(c) == _lower(s[si])):
                pi += 1
                si += 1
                continue
        if star_p >= 0:
            star_s += 1
            si = star_s
            pi = star_p + 1
            continue
        return False
    while pi < plen and p[pi] == 0x2A:
        pi += 1
    return pi == plen


def _lower(c: int) -> int:
    return c + 32 if 65 <= c <= 90 else c


@lru_cache(maxsize=1024)
def _is_literal(p: bytes) -> bool:
    return not any(ch in p for ch in b"*?[\\")


def match(pattern: bytes, s: bytes, nocase: bool = False) -> bool:
    """True if ``s`` matches the Redis glob ``pattern``."""
    if pattern == b"*":
        return True
    if not nocase and _is_literal(pattern):
        return pattern == s
    return _match(pattern, s, nocase)
