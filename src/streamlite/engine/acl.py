"""ACL users, as Redis 8.2's ``acl.c``: who a connection is and what it may run.

The model. A **user** has a name, ``on``/``off``, ``nopass`` or a list of password
hashes (SHA-256 hex, never the passwords: ``>pw`` stores ``sha256(pw)``), and a
list of **selectors**, the first one the *root* selector (the rules written
outside parentheses). A selector holds:

- the commands it allows: a set of full command names (``get``, ``client|id``),
  Redis's command bitmap; ``future`` is Redis's reserved bit that only ``+@all``
  sets (a user described as ``+@all ...`` rather than ``-@all ...``);
  ``allcommands`` is Redis's ALLCOMMANDS flag (any removal clears it);
  ``firstargs``: ``+select|0`` for a command without subcommands;
- ``rules``: the command rules as given (``+get -@hash``), kept as Redis keeps
  them (a later rule for the same command or category replaces an earlier one),
  which is how ``ACL LIST``/``GETUSER`` describe the commands;
- key patterns, each with read/write permission (``~p`` both, ``%R~p``, ``%W~p``),
  or ``allkeys``; channel patterns (``&p``) or ``allchannels``.

A command is allowed when one selector allows it: the command (or its first
argument), every key it names with the permission its key spec asks for (read for
``access``, write for ``insert``/``delete``/``update``; the key specs are Redis's,
``registry.apply_redis_meta``), every channel of PUBLISH/SUBSCRIBE/PSUBSCRIBE
(PSUBSCRIBE's patterns must equal an allowed pattern). Otherwise the error is the
one Redis picks: the command if no selector allows it, else the last key or channel
denied (``check``). Denials and failed AUTHs go to the ACL LOG (``AclLog``).

``Acl`` (``engine.acl``) holds the users, the log and the default user. The
``requirepass`` config is the default user's password as in Redis: whenever the
config value differs from the one last applied, the default user gets
``resetpass`` and ``>requirepass`` (or ``nopass`` when empty).

No I/O here except ``load_file``/``save_file`` (ACL LOAD/SAVE, the ``aclfile``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..numparse import string2ll
from ..splitargs import split_args
from .clientinfo import client_info_line, client_type
from .errors import CommandError
from .glob import match as glob_match
from .registry import COMMANDS, Command, KeySpec, categories

if TYPE_CHECKING:
    from .client import Client
    from .core import Engine

OK = 0
DENIED_CMD = 1
DENIED_KEY = 2
DENIED_AUTH = 3
DENIED_CHANNEL = 4

READ = 1
WRITE = 2
ALL_PERM = READ | WRITE

# Redis's ACL category table, in its order (ACL CAT)
CATEGORIES = ("keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
              "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
              "blocking", "dangerous", "connection", "transaction", "scripting")

# errno texts of ACLSetUserStringError
E_NOENT = "Unknown command or category name in ACL"
E_INVAL = "Syntax error"
E_EXIST = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and "
           "does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
E_ISDIR = ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
           "does not have any effect. Try 'resetchannels' to start with an empty list of "
           "channels")
E_NODEV = "The password you are trying to remove from the user does not exist"
E_BADMSG = ("The password hash must be exactly 64 characters and contain only lowercase "
            "hexadecimal characters")
E_ALREADY = "Duplicate user found. A user can only be defined once in config files"
E_CHILD = "Allowing first-arg of a subcommand is not supported"

_SPACES = frozenset(b" \t\n\v\f\r\x00")
_HEX = frozenset(b"0123456789abcdef")


class AclError(Exception):
    """A rule that cannot be applied; ``msg`` is Redis's text for it."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


def has_spaces(s: bytes) -> bool:
    """Redis's ``ACLStringHasSpaces``: whitespace or NUL."""
    return any(ch in _SPACES for ch in s)


def hash_password(pw: bytes) -> str:
    import hashlib  # on first use: not needed at the server's start

    return hashlib.sha256(pw).hexdigest()


def _s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


# -- the command table as ACLs see it --------------------------------------------------

_CATS: dict[int, frozenset[str]] = {}


def command_categories(cmd: Command) -> frozenset[str]:
    """The ACL categories of ``cmd`` without the ``@`` (as COMMAND INFO lists them)."""
    cats = _CATS.get(id(cmd))
    if cats is None:
        cats = _CATS[id(cmd)] = frozenset(x[1:] for x in categories(cmd))
    return cats


def _all_commands() -> Iterable[tuple[str, Command, Command | None]]:
    """(full name, command, its container) for every command and subcommand."""
    for top in COMMANDS.values():
        yield top.name, top, None
        for sub in top.subcommands.values():
            yield f"{top.name}|{sub.name}", sub, top


