"""The report and the index as an operator sees them: Chromium at 1400x900, measured from
the rendered page. Four reports (healthy, a P0, a P2-only gate, insufficient data) are
real pytest-html 4 reports whose top is rendered from verdict documents; the index is a
real reports root; a whole run of the suite's plugin is checked the same way."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.reports import test_browser, verdict_docs
from tests.reports.browser import probe
from tests.reports.fakes import T0, record_run
from tests.reports.test_browser import CHROMIUM, newest
from tradeops.reports import chain, index

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install -y chromium)"
)
FIRST_SCREEN = 900
reports = test_browser.reports  # the fixture: a reports root with a green run, then a red one
REPO = Path(__file__).resolve().parents[2]

CONFTEST = """
import json, os
from pathlib import Path

from tradeops.reports import _html

DOC = json.loads(Path(os.environ["REPORT_DOC"]).read_text())


def pytest_metadata(metadata):
    # A long environment table, as a real run has: it must not push the verdict down.
    metadata.update({f"Field {n}": f"value {n}" for n in range(17)})


def pytest_html_results_summary(prefix, summary, postfix):
    here = Path(__file__).parent
    prefix.append(_html.summary_block(DOC, here, here / "reports"))
"""


def render(tmp: Path, name: str, doc: dict) -> Path:
    """A real pytest-html report whose top is this document's."""
    project = tmp / name
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "conftest.py").write_text(CONFTEST)
    failing = {f["check"] for f in doc["failures"]}
    tests = [
        f"def test_{c}():\n    assert {c!r} not in {sorted(failing)!r}\n"
        for c in dict.fromkeys(c["check"] for c in doc["checks"])
    ]
    (project / "test_checks.py").write_text("\n".join(tests))
    (project / "doc.json").write_text(json.dumps(doc))
    out = project / "report.html"
    env = {
        "REPORT_DOC": str(project / "doc.json"),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-p",
            "no:tradeops.plugin",  # a plain pytest-html report: its top is ours alone
            f"--html={out}",
            "--self-contained-html",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert out.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("browser-report")
    return {name: probe(render(tmp, name, doc), tmp) for name, doc in verdict_docs.every().items()}


@pytest.mark.parametrize("name", ["healthy", "p0", "p2", "insufficient"])
def test_the_banner_and_completeness_are_on_the_first_screen_above_the_folded_environment(
    pages, name
):
    page = pages[name]
    assert 0 <= page["banner"]["top"] < page["banner"]["bottom"] < 200
    assert page["completeness"]["bottom"] < FIRST_SCREEN
    assert page["environment_rows"] >= 17 and page["environment_shown"] is False


@pytest.mark.parametrize("name", ["p0", "p2"])
def test_the_failures_table_is_inside_the_first_900_px(pages, name):
    failures = pages[name]["failures"]
    assert failures is not None and failures["height"] > 0
    assert failures["bottom"] < FIRST_SCREEN


def test_a_dead_control_plane_shows_one_not_judged_line_per_cause(pages):
    assert pages["p0"]["not_judged"] == [
        "unreliable: platform layer red (control_plane_health): 38"
    ]


@pytest.mark.parametrize("name", ["healthy", "p0", "p2", "insufficient"])
def test_every_chart_draws_something(pages, name):
    charts = pages[name]["charts"]
    assert charts, "no chart on the page"
    for chart in charts:
        assert chart["width"] > 100 and chart["height"] > 30, chart
        assert chart["drawn"] >= 2, chart
    kinds = {c["name"].split(":")[0]: c for c in reversed(charts)}  # the first of each kind
    kinds.update({c["name"]: c for c in charts if c["name"].startswith("grid:")})
    if name in ("healthy", "p2"):
        assert kinds["slo-budget"]["series"] == 1 and kinds["slo-burn"]["bars"] >= 6
        assert kinds["grid:strategy"]["cells"] == 32 and kinds["grid:portfolio"]["cells"] == 6
        assert kinds["heartbeat"]["bars"] == 8
        assert {"nav", "loss", "margin"} <= set(kinds)
    if name == "insufficient":
        assert "slo-budget" not in kinds  # no line drawn from 3 events


@pytest.mark.parametrize("name", ["healthy", "p0", "p2", "insufficient"])
def test_the_report_fetches_nothing_outside_its_own_file(pages, name):
    assert pages[name]["outside"] == []


def test_the_probe_would_see_a_resource_fetched_from_outside(tmp_path):
    page = tmp_path / "leaky.html"
    page.write_text("<html><head></head><body><h1 id='title'>x</h1></body></html>")
    found = probe(page, tmp_path, extra="<img src='http://cdn.example.com/x.png'>")
    assert found["outside"] and all("cdn.example.com/x.png" in url for url in found["outside"])


def test_the_index_shows_the_latest_verdict_first_and_fetches_nothing(tmp_path):
    for i in range(12):
        outcomes = {"wal_mode": "failed" if i % 4 == 1 else "passed", "clock_skew": "passed"}
        record_run(
            tmp_path,
            T0 + timedelta(minutes=15 * i),
            outcomes,
            scenario="wal-off" if i == 5 else None,
        )
    with chain.locked(tmp_path):
        page = probe(index.write_index(tmp_path), tmp_path)
    assert page["latest"]["top"] < 120
    assert page["outside"] == []


def test_a_whole_failing_run_of_the_plugin_puts_its_verdict_on_the_first_screen(reports, tmp_path):
    page = probe(newest(reports), tmp_path)
    assert page["banner"]["bottom"] < 200
    assert page["failures"]["bottom"] < FIRST_SCREEN
    assert page["environment_shown"] is False
    assert page["outside"] == []
