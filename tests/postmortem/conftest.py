"""Small helpers: a manifest over a store, and kept runs in a real paper trail."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tradeops.reports.chain import append_run, locked


def write_manifest(directory: Path, store: Path, reports: Path | None = None) -> Path:
    """An ops.toml naming the store; its token variables are deliberately never set."""
    path = directory / "ops.toml"
    reports_line = f'\n[reports]\ndir = "{reports}"\n' if reports else ""
    path.write_text(
        f"""
[control_plane]
url = "http://127.0.0.1:9"
token_env = "PM_TEST_CONTROL_TOKEN_UNSET"

[event_store]
path = "{store}"

[[brokers]]
name = "practice"
url = "http://127.0.0.1:9"
token_env = "PM_TEST_OANDA_TOKEN_UNSET"
accounts = ["101-004-1234567-001"]
{reports_line}"""
    )
    return path


def keep_run(
    root: Path, started_ms: int, verdict: str, severity: str | None, failures: list[dict]
) -> str:
    """One kept run as the suite records it: HTML + JSON in the date folder, a chain entry."""
    started = datetime.fromtimestamp(started_ms / 1000, UTC)
    stem = f"full-{started:%Y%m%dT%H%M%SZ}-{started_ms % 0xFFFFFFFF:08x}"
    folder = root / f"{started:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    html, data = folder / f"{stem}.html", folder / f"{stem}.json"
    html.write_text("<html></html>")
    data.write_text(json.dumps({"verdict": verdict, "failures": failures}))
    run = {
        "id": stem[-8:],
        "kind": "full",
        "started": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "verdict": verdict,
        "highest_severity": severity,
        "counts": {},
    }
    with locked(root):
        append_run(root, [html, data], run)
    return f"{started:%Y-%m-%d}/{stem}.html"
