"""The environment a report shows: what ran, against what, by whom, and when; no secrets.

Built once on the controller. URLs lose any user:password, query and fragment (a URL
is the one place a credential hides in plain sight); tokens are never read here at all.
"""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import tradeops
from tradeops._session import OpsSession
from tradeops.reports.paths import RunPaths

GIT_TIMEOUT_S = 2.0
# pytest-metadata's own keys worth keeping; everything else (CI variables, --metadata
# values, a worker's copy) is dropped because nobody vetted it for secrets.
KEPT_METADATA = ("Python", "Platform", "Packages", "Plugins")


def safe_url(url: str) -> str:
    """scheme://host[:port]/path: no userinfo, query or fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def utc_ms(ms: int) -> str:
    """Epoch milliseconds as an RFC 3339 UTC time."""
    return (
        datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def git_commit(rootdir: Path) -> str:
    """HEAD's commit, "+dirty" when tracked files differ, or why it is unknown."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read-only: never refresh the index

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["git", "-C", str(rootdir), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    try:
        # One process for both: porcelain v2 heads its list of changes with HEAD's commit.
        status = git("status", "--porcelain=v2", "--branch", "--no-ahead-behind",
                     "--untracked-files=no")  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return "unknown (git unavailable)"
    if status.returncode != 0:
        return "unknown (not a git checkout)"
    lines = status.stdout.splitlines()
    head = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), None)
    if head is None or head == "(initial)":
        return "unknown (no commit yet)"
    dirty = any(not line.startswith("#") for line in lines)
    return head + ("+dirty" if dirty else "")


def operator() -> str:
    """$USER, else the login name, else "unknown"."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def environment(
    config: pytest.Config, ops: OpsSession, run: RunPaths, commit: str, who: str
) -> dict[str, str]:
    """The tradeops part of the report's environment table (and the JSON summary's);
    `commit` is git_commit(rootdir) and `who` operator(), computed by the caller (while
    the probe runs)."""
    env = {
        "Run": f"{run.kind} run {run.run_id}",
        "Started": run.started.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "Suite version": tradeops.__version__,
        "Git commit": commit,
        "Host": socket.gethostname(),
        "Operator": who,
        "Markers selected": config.option.markexpr or "(none: every check)",
    }
    if config.option.keyword:
        env["Keyword selection"] = config.option.keyword
    manifest = ops.manifest
    if manifest is not None:
        env["Manifest"] = str(manifest.path.resolve())
        env["Manifest SHA-256"] = manifest.digest
        env["Control plane"] = safe_url(manifest.control_plane.url)
        env["Brokers"] = "; ".join(
            f"{b.name} {safe_url(b.url)} (accounts: {len(b.accounts)})" for b in manifest.brokers
        )
        # absolute(), not resolve(): a symlink loop must reach the store check, not crash here.
        env["Event store"] = str(Path(manifest.event_store.path).absolute())
    if ops.sandbox is not None:
        env["Sandbox scenario"] = str(getattr(ops.sandbox, "scenario_name", "?"))
    if ops.now_ms:
        env["Session clock"] = utc_ms(ops.now_ms)
    env["As of"] = utc_ms(ops.slo_now_ms) if ops.slo_now_ms else env["Started"]
    return env


def curated_metadata(metadata: dict, ours: dict[str, str]) -> dict:
    """The environment table: our fields first, then pytest-metadata's vetted keys."""
    return {**ours, **{k: metadata[k] for k in KEPT_METADATA if k in metadata}}
