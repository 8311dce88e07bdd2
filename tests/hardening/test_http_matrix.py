"""The bad-input matrix, HTTP half: each hostile answer ends in the connector's own error,
naming the URL (or broker and account) and the field or problem, within the call's budget,
and never carrying the token it was sent.

One hostile server on 127.0.0.1 serves every case (tests/hardening/_hostile.py); a case is
the first part of the connector's base URL. The whole-suite outcome of a subset of these
cases is in test_http_suite.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.hardening import _hostile as h
from tradeops._secret import Secret
from tradeops.connectors.control_plane import ControlPlane
from tradeops.connectors.errors import BrokerError, ControlPlaneError, PlatformError
from tradeops.connectors.oanda import OandaBroker

TOKEN = "tok-matrix-7c1e55aa90d2"
BUDGET_S = 1.0
ACCOUNT = "101-004-1234567-001"
SOON = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")

HEALTH = {
    "status": "ok",
    "version": "1.4.2",
    "time": SOON,
    "event_store": {"journal_mode": "wal", "last_write": SOON},
    "brokers": [{"account_id": ACCOUNT, "connected": True, "last_heartbeat": SOON}],
}
RUN = {
    "run_id": "r-1",
    "strategy_id": "s-1",
    "instrument": "EUR_USD",
    "account_id": ACCOUNT,
    "state": "running",
    "last_heartbeat": SOON,
    "stale": False,
    "gaps": 0,
}
BACKTEST = {"trades_per_day": 6.5, "win_rate": 0.54, "avg_pl_per_trade": 1.8, "max_drawdown": 0.1}


def strategies(**backtest: object) -> dict:
    entry = {
        "strategy_id": "s-1",
        "instrument": "EUR_USD",
        "account_id": ACCOUNT,
        "mode": "paper",
        "scheduled": True,
        "backtest": {**BACKTEST, **backtest},
    }
    return {"strategies": [entry]}


def account(**fields: object) -> dict:
    base = {
        "balance": "100000.0000",
        "NAV": "100012.5000",
        "unrealizedPL": "12.5000",
        "marginUsed": "333.0000",
        "marginAvailable": "99679.5000",
        "marginCloseoutPercent": "0.00166",
        "currency": "USD",
        "openTradeCount": 1,
        "openPositionCount": 1,
        "lastTransactionID": "6",
    }
    return {"account": {**base, **fields}, "lastTransactionID": "6"}


def prices(time: str = SOON) -> dict:
    price = {
        "instrument": "EUR_USD",
        "time": time,
        "tradeable": True,
        "bids": [{"price": "1.10000", "liquidity": 1}],
        "asks": [{"price": "1.10010", "liquidity": 1}],
    }
    return {"prices": [price]}


def nested(depth: int) -> str:
    return '{"status": ' + "[" * depth + "]" * depth + "}"


@dataclass(frozen=True)
class Case:
    id: str
    side: str  # "cp" or "broker"
    call: str  # the connector method
    behaviour: h.Behaviour
    says: tuple[str, ...]  # fragments the message must hold
    kind: str | None = None  # a BrokerError's kind


CP, BR = "cp", "broker"
CASES = [
    # -- the control plane --------------------------------------------------------------
    Case("cp-drip", CP, "health", h.drip, ("did not answer GET /api/health within 1 s",)),
    Case("cp-endless", CP, "summary", h.endless_chunks, ("did not answer GET /api/control",)),
    Case("cp-hung-after-headers", CP, "health", h.hang_after_headers, ("within 1 s",)),
    Case("cp-hung-before-headers", CP, "strategies", h.hang_before_headers, ("within 1 s",)),
    Case("cp-huge", CP, "health", h.huge, ("GET /api/health", "sent more than", "10 MB")),
    Case("cp-declared-huge", CP, "health", h.declared_huge, ("declares 50,000,000 bytes",)),
    Case("cp-gzip-bomb", CP, "health", h.gzip_bomb, ("above max_answer_mb",)),
    Case("cp-deep", CP, "health", h.answer(nested(100_000)), ("nests deeper than 64",)),
    Case(
        "cp-nan-win-rate",
        CP,
        "strategies",
        h.answer(json.dumps(strategies()).replace("0.54", "NaN")),
        ("strategies[0].backtest.win_rate: expected a finite number, got nan",),
    ),
    Case(
        "cp-infinite-drawdown",
        CP,
        "strategies",
        h.answer(
            json.dumps(strategies()).replace('"max_drawdown": 0.1', '"max_drawdown": Infinity')
        ),
        ("strategies[0].backtest.max_drawdown: expected a finite number",),
    ),
    Case(
        "cp-1e400",
        CP,
        "strategies",
        h.answer(json.dumps(strategies()).replace("6.5", "1e400")),
        ("strategies[0].backtest.trades_per_day: expected a finite number",),
    ),
    Case(
        "cp-win-rate-above-1",
        CP,
        "strategies",
        h.answer(strategies(win_rate=1.5)),
        ("backtest.win_rate: expected a number from 0 to 1, got 1.5",),
    ),
    Case(
        "cp-negative-drawdown",
        CP,
        "strategies",
        h.answer(strategies(max_drawdown=-0.2)),
        ("backtest.max_drawdown: expected a number from 0 to 1",),
    ),
    Case(
        "cp-gaps-wrong-type",
        CP,
        "summary",
        h.answer({"status": "green", "generated_at": SOON, "runs": [{**RUN, "gaps": "x"}]}),
        ("runs[0].gaps: expected an integer, got 'x'",),
    ),
    Case(
        "cp-negative-gaps",
        CP,
        "summary",
        h.answer({"status": "green", "generated_at": SOON, "runs": [{**RUN, "gaps": -3}]}),
        ("runs[0].gaps: expected an integer from 0",),
    ),
    Case(
        "cp-missing-status",
        CP,
        "health",
        h.answer({k: v for k, v in HEALTH.items() if k != "status"}),
        ("GET /api/health: status: missing",),
    ),
    Case(
        "cp-heartbeat-in-2100",
        CP,
        "summary",
        h.answer(
            {
                "status": "green",
                "generated_at": SOON,
                "runs": [{**RUN, "last_heartbeat": "2100-01-01T00:00:00Z"}],
            }
        ),
        ("runs[0].last_heartbeat: expected a time not more than 5 s in the future",),
    ),
    Case(
        "cp-write-before-2000",
        CP,
        "health",
        h.answer(
            {**HEALTH, "event_store": {"journal_mode": "wal", "last_write": "1970-01-01T00:00:00Z"}}
        ),
        ("event_store.last_write: expected a time after 2000",),
    ),
    Case(
        "cp-html",
        CP,
        "health",
        h.answer("<html><body>Bad gateway</body></html>", ctype="text/html"),
        ("GET /api/health: the answer is not JSON",),
    ),
    Case(
        "cp-binary-as-json",
        CP,
        "health",
        h.answer(b"\xff\xfe\x00garbage"),
        ("GET /api/health: the answer is not JSON",),
    ),
    Case("cp-list-root", CP, "health", h.answer([1, 2]), ("the answer: expected a JSON object",)),
    Case(
        "cp-redirect-off-host",
        CP,
        "health",
        h.answer("", 302, headers={"Location": "http://evil.example/steal?t={auth}"}),
        ("answered a redirect (HTTP 302) to http://evil.example", "not followed"),
    ),
    Case(
        "cp-500-echoing-token",
        CP,
        "health",
        h.answer('{"error": "backend said: {auth}"}', 500),
        ("answered HTTP 500", "backend said: Bearer ***"),
    ),
    Case("cp-401", CP, "health", h.answer("{}", 401), ("rejected the token from $CP_TOKEN (401)",)),
    Case(
        "cp-429", CP, "health", h.answer("{}", 429, headers={"Retry-After": "1e9"}), ("HTTP 429",)
    ),
    Case("cp-reset", CP, "health", h.reset, ("GET /api/health failed", "after 1 retry")),
    Case(
        "cp-token-in-status",
        CP,
        "health",
        h.answer(json.dumps({**HEALTH, "status": "degraded ({auth})"}), 503),
        ("HTTP 503 after 1 retry",),
    ),
    # -- the broker ---------------------------------------------------------------------
    Case("br-drip", BR, "summary", h.drip, ("no answer within 1 s",), "timeout"),
    Case("br-endless", BR, "positions", h.endless_chunks, ("no answer within 1 s",), "timeout"),
    Case("br-hung", BR, "summary", h.hang_after_headers, ("no answer within 1 s",), "timeout"),
    Case("br-huge", BR, "pricing", h.huge, ("sent more than", "max_answer_mb"), "malformed"),
    Case("br-deep", BR, "summary", h.answer(nested(5000)), ("nests deeper",), "malformed"),
    Case(
        "br-nav-1e400",
        BR,
        "summary",
        h.answer(account(NAV="1e400")),
        ("account.NAV: expected a figure below 1e+15 in size, got '1e400'",),
        "malformed",
    ),
    Case(
        "br-nav-nan",
        BR,
        "summary",
        h.answer(account(NAV="NaN")),
        ("account.NAV: expected a decimal string, got 'NaN'",),
        "malformed",
    ),
    Case(
        "br-nav-number",
        BR,
        "summary",
        h.answer(json.dumps(account()).replace('"100012.5000"', "Infinity")),
        ("account.NAV: expected a decimal string, got inf",),
        "malformed",
    ),
    Case(
        "br-negative-closeout",
        BR,
        "summary",
        h.answer(account(marginCloseoutPercent="-0.5")),
        ("account.marginCloseoutPercent: expected a decimal string of at least 0",),
        "malformed",
    ),
    Case(
        "br-count-wrong-type",
        BR,
        "summary",
        h.answer(account(openTradeCount="1")),
        ("account.openTradeCount: expected an integer",),
        "malformed",
    ),
    Case(
        "br-missing-currency",
        BR,
        "summary",
        h.answer({"account": {k: v for k, v in account()["account"].items() if k != "currency"}}),
        ("account.currency: expected a string, got None",),
        "malformed",
    ),
    Case(
        "br-price-in-the-future",
        BR,
        "pricing",
        h.answer(prices("2100-01-01T00:00:00.000000000Z")),
        ("prices[0].time: expected a time not more than 5 s in the future",),
        "malformed",
    ),
    Case("br-html", BR, "summary", h.answer("<html>oops</html>"), ("not JSON",), "malformed"),
    Case(
        "br-429-absurd",
        BR,
        "summary",
        h.answer("{}", 429, headers={"Retry-After": "1e9"}),
        ("does not fit in the 1 s budget",),
        "rate_limited",
    ),
    Case(
        "br-429-nan",
        BR,
        "summary",
        h.answer("{}", 429, headers={"Retry-After": "nan {auth}"}),
        ("Retry-After nan Bearer *** s does not fit",),
        "rate_limited",
    ),
    Case("br-401", BR, "summary", h.answer("{}", 401), ("$BR_TOKEN was rejected (401)",), "auth"),
    Case("br-404", BR, "summary", h.answer('{"errorMessage": "no"}', 404), ("(404)",), "not_found"),
    Case(
        "br-redirect-off-host",
        BR,
        "summary",
        h.answer("", 307, headers={"Location": "https://evil.example/?{auth}"}),
        ("redirect (307) to https://evil.example/?Bearer *** not followed",),
        "http",
    ),
    Case(
        "br-500-echoing-token",
        BR,
        "summary",
        h.answer('{"errorMessage": "upstream rejected {auth}"}', 500),
        ("server error (500): upstream rejected Bearer ***",),
        "server",
    ),
    Case(
        "br-page-off-host",
        BR,
        "fills",
        h.answer({"pages": ["http://evil.example/v3/accounts/x/transactions/idrange"]}),
        ("pages[0] points at http://evil.example:80", "not followed"),
        "malformed",
    ),
    Case("br-reset", BR, "summary", h.reset, ("after 1 retry",), "unreachable"),
]
NOT_RETRIED = {"cp-401", "br-401", "br-404"}


@pytest.fixture(scope="module")
def server() -> Iterator[h.HostileServer]:
    with h.HostileServer({c.id: c.behaviour for c in CASES}) as running:
        yield running


def call(case: Case, url: str) -> None:
    if case.side == CP:
        with ControlPlane(url, Secret(TOKEN, "$CP_TOKEN"), BUDGET_S) as cp:
            getattr(cp, case.call)()
        return
    with OandaBroker("hostile", url, Secret(TOKEN, "$BR_TOKEN"), BUDGET_S) as broker:
        now = datetime.now(UTC)
        {
            "summary": lambda: broker.summary(ACCOUNT),
            "pricing": lambda: broker.pricing(ACCOUNT, ["EUR_USD"]),
            "positions": lambda: broker.open_positions(ACCOUNT),
            "fills": lambda: broker.fills(ACCOUNT, now - timedelta(hours=1), now),
        }[case.call]()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_hostile_answer_is_the_connectors_error_naming_source_and_problem(
    server: h.HostileServer, case: Case
) -> None:
    expected = ControlPlaneError if case.side == CP else BrokerError
    with pytest.raises(PlatformError) as caught:
        call(case, server.url(case.id))
    error = caught.value
    message = str(error)
    assert type(error) is expected, message
    if case.side == CP:
        assert message.startswith(f"control plane at {server.url(case.id)}"), message
    else:
        assert message.startswith(f"broker hostile account {ACCOUNT}: GET /v3/accounts/"), message
        assert error.kind == case.kind, message
    for fragment in case.says:
        assert fragment in message, message
    assert TOKEN not in message


@pytest.mark.parametrize("case_id", sorted(NOT_RETRIED))
def test_an_auth_or_not_found_answer_is_never_retried(server: h.HostileServer, case_id: str):
    case = next(c for c in CASES if c.id == case_id)
    before = server.seen[case_id]
    with pytest.raises(PlatformError):
        call(case, server.url(case_id))
    assert server.seen[case_id] - before == 1


def test_a_redirect_off_host_is_never_followed(server: h.HostileServer):
    # evil.example does not resolve; following it would be a connect error, not this message.
    case = next(c for c in CASES if c.id == "cp-redirect-off-host")
    with pytest.raises(ControlPlaneError, match="redirects are not followed"):
        call(case, server.url(case.id))


def test_a_token_echoed_into_a_200_field_is_scrubbed_before_it_is_kept():
    cases = {"echo": h.answer(json.dumps({**HEALTH, "status": "degraded ({auth})"}))}
    with h.HostileServer(cases) as running:
        cp = ControlPlane(running.url("echo"), Secret(TOKEN, "$CP_TOKEN"), BUDGET_S)
        with cp:
            health = cp.health()
    assert health.status == "degraded (Bearer ***)"
    assert not health.ok


def test_a_transient_503_is_tried_once_more_and_the_answer_says_it_needed_a_retry():
    flaky = h.first_then(h.answer('{"error": "busy"}', 503), h.answer(HEALTH))
    with h.HostileServer({"flaky": flaky}) as running:
        with ControlPlane(running.url("flaky"), Secret(TOKEN, "$CP_TOKEN"), BUDGET_S) as cp:
            health = cp.health()
            assert health.ok and health.retries == 1
            assert cp.retried == ["GET /api/health after 1 retry (HTTP 503)"]
        assert running.seen["flaky"] == 2


def test_a_broker_reset_then_answer_is_noted_as_retried():
    flaky = h.first_then(h.reset, h.answer(account()))
    with h.HostileServer({"flaky": flaky}) as running:
        url = running.url("flaky")
        with OandaBroker("hostile", url, Secret(TOKEN, "$BR_TOKEN"), BUDGET_S) as broker:
            assert broker.summary(ACCOUNT).currency == "USD"
            assert broker.retried == [
                f"account {ACCOUNT}: GET /v3/accounts/{ACCOUNT}/summary after 1 retry (unreachable)"
            ]
