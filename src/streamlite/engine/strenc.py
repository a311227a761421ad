"""What ``OBJECT ENCODING`` answers for a string: ``int``, ``embstr`` or ``raw``, as Redis 8 decides.

Redis 8 embeds the key (and room for a TTL) in the value object, so whether a
string is stored ``embstr`` depends on the key's length and on whether the key had a
TTL when the object was made: the object must fit in 64 bytes, which leaves
``41 - len(key)`` bytes for the value (``33 - len(key)`` with a TTL). A string that
looks like a canonical 64-bit integer (at most 20 chars) is stored ``int`` by SET
and friends (``tryObjectEncoding``).

Strings are plain ``bytes`` here, so the encoding is derived: ``natural`` from the
value, the key and its TTL, except for keys whose history makes Redis answer
something else (APPEND/SETRANGE make ``raw``, INCRBYFLOAT never makes ``int``,
adding a TTL to an ``embstr`` that no longer fits makes it ``raw`` for good). Those
keys are recorded in ``Database.str_enc``, which ``Database.set``/``remove`` clear.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..numparse import string2ll

if TYPE_CHECKING:
    from .database import Database

INT = b"int"
EMBSTR = b"embstr"
RAW = b"raw"

def is_int_like(v: bytes) -> bool:
    """True if Redis would store ``v`` as an integer (``string2l`` accepts it)."""
    return string2ll(v) is not None


def fits_embstr(key: bytes, vlen: int, has_ttl: bool) -> bool:
    return vlen + len(key) <= (33 if has_ttl else 41)


def natural(key: bytes, v: bytes, has_ttl: bool) -> bytes:
    """The encoding of ``v`` stored under ``key`` by SET and friends."""
    if is_int_like(v):
        return INT
    return EMBSTR if fits_embstr(key, len(v), has_ttl) else RAW


def encoding_of(db: Database, key: bytes, v: bytes) -> bytes:
    enc = db.str_enc.get(key) if db.str_enc else None
    if enc is not None:
        return enc
    return natural(key, v, key in db.expires)


def set_explicit(db: Database, key: bytes, v: bytes, enc: bytes) -> None:
    """Record that ``key`` (holding ``v``) is stored with encoding ``enc``."""
    if enc == natural(key, v, key in db.expires):
        db.str_enc.pop(key, None)
    else:
        db.str_enc[key] = enc


def non_int(key: bytes, v: bytes, has_ttl: bool) -> bytes:
    """A string made without ``tryObjectEncoding`` (INCRBYFLOAT): embstr if it fits."""
    return EMBSTR if fits_embstr(key, len(v), has_ttl) else RAW


def before_ttl_change(db: Database, key: bytes, adding: bool) -> None:
    """Freeze a string's encoding before its key gains (``adding``) or loses a TTL.

    Gaining a TTL reallocates the object: an ``embstr`` that no longer fits becomes
    ``raw``. Losing it changes nothing: the encoding stays what it was.
    """
    v = db.data.get(key)
    if type(v) is not bytes:
        return
    enc = encoding_of(db, key, v)
    if adding and enc == EMBSTR and not fits_embstr(key, len(v), True):
        enc = RAW
    if enc != natural(key, v, adding):
        db.str_enc[key] = enc
    else:
        db.str_enc.pop(key, None)


def carried(src_key: bytes, dst_key: bytes, v: bytes, enc: bytes, has_ttl: bool) -> bytes:
    """The encoding after RENAME/COPY/MOVE rebuilds the object under ``dst_key``."""
    if enc == EMBSTR and not fits_embstr(dst_key, len(v), has_ttl):
        return RAW
    return enc
