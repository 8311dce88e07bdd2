"""`python -m tradeops postmortem --since T1 --until T2 [--ops-config PATH] [--out FILE]`.

Exit 0 with the draft written (to FILE, else stdout); 2 with one line for bad arguments
(a time without a zone, T2 not after T1, no manifest or a bad one); 1 with one line when
the event store or the paper trail cannot be read. The draft reads only the store and the
kept runs: no token is used, so none has to be in the environment.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from tradeops.config import ManifestError, find_manifest, load_manifest
from tradeops.connectors.errors import PlatformError
from tradeops.postmortem._markdown import markdown
from tradeops.postmortem._runs import KeptRunsError
from tradeops.postmortem.draft import build
from tradeops.reports.paths import reports_root

PROG = "python -m tradeops postmortem"


class UsageError(Exception):
    """A bad argument; the message is the one line printed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        raise UsageError(message)


class _NoTokens(Mapping[str, str]):
    """The environment, with a stand-in for any token variable that is not set: the draft
    never sends a request, so it must not need the platform's tokens."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def __getitem__(self, key: str) -> str:
        return self.environ.get(key) or "unused-by-postmortem"

    def __iter__(self):
        return iter(self.environ)

    def __len__(self) -> int:
        return len(self.environ)


def _instant(text: str, name: str) -> int:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{name} {text!r} is not an RFC 3339 time (e.g. 2026-11-20T09:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise UsageError(f"{name} {text!r} has no time zone: add Z or an offset like +00:00")
    return int(moment.timestamp() * 1000)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = _Parser(
        prog=PROG, description="Draft a post-mortem of a window from the store and the kept runs."
    )
    parser.add_argument("--since", required=True, help="window start, RFC 3339 with a zone")
    parser.add_argument(
        "--until", required=True, help="window end (exclusive), RFC 3339 with a zone"
    )
    parser.add_argument(
        "--ops-config", help="the manifest (else $TRADEOPS_CONFIG, else ./ops.toml)"
    )
    parser.add_argument("--reports-dir", help="the kept runs (else [reports] dir, else ./reports)")
    parser.add_argument("--out", type=Path, help="write the draft here (else stdout)")
    args = parser.parse_args(argv)
    args.since_ms = _instant(args.since, "--since")
    args.until_ms = _instant(args.until, "--until")
    if args.until_ms <= args.since_ms:
        raise UsageError(f"--until {args.until} is not after --since {args.since}")
    return args


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        path = find_manifest(args.ops_config, os.environ, Path.cwd())
        if path is None:
            raise UsageError(
                "no manifest: pass --ops-config PATH, set $TRADEOPS_CONFIG, "
                "or run where ops.toml is"
            )
        manifest = load_manifest(path, _NoTokens(os.environ))
    except (UsageError, ManifestError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    root = reports_root(args.reports_dir, manifest.reports.dir, manifest.path, Path.cwd())
    try:
        text = markdown(build(manifest, args.since_ms, args.until_ms, root))
    except (PlatformError, KeptRunsError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    if args.out is None:
        print(text)
    else:
        args.out.write_text(text + "\n")
        print(f"post-mortem draft written to {args.out}", file=sys.stderr)
    return 0
