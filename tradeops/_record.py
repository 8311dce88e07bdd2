"""`frozen_record`: a frozen dataclass whose methods cost nothing until they are used.

On Python 3.11 `dataclass` compiles every method it writes, an `exec` apiece (about 50 us
each), and a frozen class gets six. The suite defines some sixty at import, most of which
a pre-flight never builds; their methods were a sixth of a pre-flight's own time. A
frozen_record has dataclass write none of them (it still reads the fields, so `fields()`,
`replace()`, `asdict()` and `__match_args__` are dataclass's own) and gets:
- `__init__` written on the first instance, as dataclass writes it for a frozen class:
  each init field a parameter (its default, or its default_factory called when not
  given), each field set with object.__setattr__, then `__post_init__()` if the class has
  one. A class a pre-flight never instantiates never compiles one.
- shared `__setattr__` and `__delattr__` that refuse as a frozen dataclass's do: any
  attribute of the record class itself, a field of a subclass.
- shared ==, hash() and repr() that behave as dataclass's: == compares the compare=True
  fields of two instances of the same class (else NotImplemented), hash() hashes the
  fields dataclass would (hash=True, or hash=None and compare=True), repr() shows the
  repr=True fields as `Name(a=1, b='x')`, and `...` for a record inside itself.
A method the class writes itself is kept, as dataclass keeps it; InitVar and kw_only
fields are refused (the suite has none). tests/test_record.py holds all of it to
dataclass's own on the same classes. (Python 3.13 writes a dataclass's methods in one
exec: there this could be plain `dataclass(frozen=True)` again.)
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, TypeVar

T = TypeVar("T", bound=type)

_COMPARED = "__record_compared__"
_HASHED = "__record_hashed__"
_SHOWN = "__record_shown__"
_FIELDS = "__record_fields__"
_RECORD = "__record_class__"  # in the record class's own __dict__ only
_in_repr = threading.local()  # ids of the records being shown, per thread
_MISSING = dataclasses.MISSING


class _Factory:
    """The default of a parameter whose field has a default_factory (never a value)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def frozen_record(cls: T) -> T:
    """`@dataclass(frozen=True)`, its methods shared or written when first used (see the
    module)."""
    body = cls.__dict__
    own = {name for name in ("__eq__", "__repr__", "__init__") if name in body}
    # A class that writes __eq__ gets `__hash__ = None` from Python; dataclass writes a
    # hash for it anyway, and keeps only a __hash__ the class wrote itself.
    if "__hash__" in body and not (body["__hash__"] is None and "__eq__" in body):
        own.add("__hash__")
    for name in ("__setattr__", "__delattr__"):
        if name in body:  # as dataclass: a frozen class may not write them
            raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
    cls = dataclasses.dataclass(cls, init=False, eq=False, repr=False)
    fields = dataclasses.fields(cls)
    _refuse_what_the_init_would_not_take(cls, fields)
    setattr(cls, _FIELDS, tuple(f.name for f in fields))
    setattr(cls, _RECORD, cls)
    setattr(cls, _COMPARED, tuple(f.name for f in fields if f.compare))
    hashed = (f.name for f in fields if (f.compare if f.hash is None else f.hash))
    setattr(cls, _HASHED, tuple(hashed))
    setattr(cls, _SHOWN, tuple(f.name for f in fields if f.repr))
    methods = [("__eq__", _eq), ("__hash__", _hash), ("__repr__", _repr)]
    methods += [("__init__", _first_init(cls)), ("__setattr__", _setattr)]
    methods += [("__delattr__", _delattr)]
    for name, method in methods:
        if name not in own:
            setattr(cls, name, method)
    return cls


def _refuse_what_the_init_would_not_take(cls: type, fields: tuple) -> None:
    """The errors dataclass raises when it writes an __init__, raised at once: a field
    without a default after one with a default; and what this module does not write."""
    defaulted = None
    for f in fields:
        if f.kw_only:
            raise TypeError(f"frozen_record {cls.__name__}: kw_only field {f.name!r}")
        if not f.init:
            continue
        if f.default is not _MISSING or f.default_factory is not _MISSING:
            defaulted = f.name
        elif defaulted is not None:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
    for name, f in cls.__dataclass_fields__.items():  # type: ignore[attr-defined]
        if isinstance(f.type, dataclasses.InitVar) or "InitVar" in str(f.type):
            raise TypeError(f"frozen_record {cls.__name__}: InitVar {name!r}")


def _first_init(cls: type) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init = _write_init(cls)
        cls.__init__ = init  # type: ignore[misc]
        init(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _write_init(cls: type) -> Any:
    """The __init__ dataclass would write for this frozen class, compiled once."""
    scope: dict[str, Any] = {"_set": object.__setattr__, "_FACTORY": _FACTORY}
    params, lines = ["self"], []
    for f in dataclasses.fields(cls):
        name = f.name
        if f.default_factory is not _MISSING:
            scope[f"_factory_{name}"] = f.default_factory
        if not f.init:
            if f.default_factory is not _MISSING:  # else the class attribute is the default
                lines.append(f"_set(self, {name!r}, _factory_{name}())")
            continue
        if f.default is not _MISSING:
            scope[f"_default_{name}"] = f.default
            params.append(f"{name}=_default_{name}")
            value = name
        elif f.default_factory is not _MISSING:
            params.append(f"{name}=_FACTORY")
            value = f"_factory_{name}() if {name} is _FACTORY else {name}"
        else:
            params.append(name)
            value = name
        lines.append(f"_set(self, {name!r}, {value})")
    if hasattr(cls, "__post_init__"):
        lines.append("self.__post_init__()")
    source = f"def __init__({', '.join(params)}):\n " + "\n ".join(lines or ["pass"])
    exec(source, scope)  # our own source, from the field names dataclass read
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


def _setattr(self: object, name: str, value: object) -> None:
    if _RECORD in type(self).__dict__ or name in getattr(self, _FIELDS):
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _delattr(self: object, name: str) -> None:
    if _RECORD in type(self).__dict__ or name in getattr(self, _FIELDS):
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


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
