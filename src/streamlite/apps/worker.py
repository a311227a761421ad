"""The seed application's consumers as an :class:`~streamlite.events.App`, for
``streamlite worker``:

::

    streamlite run --no-workers --url redis://10.0.0.5:6379/0          # the HTTP API
    streamlite worker streamlite.apps.worker:app --workers 4 --url redis://10.0.0.5:6379/0

:func:`app` is a factory (``streamlite worker`` calls it in each worker process): it
reads the URL the runner gives (``$STREAMLITE_URL``, else the seed app's default
``streamlite:///./data``), puts the catalog and the gateway settings in place if the
data set has none yet (as ``streamlite run`` does; both are idempotent) and returns the
pipeline's consumers (:func:`~streamlite.apps.services.build_worker`, one consumer of
every group; the runner gives it a unique consumer name). Settings are the
:class:`~streamlite.apps.config.AppConfig` defaults.
"""

from __future__ import annotations

import asyncio

from streamlite.events import App, unique_consumer_name

from .catalog import ensure_catalog
from .config import DEFAULT_URL, AppConfig
from .gateway import init_settings
from .runner import open_clients
from .services import build_worker


def app() -> App:
    from streamlite.urls import resolve_url

    cfg = AppConfig(url=resolve_url(None, DEFAULT_URL)[0])

    async def init() -> None:
        r, sync = open_clients(cfg.url)
        try:
            await ensure_catalog(r, cfg.initial_stock)
            await init_settings(r, cfg.gateway)
        finally:
            await r.aclose()
            sync.close()

    asyncio.run(init())
    r, sync = open_clients(cfg.url)
    sync.close()
    worker = build_worker(cfg, r, unique_consumer_name("w"))
    worker.url = cfg.url  # (informational: the runner reads it)
    return worker
