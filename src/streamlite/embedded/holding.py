"""A client pool's hold on its host, shared by the sync and asyncio pools.

While a pool is open it holds its host: a data directory stays loaded and locked
until the last pool on it is closed; a command after that reopens it
(``hold_or_reopen``, also when the last user closes it between opening and holding).
"""

from __future__ import annotations

import threading
from typing import Any

from .host import Host, hold_or_reopen


class HostHold:
    """Mixed into a redis-py ``ConnectionPool``: call ``_init_hold`` before the pool's
    own ``__init__`` and ``_hold`` after it; ``_unhold`` when its connections close."""

    connection_kwargs: dict[str, Any]

    def _init_hold(self, embedded: Host, spec: Any) -> None:
        self._spec = spec  # how to find the host again: (path, options) or None
        self._host = embedded
        self._held = False
        self._hold_lock = threading.Lock()

    def _hold(self) -> None:
        with self._hold_lock:
            if not self._held:
                self._host = hold_or_reopen(self._host, self._spec)
                self.connection_kwargs["embedded"] = self._host
                self._held = True

    def _unhold(self) -> None:
        with self._hold_lock:
            held, self._held = self._held, False
        if held:
            self._host.release()

    def current_host(self) -> Host:
        """The open host for this pool's engine (reopening a closed data directory)."""
        with self._hold_lock:
            if self._host.closed and self._spec is not None:
                self._held = False
        self._hold()
        return self._host

    @property
    def embedded(self) -> Host:
        return self._host
