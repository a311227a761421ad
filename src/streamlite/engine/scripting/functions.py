"""Redis Functions: libraries loaded with FUNCTION LOAD, called with FCALL (``functions.c``).

A library is Lua code with a ``#!lua name=<lib>`` first line; running it (in the
restricted load environment, see ``sandbox``) registers functions through
``redis.register_function``. Function names are unique across libraries and
looked up case-insensitively by FCALL (within a library they are case-sensitive,
as in Redis); library names are case-sensitive. Libraries are
not touched by FLUSHALL. They are persisted as their FUNCTION LOAD commands
(``load_commands`` gives them for a snapshot or an AOF rewrite).
"""

from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING, Any

from ..errors import CommandError
from ..record import Record
from .runtime import FLAG_NAMES

if TYPE_CHECKING:
    from .runtime import Scripting

RDB_VERSION = 12  # the version FUNCTION DUMP writes (Redis 8.x) and RESTORE accepts up to
_NAME = re.compile(rb"[A-Za-z0-9_]+")
BAD_NAME = (
    "Library names can only contain letters, numbers, or underscores(_) and must be at "
    "least one character long"
)


class Function(Record):
    _fields = ("name", "fn", "flags", "description", "library")
    name: bytes
    fn: Any  # the Lua callback
    flags: frozenset[str]
    description: bytes | None
    library: Library

    def __init__(self, name: bytes, fn: Any, flags: frozenset[str], description: bytes | None,
                 library: Library) -> None:
        self.name = name
        self.fn = fn
        self.flags = flags
        self.description = description
        self.library = library


class Library(Record):
    _fields = ("name", "code", "functions")
    name: bytes
    code: bytes  # the whole payload, shebang included
    functions: dict[bytes, Function]  # name -> function

    def __init__(self, name: bytes, code: bytes,
                 functions: dict[bytes, Function] | None = None) -> None:
        self.name = name
        self.code = code
        self.functions = {} if functions is None else functions


def parse_metadata(payload: bytes) -> tuple[bytes, bytes, bytes]:
    """Redis's ``functionExtractLibMetaData``: (engine, name, code after the first line)."""
    if not payload.startswith(b"#!"):
        raise CommandError("ERR Missing library metadata")
    end = payload.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid library metadata")
    parts = payload[:end].split()
    if not parts:
        raise CommandError("ERR Invalid library metadata")
    engine = parts[0][2:]
    name: bytes | None = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise CommandError(
                    "ERR Invalid metadata value, name argument was given multiple times"
                )
            name = part[5:]
            continue
        raise CommandError("ERR Invalid metadata value given: " + part.decode("utf-8", "replace"))
    if name is None:
        raise CommandError("ERR Library name was not given")
    return engine, name, payload[end:]


