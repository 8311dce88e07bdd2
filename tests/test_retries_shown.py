"""A call that needed its one retry is judged, and every output says it needed one."""

from __future__ import annotations

from tradeops.reports import _html
from tradeops.reports.schema import validate
from tradeops.verdict import RunFacts, build


def test_a_retried_call_is_counted_in_the_document_and_listed_in_the_report():
    calls = ["control plane: GET /api/health after 1 retry (timeout)"]
    doc = build(RunFacts(checks=[], items=0, retried=calls))
    assert doc["retries"] == {"count": 1, "calls": calls}
    html = _html.summary_block(doc, _html.Path("/"), _html.Path("/"))
    assert "Answered only after a retry (1)" in html
    assert "GET /api/health after 1 retry (timeout)" in html


def test_the_document_with_retries_keeps_to_its_schema():
    calls = ["broker b account 1: GET /v3/accounts/1/summary after 1 retry (HTTP 503)"]
    platform = {"name": "http://127.0.0.1:1", "scenario": None, "manifest": None}
    doc = build(RunFacts(checks=[], items=0, retried=calls, platform=platform))
    validate({**doc, "run": {"id": "0123abcd", "kind": "full", "started": doc["now"],
              "finished": doc["now"], "duration_s": 0, "report": None, "junit": None,
              "exit_status": 13}})  # fmt: skip
