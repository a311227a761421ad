"""``Record``: the classes on the server's start path that were dataclasses keep the
dataclass behaviour (constructor by position and keyword in field order, ``__repr__``,
``__eq__``, unhashable unless frozen), with hand-written ``__init__``s."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from streamlite.engine.commands.stream_common import TrimArgs
from streamlite.engine.commands.stream_read import ReadArgs
from streamlite.engine.config import Spec
from streamlite.engine.latency import TS_LEN, Series
from streamlite.engine.record import Record
from streamlite.engine.registry import Command, KeySpec
from streamlite.engine.scripting.functions import Function, Library
from streamlite.engine.scripting.runtime import RunContext, Script
from streamlite.engine.slowlog import Entry
from streamlite.engine.tracking import ClientTracking
from streamlite.engine.types.geohash import Area, Shape
from streamlite.persistence.aof import AofFile, Manifest
from streamlite.persistence.manager import PersistenceConfig, _Child
from streamlite.persistence.snapshot import Loaded
from streamlite.server.replication import ReplicaInfo, Waiter

RECORDS = [KeySpec, Command, Area, Shape, Series, Entry, Script, RunContext, Spec, TrimArgs,
           ReadArgs, ReplicaInfo, Waiter, Function, Library, ClientTracking, AofFile, Manifest,
           PersistenceConfig, _Child, Loaded]


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_init_takes_the_fields_in_order(cls: type[Record]) -> None:
    params = list(inspect.signature(cls).parameters)
    assert params == list(cls._fields)
    assert len(set(cls._fields)) == len(cls._fields)
    slots = cls.__dict__.get("__slots__")
    assert slots is None or tuple(slots) == cls._fields


def test_repr_and_eq_as_a_dataclass() -> None:
    @dataclasses.dataclass
    class Shape:  # the dataclass Shape was
        lon: float = 0.0
        lat: float = 0.0
        conversion: float = 1.0
        radius: float | None = None
        width: float = 0.0
        height: float = 0.0

    a, b = Shape(1.5, 2, radius=3.0), globals()["Shape"](1.5, 2, radius=3.0)
    assert repr(a).replace("test_repr_and_eq_as_a_dataclass.<locals>.", "") == repr(b)
    assert b == globals()["Shape"](1.5, 2.0, radius=3.0)
    assert b != globals()["Shape"](1.5, 2.0)
    assert b != a  # another class: NotImplemented both ways, then identity
    with pytest.raises(TypeError):
        hash(b)


def test_defaults_are_fresh() -> None:
    for cls, attr in ((ClientTracking, "prefixes"), (Manifest, "files"), (Loaded, "dbs"),
                      (Loaded, "functions"), (Loaded, "aux"), (PersistenceConfig, "save")):
        a, b = cls(), cls()
        assert getattr(a, attr) == getattr(b, attr) and getattr(a, attr) is not getattr(b, attr)
    assert PersistenceConfig().save == [(3600, 1), (300, 100), (60, 10000)]
    s1, s2 = Series(), Series()
    assert s1.samples == [(0, 0)] * TS_LEN and s1.samples is not s2.samples
    assert s1 == s2 and s1.idx == s1.max == 0


def test_keyspec_frozen_and_hashable() -> None:
    k = KeySpec("RO access", 1)
    assert k == KeySpec(flags="RO access", index=1)
    assert hash(k) == hash(KeySpec("RO access", 1))
    assert k != KeySpec("RO access", 2)
    assert repr(k).startswith("KeySpec(flags='RO access', index=1, keyword='', startfrom=0,")
    with pytest.raises(dataclasses.FrozenInstanceError):
        k.index = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del k.index  # type: ignore[misc]


def test_recursive_repr() -> None:
    lib = Library(b"lib", b"code")
    lib.functions[b"f"] = Function(b"f", None, frozenset(), None, lib)
    assert repr(lib) == ("Library(name=b'lib', code=b'code', functions={b'f': Function(name=b'f', "
                         "fn=None, flags=frozenset(), description=None, library=...)})")
