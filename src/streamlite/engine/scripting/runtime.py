"""One engine's scripting state: the Lua interpreter, the script cache, running a script.

A script runs on the calling client's ``Client`` (as Redis runs it on a fake
client bound to the caller): ``c.in_script`` is set, the protocol its
``redis.call`` replies are produced in is the script's (``redis.setresp``), and
a ``SELECT`` inside the script is undone when it ends. ``redis.call`` goes
through ``Engine.call``, so writes are propagated as the commands that ran
(Redis 7 effects replication) and wrapped in MULTI/EXEC when more than one
(``transactions.unit_start/unit_end``).
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ... import REDIS_VERSION
from ..errors import CommandError
from ..multi import unit_end, unit_start
from ..record import Record
from ..replies import Blocked, ErrorReply
from ..subcommands import arity_ok, resolve
from . import busy
from .busy import HOOK_EVERY
from .convert import Converter, error_fields
from .libs import Libs
from .numbers import number_arg
from .sandbox import BOOT

if TYPE_CHECKING:
    from ..client import Client
    from ..core import Engine

log = logging.getLogger("streamlite.script")
_LOG_LEVELS = {0: logging.DEBUG, 1: logging.INFO, 2: logging.WARNING, 3: logging.WARNING}

# Shebang flags (Redis's scripts_flags_def)
FLAG_NAMES = ("no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys")
LRU_LIST_LENGTH = 500  # EVAL-loaded scripts kept (Redis 7.4+); SCRIPT LOAD ones stay


def sha1hex(data: bytes) -> str:
    import hashlib  # on first use: not needed at the server's start

    return hashlib.sha1(data).hexdigest()


def _version_num(v: str) -> int:
    parts = [int(x) for x in v.split(".")[:3]] + [0, 0, 0]
    return (parts[0] << 16) | (parts[1] << 8) | parts[2]


class Script(Record):
    _fields = ("body", "fn", "flags")
    body: bytes
    fn: Any  # the compiled Lua function
    flags: frozenset[str] | None  # None: no shebang (EVAL compatibility mode)

    def __init__(self, body: bytes, fn: Any, flags: frozenset[str] | None) -> None:
        self.body = body
        self.fn = fn
        self.flags = flags


class RunContext(Record):
    _fields = ("client", "sha", "read_only", "resp", "write_dirty", "repl", "error", "is_eval",
               "argv", "started", "timed_out", "killed")
    client: Client
    sha: str  # the script's SHA1, or the function's name
    read_only: bool
    resp: int
    write_dirty: bool
    repl: int  # redis.set_repl flags; 0 = propagate nothing
    error: BaseException | None
    is_eval: bool  # EVAL* (not FCALL*): which KILL and which -BUSY text
    argv: list[bytes]  # the caller's command (FUNCTION STATS)
    started: float  # monotonic seconds
    timed_out: bool  # past busy-reply-threshold: others get -BUSY
    killed: bool

    def __init__(self, client: Client, sha: str, read_only: bool, resp: int = 2,
                 write_dirty: bool = False, repl: int = 3, error: BaseException | None = None,
                 is_eval: bool = True, argv: list[bytes] | None = None, started: float = 0.0,
                 timed_out: bool = False, killed: bool = False) -> None:
        self.client = client
        self.sha = sha
        self.read_only = read_only
        self.resp = resp
        self.write_dirty = write_dirty
        self.repl = repl
        self.error = error
        self.is_eval = is_eval
        self.argv = [] if argv is None else argv
        self.started = started
        self.timed_out = timed_out
        self.killed = killed


def parse_shebang(body: bytes) -> tuple[frozenset[str] | None, int]:
    """Redis's ``evalExtractShebangFlags``: (flags or None, length of the shebang line)."""
    if not body.startswith(b"#!"):
        return None, 0
    end = body.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid script shebang")
    parts = body[:end].split()
    if not parts:
        raise CommandError("ERR Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise CommandError(
            "ERR Unexpected engine in script shebang: " + parts[0].decode("utf-8", "replace")
        )
    flags: set[str] = set()
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise CommandError(
                "ERR Unknown lua shebang option: " + part.decode("utf-8", "replace")
            )
        for f in part[6:].split(b",") if part[6:] else ():
            name = f.decode("utf-8", "replace")
            if name not in FLAG_NAMES:
                raise CommandError("ERR Unexpected flag in script shebang: " + name)
            flags.add(name)
    return frozenset(flags), end


