"""Bitmap commands (Redis group "bitmap"): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
BITFIELD and BITFIELD_RO.

A bitmap is a string value (``bytes``), so it is a string to every other command,
to DUMP/RESTORE and to the RDB. The arithmetic lives in ``types/bits.py``; this
module holds the argument parsing, the keyspace side and Redis's error texts.

As in Redis: offsets are limited by ``proto-max-bulk-len`` (512 MB of string, so
bit offsets below 2^32) except for the AOF/master client; a write that grows or
changes a string leaves it ``raw`` (``OBJECT ENCODING``), and so does one that
changes nothing (Redis unshares the value first); SETBIT and BITFIELD notify
``setbit``, BITOP ``set`` (or ``del`` when the result is empty). SETBIT and
BITFIELD that change nothing are not counted as writes, so they are not
propagated, except a BITFIELD that created or grew the string with operations that
all failed (Redis leaves that out of its AOF; here it is propagated, so a replay
rebuilds the same string). Every command propagates as itself.
"""

from __future__ import annotations

from typing import Any

from .. import strenc
from ..args import parse_int
from ..client import Client
from ..errors import SYNTAX, WRONGTYPE, CommandError
from ..notify import notify, overwritten, read_miss
from ..registry import KeySpec, command
from ..types import bits
from ..types.config import conf_int
from .strings import get_string

OFFSET_ERR = "ERR bit offset is not an integer or out of range"
BIT_ERR = "ERR bit is not an integer or out of range"
TYPE_ERR = ("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
            "supported but i64 is.")
_G = "bitmap"
_RO = (KeySpec("RO access", 1),)


def bit_offset(c: Client, arg: bytes, width: int = 0) -> int:
    """``getBitOffsetFromArgument``: a bit offset; ``#n`` means ``n * width`` (BITFIELD)."""
    usehash = width > 0 and arg[:1] == b"#"
    off = parse_int(arg[1:] if usehash else arg, OFFSET_ERR)
    if usehash:
        off = bits.to_int64(off * width)
    if off < 0 or (not c.is_master and
                   off >> 3 >= conf_int(c.engine, "proto-max-bulk-len", 512 << 20)):
        raise CommandError(OFFSET_ERR)
    return off


def _store(c: Client, key: bytes, value: bytes) -> None:
    """Write a grown or changed bitmap back (TTL kept) as a ``raw`` string."""
    c.db.set(key, value, keep_ttl=True)
    strenc.set_explicit(c.db, key, value, strenc.RAW)


def _unshared(c: Client, key: bytes, value: bytes) -> None:
    """A bitmap write that changed nothing still leaves the string ``raw``."""
    strenc.set_explicit(c.db, key, value, strenc.RAW)


def _parse_range(argv: list[bytes], first: int, unit_first: bool) -> tuple[int, int | None, bool]:
    """BITCOUNT/BITPOS ``start [end [BYTE | BIT]]`` at ``argv[first:]``: (start, end or
    None, in bits). Parsed in Redis's order: BITPOS reads the unit before the end."""
    start = parse_int(argv[first])
    has_end, has_unit = len(argv) > first + 1, len(argv) > first + 2
    end = parse_int(argv[first + 1]) if has_end and not unit_first else None
    isbit = False
    if has_unit:
        unit = argv[first + 2].lower()
        if unit == b"bit":
            isbit = True
        elif unit != b"byte":
            raise CommandError(SYNTAX)
    if has_end and unit_first:
        end = parse_int(argv[first + 1])
    return start, end, isbit


def _normalize(start: int, end: int, total: int) -> tuple[int, int]:
    """Negative indexes from the end, clamped to ``[0, total - 1]``."""
    if start < 0:
        start += total
    if end < 0:
        end += total
    start = max(start, 0)
    end = max(end, 0)
    if end >= total:
        end = total - 1
    return start, end


# -- single bits ---------------------------------------------------------------------


