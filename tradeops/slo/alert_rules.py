"""Prometheus alerting rules for the SLOs, generated from the same table the suite judges by.

For teams whose Prometheus evaluates the SLOs continuously: `python -m tradeops.slo rules
[--ops-config ops.toml] > tradeops.rules.yml`, then `promtool check rules` and list the
file under `rule_files`.

What the rules read, honestly: the suite counts each SLI from the event store by the
events' own timestamps, over exact windows ending at the run's instant; Prometheus cannot
rebuild those counts from gauges scraped now and then. So the suite exports the burn rate
of every alert window (`tradeops_slo_burn_rate{slo,window}`, in the textfile of the
scheduled SLO run, kind "slo"), and these rules apply the SRE workbook's multiwindow
multi-burn-rate alerts to them: a rule fires when both its long and its short window burn
faster than its threshold, scaled to the SLO's own window exactly as
`tradeops.slo.budget.ALERT_RULES` scales it (the same `AlertRule.factor`). The data is
as fresh as the last SLO run; a stale value keeps an alert firing (never a quiet
resolve on missing data), and `TradeopsRunsStopped` pages when runs stop completing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from tradeops.config import SloConfig
from tradeops.runbooks import DOC
from tradeops.slo.budget import ALERT_RULES, PAGE, TICKET
from tradeops.slo.objectives import SLIS

KIND = "slo"  # the scheduled SLO run (`pytest slo/`) is the series the rules read
DEFAULT_MAX_AGE = "2h"  # a complete SLO run older than this pages (cron runs it far more often)


def rules(
    slos: Mapping[str, SloConfig],
    runbook_base: str = DOC,
    kind: str = KIND,
    max_age: str = DEFAULT_MAX_AGE,
) -> dict:
    """The rule file as data: one group per SLO, one for the runs themselves."""
    groups = [_slo_group(name, cfg, runbook_base, kind) for name, cfg in slos.items()]
    groups.append(_runs_group(runbook_base, kind, max_age))
    return {"groups": groups}


def _slo_group(name: str, cfg: SloConfig, runbook_base: str, kind: str) -> dict:
    sli = SLIS[name]
    out = []
    for rule in ALERT_RULES:
        factor = rule.factor(cfg.window_days)
        share = rule.budget_share * 100
        out.append(
            {
                "alert": "TradeopsSloBurnRate",
                "expr": f"{_rate(name, kind, rule.long)} > {factor!r} "
                f"and {_rate(name, kind, rule.short)} > {factor!r}",
                "labels": {
                    "severity": rule.severity,
                    "tradeops_severity": sli.severity,
                    "slo": name,
                    "pair": rule.pair,
                },
                "annotations": {
                    "summary": f"{sli.title}: error budget burning over {factor:.3g}x the "
                    f"sustainable rate ({rule.pair})",
                    "description": (
                        f"Both the {rule.long} and {rule.short} burn rates of {sli.title} are "
                        f"above {factor:.3g} (objective {cfg.objective:g} over "
                        f"{cfg.window_days:g} days): at this rate {share:.3g}% of the "
                        f"{cfg.window_days:g}-day budget goes in {rule.long}. Long-window "
                        "rate: {{ $value }}."
                    ),
                    "runbook_url": f"{runbook_base}#{sli.runbook}",
                },
            }
        )
    out.append(
        {
            "alert": "TradeopsSloBudgetExhausted",
            "expr": f"{_series('slo_budget_remaining_ratio', name, kind)} <= 0",
            "labels": {"severity": TICKET, "tradeops_severity": sli.severity, "slo": name},
            "annotations": {
                "summary": f"{sli.title}: error budget exhausted (freeze)",
                "description": (
                    f"No error budget left over {cfg.window_days:g} days (objective "
                    f"{cfg.objective:g}): the budget policy freezes promotions."
                ),
                "runbook_url": f"{runbook_base}#{sli.runbook}",
            },
        }
    )
    return {"name": f"tradeops-slo-{name}", "rules": out}


def _runs_group(runbook_base: str, kind: str, max_age: str) -> dict:
    last = f'tradeops_last_complete_run_timestamp_seconds{{kind="{kind}"}}'
    seconds = _seconds(max_age)
    return {
        "name": "tradeops-runs",
        "rules": [
            {
                "alert": "TradeopsRunsStopped",
                "expr": f"time() - {last} > {seconds}",
                "labels": {"severity": PAGE},
                "annotations": {
                    "summary": f"no complete tradeops {kind} run for over {max_age}",
                    "description": (
                        "The last run that judged everything ended {{ $value | humanizeDuration }} "
                        "ago: cron or the timer stopped, or every run since was incomplete. "
                        "Nothing is watching the platform."
                    ),
                    "runbook_url": f"{runbook_base}",
                },
            },
            {
                "alert": "TradeopsRunsAbsent",
                "expr": f"absent({last})",
                "for": max_age,
                "labels": {"severity": PAGE},
                "annotations": {
                    "summary": f"no tradeops {kind} run has ever completed on any scraped host",
                    "description": "The textfile is missing, or no run has completed yet.",
                    "runbook_url": f"{runbook_base}",
                },
            },
        ],
    }


def _series(metric: str, slo: str, kind: str, window: str | None = None) -> str:
    win = f',window="{window}"' if window else ""
    return f'tradeops_{metric}{{kind="{kind}",slo="{slo}"{win}}}'


def _rate(slo: str, kind: str, window: str) -> str:
    # Drop the window label so the long and the short window's series match in `and`.
    return f"max without (window) ({_series('slo_burn_rate', slo, kind, window)})"


def _seconds(duration: str) -> int:
    """A Prometheus-style duration ("90m", "2h", "1d") in seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = duration.strip()
    if text[-1:] in units and text[:-1].isdigit() and int(text[:-1]) > 0:
        return int(text[:-1]) * units[text[-1]]
    raise ValueError(f"not a duration like 90m, 2h or 1d: {duration!r}")


