"""The README's screenshots, made the way the browser tests open reports:

python -m tests.reports.screenshots      # writes docs/img/report-*.png, index.png
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from tests.reports import verdict_docs
from tests.reports.browser import screenshot
from tests.reports.fakes import T0, record_run
from tests.reports.test_browser_report import render
from tradeops.reports import chain, index

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
SHOTS = {
    "p0": ("report-p0.png", 900),
    "p2": ("report-p2-gate.png", 1500),
    "insufficient": ("report-insufficient.png", 900),
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        docs = verdict_docs.every()
        for name, (file, height) in SHOTS.items():
            screenshot(render(work, name, docs[name]), IMG / file, work, height)
        root = work / "reports"
        for i in range(40):
            outcomes = {"wal_mode": "passed", "clock_skew": "passed"}
            outcomes.update({f"heartbeat_fresh[s{n}]": "passed" for n in range(1, 31)})
            if i % 7 in (2, 4):
                outcomes["heartbeat_fresh[s7]"] = "failed"
            if i in (20, 33):
                outcomes["wal_mode"] = "failed"
            record_run(
                root,
                T0 + timedelta(minutes=15 * i),
                outcomes,
                scenario="stale-heartbeat" if i % 10 == 9 else None,
            )
        with chain.locked(root):
            page = index.write_index(root, keep_days=365)
        screenshot(page, IMG / "index.png", work, 900)
    print(f"screenshots in {IMG}")


if __name__ == "__main__":
    main()
