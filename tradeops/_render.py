"""How a check's outcome reads to an operator: severity first, then what, where, next step."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import pytest

from tradeops.connectors.errors import PlatformError
from tradeops.findings import SEVERITIES, CheckFailed, Finding, highest
from tradeops.runbooks import runbook

LAYERS = ("platform", "strategy", "portfolio")
# SLO checks (slo/) are not a health layer: they read history, and sort after the layers.
SLO_MARKERS = ("slo", "promote_gate")
PROPERTY = "tradeops"  # the user_properties key that carries CheckMeta across xdist


@dataclass(frozen=True)
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

    @classmethod
    def of(cls, item: pytest.Item) -> CheckMeta:
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

    def problems(self) -> list[str]:
        """Why this check is not a valid check (missing or wrong markers)."""
        out = []
        if self.severity not in SEVERITIES:
            out.append(f'needs @pytest.mark.severity(level="P0".."P3"), has {self.severity!r}')
        if self.runbook is None or runbook(self.runbook) is None:
            out.append(
                f"needs @pytest.mark.runbook(id=...) naming a known runbook, has {self.runbook!r}"
            )
        if self.layer is None:
            out.append("needs a layer marker: platform, strategy, portfolio (or slo)")
        return out

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


def render_failure(meta: CheckMeta, severity: str | None, findings: list[Finding]) -> str:
    """The failure text: severity and check first, then each finding, then the next step."""
    subject = f"[{meta.subject}]" if meta.subject else ""
    count = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
    lines = [f"{severity} {meta.check}{subject} FAILED: {count}"]
    for f in findings:
        mark = f" ({f.severity})" if f.severity and f.severity != severity else ""
        lines.append(f"  - {f}{mark}")
    lines += next_step_lines(meta)
    return "\n".join(lines)


def next_step_lines(meta: CheckMeta) -> list[str]:
    book = runbook(meta.runbook) if meta.runbook else None
    if book is None:
        return []
    return [f"  next step: {book.next_step}", f"  runbook: {book.link}"]


def one_line(findings: list[Finding] | None, fallback: str) -> str:
    """A failure's headline: the first finding, and how many more there are."""
    if not findings:
        return fallback
    more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
    return f"{findings[0]}{more}"


def write_verdict(tr, ops, summary: dict) -> None:
    """The terminal's last word: GREEN, or RED led by the highest severity, each failure
    with its next step and runbook, then what was not judged and why."""
    tr.write_sep("=", "tradeops verdict", bold=True)
    if ops.sandbox is not None:
        tr.write_line(f"platform: sandbox scenario {ops.sandbox.scenario_name!r}")
    elif ops.manifest is not None:
        tr.write_line(f"platform: {ops.manifest.path}")
    checks = summary["checks"]
    failed = [c for c in checks if c["outcome"] in ("failed", "error")]
    observed = summary["platform_red_not_selected"]
    if summary["verdict"] == "green":
        tr.write_line("GREEN: no check failed", green=True, bold=True)
    else:
        counted = [*failed, *observed]
        counts = {s: sum(c["effective_severity"] == s for c in counted) for s in SEVERITIES}
        detail = ", ".join(f"{s}: {n}" for s, n in counts.items() if n)
        tr.write_line(
            f"RED: highest severity {summary['highest_severity'] or 'P?'}: "
            f"{len(counted)} check(s) failed ({detail})",
            red=True,
            bold=True,
        )
        for check in sorted(failed, key=lambda c: c["effective_severity"] or "P9"):
            meta = CheckMeta(**{k: v for k, v in check.items() if k != "nodeid"})
            subject = f"[{meta.subject}]" if meta.subject else ""
            tr.write_line(
                f"{meta.effective_severity} {meta.check}{subject}: {meta.summary}", red=True
            )
            for line in next_step_lines(meta):
                tr.write_line(f"  {line.strip()}")
        for check in observed:
            tr.write_line(
                f"{check['effective_severity']} {check['check']} (layer 1, not "
                f"selected in this run): {check['summary']}",
                red=True,
            )
            tr.write_line("  next step: run `pytest -m platform` for the findings and runbook")
    for problem in ops.problems:
        tr.write_line(f"warning: {problem}", yellow=True)
    unreliable = [c for c in checks if c["summary"].startswith("unreliable")]
    if unreliable:
        tr.write_line(
            f"{len(unreliable)} check(s) not judged: {unreliable[0]['summary']}", yellow=True
        )
