"""The broker simulator speaks OANDA v20: OANDA's own client parses it, its spec admits it.

Three witnesses: (a) the `v20` package (OANDA's Python client) reads every endpoint the
suite uses; (b) every answer body validates against OANDA's published Swagger spec,
made strict (no field the spec does not name) so a misspelt field fails too; (c) FX
market hours, through the pure price function with an injected "now".
"""

from __future__ import annotations

import copy
import json
import os
import socket
import struct
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import v20

from tests.sandbox.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    ACCOUNT_C,
    first_line,
    launch,
    sample_ledger,
    start_broker,
    write_sandbox,
)
from tradeops.sandbox.oanda._prices import last_close, market_open, quote
from tradeops.sandbox.oanda._render import Book

WEDNESDAY = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FRIDAY_CLOSE = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)  # 17:00 New York (EST)
UNKNOWN_ACCOUNT = "101-004-7654321-009"


# -- (a) OANDA's own client -------------------------------------------------------------


def test_oanda_client_lists_the_accounts_its_token_owns(ctx):
    response = ctx.account.list()
    assert response.status == 200
    assert [a.id for a in response.get("accounts", 200)] == [ACCOUNT_A, ACCOUNT_B]


def test_oanda_client_reads_an_account_summary_whose_nav_adds_up(ctx):
    account = ctx.account.summary(ACCOUNT_A).get("account", 200)
    assert account.balance == "100025.0000"
    assert Decimal(account.NAV) == Decimal(account.balance) + Decimal(account.unrealizedPL)
    assert (account.currency, account.openTradeCount, account.openPositionCount) == ("USD", 3, 3)
    assert account.lastTransactionID == "11"
    assert account.pl == "25.0000"


def test_oanda_client_reads_open_positions_with_signed_units(ctx):
    positions = {p.instrument: p for p in ctx.position.list_open(ACCOUNT_A).get("positions", 200)}
    assert sorted(positions) == ["EUR_GBP", "EUR_USD", "USD_JPY"]
    assert (positions["EUR_USD"].long.units, positions["EUR_USD"].short.units) == ("10000", "0")
    assert positions["EUR_USD"].long.averagePrice == "1.08000"
    assert positions["USD_JPY"].short.units == "-20000"
    assert positions["USD_JPY"].short.tradeIDs == ["5"]


def test_oanda_client_reads_prices(ctx):
    now = datetime.now(UTC)
    prices = ctx.pricing.get(ACCOUNT_A, instruments="EUR_USD,USD_JPY").get("prices", 200)
    assert [p.instrument for p in prices] == ["EUR_USD", "USD_JPY"]
    for p in prices:
        assert Decimal(p.bids[0].price) < Decimal(p.asks[0].price)
        assert p.tradeable == market_open(now)


def test_oanda_client_reads_transaction_pages(ctx, broker_sim):
    response = ctx.transaction.list(ACCOUNT_A, type="ORDER_FILL", pageSize=2)
    assert response.get("count", 200) == 5  # fills 3, 5, 7, 9, 11
    pages = response.get("pages", 200)
    assert len(pages) == 3
    idrange = f"{broker_sim.url}/v3/accounts/{ACCOUNT_A}/transactions/idrange"
    assert pages[0] == f"{idrange}?from=3&to=5&type=ORDER_FILL"


def test_oanda_client_reads_an_id_range_of_fills(ctx):
    response = ctx.transaction.range(ACCOUNT_A, fromID=3, toID=7, type="ORDER_FILL")
    fills = response.get("transactions", 200)
    assert [(t.id, t.type, t.units) for t in fills] == [
        ("3", "ORDER_FILL", "10000"),
        ("5", "ORDER_FILL", "-20000"),
        ("7", "ORDER_FILL", "30000"),
    ]
    assert fills[0].tradeOpened.tradeID == "3"
    assert fills[0].clientOrderID == "c-2"


def test_oanda_client_reads_transactions_since_an_id(ctx):
    txns = ctx.transaction.since(ACCOUNT_A, id=9).get("transactions", 200)
    assert [(t.id, t.type) for t in txns] == [("10", "MARKET_ORDER"), ("11", "ORDER_FILL")]
    assert txns[1].tradesClosed[0].realizedPL == "25.0000"
    assert txns[0].clientExtensions.id == "c-10"