@command("setbit", 4, "write denyoom", 1, 1, 1, group=_G,
         specs=(KeySpec("RW access update", 1),))
def setbit(c: Client, argv: list[bytes]) -> int:
    """SETBIT key offset value"""
    off = bit_offset(c, argv[2])
    on = parse_int(argv[3], BIT_ERR)
    if on & ~1:
        raise CommandError(BIT_ERR)
    key = argv[1]
    v = get_string(c.db, key)
    old = v or b""
    byte, shift = off >> 3, 7 - (off & 7)
    cur = old[byte] if byte < len(old) else 0
    was = cur >> shift & 1
    if v is not None and byte < len(old) and was == on:
        _unshared(c, key, old)
        return was
    nb = bytes(((cur & ~(1 << shift)) | (on << shift),))
    pad = bytes(max(0, byte - len(old)))
    new = old[:byte] + pad + nb + old[byte + 1:]
    _store(c, key, new)
    notify(c, "$", b"setbit", key)
    return was


@command("getbit", 3, "readonly fast", 1, 1, 1, group=_G, specs=_RO)
def getbit(c: Client, argv: list[bytes]) -> int:
    """GETBIT key offset"""
    off = bit_offset(c, argv[2])
    v = get_string(c.db, argv[1])
    byte = off >> 3
    if v is None or byte >= len(v):
        return 0
    return v[byte] >> (7 - (off & 7)) & 1


# -- ranges -----------------------------------------------------------------------------


@command("bitcount", -2, "readonly", 1, 1, 1, group=_G, specs=_RO)
def bitcount(c: Client, argv: list[bytes]) -> int:
    """BITCOUNT key [start end [BYTE | BIT]]"""
    n = len(argv)
    if n not in (2, 4, 5):
        raise CommandError(SYNTAX)
    first = last = 0
    if n == 2:
        v = get_string(c.db, argv[1])
        start, end = 0, len(v or b"") - 1
    else:
        start, end_arg, isbit = _parse_range(argv, 2, False)
        assert end_arg is not None
        v = get_string(c.db, argv[1])
        if start < 0 and end_arg < 0 and start > end_arg:
            return 0
        size = len(v or b"")
        start, end = _normalize(start, end_arg, size * 8 if isbit else size)
        if isbit and start <= end:
            first, last = bits.edge_masks(start, end)
            start >>= 3
            end >>= 3
    if v is None or start > end:
        return 0
    return bits.popcount(v, start, end, first, last)


@command("bitpos", -3, "readonly", 1, 1, 1, group=_G, specs=_RO)
def bitpos(c: Client, argv: list[bytes]) -> int:
    """BITPOS key bit [start [end [BYTE | BIT]]]"""
    bit = parse_int(argv[2])
    if bit not in (0, 1):
        raise CommandError("ERR The bit argument must be 1 or 0.")
    n = len(argv)
    if n > 6:
        raise CommandError(SYNTAX)
    first = last = 0
    end_given = n >= 5
    if n == 3:
        v = get_string(c.db, argv[1])
        start, end = 0, len(v or b"") - 1
    else:
        start, end_arg, isbit = _parse_range(argv, 3, True)
        v = get_string(c.db, argv[1])
        size = len(v or b"")
        if end_arg is None:
            end_arg = size * 8 + 7 if isbit else size - 1
        start, end = _normalize(start, end_arg, size * 8 if isbit else size)
        if isbit and start <= end:
            first, last = bits.edge_masks(start, end)
            start >>= 3
            end >>= 3
    if v is None:
        return -1 if bit else 0
    if start > end:
        return -1
    pos = bits.bitpos(v, bit, start, end, first, last)
    if end_given and bit == 0 and pos == 8 * (end - start + 1):
        return -1
    return pos + 8 * start if pos != -1 else -1


# -- BITOP --------------------------------------------------------------------------------


