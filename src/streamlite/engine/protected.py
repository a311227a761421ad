"""Protected commands and configs: DEBUG and MODULE (``enable-debug-command``,
``enable-module-command``) and the configs flagged ``protected``
(``enable-protected-configs``), each allowed ``yes``, ``no`` or ``local`` (from a
loopback or Unix-socket connection only), as Redis's ``mustObeyClient`` /
``allowProtectedAction``. ``Engine.execute`` checks a protected command before
authentication, as Redis's ``processCommand`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import Client


def allowed(setting: str, c: Client) -> bool:
    """Whether a ``yes``/``no``/``local`` setting lets ``c`` go on."""
    return setting == "yes" or (setting == "local" and is_local(c))


def is_local(c: Client) -> bool:
    host = c.addr.rsplit(b":", 1)[0]
    return host in (b"127.0.0.1", b"::1", b"[::1]", b"localhost") or c.addr.startswith(b"unix")


def protected_refusal(c: Client, name: str) -> str | None:
    """Redis's refusal of a protected command (DEBUG, MODULE) its ``enable-*-command``
    config does not allow for this client; checked before authentication, as Redis's
    ``processCommand`` does, so an unauthenticated client sees it rather than NOAUTH."""
    if not allowed(c.engine.config.get(f"enable-{name}-command", "no"), c):
        return (f"ERR {name.upper()} command not allowed. If the enable-{name}-command option "
                'is set to "local", you can run it from a local connection, otherwise you need '
                "to set this option in the configuration file, and then restart the server.")
    return None
