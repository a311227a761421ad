"""What redis-py does when it connects (HELLO, AUTH, CLIENT SETNAME/SETINFO, SELECT),
applied to the new session's engine client directly: no command round trips.
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import AuthenticationError, ConnectionError, ResponseError

from .. import REDIS_VERSION
from ..engine.replies import ErrorReply
from .convert import convert, error_of
from .session import Session


def _s(v: Any) -> bytes:
    return v if isinstance(v, bytes) else str(v).encode()


def authenticate(s: Session, auth_args: tuple[Any, ...] | list[Any]) -> None:
    """AUTH [username] password, through the engine's AUTH when it has one."""
    eng = s.host.engine
    args = [_s(a) for a in auth_args]
    if eng.lookup_command(b"auth") is not None:
        with s.host.lock:
            reply = eng.execute(s.client, [b"AUTH", *args])
        if isinstance(reply, ErrorReply):
            err = error_of(reply)
            if isinstance(err, ResponseError) and not isinstance(err, AuthenticationError):
                raise AuthenticationError(str(err))
            raise err
        return
    required = eng.requirepass()
    password = args[-1]
    user = args[0] if len(args) == 2 else b"default"
    if required is None:
        if len(args) == 1:
            raise AuthenticationError(
                "AUTH <password> called without any password configured for the default "
                "user. Are you sure your configuration is correct?"
            )
        if user == b"default":
            s.client.authenticated = True
            return
    elif user == b"default" and password == _s(required):
        s.client.authenticated = True
        return
    raise AuthenticationError("invalid username-password pair or user is disabled.")


def hello_metadata(s: Session, decode: str | None) -> Any:
    """HELLO's reply for the session (what redis-py keeps as ``handshake_metadata``)."""
    c = s.client
    meta = {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": c.protocol,
        b"id": c.id,
        b"mode": b"standalone",
        b"role": b"master",
        b"modules": [],
    }
    return convert(meta, c.protocol, decode)


def handshake(conn: Any, s: Session, auth_args: Any) -> None:
    """Bring a new session to the state redis-py's ``on_connect`` would."""
    c = s.client
    if auth_args:
        if len(auth_args) == 1 and conn.protocol == 3:
            auth_args = ["default", auth_args[0]]
        authenticate(s, auth_args)
    if conn.protocol == 3:
        c.protocol = 3
    dec = conn.encoder.encoding if conn.encoder.decode_responses else None
    conn.handshake_metadata = hello_metadata(s, dec) if conn.protocol == 3 else None
    if conn.client_name:
        c.name = _s(conn.client_name)
    info = getattr(conn, "driver_info", None)
    if info is not None:
        name = getattr(info, "formatted_name", None)
        ver = getattr(info, "lib_version", None)
        if name:
            c.lib_name = _s(name)
        if ver:
            c.lib_ver = _s(ver)
    if conn.db:
        try:
            db = int(conn.db)
        except (TypeError, ValueError):
            raise ConnectionError("Invalid Database") from None
        if not 0 <= db < len(s.host.engine.dbs):
            raise ConnectionError("Invalid Database")
        c.select(db)
