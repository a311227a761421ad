"""ACL: SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, GENPASS, LOG, DRYRUN,
SAVE, LOAD, HELP, with Redis 8.2's replies and error texts.

The users, their rules and the checks are ``engine/acl.py``; this module is the
command surface. ACL SAVE/LOAD use the ``aclfile`` config.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import acl as aclmod
from ..args import parse_int
from ..client import Client
from ..errors import NOT_INTEGER, CommandError, wrong_args
from ..registry import COMMANDS, Handler, command
from ..replies import OK, ErrorReply
from ..subcommands import arity_ok, dispatch, help_lines, resolve

_HELP = [
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
]

_NO_FILE = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
    "Redis configuration file set) in order to store users in the Redis configuration."
)

_ADMIN = "admin noscript loading stale"


def _s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _cstr(b: bytes) -> str:
    """An argument as Redis prints it with ``%s`` (up to the first NUL)."""
    return _s(b.split(b"\x00", 1)[0])


def _syntax(argv: list[bytes]) -> str:
    """Redis's ``addReplySubcommandSyntaxError``."""
    return (f"ERR unknown subcommand or wrong number of arguments for '{_cstr(argv[1][:128])}'. "
            "Try ACL HELP.")


@command("acl", -2, "", group="server")
def acl_(c: Client, argv: list[bytes]) -> object:
    """ACL subcommand [argument ...]"""
    return dispatch(c, argv, "acl")


def _sub(name: str, arity: int, flags: str = _ADMIN) -> Callable[[Handler], Handler]:
    return command(name, arity, flags, group="server", parent="acl")


@_sub("help", 2, "loading stale")
def acl_help(c: Client, argv: list[bytes]) -> object:
    """ACL HELP"""
    return help_lines("acl", _HELP)


@_sub("setuser", -3)
def acl_setuser(c: Client, argv: list[bytes]) -> object:
    """ACL SETUSER username [rule [rule ...]]"""
    acl = c.engine.acl
    acl.sync()
    name = argv[2]
    if aclmod.has_spaces(name):
        raise CommandError("ERR Usernames can't contain spaces or null characters")
    merged, bad = aclmod.merge_selector_args(argv[3:])
    if bad >= 0:
        raise CommandError(
            f"ERR Unmatched parenthesis in acl selector starting at '{_cstr(argv[3 + bad])}'.")
    existing = acl.get(name)
    temp = acl.new_user(name)
    if existing is not None:
        temp.copy_from(existing)
    allch = acl._allchannels_default()
    for op in merged:
        try:
            temp.set(op, allch)
        except aclmod.AclError as e:
            raise CommandError(f"ERR Error in ACL SETUSER modifier '{_cstr(op)}': {e.msg}")
    if existing is not None:
        acl.kill_pubsub_if_needed(temp, existing)
        existing.copy_from(temp)
    else:
        acl.users[name] = temp
    return OK


@_sub("deluser", -3)
def acl_deluser(c: Client, argv: list[bytes]) -> object:
    """ACL DELUSER username [username ...]"""
    if b"default" in argv[2:]:
        raise CommandError("ERR The 'default' user cannot be removed")
    return sum(1 for name in argv[2:] if c.engine.acl.delete(name))


def _selector_fields(s: aclmod.Selector) -> dict[bytes, Any]:
    return {
        b"commands": s.describe_commands().encode(),
        b"keys": s.describe_keys().encode("utf-8", "surrogateescape"),
        b"channels": s.describe_channels().encode("utf-8", "surrogateescape"),
    }


@_sub("getuser", 3)
def acl_getuser(c: Client, argv: list[bytes]) -> object:
    """ACL GETUSER username"""
    c.engine.acl.sync()
    u = c.engine.acl.get(argv[2])
    if u is None:
        return None
    from ..replies import RespSet

    out: dict[bytes, Any] = {
        b"flags": RespSet([f.encode() for f in u.flags()]),
        b"passwords": [p.encode() for p in u.passwords],
    }
    out.update(_selector_fields(u.root))
    out[b"selectors"] = [_selector_fields(s) for s in u.selectors[1:]]
    return out


def _sorted_users(c: Client) -> list[aclmod.User]:
    users = c.engine.acl.users
    return [users[n] for n in sorted(users)]


