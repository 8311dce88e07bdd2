"""The payload SQL: a field's value and a row's problem text read one table and agree."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tradeops.connectors._store_sql import KINDS, field, row_problem

# Values at the edges of every kind: each is usable for some kinds and named for others.
VALUES = [
    "", "x", "12", "1.5", "-2e3", "+7", "1.2.3", "1,5", "-", "e", "abc", "1e999",
    0, 1, -1, 86400, 86401, 2**53, 2**53 + 1, 946_684_800_000, 4_102_444_800_000,
    1.5, 1e15, 1e16, -1e16, True, False, None, [], [1], {}, {"a": 1},
]  # fmt: skip


def _read(payload: str, kind: str) -> tuple[object, str]:
    """(field's value, row_problem's text) of field `f` of `payload`, read by SQLite."""
    with sqlite3.connect(":memory:") as conn:
        return conn.execute(
            f"SELECT {field('f', kind, '?1')}, {row_problem((('f', kind),), '?1')}", [payload]
        ).fetchone()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_field_has_a_value_exactly_when_its_row_names_no_problem(kind):
    for value in VALUES:
        got, problem = _read(json.dumps({"f": value}), kind)
        assert (got is not None) == (problem == ""), (kind, value, got, problem)


@pytest.mark.parametrize("value", ["12", "1.5", "-2e3", "+7", "0.5E-3", 3, 1.25])
def test_a_decimal_is_a_number_or_a_string_of_one_number(value):
    assert _read(json.dumps({"f": value}), "decimal") == (value, "")


@pytest.mark.parametrize("value", ["", "1.2.3", "1,5", "abc", "-", "1 5", 1e16])
def test_anything_else_is_not_a_decimal_and_the_problem_quotes_it(value):
    got, problem = _read(json.dumps({"f": value}), "decimal")
    assert got is None
    assert problem.startswith("`f`: expected a finite decimal number or decimal string, got ")


def test_an_id_is_a_non_empty_string_or_an_integer():
    assert [_read(json.dumps({"f": v}), "id")[0] for v in ("7", 7, "", 1.5, None)] == [
        "7", 7, None, None, None,
    ]  # fmt: skip


def test_a_payload_that_is_not_an_object_has_no_fields_and_says_why():
    assert _read("[1]", "text") == (None, "payload is not a JSON object")
    assert _read("{bad", "text") == (None, "payload is not valid JSON")
    assert _read('{"g": 1}', "text") == (None, "lacks `f`")