def test_oanda_client_sees_401_for_a_token_the_broker_does_not_know(broker_sim):
    stranger = v20.Context("127.0.0.1", broker_sim.port, ssl=False, token="tok-unknown")
    response = stranger.account.list()
    assert response.status == 401
    assert response.body["errorMessage"] == "Insufficient authorization to perform request."


# -- (b) OANDA's spec -------------------------------------------------------------------

ENDPOINTS = [
    ("/accounts", "/v3/accounts"),
    ("/accounts/{accountID}/summary", f"/v3/accounts/{ACCOUNT_A}/summary"),
    ("/accounts/{accountID}/summary", f"/v3/accounts/{ACCOUNT_B}/summary"),
    ("/accounts/{accountID}/openPositions", f"/v3/accounts/{ACCOUNT_A}/openPositions"),
    ("/accounts/{accountID}/pricing",
     f"/v3/accounts/{ACCOUNT_A}/pricing?instruments=EUR_USD,USD_JPY,EUR_GBP"
     "&includeHomeConversions=true"),
    ("/accounts/{accountID}/transactions",
     f"/v3/accounts/{ACCOUNT_A}/transactions?type=ORDER_FILL&pageSize=2"),
    ("/accounts/{accountID}/transactions", f"/v3/accounts/{ACCOUNT_A}/transactions"),
    ("/accounts/{accountID}/transactions/idrange",
     f"/v3/accounts/{ACCOUNT_A}/transactions/idrange?from=1&to=11"),
    ("/accounts/{accountID}/transactions/sinceid",
     f"/v3/accounts/{ACCOUNT_A}/transactions/sinceid?id=0"),
]  # fmt: skip


@pytest.mark.parametrize(("spec_path", "url"), ENDPOINTS)
def test_every_answer_matches_oanda_spec(http, oracle, spec_path, url):
    response = http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["RequestID"].isdigit()
    body = response.json()
    assert oracle.response_errors(spec_path, 200, body) == []
    for txn in body.get("transactions", []):
        assert oracle.transaction_errors(txn) == [], txn["type"]


@pytest.mark.parametrize(
    ("status", "spec_path", "method", "url", "token"),
    [
        (401, "/accounts", "GET", "/v3/accounts", None),
        (400, "/accounts/{accountID}/summary", "GET", "/v3/accounts/not-an-id/summary", "a"),
        (403, "/accounts/{accountID}/summary", "GET", f"/v3/accounts/{ACCOUNT_C}/summary", "a"),
        (404, "/accounts/{accountID}/openPositions", "GET",
         f"/v3/accounts/{UNKNOWN_ACCOUNT}/openPositions", "a"),
        (404, "/accounts", "GET", "/v3/instruments/EUR_USD/candles", "a"),
        (405, "/accounts", "POST", "/v3/accounts", "a"),
        (405, "/accounts/{accountID}/summary", "DELETE", f"/v3/accounts/{ACCOUNT_A}/summary", "a"),
    ],
)  # fmt: skip
def test_every_error_is_an_oanda_error(
    broker_sim, broker_tokens, oracle, status, spec_path, method, url, token
):
    headers = {"Authorization": f"Bearer {broker_tokens[token]}"} if token else {}
    response = httpx.request(
        method, broker_sim.url + url, headers=headers, content=b"{}", timeout=5
    )
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["RequestID"].isdigit()
    assert isinstance(response.json()["errorMessage"], str)
    assert oracle.response_errors(spec_path, status, response.json()) == []


def test_the_oracle_rejects_a_wrong_type_and_a_misspelt_field(http, oracle):
    body = http.get(f"/v3/accounts/{ACCOUNT_A}/summary").json()
    path = "/accounts/{accountID}/summary"
    nav_as_number = copy.deepcopy(body)
    nav_as_number["account"]["NAV"] = 100012.5
    assert oracle.response_errors(path, 200, nav_as_number) == [
        "account.NAV: 100012.5 is not of type 'string'"
    ]
    misspelt = copy.deepcopy(body)
    misspelt["account"]["nav"] = misspelt["account"].pop("NAV")
    assert any("'nav' was unexpected" in e for e in oracle.response_errors(path, 200, misspelt))
    fill = http.get(f"/v3/accounts/{ACCOUNT_A}/transactions/idrange?from=3&to=3").json()
    fill["transactions"][0]["units"] = 10000
    assert oracle.transaction_errors(fill["transactions"][0]) != []