@_sub("list", 2)
def acl_list(c: Client, argv: list[bytes]) -> object:
    """ACL LIST"""
    c.engine.acl.sync()
    return [b"user " + u.name + b" " + u.describe().encode("utf-8", "surrogateescape")
            for u in _sorted_users(c)]


@_sub("users", 2)
def acl_users(c: Client, argv: list[bytes]) -> object:
    """ACL USERS"""
    return [u.name for u in _sorted_users(c)]


@_sub("whoami", 2, "noscript loading stale")
def acl_whoami(c: Client, argv: list[bytes]) -> object:
    """ACL WHOAMI"""
    return c.user.name


@_sub("cat", -2, "noscript loading stale")
def acl_cat(c: Client, argv: list[bytes]) -> object:
    """ACL CAT [category]"""
    if len(argv) == 2:
        return [x.encode() for x in aclmod.CATEGORIES]
    if len(argv) > 3:
        raise CommandError(_syntax(argv))
    cat = _s(argv[2]).lower()
    if cat not in aclmod.CATEGORIES:
        raise CommandError(f"ERR Unknown category '{_cstr(argv[2][:128])}'")
    out = []
    for top in COMMANDS.values():
        if cat in aclmod.command_categories(top):
            out.append(top.name.encode())
        for sub in top.subcommands.values():
            if cat in aclmod.command_categories(sub):
                out.append(f"{top.name}|{sub.name}".encode())
    return out


@_sub("genpass", -2, "noscript loading stale")
def acl_genpass(c: Client, argv: list[bytes]) -> object:
    """ACL GENPASS [bits]"""
    if len(argv) > 3:
        raise CommandError(_syntax(argv))
    bits = 256
    if len(argv) == 3:
        bits = parse_int(argv[2], NOT_INTEGER)
    if bits <= 0 or bits > 4096:
        raise CommandError(
            "ERR ACL GENPASS argument must be the number of bits for the output password, "
            "a positive number up to 4096")
    return aclmod.genpass(bits).encode()


@_sub("log", -2)
def acl_log(c: Client, argv: list[bytes]) -> object:
    """ACL LOG [count | RESET]"""
    if len(argv) > 3:
        raise CommandError(_syntax(argv))
    acl = c.engine.acl
    count = 10
    if len(argv) == 3:
        if argv[2].lower() == b"reset":
            acl.log.clear()
            return OK
        count = max(0, parse_int(argv[2], NOT_INTEGER))
    return acl.log_entries(count)


@_sub("dryrun", -4)
def acl_dryrun(c: Client, argv: list[bytes]) -> object:
    """ACL DRYRUN username command [arg [arg ...]]"""
    acl = c.engine.acl
    acl.sync()
    u = acl.get(argv[2])
    if u is None:
        raise CommandError(f"ERR User '{_cstr(argv[2])}' not found")
    args = argv[3:]
    top = c.engine.lookup_command(args[0])
    cmd = None if top is None else resolve(top, args)
    if top is None or cmd is None:
        raise CommandError(f"ERR Command '{_cstr(args[0])}' not found")
    name = aclmod.full_name(cmd, top)
    if not arity_ok(cmd, len(args)):
        raise CommandError(wrong_args(name))
    res, idx = aclmod.check(u, name, cmd, args)
    if res == aclmod.OK:
        return OK
    return aclmod.error_message(res, u, name, args[idx], verbose=True).encode(
        "utf-8", "surrogateescape")


def _aclfile(c: Client) -> str:
    path = c.engine.config.get("aclfile") or ""
    if not path:
        raise CommandError(_NO_FILE)
    return str(path)


@_sub("load", 2)
def acl_load(c: Client, argv: list[bytes]) -> object:
    """ACL LOAD"""
    path = _aclfile(c)
    c.engine.acl.sync()
    err = c.engine.acl.load_file(path)
    if err is not None:
        return ErrorReply(("ERR " + err).encode("utf-8", "surrogateescape"))
    return OK


@_sub("save", 2)
def acl_save(c: Client, argv: list[bytes]) -> object:
    """ACL SAVE"""
    path = _aclfile(c)
    c.engine.acl.sync()
    if not c.engine.acl.save_file(path):
        raise CommandError(
            "ERR There was an error trying to save the ACLs. Please check the server logs "
            "for more information")
    return OK
