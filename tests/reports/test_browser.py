"""A report and the index, opened in headless Chromium (Debian's chromium package): the
rows render, the severity column is there, and sorting by severity works."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.reports.project import FAILED_CHECKS, make_project, run_pytest
from tradeops.reports import chain

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_TIMEOUT_S = 60
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install -y chromium)"
)


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with everything that would reach the network turned off."""
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )


class Table(HTMLParser):
    """Each row of one table (by id) as {cell class: text}, after the page's script ran."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.rows: list[dict[str, str]] = []
        self.headers: list[str] = []
        self._depth = 0  # >0 while inside the table
        self._cell: str | None = None
        self._in_header = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id") == self.table_id:
            self._depth = 1
        elif tag == "table" and self._depth:
            self._depth += 1
        elif self._depth and tag == "tr" and "extras-row" not in (attributes.get("class") or ""):
            self.rows.append({})
        elif self._depth and tag in ("td", "th"):
            self._cell = (attributes.get("class") or "").split(" ")[0] or tag
            self._in_header = tag == "th"
            if self._in_header:
                self.headers.append("")
            elif self.rows:
                self.rows[-1].setdefault(self._cell, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._depth:
            self._depth -= 1
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is None:
            return
        if self._in_header:
            self.headers[-1] += data.strip()
        elif self.rows:
            self.rows[-1][self._cell] += data.strip()


def rendered(profile: Path, url: str, table_id: str) -> Table:
    """The table after Chromium ran the page's script."""
    done = chromium(profile, "--dump-dom", url)
    assert done.returncode == 0, done.stderr[-2000:]
    table = Table(table_id)
    table.feed(done.stdout)
    table.rows = [row for row in table.rows if row]
    return table


def newest(reports: Path) -> Path:
    """The last recorded run's report (names of runs in the same second sort by id)."""
    entry = chain.read_entries(reports)[-1]
    return reports / next(f["path"] for f in entry["files"] if f["path"].endswith(".html"))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reports root with a green run, then a red one."""
    project = make_project(tmp_path_factory.mktemp("browser") / "project", healthy=True)
    run_pytest(project)
    # A revoked control-plane token: the fake check's real call and layer 1 both fail (P0).
    run = run_pytest(
        project,
        env={"FAKE_FAIL": "store_mode,control_plane,prices_fresh[101-B]", "FAKE_CP_TOKEN": "x"},
    )
    assert run.returncode in FAILED_CHECKS, run.output
    return project / "reports"


def test_a_failing_report_renders_its_rows_with_severity_and_layer(reports, tmp_path):
    table = rendered(tmp_path / "profile", newest(reports).as_uri(), "results-table")
    assert table.headers[:3] == ["Result", "Severity", "Layer"]
    assert len(table.rows) == 5
    by_test = {row["col-testId"]: row for row in table.rows}
    failed = by_test["checks/test_fake.py::test_control_plane_answers"]
    assert (failed["col-result"], failed["col-severity"], failed["col-layer"]) == (
        "Failed",
        "P0",
        "1 platform",
    )
    assert "next step:" in failed["col-todo"]
    skipped = by_test["checks/test_fake.py::test_no_residual_runs::setup"]
    assert skipped["col-todo"].startswith("not judged: unreliable: platform layer red")


def test_sorting_by_severity_in_the_browser_puts_p0_first(reports, tmp_path):
    url = newest(reports).as_uri() + "?sort=severity"
    table = rendered(tmp_path / "profile", url, "results-table")
    severities = [row["col-severity"] for row in table.rows]
    assert severities == sorted(severities)
    assert severities[0] == "P0"


def test_the_index_renders_every_run_with_its_severity(reports, tmp_path):
    table = rendered(tmp_path / "profile", (reports / "index.html").as_uri(), "runs")
    assert "Highest severity" in table.headers
    assert [(r["col-verdict"], r["col-severity"]) for r in table.rows] == [
        ("RED", "P0"),
        ("GREEN", "-"),
    ]


def test_a_screenshot_of_a_failing_report_is_a_real_image(reports, tmp_path):
    shot = tmp_path / "report.png"
    done = chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,900",
        newest(reports).as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a blank page is a few kB
