"""The whole suite against a hostile control plane or broker: a failing check naming the
source and the problem, within the timeout, never INTERNALERROR, never green; and no token
in any output, at -n 0 and -n 2.

The platform is a small healthy sandbox; a hostile server on 127.0.0.1 stands in front of
its control plane or of one of its brokers, passing every request through and spoiling one
answer (or dripping it). Each run is a child pytest over `checks` and `slo`, like cron's.
"""

from __future__ import annotations

import json
import re
import sqlite3
import tomllib
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hardening import _hostile as h
from tests.suite_runner import REPO, SuiteRun, run_suite
from tradeops.sandbox import Sandbox, StoreParams

TIMEOUT_S = 2
START_UP_S = 60  # a child pytest's start-up, collection and SLO reads, generously
INTERNALERROR = 3


@dataclass
class Platform:
    config: dict
    env: dict[str, str]

    def tokens(self) -> list[str]:
        return list(self.env.values())


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    sandbox = Sandbox("healthy", params=StoreParams(days=3), cache_dir=REPO / ".cache-tests")
    sandbox.start()
    try:
        assert sandbox.manifest_path is not None
        config = tomllib.loads(sandbox.manifest_path.read_text())
        yield Platform(config, dict(sandbox.environ))
    finally:
        sandbox.stop()


def proxy(upstream: str, spoil: Callable[[str, dict], dict | None] | None = None) -> h.Behaviour:
    """Pass the request to `upstream`; `spoil(path, answer)` may change a JSON answer."""

    def run(r: h.Request) -> None:
        request = urllib.request.Request(upstream + r.path, headers={"Authorization": r.auth})
        try:
            with urllib.request.urlopen(request, timeout=5) as got:
                status, body = got.status, got.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        if spoil is not None and status == 200:
            spoiled = spoil(r.path, json.loads(body))
            if spoiled is not None:
                body = json.dumps(spoiled).replace("{auth}", r.auth).encode()
        r.send(body, status)

    return run


def manifest(tmp_path: Path, p: Platform, cp_url: str | None = None, broker_url: str | None = None):
    """An ops.toml for the sandbox with its control plane or first broker replaced."""
    c = p.config
    brokers = ""
    for index, b in enumerate(c["brokers"]):
        url = broker_url if index == 0 and broker_url else b["url"]
        brokers += f"""
[[brokers]]
name = "{b["name"]}"
url = "{url}"
token_env = "{b["token_env"]}"
accounts = {json.dumps(b["accounts"])}
timeout_s = {TIMEOUT_S}
"""
    path = tmp_path / "ops.toml"
    path.write_text(f"""
[control_plane]
url = "{cp_url or c["control_plane"]["url"]}"
token_env = "{c["control_plane"]["token_env"]}"
timeout_s = {TIMEOUT_S}

[event_store]
path = {json.dumps(c["event_store"]["path"])}
{brokers}
[thresholds]
{"".join(f"{k} = {v}{chr(10)}" for k, v in c["thresholds"].items())}
[reports]
history_db = {json.dumps(str(tmp_path / "reports" / "probe-history.sqlite"))}
""")
    return path


def suite(tmp_path: Path, p: Platform, *args: str, **urls: str) -> SuiteRun:
    path = manifest(tmp_path, p, **urls)
    return run_suite(
        tmp_path,
        f"--ops-config={path}",
        f"--junitxml={tmp_path / 'junit.xml'}",
        *args,
        env=p.env,
        paths=("checks", "slo"),
    )


def messages(run: SuiteRun) -> str:
    return "\n".join(json.dumps(c) for c in run.checks)


def assert_failed_not_crashed(run: SuiteRun, severity: str, *says: str) -> None:
    assert run.returncode not in (0, INTERNALERROR), run.output[-3000:]
    assert "INTERNALERROR" not in run.output, run.output[-3000:]
    assert severity in run.failed().values(), run.failed()
    text = messages(run)
    for fragment in says:
        assert fragment in text, (fragment, run.output[-3000:])


def spoil_on(suffix: str, change: Callable[[dict], dict]) -> Callable[[str, dict], dict | None]:
    return lambda path, body: change(body) if path.split("?")[0].endswith(suffix) else None


def test_a_dripping_control_plane_fails_its_checks_within_the_timeout(platform, tmp_path):
    with h.HostileServer({"drip": h.drip}) as server:
        run = suite(tmp_path, platform, cp_url=server.url("drip"))
    assert_failed_not_crashed(run, "P0", server.url("drip"), "did not answer GET /api/health")


