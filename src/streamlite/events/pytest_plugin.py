"""pytest plugin: the ``app`` and ``test_app`` fixtures (the test client, :mod:`.testing`).

Installed with streamlite (entry point ``pytest11``: nothing to configure). Say which
App your tests run, either in the pytest configuration::

    [tool.pytest.ini_options]
    streamlite_app = "myservice.worker:app"     # module:attribute (an App, or a
                                                 # function returning one)

or with an ``app`` fixture of your own (in ``conftest.py``), which wins over the plugin's
(``test_app`` takes the configured one first, then ``app``: a project whose ``app``
fixture is its web application sets ``streamlite_app``, or overrides the
``streamlite_app`` fixture).
Then::

    async def test_billing(test_app):
        await test_app.publish("orders", {"order_id": 1}, event_type="ORDER_CREATED")
        await test_app.drain()
        assert len(test_app.handled("orders")) == 1

An ``async def`` test that takes ``test_app`` runs on an event loop of the plugin's own
(pytest-asyncio is not needed), with the :class:`~.testing.TestApp` started before the
test and stopped after it, on that loop. A plain ``def`` test gets it unstarted (use
``async with test_app:`` inside ``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("streamlite_app", "module:attribute of the streamlite.events App that "
                  "the `app` fixture loads (an App, or a function returning one)", default="")


def load_app(spec: str) -> Any:
    """``"package.module:attr"`` -> the App (calling ``attr`` if it is a factory)."""
    from .app import App

    module, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module)
    for part in (attr or "app").split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, App) and callable(obj):
        obj = obj()
    if not isinstance(obj, App):
        raise TypeError(f"{spec} is not a streamlite.events.App")
    return obj


@pytest.fixture
def app(request: pytest.FixtureRequest) -> Any:
    """The App under test: ``streamlite_app`` from the pytest configuration."""
    spec = request.config.getini("streamlite_app")
    if not spec:
        pytest.fail("the `app` fixture needs `streamlite_app = \"module:app\"` in the pytest "
                    "configuration, or define an `app` fixture of your own", pytrace=False)
    return load_app(spec)


@pytest.fixture
def streamlite_app(request: pytest.FixtureRequest) -> Any:
    """The App ``test_app`` runs: ``streamlite_app`` from the configuration when set
    (so a project whose ``app`` fixture is its web app still works), else ``app``."""
    spec = request.config.getini("streamlite_app")
    return load_app(spec) if spec else request.getfixturevalue("app")


@pytest.fixture
def test_app(streamlite_app: Any) -> Any:
    """A :class:`~.testing.TestApp` of the app (started around ``async def`` tests)."""
    from .app import App
    from .testing import TestApp

    if not isinstance(streamlite_app, App):
        pytest.fail(f"test_app needs a streamlite.events.App, and the `app` fixture is a "
                    f"{type(streamlite_app).__name__}: set streamlite_app = \"module:app\" "
                    "in the pytest configuration, or override the `streamlite_app` fixture",
                    pytrace=False)
    return TestApp(streamlite_app)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if "test_app" not in pyfuncitem.fixturenames:
        return None
    fn = pyfuncitem.obj
    if not inspect.iscoroutinefunction(fn):
        return None
    test: Any = pyfuncitem.funcargs["test_app"]
    kwargs = {n: pyfuncitem.funcargs[n] for n in pyfuncitem._fixtureinfo.argnames}

    async def run() -> None:
        async with test:
            await fn(**kwargs)

    asyncio.run(run())
    return True