def to_yaml(data: object, indent: int = 0) -> str:
    """Block-style YAML of dicts, lists, strings and numbers; every string double-quoted.

    JSON's string escapes are valid in YAML double-quoted scalars, so json.dumps quotes
    every value safely (PromQL braces, quotes and newlines included): no YAML library.
    """
    pad = " " * indent
    lines: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict | list) and value:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(value, indent + 2))
            else:
                lines.append(f"{pad}{key}: {_scalar(value)}")
    elif isinstance(data, list):
        for value in data:
            body = to_yaml(value, indent + 2).lstrip()
            lines.append(f"{pad}- {body}")
    else:
        lines.append(f"{pad}{_scalar(data)}")
    return "\n".join(lines)


def _scalar(value: object) -> str:
    if isinstance(value, str) and value.isprintable() and value.strip() == value and value:
        # Single-quoted: PromQL's double quotes stay readable; only ' is doubled.
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool) or value is None or isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, dict | list):
        return json.dumps(value)  # empty
    raise TypeError(f"cannot render {type(value).__name__} as YAML")


def markdown_thresholds(slos: Mapping[str, SloConfig]) -> str:
    """The burn-rate threshold of every rule for every SLO, as docs/monitoring.md shows it."""
    head = " | ".join(f"{r.severity} {r.pair}" for r in ALERT_RULES)
    lines = [
        f"| SLO | objective | window | {head} |",
        "| --- | --- | --- | " + " | ".join("---" for _ in ALERT_RULES) + " |",
    ]
    for name, cfg in slos.items():
        factors = " | ".join(f"{r.factor(cfg.window_days):.3g}" for r in ALERT_RULES)
        lines.append(f"| `{name}` | {cfg.objective:g} | {cfg.window_days:g} d | {factors} |")
    return "\n".join(lines)
