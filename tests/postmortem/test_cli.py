"""Bad arguments end with exit 2 and one line that says what to fix."""

from __future__ import annotations

import pytest

from tests.postmortem.conftest import write_manifest
from tests.storebuilder import StoreBuilder
from tradeops.__main__ import main as tradeops_main
from tradeops.postmortem.cli import main


@pytest.fixture
def manifest(tmp_path):
    store = StoreBuilder(tmp_path / "events.sqlite", now_ms=1_795_000_000_000).write()
    return write_manifest(tmp_path, store)


@pytest.mark.parametrize(
    ("since", "until", "says"),
    [
        (
            "2026-11-20T10:00:00Z",
            "2026-11-20T09:00:00Z",
            "--until 2026-11-20T09:00:00Z is not after",
        ),
        ("2026-11-20T09:00:00Z", "2026-11-20T09:00:00Z", "is not after --since"),
        ("2026-11-20T09:00:00", "2026-11-20T10:00:00Z", "has no time zone: add Z"),
        ("yesterday", "2026-11-20T10:00:00Z", "'yesterday' is not an RFC 3339 time"),
    ],
)
def test_a_bad_window_is_exit_2_with_one_line(manifest, capsys, since, until, says):
    code = main(["--since", since, "--until", until, "--ops-config", str(manifest)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and says in err and err.startswith("python -m tradeops postmortem:")


def test_no_manifest_is_exit_2_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRADEOPS_CONFIG", raising=False)
    code = main(["--since", "2026-11-20T09:00:00Z", "--until", "2026-11-20T10:00:00Z"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no manifest: pass --ops-config PATH" in err


def test_a_bad_manifest_is_exit_2_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "ops.toml"
    bad.write_text("[control_plane\n")
    code = main(["--since", "2026-11-20T09:00:00Z", "--until", "2026-11-20T10:00:00Z",
                 "--ops-config", str(bad)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"{bad}: not valid TOML" in err


def test_a_missing_argument_is_exit_2_with_one_line(capsys):
    assert main(["--since", "2026-11-20T09:00:00Z"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--until" in err


def test_an_unreadable_store_is_exit_1_naming_it(tmp_path, capsys):
    manifest = write_manifest(tmp_path, tmp_path / "missing.sqlite")
    code = main(["--since", "2026-11-20T09:00:00Z", "--until", "2026-11-20T10:00:00Z",
                 "--ops-config", str(manifest)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "missing.sqlite" in err


def test_the_draft_goes_to_the_out_file_and_needs_no_token(manifest, tmp_path, capsys):
    out = tmp_path / "pm.md"
    window = ["--since", "2026-11-18T10:00:00Z", "--until", "2026-11-18T12:00:00Z"]
    code = tradeops_main(["postmortem", *window, "--ops-config", str(manifest), "--out", str(out)])
    assert code == 0
    assert out.read_text().startswith(
        "# Post-mortem draft: 2026-11-18T10:00:00Z to 2026-11-18T12:00:00Z"
    )
    assert "unused-by-postmortem" not in out.read_text() + capsys.readouterr().err


def test_an_unknown_command_is_exit_2(capsys):
    assert tradeops_main(["postmortems"]) == 2
    assert "usage: python -m tradeops {postmortem}" in capsys.readouterr().err