def lookup(name: str) -> tuple[str, Command] | None:
    """Redis's ``ACLLookupCommand``: ``get`` or ``config|get`` -> (full name, command)."""
    parts = name.lower().split("|")
    if len(parts) > 2:
        return None
    top = COMMANDS.get(parts[0].encode("utf-8", "surrogateescape"))
    if top is None:
        return None
    if len(parts) == 1:
        return top.name, top
    sub = top.subcommands.get(parts[1])
    if sub is None:
        return None
    return f"{top.name}|{sub.name}", sub


def full_name(cmd: Command, container: Command | None) -> str:
    return cmd.name if container is None or container is cmd else f"{container.name}|{cmd.name}"


# -- selectors and users -------------------------------------------------------------------


class Selector:
    """One set of permissions (the root one, or one in parentheses)."""

    __slots__ = ("root", "allowed", "future", "allcommands", "firstargs", "rules",
                 "allkeys", "patterns", "allchannels", "channels")

    def __init__(self, root: bool = False, allchannels: bool = False) -> None:
        self.root = root
        self.allowed: set[str] = set()
        self.future = False
        self.allcommands = False
        self.firstargs: dict[str, list[str]] = {}
        self.rules: list[str] = []
        self.allkeys = False
        self.patterns: list[list[Any]] = []  # [pattern bytes, READ|WRITE]
        self.allchannels = allchannels
        self.channels: list[bytes] = []

    def copy(self) -> Selector:
        s = Selector(self.root, self.allchannels)
        s.allowed = set(self.allowed)
        s.future = self.future
        s.allcommands = self.allcommands
        s.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        s.rules = list(self.rules)
        s.allkeys = self.allkeys
        s.patterns = [list(p) for p in self.patterns]
        s.channels = list(self.channels)
        return s

    # -- commands --

    def _set_bit(self, name: str, allow: bool) -> None:
        if allow:
            self.allowed.add(name)
        else:
            self.allowed.discard(name)
            self.allcommands = False

    def change_perm(self, name: str, cmd: Command, allow: bool) -> None:
        """``ACLChangeSelectorPerm``: a command, and for a container all its subcommands."""
        self._set_bit(name, allow)
        self.firstargs.pop(name, None)
        for sub in cmd.subcommands.values():
            self._set_bit(f"{name}|{sub.name}", allow)

    def set_category(self, cat: str, allow: bool) -> None:
        for name, cmd, _ in _all_commands():
            if cat in command_categories(cmd):
                self.change_perm(name, cmd, allow)

    def update_rules(self, rule: str, allow: bool) -> None:
        """``ACLUpdateCommandRules``: drop earlier rules for the same command (or its
        subcommands) or category, then append this one."""
        rule = rule.lower()
        keep = []
        for r in self.rules:
            body = r[1:]
            if body == rule or (body.startswith(rule) and body[len(rule)] == "|"):
                continue
            keep.append(r)
        keep.append(("+" if allow else "-") + rule)
        self.rules = keep

    def set(self, op: bytes) -> None:
        """``ACLSetSelector``: apply one rule, or raise AclError."""
        low = op.lower()
        if low in (b"allkeys", b"~*"):
            self.allkeys = True
            self.patterns.clear()
        elif low == b"resetkeys":
            self.allkeys = False
            self.patterns.clear()
        elif low in (b"allchannels", b"&*"):
            self.allchannels = True
            self.channels.clear()
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels.clear()
        elif low in (b"allcommands", b"+@all"):
            self.allowed = {name for name, _, _ in _all_commands()}
            self.future = True
            self.allcommands = True
            self.firstargs.clear()
            self.rules.clear()
        elif low in (b"nocommands", b"-@all"):
            self.allowed = set()
            self.future = False
            self.allcommands = False
            self.firstargs.clear()
            self.rules.clear()
        elif op[:1] in (b"~", b"%"):
            self._add_key_pattern(op)
        elif op[:1] == b"&":
            if self.allchannels:
                raise AclError(E_ISDIR)
            if has_spaces(op[1:]):
                raise AclError(E_INVAL)
            if op[1:] not in self.channels:
                self.channels.append(op[1:])
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow_command(_s(op[1:]))
        elif op[:1] == b"-" and op[1:2] != b"@":
            found = lookup(_s(op[1:]))
            if found is None:
                raise AclError(E_NOENT)
            name, cmd = found
            self.change_perm(name, cmd, False)
            self.update_rules(name, False)
        elif op[:1] in (b"+", b"-") and op[1:2] == b"@":
            cat = _s(op[2:]).lower()
            if cat not in CATEGORIES:
                raise AclError(E_NOENT)
            allow = op[:1] == b"+"
            self.set_category(cat, allow)
            self.update_rules("@" + cat, allow)
        else:
            raise AclError(E_INVAL)

    def _add_key_pattern(self, op: bytes) -> None:
        if self.allkeys:
            raise AclError(E_EXIST)
        flags = 0
        offset = 1
        if op[:1] == b"%":
            while offset < len(op):
                ch = op[offset:offset + 1]
                if ch in (b"R", b"r") and not flags & READ:
                    flags |= READ
                elif ch in (b"W", b"w") and not flags & WRITE:
                    flags |= WRITE
                elif ch == b"~":
                    offset += 1
                    break
                else:
                    raise AclError(E_INVAL)
                offset += 1
            if not flags:
                raise AclError(E_INVAL)
        else:
            flags = ALL_PERM
        pat = op[offset:]
        if has_spaces(pat):
            raise AclError(E_INVAL)
        for p in self.patterns:
            if p[0] == pat:
                p[1] |= flags
                break
        else:
            self.patterns.append([pat, flags])
        self.allkeys = False

    def _allow_command(self, spec: str) -> None:
        if "|" not in spec:
            found = lookup(spec)
            if found is None:
                raise AclError(E_NOENT)
            name, cmd = found
            self.change_perm(name, cmd, True)
            self.update_rules(name, True)
            return
        base, _, sub = spec.rpartition("|")
        found = lookup(base)
        if found is None:
            raise AclError(E_NOENT)
        name, cmd = found
        if "|" in name:  # a first-arg of a subcommand
            raise AclError(E_CHILD)
        if not sub:
            raise AclError(E_INVAL)
        if cmd.subcommands:
            found = lookup(spec)
            if found is None:
                raise AclError(E_NOENT)
            self.change_perm(found[0], found[1], True)
        else:
            args = self.firstargs.setdefault(name, [])
            if sub.lower() not in (a.lower() for a in args):
                args.append(sub)
        self.update_rules(spec, True)

    # -- description --

    def describe_commands(self) -> str:
        head = "+@all" if self.future else "-@all"
        return " ".join([head, *self.rules])

    def describe_keys(self) -> str:
        if self.allkeys:
            return "~*"
        return " ".join(_pattern_string(p, f) for p, f in self.patterns)

    def describe_channels(self) -> str:
        if self.allchannels:
            return "&*"
        return " ".join("&" + _s(c) for c in self.channels)

    def describe(self) -> str:
        """``ACLDescribeSelector``: keys, channels, command rules."""
        out = []
        if self.allkeys:
            out.append("~*")
        else:
            out += [_pattern_string(p, f) for p, f in self.patterns]
        if self.allchannels:
            out.append("&*")
        else:
            out.append("resetchannels")
            out += ["&" + _s(c) for c in self.channels]
        out.append(self.describe_commands())
        return " ".join(out)

    # -- checks --

    def check_key(self, key: bytes, need: int) -> bool:
        if self.allkeys:
            return True
        return any(flags & need == need and glob_match(pat, key) for pat, flags in self.patterns)

    def check_channel(self, channel: bytes, literal: bool) -> bool:
        if literal:
            return channel in self.channels
        return any(glob_match(pat, channel) for pat in self.channels)

    def check(self, name: str, cmd: Command, argv: list[bytes],
              keys: list[tuple[int, int]] | None) -> tuple[int, int]:
        """``ACLSelectorCheckCmd``: (OK or the denial, index of the denied argument)."""
        if not self.allcommands and "no-auth" not in cmd.flags and name not in self.allowed:
            args = self.firstargs.get(name)
            if len(argv) < 2 or not args:
                return DENIED_CMD, 0
            first = argv[2 if "|" in name else 1].lower()
            if not any(a.lower().encode("utf-8", "surrogateescape") == first for a in args):
                return DENIED_CMD, 0
        if not self.allkeys and keys:
            for pos, need in keys:
                if not self.check_key(argv[pos], need):
                    return DENIED_KEY, pos
        if not self.allchannels:
            chans = _channel_args(cmd, name, argv)
            if chans is not None:
                end, literal = chans
                for j in range(1, min(end, len(argv))):
                    if not self.check_channel(argv[j], literal):
                        return DENIED_CHANNEL, j
        return OK, 0


