"""Codecs (payload <-> bytes) and conversion between payload objects and plain data.

A payload published can be a ``dict``, a dataclass instance or a pydantic model (pydantic
is imported only if installed). It is turned into plain data (:func:`to_plain`), encoded by
a :class:`Codec` (JSON by default, msgpack optional) and stored in the entry's ``data``
field with its ``content_type``. A worker decodes with the codec named by the entry's
content type and builds the handler's annotated type (:func:`from_plain`).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import types
import typing
import uuid
from typing import Any, Protocol, Union, get_args, get_origin


class Codec(Protocol):
    content_type: str

    def encode(self, value: Any) -> bytes: ...

    def decode(self, data: bytes) -> Any: ...


def _json_default(o: Any) -> Any:
    if isinstance(o, datetime.datetime | datetime.date | datetime.time):
        return o.isoformat()
    if isinstance(o, decimal.Decimal | uuid.UUID):
        return str(o)
    if isinstance(o, enum.Enum):
        return o.value
    if isinstance(o, set | frozenset | tuple):
        return list(o)
    if isinstance(o, bytes):
        return o.decode("utf-8", "replace")
    plain = to_plain(o)
    if plain is o:
        raise TypeError(f"cannot encode {type(o).__name__} as JSON")
    return plain


class JsonCodec:
    """JSON (UTF-8, compact). The default codec."""

    content_type = "application/json"

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                          default=_json_default).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


class MsgpackCodec:
    """msgpack (needs the ``msgpack`` package: ``pip install streamlite[events]``)."""

    content_type = "application/msgpack"

    def __init__(self) -> None:
        import msgpack

        self._m = msgpack

    def encode(self, value: Any) -> bytes:
        return bytes(self._m.packb(value, default=_json_default, use_bin_type=True))

    def decode(self, data: bytes) -> Any:
        return self._m.unpackb(data, raw=False)


class RawCodec:
    """Bytes in, bytes out: for payloads that are already encoded."""

    content_type = "application/octet-stream"

    def encode(self, value: Any) -> bytes:
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode()
        raise TypeError("RawCodec encodes bytes or str only")

    def decode(self, data: bytes) -> Any:
        return data


_CODECS: dict[str, Any] = {"application/json": JsonCodec,
                           "application/msgpack": MsgpackCodec,
                           "application/octet-stream": RawCodec}
_INSTANCES: dict[str, Codec] = {}


def register_codec(content_type: str, factory: Any) -> None:
    """Make a codec known to workers by its content type."""
    _CODECS[content_type] = factory
    _INSTANCES.pop(content_type, None)


def codec_for(content_type: str | bytes | None) -> Codec:
    ct = (content_type.decode() if isinstance(content_type, bytes) else content_type) \
        or "application/json"
    c = _INSTANCES.get(ct)
    if c is None:
        factory = _CODECS.get(ct)
        if factory is None:
            raise ValueError(f"no codec registered for content type {ct!r}")
        c = _INSTANCES[ct] = factory()
    return c


def get_codec(codec: str | Codec | None) -> Codec:
    """A codec from a short name ("json", "msgpack", "raw"), a content type or an object."""
    if codec is None:
        return codec_for("application/json")
    if isinstance(codec, str):
        short = {"json": "application/json", "msgpack": "application/msgpack",
                 "raw": "application/octet-stream"}
        return codec_for(short.get(codec, codec))
    return codec


# ---------------------------------------------------------------- objects <-> plain data

def _pydantic_base() -> type | None:
    try:
        from pydantic import BaseModel
    except ImportError:  # pragma: no cover - pydantic is optional
        return None
    return BaseModel


def is_pydantic_model(tp: Any) -> bool:
    base = _pydantic_base()
    return base is not None and isinstance(tp, type) and issubclass(tp, base)


def to_plain(obj: Any) -> Any:
    """dict/list/scalars as they are; dataclasses and pydantic models as dicts."""
    if isinstance(obj, dict | list | str | int | float | bool | bytes) or obj is None:
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if hasattr(obj, "model_dump") and is_pydantic_model(type(obj)):
        return obj.model_dump(mode="json")
    return obj


def event_type_of(obj_or_type: Any) -> str:
    """``__event_type__`` if the class defines it, else the class name."""
    tp = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    return str(getattr(tp, "__event_type__", tp.__name__))


def from_plain(tp: Any, data: Any) -> Any:
    """Build an instance of annotation ``tp`` from decoded plain data."""
    if tp is None or tp is Any or tp is typing.Any or tp is object:
        return data
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        opts = [a for a in get_args(tp) if a is not type(None)]
        if data is None:
            return None
        return from_plain(opts[0], data) if len(opts) == 1 else data
    if origin in (list, tuple, set, frozenset) and isinstance(data, list):
        targs = get_args(tp)
        inner = targs[0] if targs else Any
        return origin(from_plain(inner, x) for x in data)
    if origin is dict and isinstance(data, dict):
        targs = get_args(tp)
        inner = targs[1] if len(targs) == 2 else Any
        return {k: from_plain(inner, v) for k, v in data.items()}
    if origin is not None:
        return data
    if is_pydantic_model(tp):
        return tp.model_validate(data)
    if dataclasses.is_dataclass(tp) and isinstance(data, dict):
        hints = typing.get_type_hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data and f.init:
                kwargs[f.name] = from_plain(hints.get(f.name, Any), data[f.name])
        return tp(**kwargs)  # type: ignore[operator]
    if tp is bytes and isinstance(data, str):
        return data.encode()
    if tp is str and isinstance(data, bytes):
        return data.decode()
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if tp in (datetime.datetime,) and isinstance(data, str):
        return datetime.datetime.fromisoformat(data)
    if tp in (decimal.Decimal, uuid.UUID) and isinstance(data, str | int | float):
        return tp(str(data))
    return data