def test_a_rate_limited_account_answers_429_with_retry_after(tmp_path, broker_tokens, oracle):
    sim = start_broker(
        tmp_path,
        sample_ledger(),
        {broker_tokens["a"]: [ACCOUNT_A, ACCOUNT_B], broker_tokens["c"]: [ACCOUNT_C]},
        {"rate_limited_accounts": [ACCOUNT_C], "retry_after_s": 7},
    )
    try:
        for url in ("/v3/accounts", f"/v3/accounts/{ACCOUNT_C}/summary"):
            limited = httpx.get(
                sim.url + url, headers={"Authorization": f"Bearer {broker_tokens['c']}"}
            )
            assert limited.status_code == 429
            assert limited.headers["Retry-After"] == "7"
            assert limited.headers["RequestID"].isdigit()
            # The spec has no 429; its shared error object (errorCode/errorMessage) applies.
            assert oracle.errors("/responses/400/schema", limited.json()) == []
        owner_a = {"Authorization": f"Bearer {broker_tokens['a']}"}
        others = httpx.get(sim.url + "/v3/accounts", headers=owner_a)
        assert others.status_code == 200
    finally:
        sim.stop()


def test_a_hanging_broker_accepts_the_connection_and_never_answers(tmp_path, broker_tokens):
    sim = start_broker(tmp_path, sample_ledger(), {broker_tokens["a"]: [ACCOUNT_A]}, {"hang": True})
    try:
        with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as conn:
            conn.sendall(b"GET /v3/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            conn.settimeout(0.3)
            with pytest.raises(TimeoutError):
                conn.recv(1)
    finally:
        assert sim.stop() == 0  # SIGTERM still stops it while a request hangs


# -- (c) market hours -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (datetime(2026, 11, 25, 14, 0, tzinfo=UTC), True),  # Wednesday
        (datetime(2026, 11, 27, 21, 59, tzinfo=UTC), True),  # Friday 16:59 New York (EST)
        (datetime(2026, 11, 27, 22, 0, tzinfo=UTC), False),  # Friday 17:00: the close
        (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), False),  # Saturday
        (datetime(2026, 11, 29, 21, 59, tzinfo=UTC), False),  # Sunday 16:59
        (datetime(2026, 11, 29, 22, 0, tzinfo=UTC), True),  # Sunday 17:00: the open
        (datetime(2026, 7, 10, 20, 59, tzinfo=UTC), True),  # Friday 16:59 EDT
        (datetime(2026, 7, 10, 21, 0, tzinfo=UTC), False),  # Friday 17:00 EDT
    ],
)
def test_the_fx_week_runs_sunday_17_00_to_friday_17_00_new_york(moment, is_open):
    assert market_open(moment) is is_open


def test_weekday_prices_are_tradeable_and_stamped_now():
    price = quote("EUR_USD", sample_ledger()["instruments"]["EUR_USD"], WEDNESDAY)
    assert price.tradeable
    assert price.time == WEDNESDAY
    assert price.bid < price.ask
    assert abs(price.mid - Decimal("1.08415")) < Decimal("0.0005")


def test_saturday_prices_are_frozen_at_the_friday_new_york_close():
    spec = sample_ledger()["instruments"]["EUR_USD"]
    price = quote("EUR_USD", spec, SATURDAY)
    assert not price.tradeable
    assert price.time == FRIDAY_CLOSE == last_close(SATURDAY)
    assert quote("EUR_USD", spec, SATURDAY.replace(hour=20)) == price
    body = Book(sample_ledger()).pricing(["EUR_USD"], SATURDAY, False)
    assert body["prices"][0]["time"] == "2026-11-27T22:00:00.000000000Z"
    assert (body["prices"][0]["tradeable"], body["prices"][0]["status"]) == (False, "non-tradeable")


