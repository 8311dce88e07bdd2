"""One verdict: every output of a run shows the same verdict, derived in one place.

A failing and a healthy sandbox run each write the terminal, `--ops-json`, the kept JSON,
the chain entry, the index and the HTML report; every one of them carries the verdict
document's headline, and JUnit carries each check's severity, layer and runbook.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html import unescape

import pytest

from tests.suite_runner import run_kept
from tradeops.reports import chain

SMALL = ("--ops-sandbox-days=3", "--ops-sandbox-strategies=6")

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("scenario", "verdict", "code"), [("residual-run", "red", 10), ("healthy", "green", 0)]
)
def test_every_output_shows_the_same_verdict(tmp_path, scenario, verdict, code):
    done = run_kept(tmp_path, "-m", "preflight", f"--sandbox={scenario}", *SMALL)
    doc, reports = done.doc, done.reports
    headline = doc["headline"]
    assert doc["verdict"] == verdict and done.returncode == code == doc["exit_code"], done.output
    assert headline in done.output.splitlines(), done.output[-2000:]
    (kept,) = reports.glob("*/*.json")
    kept_doc = json.loads(kept.read_text())
    assert (kept_doc["verdict"], kept_doc["headline"]) == (verdict, headline)
    (entry,) = [e for e in chain.read_entries(reports) if e["action"] == "add"]
    assert (entry["run"]["verdict"], entry["run"]["headline"]) == (verdict, headline)
    (html,) = reports.glob("*/*.html")
    assert headline in unescape(html.read_text())
    index = unescape((reports / "index.html").read_text())
    assert headline in index or verdict.upper() in index
    cases = ET.parse(next(reports.glob("*/*.xml"))).getroot().iter("testcase")
    properties = [{p.get("name"): p.get("value") for p in c.iter("property")} for c in cases]
    assert all({"severity", "layer", "runbook"} <= set(p) for p in properties), properties
    if verdict == "red":
        failed = {f["check"]: f["severity"] for f in doc["failures"]}
        assert failed == {"residual_runs": "P1"}
        assert doc["failures"][0]["findings"][0]["run"], "a finding names its run"
