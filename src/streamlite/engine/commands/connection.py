"""Connection commands: PING, ECHO, SELECT, QUIT, RESET, AUTH, HELLO, CLIENT,
READONLY/READWRITE.

Commands that need other connections (CLIENT LIST/KILL/UNBLOCK/PAUSE) ask the
front (``engine.front.Front``) the engine runs behind.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlite

from ..args import parse_int
from ..client import Client
from ..clientinfo import client_info_line, client_type
from ..errors import DB_INDEX, NOT_INTEGER, SYNTAX, WRONGPASS, CommandError
from ..registry import Handler, command
from ..replies import NO_REPLY, OK, PONG, Push, SimpleString, Verbatim
from ..subcommands import dispatch, help_lines
from .cluster import DISABLED


@command("ping", -1, "fast", group="connection")
def ping(c: Client, argv: list[bytes]) -> object:
    """PING [message]"""
    if len(argv) > 2:
        raise CommandError("ERR wrong number of arguments for 'ping' command")
    if c.in_pubsub and c.protocol == 2:
        return Push([b"pong", argv[1] if len(argv) == 2 else b""])
    return argv[1] if len(argv) == 2 else PONG


@command("echo", 2, "fast", group="connection")
def echo(c: Client, argv: list[bytes]) -> object:
    """ECHO message"""
    return argv[1]


@command("select", 2, "loading stale fast", group="connection")
def select(c: Client, argv: list[bytes]) -> object:
    """SELECT index"""
    idx = parse_int(argv[1], "ERR value is not an integer or out of range")
    if idx < 0 or idx >= len(c.engine.dbs):
        raise CommandError(DB_INDEX)
    c.select(idx)
    return OK


@command("quit", -1, "allow-busy noscript loading stale fast no-auth", group="connection")
def quit_(c: Client, argv: list[bytes]) -> object:
    """QUIT"""
    c.closing = True
    return OK


# -- authentication -------------------------------------------------------------------


def _check_password(c: Client, user: bytes, password: bytes, argv0: bytes) -> bool:
    """Authenticate ``c`` as ``user`` (``engine/acl.py``); True on success, a failure
    goes to ACL LOG."""
    return c.engine.acl.authenticate(c, user, password, argv0)


@command("auth", -2, "noscript loading stale fast no-auth allow-busy", group="connection")
def auth(c: Client, argv: list[bytes]) -> object:
    """AUTH [username] password"""
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    if len(argv) == 2:
        c.engine.acl.sync()
        if c.engine.acl.default.nopass:
            raise CommandError(
                "ERR AUTH <password> called without any password configured for the default "
                "user. Are you sure your configuration is correct?"
            )
        user, password = b"default", argv[1]
    else:
        user, password = argv[1], argv[2]
    if not _check_password(c, user, password, argv[0]):
        return _auth_error(c)
    return OK


def _auth_error(c: Client) -> object:
    """Redis's ``addAuthErrReply``: WRONGPASS, unless the client has replies not yet sent
    (an earlier command of the same pipeline), when the failure gets no reply at all."""
    if c.engine.front.has_pending_replies(c):
        return NO_REPLY
    raise CommandError(WRONGPASS)


def _valid_name(name: bytes) -> bool:
    """Printable ASCII without spaces, checked as Redis does: over a C string, so up to
    the first NUL (``a\0 b`` passes)."""
    nul = name.find(0)
    return all(33 <= ch <= 126 for ch in (name if nul < 0 else name[:nul]))


@command("hello", -1, "noscript loading stale fast no-auth allow-busy", group="connection")
def hello(c: Client, argv: list[bytes]) -> object:
    """HELLO [protover [AUTH username password] [SETNAME clientname]]"""
    ver = 0
    if len(argv) >= 2:
        ver = parse_int(argv[1], "ERR Protocol version is not an integer or out of range")
        if ver < 2 or ver > 3:
            raise CommandError("NOPROTO unsupported protocol version")
    creds: tuple[bytes, bytes] | None = None
    name: bytes | None = None
    j = 2
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = argv[j].lower()
        if opt == b"auth" and more >= 2:
            creds = (argv[j + 1], argv[j + 2])
            j += 3
        elif opt == b"setname" and more >= 1:
            name = argv[j + 1]
            if not _valid_name(name):
                raise CommandError(
                    "ERR Client names cannot contain spaces, newlines or special characters."
                )
            j += 2
        else:
            raise CommandError(
                f"ERR Syntax error in HELLO option '{argv[j].decode('utf-8', 'replace')}'"
            )
    if creds is not None and not _check_password(c, *creds, argv[0]):
        return _auth_error(c)
    if not c.authenticated:
        raise CommandError(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
            "select the RESP protocol version at the same time"
        )
    if name is not None:
        c.name = name
    if ver:
        c.protocol = ver
    return {
        b"server": b"redis",
        b"version": streamlite.REDIS_VERSION.encode(),
        b"proto": c.protocol,
        b"id": c.id,
        b"mode": b"standalone",
        b"role": b"replica" if c.engine.replication is not None
        and c.engine.replication.is_replica else b"master",
        b"modules": [],
    }


# -- RESET ------------------------------------------------------------------------------


@command("reset", 1, "noscript loading stale fast no-auth allow-busy", group="connection")
def reset(c: Client, argv: list[bytes]) -> object:
    """RESET"""
    c.engine.drop_client(c)  # its MULTI, WATCHes, subscriptions, tracking
    c.reply_mode = b"on"
    c.protocol = 2
    c.name = b""
    c.select(0)
    c.no_evict = False
    c.no_touch = False
    c.user = c.engine.acl.default
    c.fieldsets = None  # HIMPORT PREPARE's (Redis 8.10)
    c.authenticated = not c.engine.acl.auth_required()
    c.engine.front.unmonitor(c)
    return SimpleString(b"RESET")


@command("readonly", 1, "loading stale fast", group="connection")
def readonly(c: Client, argv: list[bytes]) -> object:
    """READONLY"""
    raise CommandError(DISABLED)


@command("readwrite", 1, "loading stale fast", group="connection")
def readwrite(c: Client, argv: list[bytes]) -> object:
    """READWRITE"""
    raise CommandError(DISABLED)


# -- CLIENT -------------------------------------------------------------------------------

_CLIENT_HELP = [
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
]


@command("client", -2, "loading stale noscript", group="connection")
def client_(c: Client, argv: list[bytes]) -> object:
    """CLIENT subcommand [argument ...]"""
    return dispatch(c, argv, "client")


def _sub(name: str, arity: int, flags: str = "noscript loading stale") -> Callable[[Handler], Handler]:
    return command(name, arity, flags, group="connection", parent="client")


@_sub("help", 2)
def client_help(c: Client, argv: list[bytes]) -> object:
    """CLIENT HELP"""
    return help_lines("client", _CLIENT_HELP)


@_sub("id", 2)
def client_id(c: Client, argv: list[bytes]) -> object:
    """CLIENT ID"""
    return c.id


@_sub("getname", 2)
def client_getname(c: Client, argv: list[bytes]) -> object:
    """CLIENT GETNAME"""
    return c.name or None


@_sub("setname", 3)
def client_setname(c: Client, argv: list[bytes]) -> object:
    """CLIENT SETNAME connection-name"""
    if not _valid_name(argv[2]):
        raise CommandError(
            "ERR Client names cannot contain spaces, newlines or special characters."
        )
    c.name = argv[2]
    return OK


@_sub("setinfo", 4)
def client_setinfo(c: Client, argv: list[bytes]) -> object:
    """CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>"""
    attr = argv[2].lower()
    if attr not in (b"lib-name", b"lib-ver"):
        raise CommandError(f"ERR Unrecognized option '{argv[2].decode('utf-8', 'replace')}'")
    if not _valid_name(argv[3]):
        raise CommandError(
            f"ERR {argv[2].decode('utf-8', 'replace')} cannot contain spaces, newlines or "
            "special characters."
        )
    if attr == b"lib-name":
        c.lib_name = argv[3]
    else:
        c.lib_ver = argv[3]
    return OK


_TYPES = {b"normal": "normal", b"master": "master", b"replica": "replica",
          b"slave": "replica", b"pubsub": "pubsub"}


def _parse_type(arg: bytes) -> str:
    t = _TYPES.get(arg.lower())
    if t is None:
        raise CommandError(f"ERR Unknown client type '{arg.decode('utf-8', 'replace')}'")
    return t


def _all_clients(c: Client) -> list[Client]:
    clients = c.engine.front.clients()
    return clients if clients else [c]


@_sub("list", -2, "admin noscript loading stale")
def client_list(c: Client, argv: list[bytes]) -> object:
    """CLIENT LIST [TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]"""
    clients = _all_clients(c)
    j = 2
    while j < len(argv):
        opt = argv[j].lower()
        if opt == b"type" and j + 1 < len(argv):
            t = _parse_type(argv[j + 1])
            clients = [x for x in clients if client_type(x) == t]
            j += 2
        elif opt == b"id" and j + 1 < len(argv):
            ids = set()
            j += 1
            while j < len(argv):
                try:
                    v = parse_int(argv[j])
                except CommandError:
                    raise CommandError("ERR Invalid client ID")
                if v <= 0:
                    raise CommandError("ERR Invalid client ID")
                ids.add(v)
                j += 1
            clients = [x for x in clients if x.id in ids]
        else:
            raise CommandError(SYNTAX)
    return Verbatim(b"".join(client_info_line(x) + b"\n" for x in clients))


@_sub("info", 2)
def client_info(c: Client, argv: list[bytes]) -> object:
    """CLIENT INFO"""
    return Verbatim(client_info_line(c) + b"\n")


@_sub("kill", -3, "admin noscript loading stale")
def client_kill(c: Client, argv: list[bytes]) -> object:
    """CLIENT KILL <ip:port | <[ID client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | [USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME <YES | NO>] | [MAXAGE maxage] [...]>>"""
    front = c.engine.front
    clients = _all_clients(c)
    if len(argv) == 3:  # old form: CLIENT KILL addr
        for x in clients:
            if x.addr == argv[2]:
                front.kill(x)
                return OK
        raise CommandError("ERR No such client")
    addr = laddr = None
    cid: int | None = None
    ctype: str | None = None
    skipme = True
    maxage: int | None = None
    user = None
    j = 2
    while j < len(argv):
        if j + 1 >= len(argv):
            raise CommandError(SYNTAX)
        opt, val = argv[j].lower(), argv[j + 1]
        if opt == b"id":
            try:
                cid = parse_int(val)
            except CommandError:
                cid = 0
            if cid <= 0:
                raise CommandError("ERR client-id should be greater than 0")
        elif opt == b"type":
            ctype = _parse_type(val)
        elif opt == b"addr":
            addr = val
        elif opt == b"laddr":
            laddr = val
        elif opt == b"user":
            user = c.engine.acl.get(val)
            if user is None:
                raise CommandError(f"ERR No such user '{val.decode('utf-8', 'replace')}'")
        elif opt == b"skipme":
            if val.lower() == b"yes":
                skipme = True
            elif val.lower() == b"no":
                skipme = False
            else:
                raise CommandError(SYNTAX)
        elif opt == b"maxage":
            try:
                maxage = parse_int(val)
            except CommandError:
                raise CommandError(SYNTAX)
        else:
            raise CommandError(SYNTAX)
        j += 2
    now = c.engine.clock.ms()
    killed = 0
    for x in list(clients):
        if cid is not None and x.id != cid:
            continue
        if ctype is not None and client_type(x) != ctype:
            continue
        if addr is not None and x.addr != addr:
            continue
        if laddr is not None and x.laddr != laddr:
            continue
        if user is not None and x.user is not user:
            continue
        if maxage is not None and (now - x.created_ms) // 1000 < maxage:
            continue
        if x is c and skipme:
            continue
        front.kill(x)
        killed += 1
    return killed


@_sub("unblock", -3, "admin noscript loading stale")
def client_unblock(c: Client, argv: list[bytes]) -> object:
    """CLIENT UNBLOCK client-id [TIMEOUT | ERROR]"""
    cid = parse_int(argv[2], NOT_INTEGER)
    error = False
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode == b"error":
            error = True
        elif mode != b"timeout":
            raise CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    elif len(argv) > 4:
        raise CommandError(SYNTAX)
    front = c.engine.front
    for x in _all_clients(c):
        if x.id == cid:
            return 1 if x.blocked is not None and front.unblock(x, error) else 0
    return 0


@_sub("reply", 3)
def client_reply(c: Client, argv: list[bytes]) -> object:
    """CLIENT REPLY <ON | OFF | SKIP>"""
    mode = argv[2].lower()
    if mode == b"on":
        c.reply_mode = b"on"
        return OK
    if mode == b"off":
        c.reply_mode = b"off"
        return NO_REPLY
    if mode == b"skip":
        if c.reply_mode != b"off":
            c.reply_mode = b"skip"
        return NO_REPLY
    raise CommandError(SYNTAX)


def _on_off(arg: bytes) -> bool:
    a = arg.lower()
    if a == b"on":
        return True
    if a == b"off":
        return False
    raise CommandError(SYNTAX)


@_sub("no-evict", 3, "admin noscript loading stale")
def client_no_evict(c: Client, argv: list[bytes]) -> object:
    """CLIENT NO-EVICT <ON | OFF>"""
    c.no_evict = _on_off(argv[2])
    return OK


@_sub("no-touch", 3, "noscript loading stale")
def client_no_touch(c: Client, argv: list[bytes]) -> object:
    """CLIENT NO-TOUCH <ON | OFF>"""
    c.no_touch = _on_off(argv[2])
    return OK


@_sub("pause", -3, "admin noscript loading stale")
def client_pause(c: Client, argv: list[bytes]) -> object:
    """CLIENT PAUSE timeout [WRITE | ALL]"""
    ms = parse_int(argv[2], "ERR timeout is not an integer or out of range")
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    write_only = False
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode == b"write":
            write_only = True
        elif mode != b"all":
            raise CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
    elif len(argv) > 4:
        raise CommandError(SYNTAX)
    c.engine.front.pause(ms, write_only)
    return OK


@_sub("unpause", 2, "admin noscript loading stale")
def client_unpause(c: Client, argv: list[bytes]) -> object:
    """CLIENT UNPAUSE"""
    c.engine.front.unpause()
    return OK


def _overlap(a: bytes, b: bytes) -> bool:
    """Redis's ``stringCheckPrefix``: one is a prefix of the other."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


@_sub("tracking", -3)
def client_tracking(c: Client, argv: list[bytes]) -> object:
    """CLIENT TRACKING <ON | OFF> [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]"""
    from ..tracking import tracking_of

    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes: list[bytes] = []
    j = 3
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        more = n - 1 - j
        if opt == b"redirect" and more:
            j += 1
            if redirect:
                raise CommandError("ERR A client can only redirect to a single other client")
            redirect = parse_int(argv[j])
            if redirect not in c.engine.clients_by_id:
                raise CommandError("ERR The client ID you want redirect to does not exist")
        elif opt == b"bcast":
            bcast = True
        elif opt == b"optin":
            optin = True
        elif opt == b"optout":
            optout = True
        elif opt == b"noloop":
            noloop = True
        elif opt == b"prefix" and more:
            j += 1
            prefixes.append(argv[j])
        else:
            raise CommandError(SYNTAX)
        j += 1
    mode = argv[2].lower()
    if mode == b"off":
        if c.engine.tracking is not None:
            c.engine.tracking.disable(c)
        return OK
    if mode != b"on":
        raise CommandError(SYNTAX)
    st = c.tracking
    if not bcast and prefixes:
        raise CommandError("ERR PREFIX option requires BCAST mode to be enabled")
    if st is not None and st.bcast != bcast:
        raise CommandError(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this "
            "client, and then re-enabling it with a different mode.")
    if bcast and (optin or optout):
        raise CommandError("ERR OPTIN and OPTOUT are not compatible with BCAST")
    if optin and optout:
        raise CommandError("ERR You can't specify both OPTIN mode and OPTOUT mode")
    if st is not None and ((optin and st.optout) or (optout and st.optin)):
        raise CommandError(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
            "client, and then re-enabling it with a different mode.")
    if bcast:
        for i, p in enumerate(prefixes):
            for old in sorted(st.prefixes) if st is not None else []:
                if _overlap(old, p):
                    raise CommandError(
                        f"ERR Prefix '{_text(p)}' overlaps with an existing prefix "
                        f"'{_text(old)}'. Prefixes for a single client must not overlap.")
            for q in prefixes[i + 1:]:
                if _overlap(p, q):
                    raise CommandError(
                        f"ERR Prefix '{_text(p)}' overlaps with another provided prefix "
                        f"'{_text(q)}'. Prefixes for a single client must not overlap.")
    tracking_of(c.engine).enable(c, redirect, bcast, optin, optout, noloop, prefixes)
    return OK


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


@_sub("trackinginfo", 2)
def client_trackinginfo(c: Client, argv: list[bytes]) -> object:
    """CLIENT TRACKINGINFO"""
    from ..replies import RespSet

    st = c.tracking
    if st is None:
        return {b"flags": RespSet([b"off"]), b"redirect": -1, b"prefixes": []}
    flags = [b"on"]
    if st.bcast:
        flags.append(b"bcast")
    if st.optin:
        flags.append(b"optin")
        if st.caching:
            flags.append(b"caching-yes")
    if st.optout:
        flags.append(b"optout")
        if st.caching:
            flags.append(b"caching-no")
    if st.noloop:
        flags.append(b"noloop")
    if st.broken_redirect:
        flags.append(b"broken_redirect")
    return {b"flags": RespSet(flags), b"redirect": st.redirect,
            b"prefixes": sorted(st.prefixes)}


@_sub("getredir", 2)
def client_getredir(c: Client, argv: list[bytes]) -> object:
    """CLIENT GETREDIR"""
    return -1 if c.tracking is None else c.tracking.redirect


@_sub("caching", 3)
def client_caching(c: Client, argv: list[bytes]) -> object:
    """CLIENT CACHING <YES | NO>"""
    st = c.tracking
    if st is None:
        raise CommandError(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with "
            "OPTIN or OPTOUT mode enabled"
        )
    opt = argv[2].lower()
    if opt == b"yes":
        if not st.optin:
            raise CommandError(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
    elif opt == b"no":
        if not st.optout:
            raise CommandError(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    else:
        raise CommandError(SYNTAX)
    st.caching = True
    return OK