def _pattern_string(pat: bytes, flags: int) -> str:
    if flags == ALL_PERM:
        return "~" + _s(pat)
    if flags == READ:
        return "%R~" + _s(pat)
    return "%W~" + _s(pat)


def _channel_args(cmd: Command, name: str, argv: list[bytes]) -> tuple[int, bool] | None:
    """(end of the channel arguments, whether they are patterns) for the commands
    whose channels ACLs check (Redis's ``CMD_CHANNEL_PUBLISH|SUBSCRIBE``)."""
    if name in ("publish", "spublish"):
        return 2, False
    if name in ("subscribe", "ssubscribe"):
        return len(argv), False
    if name == "psubscribe":
        return len(argv), True
    return None


class User:
    """An ACL user (Redis's ``user``)."""

    __slots__ = ("name", "enabled", "nopass", "sanitize", "passwords", "selectors",
                 "unrestricted")

    def __init__(self, name: bytes, allchannels: bool = False) -> None:
        self.name = name
        self.enabled = False
        self.nopass = False
        self.sanitize = "sanitize-payload"  # or "skip-sanitize-payload"
        self.passwords: list[str] = []
        self.selectors: list[Selector] = [Selector(True, allchannels)]
        # every command on every key and channel allowed: the engine skips the checks
        # (kept up to date by ``set`` and ``copy_from``, read on every command)
        self.unrestricted = False

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def _update(self) -> None:
        r = self.selectors[0]
        self.unrestricted = r.allcommands and r.allkeys and r.allchannels

    def copy_from(self, other: User) -> None:
        self.enabled = other.enabled
        self.nopass = other.nopass
        self.sanitize = other.sanitize
        self.passwords = list(other.passwords)
        self.selectors = [s.copy() for s in other.selectors]
        self._update()

    def flags(self) -> list[str]:
        out = ["on" if self.enabled else "off"]
        if self.nopass:
            out.append("nopass")
        out.append(self.sanitize)
        return out

    def set(self, op: bytes, allchannels_default: bool) -> None:
        """``ACLSetUser``: apply one rule (flags, passwords, selectors), or raise."""
        try:
            self._set(op, allchannels_default)
        finally:
            self._update()

    def _set(self, op: bytes, allchannels_default: bool) -> None:
        if not op:
            return
        low = op.lower()
        if low == b"on":
            self.enabled = True
        elif low == b"off":
            self.enabled = False
        elif low in (b"skip-sanitize-payload", b"sanitize-payload"):
            self.sanitize = low.decode()
        elif low == b"nopass":
            self.nopass = True
            self.passwords.clear()
        elif low == b"resetpass":
            self.nopass = False
            self.passwords.clear()
        elif op[:1] in (b">", b"#"):
            h = hash_password(op[1:]) if op[:1] == b">" else _check_hash(op[1:])
            if h not in self.passwords:
                self.passwords.append(h)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            h = hash_password(op[1:]) if op[:1] == b"<" else _check_hash(op[1:])
            if h not in self.passwords:
                raise AclError(E_NODEV)
            self.passwords.remove(h)
        elif op[:1] == b"(" and op[-1:] == b")":
            s = Selector(False, allchannels_default)
            for sub in split_args(op[1:-1]) or []:
                s.set(sub)
            self.selectors.append(s)
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low == b"reset":
            for o in (b"resetpass", b"resetkeys", b"resetchannels"):
                self.set(o, allchannels_default)
            if allchannels_default:
                self.set(b"allchannels", allchannels_default)
            for o in (b"off", b"sanitize-payload", b"clearselectors", b"-@all"):
                self.set(o, allchannels_default)
        else:
            self.root.set(op)

    def describe(self) -> str:
        """``ACLDescribeUser``: the rules after ``user <name>`` in ACL LIST."""
        parts = self.flags() + ["#" + h for h in self.passwords]
        out = " ".join(parts) + " " + self.root.describe()
        for s in self.selectors[1:]:
            out += " (" + s.describe() + ")"
        return out

    def check_password(self, password: bytes) -> bool:
        """Whether ``password`` opens this user (enabled; nopass or a hash matches),
        comparing hashes in constant time."""
        if not self.enabled:
            return False
        if self.nopass:
            return True
        import hmac

        h = hash_password(password)
        ok = False
        for p in self.passwords:
            ok |= hmac.compare_digest(h, p)
        return ok