def test_a_dripping_broker_fails_its_accounts_checks_within_the_timeout(platform, tmp_path):
    with h.HostileServer({"drip": h.drip}) as server:
        run = suite(tmp_path, platform, broker_url=server.url("drip"))
    assert_failed_not_crashed(run, "P1", "no answer within 2 s")


def test_a_nan_win_rate_is_a_failing_check_naming_the_field(platform, tmp_path):
    def nan(body: dict) -> dict:
        body["strategies"][0]["backtest"]["win_rate"] = float("nan")
        return body

    upstream = platform.config["control_plane"]["url"]
    cases = {"nan": proxy(upstream, spoil_on("/api/strategies", nan))}
    with h.HostileServer(cases) as server:
        run = suite(tmp_path, platform, cp_url=server.url("nan"))
    assert_failed_not_crashed(run, "P1", "strategies[0].backtest.win_rate: expected a finite")
    # The probe could not read the scheduled strategies, so pre-flight item 5 asked again
    # and failed on the same answer: never judged against an empty set.
    assert run.failed().get("strategy_readiness") == "P1", run.failed()


def test_a_nav_of_1e400_is_a_failing_check_naming_the_account_and_field(platform, tmp_path):
    def huge(body: dict) -> dict:
        body["account"]["NAV"] = "1e400"
        return body

    upstream = platform.config["brokers"][0]["url"]
    with h.HostileServer({"nav": proxy(upstream, spoil_on("/summary", huge))}) as server:
        run = suite(tmp_path, platform, broker_url=server.url("nav"))
    assert_failed_not_crashed(run, "P1", "account.NAV: expected a figure below 1e+15")


def test_a_deeply_nested_health_answer_names_the_url_not_a_recursion_error(platform, tmp_path):
    deep = h.answer('{"status": ' + "[" * 200_000 + "]" * 200_000 + "}")
    with h.HostileServer({"deep": deep}) as server:
        run = suite(tmp_path, platform, cp_url=server.url("deep"))
    assert_failed_not_crashed(run, "P0", server.url("deep"), "nests deeper than 64")
    assert "RecursionError" not in run.output


# -- secrets -------------------------------------------------------------------------


def echoing(upstream: str) -> h.Behaviour:
    """The control plane, echoing the token in a 200 field, a header and an error body."""

    def status(body: dict) -> dict:
        body["status"] = "degraded (got {auth})"
        return body

    def run_state(body: dict) -> dict:
        body["status"] = "{auth}"
        for run in body["runs"][:3]:
            run["state"] = "{auth}"
        return body

    health = proxy(upstream, spoil_on("/api/health", status))
    summary = proxy(upstream, spoil_on("/api/control/summary", run_state))
    return h.by_path({"/api/health": health, "/api/control/summary": summary}, proxy(upstream))


def echoing_broker(upstream: str) -> h.Behaviour:
    """The broker: a 500 quoting the token, a redirect carrying it, a field holding it."""
    error = h.answer('{"errorMessage": "upstream refused {auth}"}', 500)
    redirect = h.answer("", 302, headers={"Location": "http://127.0.0.1:9/?t={auth}"})

    def currency(body: dict) -> dict:
        body["account"]["lastTransactionID"] = "{auth}"
        return body

    return h.by_path(
        {
            "/openPositions": error,
            "/pricing": redirect,
            "/summary": proxy(upstream, spoil_on("/summary", currency)),
        },
        proxy(upstream),
    )


@pytest.mark.parametrize("workers", ["0", "2"])
def test_no_token_a_server_echoes_reaches_any_output(platform, tmp_path, workers):
    cases = {
        "cp": echoing(platform.config["control_plane"]["url"]),
        "br": echoing_broker(platform.config["brokers"][0]["url"]),
    }
    with h.HostileServer(cases) as server:
        run = suite(
            tmp_path,
            platform,
            f"-n{workers}",
            cp_url=server.url("cp"),
            broker_url=server.url("br"),
        )
        assert server.seen["cp"] and server.seen["br"]
    assert run.returncode not in (0, INTERNALERROR), run.output[-3000:]
    outputs = {"terminal": run.output}
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "ops.toml":
            outputs[str(path)] = path.read_bytes().decode("utf-8", "replace")
    history = tmp_path / "reports" / "probe-history.sqlite"
    assert history.is_file()
    with sqlite3.connect(history) as db:
        outputs["history rows"] = repr(db.execute("SELECT * FROM probes").fetchall())
    for token in platform.tokens():
        leaked = [name for name, text in outputs.items() if re.search(re.escape(token), text)]
        assert not leaked, f"a token reached {leaked}"
    assert "Bearer ***" in run.output + messages(run)  # the echo did reach the suite
