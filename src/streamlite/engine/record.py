"""``Record``: what ``@dataclass`` generates besides ``__init__``, for plain classes.

Building a dataclass generates and compiles its ``__init__``, ``__repr__`` and
``__eq__`` at every import, about half a millisecond a class: the classes the server
imports at start write their ``__init__`` by hand and take ``__repr__`` and
``__eq__`` from here, the same as the dataclass ones (``_fields`` names the fields,
in order; ``__hash__`` is None, as with ``@dataclass(eq=True)``).
"""

from __future__ import annotations

from reprlib import recursive_repr
from typing import Any, ClassVar


class Record:
    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _astuple(self) -> tuple[Any, ...]:
        return tuple([getattr(self, n) for n in self._fields])

    @recursive_repr()  # a record that holds itself shows ``...`` there, as a dataclass
    def __repr__(self) -> str:
        body = ", ".join([f"{n}={getattr(self, n)!r}" for n in self._fields])
        return f"{type(self).__qualname__}({body})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            assert isinstance(other, Record)
            return self._astuple() == other._astuple()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