def _check_hash(h: bytes) -> str:
    if len(h) != 64 or not all(ch in _HEX for ch in h):
        raise AclError(E_BADMSG)
    return h.decode()


def merge_selector_args(args: list[bytes]) -> tuple[list[bytes], int]:
    """``ACLMergeSelectorArguments``: join ``(a`` ``b)`` into ``(a b)``. Returns the
    merged list, or ([], index of the unmatched opening argument)."""
    out: list[bytes] = []
    sel: bytes | None = None
    start = -1
    for j, op in enumerate(args):
        if sel is None and op[:1] == b"(" and op[-1:] != b")":
            sel = op
            start = j
            continue
        if sel is not None:
            sel += b" " + op
            if op[-1:] == b")":
                out.append(sel)
                sel = None
            continue
        out.append(op)
    if sel is not None:
        return [], start
    return out, -1


# -- keys of a command, with the permission each needs -------------------------------------


def _keyword_first(spec: KeySpec, argv: list[bytes]) -> int:
    """Where a keyword spec's keys begin (after the keyword), or 0 when it is not
    there; searched as Redis does (never the last argument, from ``startfrom`` on, or
    backwards from the end for a negative ``startfrom``, never argv[1])."""
    argc = len(argv)
    kw = spec.keyword.encode().lower()
    if spec.startfrom > 0:
        rng = range(spec.startfrom, argc - 1)
    else:
        rng = range(argc + spec.startfrom, 1, -1)
    for i in rng:
        if i >= argc or i < 1:
            break
        if argv[i].lower() == kw:
            return i + 1
    return 0


