"""Redis's error texts, in one place, and the exception handlers raise."""

from __future__ import annotations


class CommandError(Exception):
    """Raised by a command handler; becomes an error reply with ``msg`` as its text.

    ``msg`` includes the error code, e.g. ``"ERR syntax error"`` or
    ``"WRONGTYPE Operation against a key holding the wrong kind of value"``.
    """

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


SYNTAX = "ERR syntax error"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
NO_SUCH_KEY = "ERR no such key"
DB_INDEX = "ERR DB index is out of range"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
INVALID_EXPIRE = "ERR invalid expire time in '{}' command"
STREAM_ID_INVALID = "ERR Invalid stream ID specified as stream command argument"
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
OOM = "OOM command not allowed when used memory > 'maxmemory'."
LOADING = "LOADING Redis is loading the dataset in memory"


def wrong_args(name: str) -> str:
    return f"ERR wrong number of arguments for '{name}' command"


def c_str(b: bytes, limit: int | None = None) -> bytes:
    """``b`` as Redis's ``%s`` / ``%.<limit>s`` prints an argument: a C string, so up to
    its first NUL, and at most ``limit`` bytes."""
    nul = b.find(0)
    if nul >= 0:
        b = b[:nul]
    return b if limit is None else b[:limit]


def unknown_subcommand(sub: str | bytes, cmd: str | bytes) -> str:
    """Redis's "unknown subcommand '%.128s'. Try %s HELP." (bytes quoted as Redis prints
    them; the message is encoded back with ``surrogateescape``)."""
    if isinstance(sub, bytes):
        sub = c_str(sub, 128).decode("utf-8", "surrogateescape")
    if isinstance(cmd, bytes):
        cmd = c_str(cmd).decode("utf-8", "surrogateescape")
    return f"ERR unknown subcommand '{sub}'. Try {cmd.upper()} HELP."


def syntax() -> CommandError:
    return CommandError(SYNTAX)


def wrongtype() -> CommandError:
    return CommandError(WRONGTYPE)
