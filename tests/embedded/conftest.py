"""Fixtures for the embedded front: clients on private in-memory engines, test commands."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import streamlite
from streamlite.embedded import Embedded

from .support import embtest_commands


@pytest.fixture
def embtest() -> Iterator[None]:
    """The ``embtest.*`` commands, registered for the test."""
    with embtest_commands():
        yield


@pytest.fixture
def emb() -> Iterator[Embedded]:
    """A shared in-memory engine handle."""
    e = Embedded()
    yield e
    e.close()


@pytest.fixture
def r(emb: Embedded) -> Iterator[object]:
    """A redis.Redis on a private in-memory engine (shadows the engine runner ``r``)."""
    c = emb.client()
    yield c
    c.close()


@pytest.fixture
def rd(emb: Embedded) -> Iterator[object]:
    c = emb.client(decode_responses=True)
    yield c
    c.close()


@pytest.fixture
def r3(emb: Embedded) -> Iterator[object]:
    c = emb.client(protocol=3)
    yield c
    c.close()


@pytest.fixture
def tmpdir_path(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return str(tmp_path / "data")


__all__ = ["streamlite"]
