"""`frozen_record`: a frozen dataclass whose ==, hash() and repr() are shared functions.

On Python 3.11 `dataclass` compiles every method it writes, an `exec` apiece (about 50 us
each), and a frozen class gets six. The suite defines some sixty at import; their methods
were a sixth of a pre-flight's own time. A frozen_record has dataclass write only the
three that make it frozen (__init__, __setattr__, __delattr__) and shares three that
behave as dataclass's own: == compares the compare=True fields of two instances of the
same class (else NotImplemented), hash() hashes the fields dataclass would (hash=True, or
hash=None and compare=True), repr() shows the repr=True fields as `Name(a=1, b='x')`, and
`...` for a record inside itself. A method the class writes itself is kept, as dataclass
keeps it. tests/test_record.py holds the three to dataclass's on the same classes.
(Python 3.13 writes a dataclass's methods in one exec: there this could be plain
`dataclass(frozen=True)` again.)
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TypeVar

T = TypeVar("T", bound=type)

_COMPARED = "__record_compared__"
_HASHED = "__record_hashed__"
_SHOWN = "__record_shown__"
_in_repr = threading.local()  # ids of the records being shown, per thread


def frozen_record(cls: T) -> T:
    """`@dataclass(frozen=True)`, with ==, hash() and repr() shared (see the module)."""
    body = cls.__dict__
    own = {name for name in ("__eq__", "__repr__") if name in body}
    # A class that writes __eq__ gets `__hash__ = None` from Python; dataclass writes a
    # hash for it anyway, and keeps only a __hash__ the class wrote itself.
    if "__hash__" in body and not (body["__hash__"] is None and "__eq__" in body):
        own.add("__hash__")
    cls = dataclasses.dataclass(cls, frozen=True, eq=False, repr=False)
    fields = dataclasses.fields(cls)
    setattr(cls, _COMPARED, tuple(f.name for f in fields if f.compare))
    hashed = (f.name for f in fields if (f.compare if f.hash is None else f.hash))
    setattr(cls, _HASHED, tuple(hashed))
    setattr(cls, _SHOWN, tuple(f.name for f in fields if f.repr))
    for name, method in (("__eq__", _eq), ("__hash__", _hash), ("__repr__", _repr)):
        if name not in own:
            setattr(cls, name, method)
    return cls


def _values(obj: object, names: tuple[str, ...]) -> tuple:
    return tuple(getattr(obj, name) for name in names)


def _eq(self: object, other: object) -> bool:
    if other.__class__ is self.__class__:
        names = getattr(self, _COMPARED)
        return _values(self, names) == _values(other, names)
    return NotImplemented


def _hash(self: object) -> int:
    return hash(_values(self, getattr(self, _HASHED)))


def _repr(self: object) -> str:
    showing = _in_repr.__dict__.setdefault("ids", set())
    if id(self) in showing:
        return "..."
    showing.add(id(self))
    try:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in getattr(self, _SHOWN))
        return f"{self.__class__.__qualname__}({shown})"
    finally:
        showing.discard(id(self))