@command("bitop", -4, "write denyoom", 2, -1, 1, group=_G,
         specs=(KeySpec("OW update", 2), KeySpec("RO access", 3, lastkey=-1)))
def bitop(c: Client, argv: list[bytes]) -> int:
    """BITOP <AND | OR | XOR | NOT | DIFF | DIFF1 | ANDOR | ONE> destkey key [key ...]"""
    op = argv[1].upper()
    if op not in bits.OPS:
        raise CommandError(SYNTAX)
    if op == b"NOT" and len(argv) != 4:
        raise CommandError("ERR BITOP NOT must be called with a single source key.")
    if op in (b"DIFF", b"DIFF1", b"ANDOR") and len(argv) < 5:
        raise CommandError(f"ERR BITOP {op.decode()} must be called with at least two "
                           "source keys.")
    db = c.db
    srcs: list[bytes] = []
    for k in argv[3:]:
        v = db.lookup(k)
        read_miss(c, k, v)
        if v is not None and type(v) is not bytes:
            raise CommandError(WRONGTYPE)
        srcs.append(v or b"")
    res = bits.bitop(op, srcs)
    dest = argv[2]
    if res:
        old = db.peek(dest)
        db.set(dest, res)
        strenc.set_explicit(db, dest, res, strenc.RAW)
        overwritten(c, dest, old, res)
        notify(c, "$", b"set", dest)
    elif db.delete(dest):
        notify(c, "g", b"del", dest)
    return len(res)


# -- BITFIELD -----------------------------------------------------------------------------

_GET, _SET, _INCRBY = 0, 1, 2
_OPCODES = {b"get": (_GET, 2), b"set": (_SET, 3), b"incrby": (_INCRBY, 3)}
_OVERFLOW = {b"wrap": bits.WRAP, b"sat": bits.SAT, b"fail": bits.FAIL}


def _field_type(arg: bytes) -> tuple[bool, int]:
    """``getBitfieldTypeFromArgument``: (signed, width) from ``i1``..``i64``/``u1``..``u63``."""
    c0 = arg[:1]
    if c0 not in (b"i", b"u"):
        raise CommandError(TYPE_ERR)
    signed = c0 == b"i"
    width = parse_int(arg[1:].split(b"\0", 1)[0], TYPE_ERR)
    if width < 1 or width > (64 if signed else 63):
        raise CommandError(TYPE_ERR)
    return signed, width


def _parse_bitfield(c: Client, argv: list[bytes]) -> tuple[list[tuple[int, ...]], int, bool]:
    """The operations in order: (opcode, offset, value, overflow, width, signed), the
    highest bit written, and whether they only read."""
    ops: list[tuple[int, ...]] = []
    overflow = bits.WRAP
    highest = 0
    readonly = True
    j, n = 2, len(argv)
    while j < n:
        rem = n - j - 1
        sub = argv[j].lower()
        if sub == b"overflow" and rem >= 1:
            kind = _OVERFLOW.get(argv[j + 1].lower())
            if kind is None:
                raise CommandError("ERR Invalid OVERFLOW type specified")
            overflow = kind
            j += 2
            continue
        spec = _OPCODES.get(sub)
        if spec is None or rem < spec[1]:
            raise CommandError(SYNTAX)
        opcode = spec[0]
        signed, width = _field_type(argv[j + 1])
        off = bit_offset(c, argv[j + 2], width)
        value = 0
        if opcode != _GET:
            readonly = False
            highest = max(highest, off + width - 1)
            value = parse_int(argv[j + 3])
        ops.append((opcode, off, value, overflow, width, signed))
        j += 1 + spec[1]
    return ops, highest, readonly


