"""Runbooks: what an operator does when a check fails.

P0/P1 checks get the five steps (CONFIRM, ISOLATE, RESOLVE, VERIFY, DOCUMENT); every
runbook has a one-line next step, shown under each failure. The data is runbooks.toml;
docs/runbooks.md is rendered from it (`python -m tradeops.runbooks`), and a test keeps
the two in step.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

DOC = "docs/runbooks.md"
_DATA = Path(__file__).with_name("runbooks.toml")


@dataclass(frozen=True)
class Runbook:
    id: str
    title: str
    next_step: str
    confirm: str
    isolate: str
    resolve: str
    verify: str
    document: str = (
        "Log the incident with the report path; update this runbook if a step was wrong."
    )

    @property
    def link(self) -> str:
        return f"{DOC}#{self.id}"


def _load() -> dict[str, Runbook]:
    with _DATA.open("rb") as data:
        table = tomllib.load(data)
    return {rid: Runbook(rid, **fields) for rid, fields in table.items()}


RUNBOOKS: dict[str, Runbook] = _load()


def runbook(runbook_id: str) -> Runbook | None:
    """The runbook with this id, or None."""
    return RUNBOOKS.get(runbook_id)


def markdown() -> str:
    """docs/runbooks.md, rendered from the table above."""
    lines = ["# Runbooks", "", "Rendered from `tradeops/runbooks.py`; edit there.", ""]
    for r in RUNBOOKS.values():
        lines += [
            f'<a id="{r.id}"></a>',
            f"## {r.id}: {r.title}",
            "",
            f"**Next step:** {r.next_step}",
            "",
            f"1. **CONFIRM** {r.confirm}",
            f"2. **ISOLATE** {r.isolate}",
            f"3. **RESOLVE** {r.resolve}",
            f"4. **VERIFY** {r.verify}",
            f"5. **DOCUMENT** {r.document}",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
