"""`python -m tradeops.reports verify|index|prune [--dir reports]`.

verify  says "intact" (exit 0) or names the first report changed, removed or inserted
        (exit 1), then lists what retention removed and when; --expect-head HASH also
        proves the chain still holds an entry noted earlier (e.g. from a CI log), which
        catches a chain truncated or rewritten whole.
index   regenerates reports/index.html from the chain.
prune   deletes runs older than --keep-days (default 365, the manifest's default; at
        least 7: the last week is never pruned) and records that in the chain, so
        `verify` still says intact afterwards. Every run of the suite already prunes by
        its manifest's [reports] keep_days.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tradeops.config import RETENTION_FLOOR_DAYS, ReportsConfig
from tradeops.reports import chain, index


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status is what a cron job or CI step checks."""
    parser = argparse.ArgumentParser(
        prog="python -m tradeops.reports",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=("verify", "index", "prune"))
    parser.add_argument(
        "--dir", type=Path, default=Path("reports"), help="the reports root (default: ./reports)"
    )
    parser.add_argument("--keep-days", type=int, help="prune: the keep period in days")
    parser.add_argument(
        "--expect-head",
        metavar="HASH",
        help="verify: a chain hash (12+ hex digits) that must still be there",
    )
    args = parser.parse_args(argv)
    root: Path = args.dir
    if not root.is_dir():
        print(f"{root}: no such reports directory", file=sys.stderr)
        return 2
    try:
        if args.command == "verify":
            return _verify(root, args.expect_head)
        keep_days = args.keep_days if args.keep_days is not None else ReportsConfig().keep_days
        with chain.locked(root):
            if args.command == "prune":
                if keep_days < RETENTION_FLOOR_DAYS:
                    parser.error(
                        f"--keep-days must be at least {RETENTION_FLOOR_DAYS}: "
                        "the last week of the paper trail is never pruned"
                    )
                entry = chain.prune(root, keep_days)
                removed = {r["run"] for r in entry["removed"]} if entry else set()
                kept = entry["kept_unverified"] if entry else []
                print(
                    f"pruned {len(removed)} run(s) older than {keep_days} days"
                    + (
                        f"; kept {len(kept)} that no longer verify: {', '.join(kept)}"
                        if kept
                        else ""
                    )
                )
            path = index.write_index(root, keep_days if args.command == "prune" else None)
            print(f"index: {path}")
    except chain.ChainError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def _verify(root: Path, expect_head: str | None) -> int:
    result = chain.verify(root, expect_head)
    print(result.message())
    for problem in result.problems[1:]:
        print(f"  also: {problem}")
    for note in result.notes:
        print(f"  note: {note}")
    for pruned in result.pruned:
        print(f"  pruned: {pruned}")
    return 0 if result.intact else 1


if __name__ == "__main__":
    sys.exit(main())