class Scripting:
    """The Lua VM and script cache of one engine (``engine.scripting``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.scripts: dict[str, Script] = {}
        self.lru: OrderedDict[str, None] = OrderedDict()  # EVAL-loaded scripts, oldest first
        self.evicted_scripts = 0
        self.ctx: RunContext | None = None
        self.load_deadline: float | None = None  # FUNCTION LOAD's time limit (monotonic)
        self.rand48 = 0x1234ABCD330E  # Redis's rand48 state, shared by all scripts
        self._lua: Any = None
        self._api: Any = None
        self._conv: Converter | None = None
        from .functions import Functions

        self.functions = Functions(self)

    # -- the interpreter ------------------------------------------------------------------

    def _boot(self) -> None:
        from lupa import lua51

        def no_attributes(obj: Any, name: Any, is_setting: bool) -> Any:
            raise AttributeError("not accessible from scripts")

        rt = lua51.LuaRuntime(
            encoding=None,
            unpack_returned_tuples=True,
            register_eval=False,
            register_builtins=False,
            attribute_filter=no_attributes,
            max_memory=0,  # no limit; lupa then counts the VM's bytes (INFO memory)
        )
        version = REDIS_VERSION
        py = rt.table_from(
            {
                b"call": self._lua_call,
                b"pcall": self._lua_pcall,
                b"acl_check_cmd": self._lua_acl_check,
                b"error_table": self._lua_error_table,
                b"sha1hex": self._lua_sha1hex,
                b"log": self._lua_log,
                b"setresp": self._lua_setresp,
                b"set_repl": self._lua_set_repl,
                b"random": self._lua_random,
                b"randomseed": self._lua_randomseed,
                b"unwrap": _unwrap,
                b"register_function": self._lua_register_function,
                b"interrupt": self._lua_interrupt,
                b"hook_every": HOOK_EVERY,
                b"version": version.encode(),
                b"version_num": _version_num(version),
            }
        )
        py[b"libs"] = rt.table_from(Libs(self, rt).tables())
        loader = rt.eval("function(s, n) local f, e = loadstring(s, n) return f, e end")
        boot, err = loader(BOOT.encode(), b"=streamlite")
        if boot is None:  # pragma: no cover - a bug in BOOT
            raise RuntimeError(err)
        self._api = boot(py)
        self._lua = rt
        self._conv = Converter(rt, self._api)

    @property
    def conv(self) -> Converter:
        if self._conv is None:
            self._boot()
        assert self._conv is not None
        return self._conv

    def reset(self) -> None:
        """SCRIPT FLUSH: drop every script. Scripts cannot change the interpreter's
        globals, so it is kept (it also holds the function libraries)."""
        self.scripts.clear()
        self.lru.clear()
        if self._lua is not None:
            self._lua.eval("collectgarbage('collect')")

    def info(self) -> dict[str, int]:
        """Figures for INFO (memory / stats sections), Redis's field names."""
        # the allocator's count (no Lua runs: INFO may come while a script yields, or
        # after one was killed, when the VM's hook stops any chunk)
        lua_mem = (self._lua.get_memory_used() or 0) if self._lua is not None else 0
        scripts_mem = sum(len(s.body) + 40 + 64 for s in self.scripts.values())
        return {
            "used_memory_lua": lua_mem,
            "used_memory_vm_eval": lua_mem,
            "used_memory_scripts_eval": scripts_mem,
            "number_of_cached_scripts": len(self.scripts),
            "evicted_scripts": self.evicted_scripts,
            "number_of_functions": len(self.functions.functions),
            "number_of_libraries": len(self.functions.libraries),
        }

    # -- the cache ----------------------------------------------------------------------

    def lookup(self, sha: bytes) -> Script | None:
        return self.scripts.get(sha.decode("latin-1").lower())

    def load(self, body: bytes, from_eval: bool) -> tuple[str, Script]:
        """Compile ``body`` into the cache (if new); CommandError on a bad script."""
        sha = sha1hex(body)
        script = self.scripts.get(sha)
        if script is not None:
            if from_eval:
                if sha in self.lru:
                    self.lru.move_to_end(sha)
            else:
                self.lru.pop(sha, None)  # SCRIPT LOAD makes it permanent
            return sha, script
        flags, shebang_len = parse_shebang(body)
        self.conv  # noqa: B018  (boots the interpreter)
        fn, err = self._api.compile(body[shebang_len:])
        if fn is None:
            msg = err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
            raise CommandError("ERR Error compiling script (new function): " + msg)
        script = Script(body, fn, flags)
        if from_eval:
            while len(self.lru) >= LRU_LIST_LENGTH:
                old, _ = self.lru.popitem(last=False)
                self.scripts.pop(old, None)
                self.evicted_scripts += 1
            self.lru[sha] = None
        self.scripts[sha] = script
        return sha, script

    # -- running ------------------------------------------------------------------------

    def run(self, c: Client, sha: str, script: Script, keys: list[bytes],
            args: list[bytes], ro: bool, argv: list[bytes] | None = None) -> Any:
        """Run a cached script for ``c``; returns the reply."""
        if sha in self.lru:
            self.lru.move_to_end(sha)
        return self._run(c, sha, script.fn, script.flags, keys, args, ro, function=False,
                         argv=argv)

    def call_function(self, c: Client, name: bytes, keys: list[bytes], args: list[bytes],
                      ro: bool, argv: list[bytes] | None = None) -> Any:
        """FCALL / FCALL_RO: numkeys was checked; CommandError if there is no such function."""
        f = self.functions.find(name)
        if f is None:
            raise CommandError("ERR Function not found")
        return self._run(c, f.name.decode("utf-8", "replace"), f.fn, f.flags, keys, args, ro,
                         function=True, argv=argv)

    def _run(self, c: Client, sha: str, fn: Any, flags: frozenset[str] | None,
             keys: list[bytes], args: list[bytes], ro: bool, function: bool,
             argv: list[bytes] | None = None) -> Any:
        if flags is not None and "no-writes" not in flags and ro:
            raise CommandError("ERR Can not execute a script with write flag using *_ro command.")
        conv = self.conv
        api = self._api
        read_only = ro or (flags is not None and "no-writes" in flags)
        ctx = RunContext(c, sha, read_only, is_eval=not function, argv=argv or [],
                         started=busy.monotonic())
        eng = self.engine
        saved = (self.ctx, c.in_script, c.protocol, c.db_index, c.push)
        self.ctx = ctx
        c.script_outer_protocol = c.protocol
        c.in_script = True
        # pushes for the caller itself (a script publishing to a channel it listens
        # to) wait until its protocol is restored: a front may encode them at once
        held: list[Any] = []
        c.push = held.append
        start = unit_start(eng)
        try:
            tkeys, targs = self._lua.table_from(keys), self._lua.table_from(args)
            if function:
                ok, result = api.run_function(fn, tkeys, targs)
            else:
                api.set_args(tkeys, targs)
                ok, result = api.run(fn)
            if ctx.error is not None:  # an engine bug surfaced inside redis.call
                raise ctx.error
            if ok:
                try:
                    return conv.to_reply(result, ctx.resp)
                except RecursionError:
                    return ErrorReply(b"ERR reached lua stack limit")
            return self._script_error(result, sha)
        finally:
            if ctx.timed_out:  # others may run commands again
                eng.busy = None
            self.ctx, c.in_script, c.protocol, c.push = saved[0], saved[1], saved[2], saved[4]
            if c.db_index != saved[3]:
                c.select(saved[3])
            unit_end(eng, start)
            for msg in held:
                c.push(msg)

    def _script_error(self, err: Any, sha: str) -> ErrorReply:
        """The reply for a failed script (Redis's ``luaCallFunction`` error branch)."""
        api = self._api
        if api.type(err) != b"table":
            text = err if isinstance(err, bytes) else str(err).encode()
            return ErrorReply(b"ERR Error running script " + sha.encode() + b", " + text[:100])
        msg = api.rawget(err, b"err")
        if type(msg) is not bytes:
            msg = api.tostring(msg) if type(msg) in (int, float) else b"ERR unknown error"
        source = api.rawget(err, b"source")
        line = api.rawget(err, b"line")
        if isinstance(source, (bytes, int, float)) and isinstance(line, (bytes, int, float)):
            src = source if type(source) is bytes else api.tostring(source)
            ln = line if type(line) is bytes else api.tostring(line)
            msg = msg + b" script: " + sha.encode() + b", on " + src + b":" + ln + b"."
        return ErrorReply(msg)

    # -- callbacks from Lua ----------------------------------------------------------------
    # They stand for Redis's C functions: errors are raised as ScriptError, with the
    # value Lua code sees (an {err=...} table, or a message string).

    def _err(self, text: str) -> Any:
        """An error table for ``text`` (``ERR ...`` or ``CODE ...``): Redis's luaPushError."""
        return self.conv.error_table(text.encode())

    def _raise(self, text: str) -> ScriptError:
        return ScriptError(self._err(text))

    def _arg_error(self, n: int, name: str, msg: str) -> ScriptError:
        """luaL_argerror: ``<where>bad argument #n to 'name' (msg)``, named as the
        caller called it (``'?'`` through ``pcall``, as in Redis)."""
        called = self._api.fname().decode("utf-8", "replace")
        return ScriptError(self._api.where() + f"bad argument #{n} to '{called}' ({msg})".encode())

    def _lua_call(self, *args: Any) -> Any:
        value, failed = self._redis_call(args)
        if failed:
            raise ScriptError(value)
        return value

    def _lua_pcall(self, *args: Any) -> Any:
        return self._redis_call(args)[0]

    def _redis_call(self, args: tuple[Any, ...]) -> tuple[Any, bool]:
        """Redis's ``luaRedisGenericCommand``: (Lua value, True if it is an error)."""
        ctx = self.ctx
        if ctx is None:
            return self._err("ERR redis.call/pcall can only be called inside a script invocation"), True
        if not args:
            return self._err("ERR Please specify at least one argument for this redis lib call"), True
        argv: list[bytes] = []
        for a in args:
            t = type(a)
            if t is bytes:
                argv.append(a)
            elif t is int or t is float:
                argv.append(number_arg(a))
            else:
                return self._err("ERR Lua redis lib command arguments must be strings or integers"), True
        try:
            reply = self._dispatch(ctx, argv)
            value = self.conv.to_lua(reply, ctx.resp)
        except Exception as e:  # a bug in a command: surfaced after the script
            ctx.error = e
            return self._err("ERR internal error"), True
        return value, type(reply) is ErrorReply

    def _dispatch(self, ctx: RunContext, argv: list[bytes]) -> Any:
        """Redis's ``scriptCall``: checks, then the command through ``Engine.call``."""
        eng = self.engine
        c = ctx.client
        cmd = eng.lookup_command(argv[0])
        real = None if cmd is None else resolve(cmd, argv)
        if cmd is None or real is None:
            return ErrorReply(b"ERR Unknown Redis command called from script")
        if not arity_ok(real, len(argv)):
            return ErrorReply(b"ERR Wrong number of args calling Redis command from script")
        flags = real.flags | cmd.flags
        if "noscript" in flags:
            return ErrorReply(b"ERR This Redis command is not allowed from script")
        if not c.user.unrestricted:  # the caller's ACLs (Redis's scriptVerifyACL)
            denied = eng.acl.check_command(c, real, cmd, argv, "lua")
            if denied is not None:
                return ErrorReply(b"ERR ACL failure in script: "
                                  + denied[1].encode("utf-8", "surrogateescape"))
        if ctx.read_only and ("write" in flags or "may-replicate" in flags):
            return ErrorReply(b"ERR Write commands are not allowed from read-only scripts.")
        if "write" in flags:
            ctx.write_dirty = True
        c.protocol = ctx.resp
        eff = eng.effects
        mark = len(eff) if (eff is not None and (ctx.repl & 1) == 0) else -1
        reply = eng.call(c, cmd, argv)
        if mark >= 0 and eng.effects is eff and eff is not None:
            del eff[mark:]  # redis.set_repl(REPL_NONE / REPL_REPLICA): not to the AOF
        if type(reply) is Blocked:
            reply = reply.timeout_reply
        return reply

    def _lua_interrupt(self) -> Any:
        return busy.interrupt(self)

    def _lua_register_function(self, *args: Any) -> None:
        self.functions.register(*args)

    def _lua_acl_check(self, *args: Any) -> bool:
        if not args:
            raise self._raise("ERR Please specify at least one argument for this redis lib call")
        if any(type(a) not in (bytes, int, float) for a in args):
            raise self._raise("ERR Lua redis lib command arguments must be strings or integers")
        argv = [a if type(a) is bytes else number_arg(a) for a in args]
        top = self.engine.lookup_command(argv[0])
        cmd = None if top is None else resolve(top, argv)
        if top is None or cmd is None:
            raise self._raise("ERR Invalid command passed to redis.acl_check_cmd()")
        ctx = self.ctx
        if ctx is None:
            return True
        from ..acl import OK, check, full_name

        return check(ctx.client.user, full_name(cmd, top), cmd, argv)[0] == OK

    def _lua_error_table(self, text: bytes) -> Any:
        t = text if text[:1] == b"-" else b"-" + text
        return self.conv.table_from({b"err": error_fields(t)})

    def _lua_sha1hex(self, *args: Any) -> bytes:
        if len(args) != 1:
            raise self._raise("ERR wrong number of arguments")
        a = args[0]
        data = a if type(a) is bytes else self._api.tostring(a) if type(a) in (int, float) else b""
        return sha1hex(data).encode()

    def _lua_log(self, *args: Any) -> None:
        if len(args) < 2:
            raise self._raise("ERR redis.log() requires two arguments or more.")
        level = self._number(args[0])
        if level is None:
            raise self._raise("ERR First argument must be a number (log level).")
        lvl = int(level)
        if lvl < 0 or lvl > 3:
            raise self._raise("ERR Invalid log level.")
        parts: list[bytes] = []
        for j, a in enumerate(args[1:], 1):
            s = a if type(a) is bytes else self._api.tostring(a) if type(a) in (int, float) else None
            if s is not None:
                parts.append(s if j == 1 else b" " + s)
        log.log(_LOG_LEVELS[lvl], "%s", b"".join(parts).decode("utf-8", "replace"))

    def _lua_setresp(self, *args: Any) -> None:
        if len(args) != 1:
            raise self._raise("ERR redis.setresp() requires one argument.")
        resp = int(self._number(args[0]) or 0)
        if resp not in (2, 3):
            raise self._raise("ERR RESP version must be 2 or 3.")
        if self.ctx is not None:
            self.ctx.resp = resp

    def _lua_set_repl(self, *args: Any) -> None:
        if len(args) != 1:
            raise self._raise("ERR redis.set_repl() requires one argument.")
        flags = int(self._number(args[0]) or 0)
        if flags & ~3:
            raise self._raise(
                "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
            )
        if self.ctx is not None:
            self.ctx.repl = flags

    def _number(self, a: Any) -> float | None:
        """lua_tonumber: numbers, and strings that read as numbers."""
        if type(a) is int or type(a) is float:
            return float(a)
        if type(a) is bytes:
            v = self._api.tonumber(a)
            return None if v is None else float(v)
        return None

    def _checkint(self, args: tuple[Any, ...], i: int, name: str) -> int:
        """luaL_checkint for argument ``i`` (1-based)."""
        a = args[i - 1] if i <= len(args) else None
        v = self._number(a)
        if v is None:
            got = "no value" if i > len(args) else self._api.type(a).decode()
            raise self._arg_error(i, name, f"number expected, got {got}")
        return int(v)  # C's (int) cast truncates

    def _lua_random(self, *args: Any) -> Any:
        self.rand48 = (0x5DEECE66D * self.rand48 + 0xB) & 0xFFFFFFFFFFFF
        r = ((self.rand48 >> 17) % 0x7FFFFFFF) / 0x7FFFFFFF
        n = len(args)
        if n == 0:
            return r
        if n == 1:
            u = self._checkint(args, 1, "random")
            if u < 1:
                raise self._arg_error(1, "random", "interval is empty")
            return math.floor(r * u) + 1
        if n == 2:
            lo = self._checkint(args, 1, "random")
            hi = self._checkint(args, 2, "random")
            if lo > hi:
                raise self._arg_error(2, "random", "interval is empty")
            return math.floor(r * (hi - lo + 1)) + lo
        raise ScriptError(self._api.where() + b"wrong number of arguments")

    def _lua_randomseed(self, *args: Any) -> None:
        seed = self._checkint(args, 1, "randomseed") & 0xFFFFFFFF
        self.rand48 = (seed << 16) | 0x330E


class ScriptError(Exception):
    """Raised by a Python callback to raise ``value`` as a Lua error."""

    def __init__(self, value: Any) -> None:
        super().__init__("script error")
        self.value = value


def _unwrap(e: Any) -> Any:
    return e.value if isinstance(e, ScriptError) else e


def get_scripting(engine: Engine) -> Scripting:
    s = engine.scripting
    if s is None:
        s = engine.scripting = Scripting(engine)
    return s
