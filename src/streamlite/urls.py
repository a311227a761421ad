"""Which URL a command line uses: its ``--url``, else ``$STREAMLITE_URL``, else its default.

``redis://host:port/db`` (Redis or ``streamlite server``) or ``streamlite:///dir`` (the
embedded engine in ``dir``, or the process that owns ``dir``). Next to ``make run``,
whose data is in ``./data``, the URL that works is ``streamlite:///./data``. Kept free
of imports: every ``streamlite`` command reads its default at start-up.
"""

from __future__ import annotations

import os

ENV_URL = "STREAMLITE_URL"
APP_DATA_URL = "streamlite:///./data"  # where `make run` / `streamlite run` keep their data


def resolve_url(url: str | None, default: str) -> tuple[str, bool]:
    """(the URL to use, whether it is ``default``): ``url`` if given, else
    ``$STREAMLITE_URL``, else ``default``."""
    if url:
        return url, False
    env = os.environ.get(ENV_URL, "")
    if env:
        return env, False
    return default, True
