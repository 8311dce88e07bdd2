"""The runbooks as an operator reads them: docs/runbooks.md in step with the data, commands
that paste into a shell as they are, and an HTML fragment a copied report can carry."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from html.parser import HTMLParser

import pytest

from tests.storebuilder import StoreBuilder
from tests.suite_runner import REPO
from tradeops import runbooks
from tradeops.runbooks import (
    RUNBOOKS,
    html_fragment,
    link,
    markdown,
    runbook_ids,
    sqlite_command,
)


def test_docs_runbooks_md_is_rendered_from_the_data():
    assert (REPO / "docs" / "runbooks.md").read_text() == markdown() + "\n"


def test_every_runbook_has_the_shape_of_its_kind():
    for book in RUNBOOKS.values():
        if book.kind == "steps":
            assert [s.name for s in book.steps] == list(runbooks.STEPS)
        elif book.kind == "checklist":
            assert book.checklist and book.verify_selection
        else:
            assert book.ticket and book.ticket.title and book.ticket.labels and book.ticket.attach


def test_a_curl_takes_its_token_from_the_environment_and_sets_a_deadline():
    command = runbooks.curl_command("oanda:/v3/accounts/$ACCOUNT_ID/summary")
    assert '-H "Authorization: Bearer $OANDA_TOKEN"' in command
    assert "--max-time 5" in command and " -X" not in command  # GET, never a write
    assert command.endswith('"$OANDA_URL/v3/accounts/$ACCOUNT_ID/summary"')


@pytest.mark.skipif(not shutil.which("sqlite3"), reason="no sqlite3 command-line shell here")
def test_a_documented_sqlite3_command_runs_as_pasted_in_a_shell(tmp_path):
    now = int(time.time() * 1000)
    store = (
        StoreBuilder(tmp_path / "events.sqlite", now_ms=now)
        .run_started("r-1", ts=now - 3_600_000)
        .heartbeats("r-1", count=3)
        .write()
    )
    query = RUNBOOKS["heartbeat-stale"].steps[0].sql
    done = subprocess.run(
        ["bash", "-c", sqlite_command(query)],
        env={"PATH": os.environ["PATH"], "EVENT_STORE": str(store)},
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "r-1" in done.stdout  # heartbeats an hour old: the run is stale


class _Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_fragment_carries_every_step_and_command_and_nothing_external():
    fragment = html_fragment("event-store-wal")
    parsed = _Parsed()
    parsed.feed(fragment)
    text = "".join(parsed.text)
    for step in RUNBOOKS["event-store-wal"].steps:
        assert step.name.upper() in text
        for command in step.commands():
            assert command in text
    assert not {"script", "link", "img", "style"} & set(parsed.tags)
    assert ("href", "docs/runbooks.md#event-store-wal") in parsed.attrs


def test_the_html_fragment_of_a_checklist_and_a_ticket():
    assert "☐" in html_fragment("wal-growth").replace("&#9744;", "☐")
    ticket = html_fragment("slo-promote-gate-latency")
    assert "<dt>Labels</dt>" in ticket and "<dt>Attach</dt>" in ticket


def test_links_point_at_a_published_copy_when_runbook_url_is_set():
    base = "https://ops.example/runbooks.html"
    assert link("drawdown", base) == "https://ops.example/runbooks.html#drawdown"
    assert link("drawdown") == "docs/runbooks.md#drawdown"
    assert f'href="{base}#drawdown"' in html_fragment("drawdown", base)


def test_the_ids_read_off_the_headers_are_the_parsed_files_runbooks():
    assert runbook_ids() == set(RUNBOOKS)


def test_only_a_top_level_table_header_names_a_runbook(tmp_path):
    data = tmp_path / "runbooks.toml"
    data.write_text(
        "# [not-a-header]\n[one]\ntitle = 'x'\n[one.confirm]\ntext = '[inline]'\n"
        "[[one.steps]]\n[two]  # the second\n  [indented]\n",
        encoding="utf-8",
    )
    assert runbook_ids(data) == {"one", "two", "indented"}
