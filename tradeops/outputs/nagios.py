"""The Nagios plugin: a run's verdict as one status line, perfdata and exit 0/1/2/3.

For Nagios, Icinga, NRPE and anything else that runs plugins:

    python -m tradeops.outputs.nagios [--max-age 2h] RUN.json
    python -m tradeops.outputs.nagios [--max-age 2h] --kind preflight reports/

reads the verdict document a run wrote (`--ops-json PATH`), or the newest one of a kind
kept in a reports directory, and prints one line, e.g.

    TRADEOPS CRITICAL - RED: highest severity P1: 2 check(s) failed (P1: 2); 5 of 5
    pre-flight items judged; worst: heartbeat_fresh[s1] | judged=5;;;0;5 failed=2;;;0;5 ...

The state, most telling first:
- CRITICAL (2): a P0 or P1 check failed (or a red run names no severity): page. A run
  that stopped early after such a failure is still CRITICAL: what was seen is known;
- UNKNOWN (3): the platform's state is not known: the run was incomplete (stopped early,
  or the suite could not judge a check; a suite defect outranks a P2/P3 failure, as the
  exit code does), nothing was judged (not checked), the report is older than --max-age
  (the schedule stopped; a stale CRITICAL stays CRITICAL), or the file cannot be read as
  a verdict document;
- WARNING (1): only P2/P3 checks failed: a ticket;
- OK (0): green. Waived failures are counted in the line and never hide a failure.

Nothing is written at run time (`wanted` is False): the plugin reads what the run kept.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from tradeops.outputs._stamps import epoch, seconds

NAME = "nagios"
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
SCHEMA = 2
OUTCOME_PERF = ("passed", "failed", "error", "skipped", "waived", "suite_error")


def wanted(config: Any) -> bool:
    """Never at run time: Nagios runs the plugin against the JSON the run kept."""
    return False


def write(doc: dict, config: Any) -> list[Path]:
    """Nothing to write (see `wanted`)."""
    return []


def state_of(doc: dict) -> int:
    """The Nagios state of a verdict document (the mapping in the module docstring)."""
    verdict = doc.get("verdict")
    top = doc.get("highest_severity")
    if verdict in ("red", "incomplete") and top in ("P0", "P1"):
        return CRITICAL
    if verdict == "red":
        if doc.get("suite_errors"):
            return UNKNOWN
        return WARNING if top in ("P2", "P3") else CRITICAL
    if verdict == "green":
        return OK
    return UNKNOWN  # incomplete, not_checked, or a verdict this plugin does not know


def render(
    doc: dict, now_s: float | None = None, max_age_s: float | None = None
) -> tuple[int, str]:
    """(exit status, the plugin's output line) for a verdict document."""
    state = state_of(doc)
    text = doc.get("headline") or f"verdict {doc.get('verdict')!r}"
    worst = (doc.get("failures") or [{}])[0]
    if worst.get("check"):
        subject = f"[{worst['subject']}]" if worst.get("subject") else ""
        text += f"; worst: {worst['check']}{subject}"
    waived = ((doc.get("counts") or {}).get("outcome") or {}).get("waived") or 0
    if waived:
        text += f"; {waived} waived"
    finished = epoch((doc.get("run") or {}).get("finished")) or epoch(doc.get("now"))
    if max_age_s is not None:
        now_s = time.time() if now_s is None else now_s
        if finished is None or now_s - finished > max_age_s:
            age = "no run time" if finished is None else f"{(now_s - finished) / 60:.0f} min old"
            # Stale: not known now, unless what it last said was already the worst.
            state, text = (
                CRITICAL if state == CRITICAL else UNKNOWN,
                f"STALE: the last run's report is {age} (max {max_age_s / 60:.0f} min); "
                f"it said: {text}",
            )
    return state, f"TRADEOPS {STATES[state]} - {_clean(text)} | {perfdata(doc)}"


def perfdata(doc: dict) -> str:
    """Nagios perfdata: check counts with their maximum, duration, each SLO's budget left."""
    completeness = doc.get("completeness") or {}
    outcomes = (doc.get("counts") or {}).get("outcome") or {}
    most = completeness.get("selected") or completeness.get("items") or ""
    parts = [f"judged={completeness.get('judged') or 0};;;0;{most}"]
    parts += [f"{o}={outcomes.get(o) or 0};;;0;{most}" for o in OUTCOME_PERF]
    duration = (doc.get("run") or {}).get("duration_s")
    if duration is not None:
        parts.append(f"duration={float(duration):.3f}s;;;0;")
    for slo in doc.get("slo") or []:
        left = slo.get("budget_remaining")
        if left is not None:  # warn below half the budget, critical once spent
            parts.append(f"budget_{slo['name']}={left * 100:.2f}%;50:;0:;;")
    return " ".join(parts)


def load(path: Path) -> dict:
    """A verdict document from a file, or ValueError saying why it is not one."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a tradeops verdict document (schema {SCHEMA})")
    if doc.get("verdict") not in ("green", "red", "incomplete", "not_checked"):
        raise ValueError(f"{path}: unknown verdict {doc.get('verdict')!r}")
    return doc


def newest(reports: Path, kind: str) -> Path:
    """The newest kept verdict JSON of `kind` under a reports root (DATE/KIND-TIME-ID.json)."""
    stamp = re.compile(rf"^{re.escape(kind)}-\d{{8}}T\d{{6}}Z-[0-9a-f]+\.json$")
    kept = sorted(
        (p for p in reports.glob("*/*.json") if stamp.match(p.name)),
        key=lambda p: (p.name[len(kind) + 1 : len(kind) + 17], p.name),
    )
    if not kept:
        raise ValueError(f"{reports}: no kept {kind} run (reports/DATE/{kind}-TIME-ID.json)")
    return kept[-1]


def main(argv: list[str] | None = None) -> int:
    """Print the plugin line; the exit status is the Nagios state."""
    parser = argparse.ArgumentParser(prog="python -m tradeops.outputs.nagios")
    parser.add_argument(
        "report", type=Path, help="a run's verdict JSON (--ops-json PATH), or a reports root"
    )
    parser.add_argument(
        "--kind",
        choices=("preflight", "full", "slo", "promote-gate"),
        help="with a reports root: the run kind whose newest kept JSON is read",
    )
    parser.add_argument(
        "--max-age", metavar="DURATION", help="UNKNOWN if the run ended longer ago (90m, 2h)"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # Nagios reads a usage error as UNKNOWN, never as a state of the platform.
        return OK if exc.code == 0 else UNKNOWN
    try:
        max_age = seconds(args.max_age) if args.max_age else None
    except ValueError as exc:
        return _unknown(f"--max-age: {exc}")
    try:
        if args.report.is_dir():
            if not args.kind:
                raise ValueError(f"{args.report}: a reports root needs --kind")
            args.report = newest(args.report, args.kind)
        doc = load(args.report)
    except ValueError as exc:
        return _unknown(str(exc))
    state, line = render(doc, max_age_s=max_age)
    print(line)
    return state


def _unknown(why: str) -> int:
    print(f"TRADEOPS UNKNOWN - {_clean(why)}")
    return UNKNOWN


def _clean(text: str) -> str:
    """One line with no '|' (Nagios splits perfdata there)."""
    return " ".join(text.replace("|", "/").split())


if __name__ == "__main__":
    sys.exit(main())
