"""The manifest: a good one loads, a bad one is one line naming the file and the key."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from tradeops._secret import Secret
from tradeops.config import ManifestError, find_manifest, load_manifest, reports_root

GOOD = """
[control_plane]
url = "http://127.0.0.1:8080"
token_env = "CONTROL_PLANE_TOKEN"
timeout_s = 5

[event_store]
path = "events.sqlite"

[[brokers]]
name = "oanda-practice"
url = "https://api-fxpractice.oanda.com"
token_env = "OANDA_TOKEN"
accounts = ["101-004-1234567-001"]
timeout_s = 5
"""
ENV = {"CONTROL_PLANE_TOKEN": "cp-secret-value", "OANDA_TOKEN": "oanda-secret-value"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ops.toml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str, env: dict | None = None) -> str:
    with pytest.raises(ManifestError) as excinfo:
        load_manifest(write(tmp_path, text), ENV if env is None else env)
    return str(excinfo.value)


def test_the_documented_manifest_loads_with_its_defaults(tmp_path):
    manifest = load_manifest(write(tmp_path, GOOD), ENV)
    assert manifest.control_plane.url == "http://127.0.0.1:8080"
    assert manifest.control_plane.timeout_s == 5.0
    assert manifest.brokers[0].accounts == ["101-004-1234567-001"]
    assert manifest.thresholds.stale_after_heartbeats == 3.0
    assert manifest.accounts == [(manifest.brokers[0], "101-004-1234567-001")]


def test_a_relative_store_path_is_relative_to_the_manifest(tmp_path):
    manifest = load_manifest(write(tmp_path, GOOD), ENV)
    assert manifest.event_store.path == str(tmp_path / "events.sqlite")


def test_tokens_come_from_the_environment_and_never_print(tmp_path):
    manifest = load_manifest(write(tmp_path, GOOD), ENV)
    token = manifest.brokers[0].token
    assert token.reveal() == "oanda-secret-value"
    for text in (repr(token), str(token), f"{token}", repr(manifest)):
        assert "oanda-secret-value" not in text
        assert "cp-secret-value" not in text


def test_a_secret_refuses_to_be_pickled():
    with pytest.raises(TypeError):
        pickle.dumps(Secret("s3cr3t", "$X"))


def test_an_unknown_key_names_the_file_and_the_key(tmp_path):
    message = error_of(tmp_path, GOOD.replace("timeout_s = 5\n", "timeout_s = 5\ntimout = 3\n", 1))
    assert str(tmp_path / "ops.toml") in message
    assert "[control_plane] unknown key 'timout'" in message


def test_a_wrong_type_names_the_key_and_what_was_expected(tmp_path):
    message = error_of(tmp_path, GOOD.replace("timeout_s = 5", 'timeout_s = "five"', 1))
    assert "[control_plane] timeout_s: expected a number, got str 'five'" in message


def test_a_missing_env_var_names_the_variable_not_a_value(tmp_path):
    message = error_of(tmp_path, GOOD, env={"CONTROL_PLANE_TOKEN": "x"})
    assert "[[brokers]] oanda-practice token_env: environment variable $OANDA_TOKEN is not set" in (
        message
    )


def test_an_unknown_section_is_an_error(tmp_path):
    assert "unknown section [thresholdz]" in error_of(tmp_path, GOOD + "\n[thresholdz]\n")


def test_a_missing_section_is_an_error(tmp_path):
    assert "missing section [brokers]" in error_of(tmp_path, GOOD.split("[[brokers]]")[0])


def test_a_broker_without_accounts_is_an_error(tmp_path):
    text = GOOD.replace('accounts = ["101-004-1234567-001"]', "accounts = []")
    assert "accounts: must list one or more account ids, none empty, got []" in error_of(
        tmp_path, text
    )


def test_a_list_of_the_wrong_items_is_a_type_error(tmp_path):
    text = GOOD.replace('accounts = ["101-004-1234567-001"]', "accounts = [1, 2]")
    assert "accounts: expected a list of a strings" not in error_of(tmp_path, text)
    assert "accounts: expected a list of strings, got list [1, 2]" in error_of(tmp_path, text)


def test_invalid_toml_is_one_line(tmp_path):
    message = error_of(tmp_path, "[control_plane\nurl=")
    assert message.startswith(f"{tmp_path / 'ops.toml'}: not valid TOML")
    assert "\n" not in message


def test_the_option_wins_over_the_environment_and_the_default(tmp_path):
    (tmp_path / "ops.toml").write_text(GOOD)
    env = {"TRADEOPS_CONFIG": "/from/env.toml"}
    assert find_manifest("/from/option.toml", env, tmp_path) == Path("/from/option.toml")
    assert find_manifest(None, env, tmp_path) == Path("/from/env.toml")
    assert find_manifest(None, {}, tmp_path) == tmp_path / "ops.toml"
    assert find_manifest(None, {}, tmp_path / "elsewhere") is None


def test_the_reports_root_is_the_option_else_the_manifests_dir_else_under_the_rootdir(tmp_path):
    manifest = tmp_path / "etc" / "ops.toml"
    assert reports_root("/trail", "kept", manifest, tmp_path) == Path("/trail")
    assert reports_root(None, "kept", manifest, tmp_path) == tmp_path / "etc" / "kept"
    assert reports_root(None, None, manifest, tmp_path) == tmp_path / "reports"


def test_a_sandbox_drill_keeps_its_own_trail_unless_told_where(tmp_path):
    assert reports_root(None, None, None, tmp_path, sandbox=True) == (
        tmp_path / "reports" / "sandbox"
    )
    assert reports_root("/trail", None, None, tmp_path, sandbox=True) == Path("/trail")


def test_the_platform_is_named_in_the_manifest_else_by_its_control_plane_url(tmp_path):
    unnamed = load_manifest(write(tmp_path, GOOD), ENV)
    assert unnamed.platform_name == "http://127.0.0.1:8080"
    named = load_manifest(write(tmp_path, GOOD + '\n[platform]\nname = "prod-eu"\n'), ENV)
    assert named.platform_name == "prod-eu"