class Functions:
    """The libraries and functions of one engine."""

    def __init__(self, scripting: Scripting) -> None:
        self.s = scripting
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}  # lower name -> function
        self._loading: Library | None = None

    def find(self, name: bytes) -> Function | None:
        return self.functions.get(name.lower())

    def load(self, payload: bytes, replace: bool) -> bytes:
        """FUNCTION LOAD: compile and register a library; returns its name."""
        engine, name, code = parse_metadata(payload)
        if not _NAME.fullmatch(name):
            raise CommandError("ERR " + BAD_NAME)
        if engine.lower() != b"lua":
            raise CommandError("ERR Engine '" + engine.decode("utf-8", "replace") + "' not found")
        old = self.libraries.get(name)
        if old is not None and not replace:
            raise CommandError("ERR Library '" + name.decode("utf-8", "replace") + "' already exists")
        conv = self.s.conv  # boots the interpreter
        api = self.s._api
        fn, err = api.compile_library(code)
        if fn is None:
            msg = err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
            raise CommandError("ERR Error compiling function: " + msg)
        lib = Library(name, payload)
        self._loading = lib
        from . import busy

        self.s.load_deadline = busy.monotonic() + busy.LOAD_TIMEOUT_MS / 1000
        try:
            ok, err = api.load_library(fn)
        finally:
            self._loading = None
            self.s.load_deadline = None
        if not ok:
            if api.type(err) == b"table":
                msg = api.rawget(err, b"err")
                text = msg if type(msg) is bytes else b"ERR unknown error"
            else:
                text = b"ERR " + (err if isinstance(err, bytes) else str(err).encode())
            raise CommandError("ERR Error registering functions: " + text.decode("utf-8", "replace"))
        if not lib.functions:
            raise CommandError("ERR No functions registered")
        for f in lib.functions.values():
            other = self.functions.get(f.name.lower())
            if other is not None and other.library is not old:
                raise CommandError("ERR Function " + f.name.decode("utf-8", "replace") + " already exists")
        if old is not None:
            self._unlink(old)
        self.libraries[name] = lib
        for f in lib.functions.values():
            self.functions[f.name.lower()] = f
        del conv
        return name

    def _unlink(self, lib: Library) -> None:
        for f in lib.functions.values():
            if self.functions.get(f.name.lower()) is f:
                del self.functions[f.name.lower()]
        self.libraries.pop(lib.name, None)

    def delete(self, name: bytes) -> None:
        lib = self.libraries.get(name)
        if lib is None:
            raise CommandError("ERR Library not found")
        self._unlink(lib)

    def flush(self) -> None:
        self.libraries.clear()
        self.functions.clear()

    # -- FUNCTION DUMP / RESTORE ----------------------------------------------------

    def dump(self) -> bytes:
        """FUNCTION DUMP: Redis's payload, each library as the RDB opcode FUNCTION2
        (0xF5) and its code as an RDB string, then RDB version 12 and the CRC-64."""
        from ..crc64 import crc64
        from ..rdbprim import enc_string

        data = b"".join(b"\xf5" + enc_string(lib.code) for lib in self.libraries.values())
        data += struct.pack("<H", RDB_VERSION)
        return data + struct.pack("<Q", crc64(data))

    def restore(self, payload: bytes, policy: bytes) -> None:
        """FUNCTION RESTORE (Redis's ``functionRestoreCommand``): the payload's
        libraries are loaded apart first (any error leaves the current ones as they
        were); then FLUSH replaces every library, APPEND fails on a library name
        that exists, REPLACE replaces those; a function name taken by a library
        that stays fails both."""
        from ..rdbprim import read_string
        from ..serialize import FormatError, Reader, payload_version

        ver = payload_version(payload)
        if ver is None or not 1 <= ver <= RDB_VERSION:
            raise CommandError("ERR DUMP payload version or checksum are wrong")
        staged = Functions(self.s)
        r = Reader(payload)
        saved = self.s.functions
        self.s.functions = staged  # redis.register_function registers into ``staged``
        try:
            while len(payload) - r.pos > 10:
                op = r.u8()
                if op == 0xF6:
                    raise CommandError("ERR Pre-GA function format not supported")
                if op != 0xF5:
                    raise CommandError("ERR given type is not a function")
                try:
                    code = read_string(r)
                except (FormatError, ValueError, IndexError):
                    raise CommandError("ERR Failed loading library payload")
                staged.load(bytes(code), False)
        finally:
            self.s.functions = saved
        if policy == b"flush":
            self.libraries = staged.libraries
            self.functions = staged.functions
            return
        replaced = []
        for name in staged.libraries:
            old = self.libraries.get(name)
            if old is not None:
                if policy != b"replace":
                    raise CommandError("ERR Library " + name.decode("utf-8", "replace")
                                       + " already exists")
                replaced.append(old)
        kept = {k: f for k, f in self.functions.items()
                if not any(f.library is old for old in replaced)}
        for key, f in staged.functions.items():
            if key in kept:
                raise CommandError("ERR Function " + f.name.decode("utf-8", "replace")
                                   + " already exists")
        for old in replaced:
            self._unlink(old)
        for name, lib in staged.libraries.items():
            self.libraries[name] = lib
            for f in lib.functions.values():
                self.functions[f.name.lower()] = f

    def load_commands(self) -> list[list[bytes]]:
        """The commands that recreate every library (for snapshots / AOF rewrites)."""
        return [[b"FUNCTION", b"LOAD", lib.code] for lib in self.libraries.values()]

    # -- redis.register_function (called from Lua while a library loads) -------------

    def register(self, *args: Any) -> None:
        from .runtime import ScriptError

        s = self.s
        api = s._api

        def fail(msg: str) -> ScriptError:
            return ScriptError(s._err("ERR " + msg))

        lib = self._loading
        if lib is None:
            raise fail("redis.register_function can only be called on FUNCTION LOAD command")
        if len(args) < 1 or len(args) > 2:
            raise fail("wrong number of arguments to redis.register_function")
        flags: set[str] = set()
        desc: bytes | None = None
        name: bytes | None
        callback: Any = None
        if len(args) == 2:
            name = self._string(args[0])
            if name is None:
                raise fail("first argument to redis.register_function must be a string")
            if not api.is_function(args[1]):
                raise fail("second argument to redis.register_function must be a function")
            callback = args[1]
        else:
            t = args[0]
            if api.type(t) != b"table":
                raise fail(
                    "calling redis.register_function with a single argument is only applicable "
                    "to Lua table (representing named arguments)."
                )
            name = None
            for k, v in t.items():
                key = self._string(k)
                if key is None:
                    raise fail("named argument key given to redis.register_function is not a string")
                key = key.lower()
                if key == b"function_name":
                    name = self._string(v)
                    if name is None:
                        raise fail("function_name argument given to redis.register_function must be a string")
                elif key == b"description":
                    desc = self._string(v)
                    if desc is None:
                        raise fail("description argument given to redis.register_function must be a string")
                elif key == b"callback":
                    if not api.is_function(v):
                        raise fail("callback argument given to redis.register_function must be a function")
                    callback = v
                elif key == b"flags":
                    if api.type(v) != b"table":
                        raise fail(
                            "flags argument to redis.register_function must be a table "
                            "representing function flags"
                        )
                    for f in v.values():
                        fs = f.decode("utf-8", "replace") if type(f) is bytes else None
                        if fs not in FLAG_NAMES:
                            raise fail("unknown flag given")
                        flags.add(fs)
                else:
                    raise fail("unknown argument given to redis.register_function")
            if name is None:
                raise fail("redis.register_function must get a function name argument")
            if callback is None:
                raise fail("redis.register_function must get a callback argument")
        if not _NAME.fullmatch(name):
            raise fail(BAD_NAME)
        if name in lib.functions:  # case-sensitive here, unlike FCALL's lookup
            raise fail("Function already exists in the library")
        lib.functions[name] = Function(name, callback, frozenset(flags), desc, lib)

    def _string(self, v: Any) -> bytes | None:
        """luaGetStringSds: strings, and numbers as Lua writes them."""
        if type(v) is bytes:
            return v
        if type(v) in (int, float):
            return self.s._api.tostring(v)  # type: ignore[no-any-return]
        return None