def _apply(buf: bytearray, op: tuple[int, ...]) -> tuple[Any, bool]:
    """Run one SET/INCRBY on ``buf``: (reply, whether the field's value changed)."""
    opcode, off, value, overflow, width, signed = op
    if signed:
        old = bits.get_signed(buf, off, width)
        if opcode == _INCRBY:
            ovf, wrapped = bits.overflow_signed(old, value, width, overflow)
            new = wrapped if ovf else old + value
            ret = new
        else:
            ovf, wrapped = bits.overflow_signed(value, 0, width, overflow)
            new = wrapped if ovf else value
            ret = old
    else:
        old = bits.get_unsigned(buf, off, width)
        if opcode == _INCRBY:
            ovf, wrapped = bits.overflow_unsigned(old, value, width, overflow)
            new = wrapped if ovf else (old + value) & bits.U64
            ret = new
        else:
            ovf, wrapped = bits.overflow_unsigned(value & bits.U64, 0, width, overflow)
            new = wrapped if ovf else value & bits.U64
            ret = old
    if ovf and overflow == bits.FAIL:
        return None, False
    bits.set_bits(buf, off, width, new)
    return bits.to_int64(ret), (old & bits.U64) != (new & bits.U64)


def _bitfield(c: Client, argv: list[bytes], ro: bool) -> list[Any]:
    ops, highest, readonly = _parse_bitfield(c, argv)
    db = c.db
    key = argv[1]
    if readonly:
        v = db.lookup(key)
        read_miss(c, key, v)
        if v is not None and type(v) is not bytes:
            raise CommandError(WRONGTYPE)
        src = v or b""
        return [bits.get_signed(src, op[1], op[4]) if op[5] else bits.get_unsigned(src, op[1], op[4])
                for op in ops]
    if ro:
        raise CommandError("ERR BITFIELD_RO only supports the GET subcommand")
    v = get_string(db, key)
    dirty = c.engine.dirty
    old = v or b""
    grow = max(0, (highest >> 3) + 1 - len(old))
    buf = bytearray(old)
    buf.extend(bytes(grow))
    if v is None:
        _store(c, key, bytes(buf))  # Redis adds the key before running the operations
    out: list[Any] = []
    changes = 0
    for op in ops:
        if op[0] == _GET:
            out.append(bits.get_signed(buf, op[1], op[4]) if op[5]
                       else bits.get_unsigned(buf, op[1], op[4]))
            continue
        reply, changed = _apply(buf, op)
        out.append(reply)
        if reply is not None and (grow or changed):
            changes += 1
    if changes or grow:
        _store(c, key, bytes(buf))
    else:
        _unshared(c, key, old)
    if changes:
        notify(c, "$", b"setbit", key)
    # Redis counts one change per operation that changed a field (INFO
    # rdb_changes_since_last_save). A string created or grown by operations that all
    # failed (OVERFLOW FAIL) is not a change to Redis, which then neither counts nor
    # propagates it (its AOF loses the key); here it counts once, so it is propagated.
    c.engine.dirty = dirty + (changes or (1 if grow else 0))
    return out


def _bitfield_key_flags(argv: list[bytes], pos: int) -> str:
    """``bitfieldGetKeys``: RO when every operation is a GET (anything else: RW)."""
    i = 2
    while i < len(argv):
        rem = len(argv) - i - 1
        w = argv[i].lower()
        if w == b"get" and rem >= 2:
            i += 3
        elif w == b"overflow" and rem >= 1:
            i += 2
        else:
            return "RW access update"
    return "RO access"


@command("bitfield", -2, "write denyoom", 1, 1, 1, group=_G, key_flags=_bitfield_key_flags,
         specs=(KeySpec("RW access update variable_flags", 1,
                        notes="This command allows both access and modification of the key"),))
def bitfield(c: Client, argv: list[bytes]) -> list[Any]:
    """BITFIELD key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> ...]]"""
    return _bitfield(c, argv, False)


@command("bitfield_ro", -2, "readonly fast", 1, 1, 1, group=_G, specs=_RO)
def bitfield_ro(c: Client, argv: list[bytes]) -> list[Any]:
    """BITFIELD_RO key [GET encoding offset [GET encoding offset ...]]"""
    return _bitfield(c, argv, True)
