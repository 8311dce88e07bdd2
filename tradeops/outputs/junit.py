"""JUnit XML: each check's severity, layer and runbook as `<property>` elements.

pytest's junitxml writes a report's user_properties as properties of its testcase, so
CI systems that read JUnit see how bad a failure is without opening the report.
"""

from __future__ import annotations

from tradeops.checkmodel import CheckMeta

NAME = "junit"
KEYS = ("severity", "layer", "runbook")


def properties(meta: CheckMeta) -> list[tuple[str, str]]:
    """The properties of one check's testcase (its effective severity once it failed)."""
    values = {
        "severity": meta.effective_severity or meta.severity,
        "layer": meta.layer,
        "runbook": meta.runbook,
    }
    return [(key, str(values[key])) for key in KEYS if values[key]]
