"""The check model: what a check is (layer, severity, runbook) and what its outcome means.

Defined once, imported by the plugin, the verdict and every output. A check's metadata and
outcome travel from xdist workers to the controller as one JSON user property
(`PROPERTY`), so every output reads the same facts.

Outcomes: passed, failed and error (the platform is at fault: a finding or a connector's
PlatformError), skipped (not judged, with a reason), waived (a failure a manifest waiver
covers), and suite_error (an unexpected exception: a defect of the suite, never reported
as a platform fault).
"""

from __future__ import annotations

import json
from dataclasses import asdict, field

import pytest

from tradeops._record import frozen_record
from tradeops.connectors.errors import PlatformError
from tradeops.findings import SEVERITIES, CheckFailed, Finding, highest
from tradeops.runbooks import runbook_ids

__all__ = [
    "LAYERS",
    "LAYER_ORDER",
    "OUTCOMES",
    "PROPERTY",
    "SEVERITIES",
    "CheckMeta",
    "effective_severity",
    "findings_of",
    "layer_rank",
    "one_line",
]

LAYERS = ("platform", "strategy", "portfolio")
# SLO checks (slo/) are not a health layer: they read history, and sort after the layers.
LAYER_ORDER = (*LAYERS, "slo")
SLO_MARKERS = ("slo", "promote_gate")
OUTCOMES = ("passed", "failed", "error", "skipped", "waived", "suite_error")
FAILED = ("failed", "error")  # the platform is at fault
PROPERTY = "tradeops"  # the user_properties key that carries CheckMeta across xdist
SLO_PROPERTY = "tradeops_slo"  # one SloResult.to_json(), recorded by an SLO check
GATE_PROPERTY = "tradeops_slo_gate"  # the promote gate ran in this item
SLO_HISTORY_PROPERTY = "tradeops_slo_history"  # {name: [{"at", "remaining"}]} for pictures


def layer_rank(layer: str | None) -> int:
    """Bottom-up order: platform, strategy, portfolio, slo; anything else last."""
    return LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER)


_META = pytest.StashKey["CheckMeta"]()


@frozen_record
class CheckMeta:
    """What the plugin knows of one check item, carried in user_properties."""

    check: str
    subject: str | None
    layer: str | None
    severity: str | None
    runbook: str | None
    outcome: str = ""
    effective_severity: str | None = None
    summary: str = ""
    findings: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, item: pytest.Item) -> CheckMeta:
        """The item's check, read from its markers once: collection has settled them, and
        each item is asked five times (sort, setup, three reports)."""
        meta = item.stash.get(_META, None)
        if meta is None:
            meta = item.stash[_META] = cls._read(item)
        return meta

    @classmethod
    def _read(cls, item: pytest.Item) -> CheckMeta:
        name = getattr(item, "originalname", None) or item.name.split("[")[0]
        callspec = getattr(item, "callspec", None)
        severity = item.get_closest_marker("severity")
        book = item.get_closest_marker("runbook")
        return cls(
            check=name.removeprefix("test_"),
            subject=callspec.id if callspec else None,
            layer=_layer_of(item),
            severity=_marker_value(severity, "level"),
            runbook=_marker_value(book, "id"),
        )

    @property
    def name(self) -> str:
        """`check[subject]`, as the verdict lists it."""
        return f"{self.check}[{self.subject}]" if self.subject else self.check

    def problems(self) -> list[str]:
        """Why this check is not a valid check (missing or wrong markers)."""
        out = []
        if self.severity not in SEVERITIES:
            out.append(f'needs @pytest.mark.severity(level="P0".."P3"), has {self.severity!r}')
        if self.runbook not in runbook_ids():
            out.append(
                f"needs @pytest.mark.runbook(id=...) naming a known runbook, has {self.runbook!r}"
            )
        if self.layer is None:
            out.append("needs a layer marker: platform, strategy, portfolio (or slo)")
        return out

    def with_outcome(self, **changes: object) -> CheckMeta:
        return CheckMeta(**{**asdict(self), **changes})

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_report(cls, report: pytest.TestReport) -> CheckMeta | None:
        # Collection reports have no user_properties: getattr, never an INTERNALERROR.
        for key, value in getattr(report, "user_properties", ()):
            if key == PROPERTY:
                return cls(**json.loads(value))
        return None


def _layer_of(item: pytest.Item) -> str | None:
    layer = next((layer for layer in LAYERS if item.get_closest_marker(layer)), None)
    if layer is None and any(item.get_closest_marker(m) for m in SLO_MARKERS):
        return "slo"
    return layer


def _marker_value(marker: pytest.Mark | None, key: str) -> str | None:
    if marker is None:
        return None
    return marker.kwargs.get(key) or (marker.args[0] if marker.args else None)


def findings_of(excinfo: pytest.ExceptionInfo) -> list[Finding] | None:
    """The findings a failed check raised; None for an unexpected exception (a suite bug)."""
    exc = excinfo.value
    if isinstance(exc, CheckFailed):
        return exc.findings
    if isinstance(exc, PlatformError):
        return [Finding(str(exc))]
    return None


def effective_severity(meta: CheckMeta, findings: list[Finding] | None) -> str | None:
    """The highest severity among the findings, each defaulting to the check's own."""
    if not findings:
        return meta.severity
    return highest(f.severity or meta.severity for f in findings)


def finding_record(finding: Finding, default_severity: str | None) -> dict:
    """One finding as the verdict document carries it: flat, every place a field."""
    return {
        "severity": finding.severity or default_severity,
        "message": str(finding),
        "what": finding.what,
        **asdict(finding.where),
    }


def one_line(findings: list[Finding] | None, fallback: str) -> str:
    """A failure's headline: the first finding, and how many more there are."""
    if not findings:
        return fallback
    more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
    return f"{findings[0]}{more}"
