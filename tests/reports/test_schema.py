"""The verdict document's shipped JSON Schema accepts the documents the suite writes and
refuses the ones a consumer could misread."""

from __future__ import annotations

import json

import pytest

from tests.reports.verdict_docs import every
from tradeops.reports import schema


@pytest.mark.parametrize("name", sorted(every()))
def test_each_kind_of_run_gives_a_document_the_schema_accepts(name):
    doc = every()[name]
    assert schema.errors(doc) == []
    schema.validate(json.loads(json.dumps(doc)))  # as a consumer reads it back


def test_the_schema_is_a_draft_2020_12_schema_shipped_in_the_package():
    from jsonschema import Draft202012Validator

    assert schema.SCHEMA_PATH.parent.name == "reports" and schema.SCHEMA_PATH.is_file()
    Draft202012Validator.check_schema(schema.schema())
    assert schema.schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    ("spoil", "where"),
    [
        (lambda d: d.update(verdict="amber"), "verdict"),
        (lambda d: d.update(schema=1), "schema"),
        (lambda d: d["checks"][0].update(severity="high"), "checks/0/severity"),
        (lambda d: d["run"].update(started="1796156610831"), "run/started"),
        (lambda d: d["completeness"].pop("judged"), "completeness"),
        (lambda d: d["slo"][0]["burn"][0].update(firing="yes"), "slo/0/burn/0/firing"),
        (lambda d: d.pop("platform"), "(document)"),
    ],
)
def test_a_document_a_consumer_could_misread_is_refused_with_where(spoil, where):
    doc = every()["healthy"]
    spoil(doc)
    found = schema.errors(doc)
    assert found and found[0].startswith(f"{where}:"), found
    with pytest.raises(ValueError, match="does not match its schema"):
        schema.validate(doc)
