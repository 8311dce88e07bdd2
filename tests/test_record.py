"""A record behaves as the frozen dataclass it stands for: ==, hash(), repr(), frozenness."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import field

import pytest

from tradeops._record import frozen_record


def twins(body: dict) -> tuple[type, type]:
    """The same class made by @dataclass(frozen=True) and by @frozen_record."""
    made = []
    for decorate in (dataclasses.dataclass(frozen=True), frozen_record):
        namespace = {
            k: field(**v) if isinstance(v, dict) and k != "__annotations__" else v
            for k, v in body.items()
        }
        made.append(decorate(type("Thing", (), namespace)))
    return made[0], made[1]


BODY = {
    "__annotations__": {"a": "int", "b": "str", "secret": "str", "note": "str", "c": "tuple"},
    "b": "x",
    "secret": {"default": "s", "compare": False},
    "note": {"default": "n", "repr": False},
    "c": {"default": ()},
}
VALUES = [
    (1, "x", "s", "n", ()),
    (1, "x", "other secret", "n", ()),  # equal to the first: secret is not compared
    (1, "x", "s", "other note", ()),  # not equal: a field hidden from repr is compared
    (2, "x", "s", "n", ()),
    (1, "y", "s", "n", (1, 2)),
]


def test_equality_and_hash_are_the_dataclasses():
    plain, rec = twins(BODY)
    for left in VALUES:
        for right in VALUES:
            assert (rec(*left) == rec(*right)) == (plain(*left) == plain(*right))
            assert (rec(*left) != rec(*right)) == (plain(*left) != plain(*right))
            if plain(*left) == plain(*right):
                assert hash(rec(*left)) == hash(rec(*right))
    assert rec(*VALUES[0]).__eq__(plain(*VALUES[0])) is NotImplemented
    assert rec(*VALUES[0]) != plain(*VALUES[0])
    assert len({rec(*v) for v in VALUES}) == len({plain(*v) for v in VALUES}) == 4


def test_repr_is_the_dataclasses():
    plain, rec = twins(BODY)
    for values in VALUES:
        assert repr(rec(*values)) == repr(plain(*values))


def test_a_record_inside_itself_shows_as_dots_as_in_a_dataclass():
    plain, rec = twins({"__annotations__": {"items": "list"}})
    shown = []
    for cls in (plain, rec):
        box = cls([])
        box.items.append(box)
        shown.append(repr(box))
    assert shown[0] == shown[1] == "Thing(items=[...])"


def test_hash_fields_follow_the_dataclass_rules():
    body = {"__annotations__": {"a": "int", "b": "int"}, "b": {"default": 0, "hash": False}}
    plain, rec = twins(body)
    assert hash(rec(1, 2)) == hash(rec(1, 3)) and hash(plain(1, 2)) == hash(plain(1, 3))
    assert rec(1, 2) != rec(1, 3)


def test_it_is_frozen_and_still_a_dataclass():
    _, rec = twins(BODY)
    thing = rec(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        thing.a = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del thing.a
    assert dataclasses.is_dataclass(thing)
    assert dataclasses.replace(thing, a=5) == rec(5)
    assert dataclasses.asdict(thing) == {"a": 1, "b": "x", "secret": "s", "note": "n", "c": ()}
    assert rec.__match_args__ == ("a", "b", "secret", "note", "c")


@frozen_record
class Pickled:
    a: int
    b: tuple = ()


def test_a_record_pickles_as_xdist_and_multiprocessing_may_need():
    thing = Pickled(1, (2,))
    assert pickle.loads(pickle.dumps(thing)) == thing


def test_methods_the_class_writes_are_kept():
    class Own:
        a: int

        def __repr__(self) -> str:
            return "mine"

        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = object.__hash__

    made = frozen_record(Own)
    assert repr(made(1)) == "mine" and made(1) == made(2) and made.__hash__ is object.__hash__


def test_a_class_that_writes_only_eq_gets_a_hash_as_from_dataclass():
    class EqOnly:
        a: int

        def __eq__(self, other: object) -> bool:
            return isinstance(other, EqOnly) and other.a == self.a

    plain = dataclasses.dataclass(frozen=True)(type("P", (EqOnly,), {"__annotations__": {}}))
    made = frozen_record(EqOnly)
    assert hash(made(1)) == hash(made(1)) and plain.__hash__ is not None


def test_the_init_takes_what_the_dataclasses_takes():
    body = {
        "__annotations__": {"a": "int", "items": "list", "seen": "set", "n": "int"},
        "items": {"default_factory": list},
        "seen": {"default_factory": set, "init": False},
        "n": {"default": 3, "init": False},
    }
    plain, rec = twins(body)
    for made in (plain(1), rec(1)):
        assert (made.a, made.items, made.seen, made.n) == (1, [], set(), 3)
    assert rec(1).items is not rec(1).items  # a fresh list each time, as from the factory
    assert rec(1, [2]).items == plain(1, [2]).items == [2]
    assert rec(a=1, items=[5]) == rec(1, [5])
    for wrong in ((), (1, [], "x")):
        with pytest.raises(TypeError) as theirs:
            plain(*wrong)
        with pytest.raises(TypeError) as ours:
            rec(*wrong)
        assert str(ours.value) == str(theirs.value)


def test_post_init_runs_after_the_fields_are_set():
    seen = []

    class Checked:
        a: int

        def __post_init__(self) -> None:
            seen.append(self.a)

    frozen_record(Checked)(7)
    assert seen == [7]


def test_what_the_dataclass_would_refuse_is_refused_when_the_class_is_made():
    class Late:
        a: int = 1
        b: int

    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        frozen_record(Late)

    class Writes:
        a: int

        def __setattr__(self, name: str, value: object) -> None:
            pass

    with pytest.raises(TypeError, match="__setattr__"):
        frozen_record(Writes)

    class KeywordOnly:
        a: int = field(default=1, kw_only=True)

    with pytest.raises(TypeError, match="kw_only field 'a'"):
        frozen_record(KeywordOnly)


def test_a_subclass_may_set_what_is_not_a_field():
    @frozen_record
    class Base:
        a: int

    class Sub(Base):
        pass

    thing = Sub(1)
    thing.extra = 2  # as a frozen dataclass's plain subclass allows
    assert thing.extra == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        thing.a = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Base(1).extra = 2  # type: ignore[attr-defined]