def test_unrealized_pl_and_margin_are_in_usd_at_the_given_instant():
    book = Book(sample_ledger())
    q = book.quotes(WEDNESDAY)
    account = book.summary(ACCOUNT_A, WEDNESDAY)["account"]
    upl = (
        10_000 * (q["EUR_USD"].bid - Decimal("1.08000"))
        - 20_000 * (q["USD_JPY"].ask - Decimal("151.000")) / q["USD_JPY"].mid  # JPY -> USD
        + 30_000 * (q["EUR_GBP"].bid - Decimal("0.85000")) * q["GBP_USD"].mid  # GBP -> USD
    )
    value = 10_000 * q["EUR_USD"].mid + 20_000 + 30_000 * q["EUR_GBP"].mid * q["GBP_USD"].mid
    margin = value * Decimal("0.0333")
    nav = Decimal("100025.0000") + upl
    cent = Decimal("0.0001")
    assert Decimal(account["unrealizedPL"]) == upl.quantize(cent)
    assert Decimal(account["NAV"]) == nav.quantize(cent)
    assert abs(Decimal(account["marginUsed"]) - margin) < cent
    closeout = (margin / 2 / nav).quantize(Decimal("0.00001"))
    assert Decimal(account["marginCloseoutPercent"]) == closeout


# -- the server process protocol --------------------------------------------------------

_PARENT = """
import subprocess, sys, time
broker = "tradeops.sandbox.oanda.broker"
child = subprocess.Popen([sys.executable, "-m", broker, "--config", sys.argv[1]],
                         stdout=subprocess.PIPE, text=True)
print(child.pid, child.stdout.readline().strip(), flush=True)
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    """True once the process has exited (a zombie waiting for its reaper counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_the_simulator_stops_on_sigterm_and_its_log_holds_no_token(tmp_path, broker_tokens):
    token = broker_tokens["a"]
    sim = start_broker(tmp_path, sample_ledger(), {token: [ACCOUNT_A]})
    try:
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{sim.url}/v3/accounts", headers=auth).status_code == 200
        assert httpx.get(f"{sim.url}/v3/accounts/x/summary", headers=auth).status_code == 400
    finally:
        assert sim.stop() == 0
    assert token not in sim.log


def test_a_client_that_hangs_up_before_its_answer_leaves_no_traceback_in_the_log(
    tmp_path, broker_tokens
):
    token = broker_tokens["a"]
    sim = start_broker(tmp_path, sample_ledger(), {token: [ACCOUNT_A]})
    request = (
        f"GET /v3/accounts/{ACCOUNT_A}/transactions/idrange?from=1&to=11 HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    try:
        for _ in range(20):  # a reset before the answer is written, as a passed deadline does
            with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as hung_up:
                hung_up.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                hung_up.sendall(request)
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{sim.url}/v3/accounts", headers=auth, timeout=5).status_code == 200
    finally:
        assert sim.stop() == 0
    assert "Traceback" not in sim.log, sim.log


def test_the_simulator_exits_when_its_parent_process_is_gone(tmp_path, broker_tokens):
    config = write_sandbox(tmp_path, sample_ledger())
    env = {**os.environ, "TRADEOPS_SANDBOX_BROKER_TOKENS": json.dumps({broker_tokens["a"]: []})}
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(config)], stdout=subprocess.PIPE, env=env, text=True
    )
    pid_text, said = first_line(parent).split(" ", 1)
    pid = int(pid_text)
    try:
        assert said.startswith("PORT ")
        parent.kill()
        parent.wait(timeout=5)
        for _ in range(50):  # it polls its parent once a second; allow five
            if _gone(pid):
                break
            time.sleep(0.1)
        assert _gone(pid), "the simulator outlived its parent"
    finally:
        if not _gone(pid):
            os.kill(pid, 9)
        parent.stdout.close()


def _without_gbp_usd(ledger: dict) -> None:
    del ledger["instruments"]["GBP_USD"]  # EUR_GBP's GBP can no longer be valued in USD


def _units_as_number(ledger: dict) -> None:
    ledger["accounts"][0]["open_trades"][1]["units"] = -20000


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (_without_gbp_usd, "instruments.EUR_GBP: no instrument converts GBP to USD"),
        (
            _units_as_number,
            "accounts[0].open_trades[1].units: expected a decimal string, got -20000",
        ),
    ],
)
def test_a_ledger_it_cannot_serve_stops_it_before_it_announces_a_port(tmp_path, spoil, said):
    ledger = sample_ledger()
    spoil(ledger)
    process = launch(write_sandbox(tmp_path, ledger), {})
    assert first_line(process) == ""
    assert process.wait(timeout=5) == 2
    assert said in (tmp_path / "broker.log").read_text()
