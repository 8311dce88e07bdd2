"""The verdict document's JSON Schema (draft 2020-12), shipped in the package.

`SCHEMA_PATH` is the file (`tradeops/reports/verdict.schema.json`); `errors(doc)` lists
where a document departs from it ("[]" when it conforms), `validate(doc)` raises
ValueError naming the first few. Both need `jsonschema` (a dev dependency: the suite
never validates its own output at run time, its tests do).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("verdict.schema.json")


@cache
def schema() -> dict:
    """The schema, parsed."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def errors(doc: object) -> list[str]:
    """Each departure from the schema as "path: message", in document order."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    found = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}" for e in found]


def validate(doc: object) -> None:
    """Raise ValueError if `doc` is not a schema-2 verdict document."""
    found = errors(doc)
    if found:
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise ValueError(
            "verdict document does not match its schema: " + "; ".join(found[:3]) + more
        )