def _atoi(b: bytes) -> int:
    """C's ``atoi``: leading blanks, a sign, the digits that follow (0 if none)."""
    m = re.match(rb"[ \t\n\v\f\r]*([+-]?[0-9]+)", b)
    return int(m.group(1)) if m else 0


def _range_end(spec: KeySpec, first: int, argc: int) -> int:
    if spec.lastkey >= 0:
        return first + spec.lastkey
    if not spec.limit:
        return argc + spec.lastkey
    return first + ((argc - first) // spec.limit + spec.lastkey)


def _keys_by_specs(cmd: Command, argv: list[bytes]) -> list[tuple[int, int]] | None:
    """Redis's ``getKeysUsingKeySpecs``; None where it gives up (an unknown or
    incomplete spec, a bad key count): the command's own key finder is used then."""
    argc = len(argv)
    out: list[tuple[int, int]] = []
    for spec in cmd.specs:
        fl = _flagset(spec.flags)
        if "not_key" in fl:
            continue
        if spec.unknown:
            return None
        if spec.keyword:
            first = _keyword_first(spec, argv)
            if not first:
                continue
        else:
            first = spec.index
        if spec.unknown_find:
            return None
        if spec.keynum:
            step = spec.keystep
            if spec.keynumidx >= argc - first:
                return None
            numkeys = string2ll(argv[first + spec.keynumidx])
            if numkeys is None or numkeys < 0:
                return None
            first += spec.firstkey
            last = first + numkeys - 1
        else:
            step = spec.keystep
            last = _range_end(spec, first, argc)
        if last >= argc or last < first or first >= argc:
            return None
        for i in range(first, last + 1, step or 1):
            out.append((i, _perm(spec.flags)))
        if "incomplete" in fl:
            return None
    return out


def _spec_for(cmd: Command, argv: list[bytes], pos: int) -> KeySpec | None:
    """The key spec that finds ``argv[pos]`` (the flags Redis's own key finders give)."""
    argc = len(argv)
    unknown = None
    for spec in cmd.specs:
        if spec.unknown or spec.unknown_find:
            unknown = spec
            if spec.unknown:
                continue
        if spec.keyword:
            first = _keyword_first(spec, argv)
            if not first:
                continue
        else:
            first = spec.index
        if spec.keynum:
            if first + spec.keynumidx >= argc:
                continue
            n = _atoi(argv[first + spec.keynumidx])
            first += spec.firstkey
            last = first + n - 1
        elif spec.unknown_find:
            last = argc - 1
        else:
            last = _range_end(spec, first, argc)
        if first <= pos <= last and (pos - first) % (spec.keystep or 1) == 0:
            return spec
    return unknown


def _keynum_ok(spec: KeySpec, argv: list[bytes]) -> bool:
    i = spec.index + spec.keynumidx
    if i >= len(argv):
        return False
    n = _atoi(argv[i])
    first = spec.index + spec.firstkey
    return 1 <= n <= (len(argv) - first) // (spec.keystep or 1)


_BY_SPECS: dict[int, bool] = {}
_FLAGSETS: dict[str, frozenset[str]] = {}


def _flagset(flags: str) -> frozenset[str]:
    f = _FLAGSETS.get(flags)
    if f is None:
        f = _FLAGSETS[flags] = frozenset(flags.split())
    return f


_PERM: dict[str, int] = {}


def _perm(flags: str) -> int:
    p = _PERM.get(flags)
    if p is None:
        p = _PERM[flags] = KeySpec(flags).acl_flags
    return p


def _uses_specs(cmd: Command) -> bool:
    """Whether Redis finds ``cmd``'s keys through its key specs (some spec names keys
    and no spec has variable flags) rather than the command's own key finder."""
    v = _BY_SPECS.get(id(cmd))
    if v is None:
        specs = cmd.specs
        v = _BY_SPECS[id(cmd)] = bool(specs) and \
            any("not_key" not in s.flags.split() for s in specs) and \
            not any("variable_flags" in s.flags.split() for s in specs)
    return v


def command_keys(cmd: Command, argv: list[bytes]) -> list[tuple[int, int]]:
    """Redis's ``getKeysFromCommandWithSpecs``: (position, READ/WRITE needed) of each
    key ``argv`` names."""
    specs = cmd.specs
    if _uses_specs(cmd):
        keys = _keys_by_specs(cmd, argv)
        if keys is not None:
            return keys
    # Redis then asks the command's own key finder (getkeys_proc), which only the
    # commands with movable keys, SET and BITFIELD have; the others name no key
    if cmd.keys_fn is None and cmd.key_flags is None:
        return []
    for spec in specs:
        if spec.keynum and not spec.keyword and not _keynum_ok(spec, argv):
            return []  # genericGetKeys: no key when the count is not 1..the keys there
    try:
        positions = cmd.key_positions(argv)
    except (IndexError, ValueError):
        return []
    out = []
    for p in positions:
        if p >= len(argv):
            continue
        try:
            flags = cmd.key_flags(argv, p) if cmd.key_flags is not None else None
        except (IndexError, ValueError, CommandError):
            flags = None
        if flags is not None:
            out.append((p, _perm(flags)))
            continue
        found = _spec_for(cmd, argv, p)
        if found is not None:
            out.append((p, found.acl_flags))
        else:
            out.append((p, READ if "readonly" in cmd.flags else ALL_PERM))
    return out


def check(user: User, name: str, cmd: Command, argv: list[bytes]) -> tuple[int, int]:
    """``ACLCheckAllUserCommandPerm``: (OK, 0) or (denial, argument index). With
    several selectors: the command if none allows it, else the last key/channel."""
    keys: list[tuple[int, int]] | None = None
    relevant, last_idx = DENIED_CMD, 0
    for s in user.selectors:
        if keys is None and not s.allkeys:
            keys = command_keys(cmd, argv)
        res, idx = s.check(name, cmd, argv, keys)
        if res == OK:
            return OK, 0
        if res > relevant or (res == relevant and idx > last_idx):
            relevant, last_idx = res, idx
    return relevant, last_idx


def unrestricted_key_access(user: User, name: str, cmd: Command, argv: list[bytes],
                            need: int = READ) -> bool:
    """``ACLUserCheckCmdWithUnrestrictedKeyAccess``: a selector that allows the command
    with every key (``allkeys``, or a ``*`` pattern granting ``need``) exists. SORT's
    BY/GET patterns, which read keys no key spec names, need it."""
    if user.unrestricted:
        return True
    keys: list[tuple[int, int]] | None = None
    for s in user.selectors:
        if keys is None and not s.allkeys:
            keys = command_keys(cmd, argv)
        if s.check(name, cmd, argv, keys)[0] != OK:
            continue
        if s.allkeys or any(p == b"*" and f & need == need for p, f in s.patterns):
            return True
    return False


def error_message(res: int, user: User, name: str, arg: bytes, verbose: bool = False) -> str:
    """Redis's ``getAclErrorMessage``."""
    if res == DENIED_CMD:
        return f"User {_s(user.name)} has no permissions to run the '{name}' command"
    if res == DENIED_KEY:
        if verbose:
            return f"User {_s(user.name)} has no permissions to access the '{_s(arg)}' key"
        return "No permissions to access a key"
    if verbose:
        return f"User {_s(user.name)} has no permissions to access the '{_s(arg)}' channel"
    return "No permissions to access a channel"


# -- the log ----------------------------------------------------------------------------

_GROUPING_MS = 60000
_REASONS = {DENIED_CMD: "command", DENIED_KEY: "key", DENIED_CHANNEL: "channel",
            DENIED_AUTH: "auth"}


class LogEntry:
    __slots__ = ("count", "reason", "context", "object", "username", "ctime", "cinfo",
                 "entry_id", "created")

    def __init__(self, reason: int, context: str, obj: bytes, username: bytes, now: int,
                 cinfo: bytes, entry_id: int) -> None:
        self.count = 1
        self.reason = reason
        self.context = context
        self.object = obj
        self.username = username
        self.ctime = now
        self.cinfo = cinfo
        self.entry_id = entry_id
        self.created = now


# -- the users of an engine ------------------------------------------------------------------


class Acl:
    """The users of an engine (``engine.acl``), its ACL LOG and the default user."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.users: dict[bytes, User] = {}
        self.default = self._create_default()
        self.users[b"default"] = self.default
        self._requirepass: Any = ""
        self.log: list[LogEntry] = []
        self.log_next_id = 0
        # INFO stats acl_access_denied_<reason>, counted with every log entry (CONFIG
        # RESETSTAT leaves them, as in Redis 8.2)
        self.denied: dict[str, int] = {"auth": 0, "cmd": 0, "key": 0, "channel": 0}

    def _allchannels_default(self) -> bool:
        return self.engine.config.get("acl-pubsub-default") == "allchannels"

    def _create_default(self) -> User:
        u = User(b"default")
        for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            u.set(op, False)
        return u

    def new_user(self, name: bytes) -> User:
        return User(name, self._allchannels_default())

    def sync(self) -> None:
        """Apply ``requirepass`` to the default user when it changed (Redis's
        ``ACLUpdateDefaultUserPassword``)."""
        pw = self.engine.config.get("requirepass") or ""
        if pw == self._requirepass:
            return
        self._requirepass = pw
        d = self.default
        d.set(b"resetpass", False)
        if pw:
            d.set(b">" + (pw.encode("utf-8", "surrogateescape") if isinstance(pw, str) else pw),
                  False)
        else:
            d.set(b"nopass", False)

    def auth_required(self) -> bool:
        """Whether new connections must AUTH (the default user is not ``nopass`` or off)."""
        self.sync()
        d = self.default
        return not d.nopass or not d.enabled

    def default_nopass(self) -> bool:
        """Whether the default user is ``nopass`` (protected mode applies then)."""
        self.sync()
        return self.default.nopass

    def get(self, name: bytes) -> User | None:
        return self.users.get(name)

    def set_user(self, user: User, ops: list[bytes]) -> None:
        """Apply ``ops`` to ``user`` (all or nothing is up to the caller)."""
        allch = self._allchannels_default()
        for op in ops:
            user.set(op, allch)

    def authenticate(self, c: Client, username: bytes, password: bytes, argv0: bytes) -> bool:
        """AUTH/HELLO: on success ``c`` becomes ``username``; a failure is logged
        (object: the command as the client spelled it, as Redis)."""
        self.sync()
        u = self.users.get(username)
        if u is not None and u.check_password(password):
            c.user = u
            c.authenticated = True
            return True
        ctx = "multi" if c.multi is not None else "toplevel"
        self.add_log(c, DENIED_AUTH, ctx, argv0, username)
        return False

    # -- log --

    def add_log(self, c: Client, reason: int, context: str, obj: bytes,
                username: bytes | None = None) -> None:
        """``addACLLogEntry``: a new entry, or a similar recent one counted again."""
        stat = {DENIED_AUTH: "auth", DENIED_CMD: "cmd", DENIED_KEY: "key",
                DENIED_CHANNEL: "channel"}[reason]
        self.denied[stat] += 1
        now = self.engine.clock.ms()
        uname = username if username is not None else c.user.name
        cinfo = client_info_line(c)
        for i, e in enumerate(self.log[:10]):
            if (e.reason == reason and e.context == context and abs(e.ctime - now) <= _GROUPING_MS
                    and e.object == obj and e.username == uname):
                e.cinfo = cinfo
                e.ctime = now
                e.count += 1
                del self.log[i]
                self.log.insert(0, e)
                return
        self.log.insert(0, LogEntry(reason, context, obj, uname, now, cinfo, self.log_next_id))
        self.log_next_id += 1
        limit = int(self.engine.config.get("acllog-max-len", 128))
        del self.log[limit:]

    def log_entries(self, count: int) -> list[dict[bytes, Any]]:
        from .replies import Double

        now = self.engine.clock.ms()
        out = []
        for e in self.log[:count]:
            out.append({
                b"count": e.count,
                b"reason": _REASONS.get(e.reason, "unknown").encode(),
                b"context": e.context.encode(),
                b"object": e.object,
                b"username": e.username,
                b"age-seconds": Double((now - e.ctime) / 1000),
                b"client-info": e.cinfo,
                b"entry-id": e.entry_id,
                b"timestamp-created": e.created,
                b"timestamp-last-updated": e.ctime,
            })
        return out

    # -- checks from the engine --

    def check_command(self, c: Client, cmd: Command, container: Command | None,
                      argv: list[bytes], context: str) -> tuple[int, str] | None:
        """Check ``c``'s user may run ``argv``: None, or (the denial, Redis's text for
        it) after logging it."""
        name = full_name(cmd, container)
        res, idx = check(c.user, name, cmd, argv)
        if res == OK:
            return None
        obj = name.encode() if res == DENIED_CMD else argv[idx]
        self.add_log(c, res, context, obj)
        return res, error_message(res, c.user, name, argv[idx])

    # -- deleting users --

    def delete(self, name: bytes) -> bool:
        """ACL DELUSER of one user: its clients are disconnected, as in Redis."""
        u = self.users.pop(name, None)
        if u is None:
            return False
        self.kill_clients_of(u)
        return True

    def kill_clients_of(self, u: User) -> None:
        front = self.engine.front
        for x in front.clients():
            if x.user is u:
                x.user = self.default
                x.authenticated = False
                front.kill(x)

    def kill_pubsub_if_needed(self, new: User, original: User) -> None:
        """``ACLKillPubsubClientsIfNeeded``: disconnect the user's subscribers whose
        channels the new rules no longer allow."""
        if any(s.allchannels for s in new.selectors):
            return
        upcoming = [ch for s in new.selectors for ch in s.channels]
        if all(ch in upcoming for s in original.selectors for ch in s.channels):
            return
        front = self.engine.front
        for x in front.clients():
            if x.user is not original or client_type(x) != "pubsub":
                continue
            kill = any(p not in upcoming for p in x.patterns)
            if not kill:
                kill = any(not any(glob_match(p, ch) for p in upcoming)
                           for ch in (*x.channels, *x.shard_channels))
            if kill:
                front.kill(x)

    # -- files --

    def load_file(self, path: str) -> str | None:
        """ACL LOAD (``ACLLoadFromFile``): replace the users with the file's, or
        change nothing and return Redis's error text (``install`` says what happens
        to connected clients)."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            return f"Error loading ACLs, opening file '{path}': {e.strerror}"
        users: dict[bytes, User] = {}
        errors = ""
        allch = self._allchannels_default()
        for i, raw in enumerate(data.split(b"\n")):
            linenum = i + 1
            line = raw.strip(b" \t\r\n")
            if not line:
                continue
            argv = [a for a in line.split(b" ") if a]
            if not argv:
                continue
            if argv[0] != b"user" or len(argv) < 2:
                errors += (f"{path}:{linenum} should start with user keyword followed by "
                           "the username. ")
                continue
            if has_spaces(argv[1]):
                errors += (f"'{path}:{linenum}: username '{_s(argv[1])}' contains invalid "
                           "characters. ")
                continue
            if argv[1] in users:
                errors += f"WARNING: Duplicate user '{_s(argv[1])}' found on line {linenum}. "
                continue
            u = users[argv[1]] = User(argv[1], allch)
            merged, bad = merge_selector_args(argv[2:])
            if bad >= 0:
                errors += f"{path}:{linenum}: Unmatched parenthesis in selector definition."
            syntax_error = False
            for op in merged:
                op = op.strip(b"\t\r\n")
                try:
                    u.set(op, allch)
                except AclError as e:
                    if e.msg == E_NOENT:  # unknown commands are named, nothing secret
                        shown = _s(op.split(b"\x00", 1)[0])
                        errors += (f"{path}:{linenum}: Error in applying operation "
                                   f"'{shown}': {e.msg}. ")
                    elif not syntax_error:  # only the first other error of a line
                        errors += f"{path}:{linenum}: {e.msg}. "
                        syntax_error = True
        if errors:
            return (errors + "WARNING: ACL errors detected, no change to the previously "
                    "active ACL rules was performed")
        self.install(users)
        return None

    def install(self, users: dict[bytes, User], keep_default: bool = False) -> None:
        """Make ``users`` the users (a file or config lines were loaded), as Redis 8.2's
        ACL LOAD: a user that stays keeps its identity and takes the new rules (its
        clients go on under them), the clients of a user that is gone are
        disconnected. Without a ``default`` among them the default user is reset to
        Redis's (ACL LOAD), or kept as it is (``keep_default``: config lines)."""
        old = self.users
        new_default = users.pop(b"default", None)
        if new_default is None and not keep_default:
            new_default = self._create_default()
        if new_default is not None:
            self.default.copy_from(new_default)
        installed: dict[bytes, User] = {b"default": self.default}
        for name, nu in users.items():
            ou = old.get(name)
            if ou is not None and ou is not self.default:
                ou.copy_from(nu)
                nu = ou
            installed[name] = nu
        self.users = installed
        for name, u in old.items():
            if name not in installed:
                self.kill_clients_of(u)

    def describe_all(self) -> list[str]:
        """``<name> <rules>`` of every user, sorted by name (ACL LIST without "user ")."""
        self.sync()
        return [_s(name) + " " + self.users[name].describe() for name in sorted(self.users)]

    def file_text(self) -> bytes:
        """The ACL file ACL SAVE writes: one ``user`` line per user, sorted by name."""
        return b"".join(b"user " + name + b" " + self.users[name].describe().encode(
            "utf-8", "surrogateescape") + b"\n" for name in sorted(self.users))

    def save_file(self, path: str) -> bool:
        tmp = f"{path}.tmp-{os.getpid()}-{self.engine.clock.ms()}"
        try:
            with open(tmp, "wb") as f:
                f.write(self.file_text())
            os.replace(tmp, path)
            return True
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False

    def load_config_users(self, lines: list[list[bytes]]) -> None:
        """The ``user`` lines of the config file (checked already by
        ``check_config_user``): applied at startup, ``default`` reset first."""
        users: dict[bytes, User] = {}
        allch = self._allchannels_default()
        for argv in lines:
            u = users[argv[1]] = User(argv[1], allch)
            merged, _ = merge_selector_args(argv[2:])
            for op in merged:
                u.set(op, allch)
        self.install(users, keep_default=True)


def check_config_user(argv: list[bytes], seen: set[bytes]) -> str | None:
    """A config file's ``user`` line (``ACLAppendUserForLoading``): None when it can
    be loaded, else Redis's "Error in user declaration" text."""
    if argv[1] in seen:
        return f"Error in user declaration '{_s(argv[1])}': {E_ALREADY}"
    merged, bad = merge_selector_args(argv[2:])
    if bad >= 0:
        return f"Error in user declaration '{_s(argv[2 + bad])}': Wrong format"
    u = User(argv[1])
    for op in merged:
        try:
            u.set(op, False)
        except AclError as e:
            if e.msg != E_NOENT:
                return f"Error in user declaration '{_s(op)}': {e.msg}"
    if has_spaces(argv[1]):
        return "Spaces not allowed in ACL usernames"
    seen.add(argv[1])
    return None


def genpass(bits: int) -> str:
    """ACL GENPASS: ``bits`` random bits as hex (rounded up to whole characters)."""
    chars = (bits + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars]
