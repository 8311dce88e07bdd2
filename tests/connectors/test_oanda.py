"""OandaBroker against real servers: the broker simulator process for what OANDA does, and a
tiny canned stdlib server process for what the simulator cannot do (5xx, bad JSON, ...).

Every error test also checks that the token appears in no message and no repr.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from tests.sandbox.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    ACCOUNT_C,
    MINUTE_MS,
    T0_MS,
    Simulator,
    first_line,
    new_token,
    order_and_fill,
    sample_ledger,
    start_broker,
)
from tradeops._secret import Secret
from tradeops.connectors.errors import BrokerError
from tradeops.connectors.oanda import AccountSummary, OandaBroker, Position
from tradeops.sandbox.oanda._render import Book

NAME = "oanda-test"
TOKEN = new_token()
OTHER_TOKEN = new_token()
T0 = datetime.fromtimestamp(T0_MS / 1000, UTC)
ROUND_TRIPS = 12  # account B: 12 opens + 12 closes = 24 fills, for paging


def paged_ledger() -> dict:
    """The sample ledger, with account B given 24 fills two minutes apart."""
    ledger = sample_ledger()
    txns = []
    for i in range(ROUND_TRIPS):
        at, trade = T0_MS + 4 * i * MINUTE_MS, str(4 * i + 2)
        opened = order_and_fill(4 * i + 1, at, "EUR_USD", 1000, "1.08000", "50000.0000")
        closed = order_and_fill(
            4 * i + 3,
            at + 2 * MINUTE_MS,
            "EUR_USD",
            -1000,
            "1.08000",
            "50000.0000",
            closes=(trade, -1000, "0.0000"),
        )
        txns += opened + closed
    ledger["accounts"][1]["transactions"] = txns
    return ledger


B_FILLS = [str(4 * i + k) for i in range(ROUND_TRIPS) for k in (2, 4)]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    tokens = {TOKEN: [ACCOUNT_A, ACCOUNT_B], OTHER_TOKEN: [ACCOUNT_C]}
    simulator = start_broker(tmp_path_factory.mktemp("oanda"), paged_ledger(), tokens)
    yield simulator
    simulator.stop()


@pytest.fixture
def broker(sim: Simulator) -> Iterator[OandaBroker]:
    with OandaBroker(NAME, sim.url, Secret(TOKEN, "$OANDA_TOKEN"), 5.0) as client:
        yield client


def failure(client: OandaBroker, method: str, *args: object) -> BrokerError:
    """The BrokerError a call raises, checked for token leaks and its broker/account."""
    with pytest.raises(BrokerError) as caught:
        getattr(client, method)(*args)
    error = caught.value
    for text in (str(error), repr(error), repr(client)):
        assert TOKEN not in text and OTHER_TOKEN not in text
    assert error.broker == NAME
    assert error.account == (args[0] if args else None)
    assert NAME in str(error)
    return error


# -- happy paths against the simulator --------------------------------------------------


def test_account_ids_are_the_accounts_the_token_owns(broker):
    assert broker.account_ids() == [ACCOUNT_A, ACCOUNT_B]


def test_summary_money_is_decimal_and_nav_is_balance_plus_unrealized_pl(broker):
    summary = broker.summary(ACCOUNT_A)
    assert isinstance(summary, AccountSummary)
    assert summary.balance == Decimal("100025.0000")
    assert summary.nav == summary.balance + summary.unrealized_pl
    assert all(
        isinstance(v, Decimal)
        for v in (summary.margin_used, summary.margin_available, summary.margin_closeout_percent)
    )
    assert Decimal(0) < summary.margin_closeout_percent < Decimal(1)
    assert (summary.currency, summary.open_trade_count, summary.open_position_count) == (
        "USD",
        3,
        3,
    )
    assert summary.last_transaction_id == "11"


def test_open_positions_carry_long_short_and_net_units(broker):
    positions = {p.instrument: p for p in broker.open_positions(ACCOUNT_A)}
    assert positions["EUR_USD"] == Position("EUR_USD", Decimal(10000), Decimal(0), Decimal(10000))
    assert positions["USD_JPY"] == Position("USD_JPY", Decimal(0), Decimal(-20000), Decimal(-20000))
    assert broker.open_positions(ACCOUNT_B) == []


def test_prices_are_decimal_with_the_bid_below_the_ask_at_a_utc_time(broker):
    prices = broker.pricing(ACCOUNT_A, ["EUR_USD", "USD_JPY"])
    assert [p.instrument for p in prices] == ["EUR_USD", "USD_JPY"]
    for price in prices:
        assert isinstance(price.bid, Decimal) and price.bid < price.ask
        assert price.time.tzinfo is not None and price.time.utcoffset() == timedelta(0)


def test_fills_are_gathered_from_every_page(broker):
    until = T0 + timedelta(days=1)
    assert [f.id for f in broker.fills(ACCOUNT_B, T0, until, page_size=5)] == B_FILLS
    assert [f.id for f in broker.fills(ACCOUNT_B, T0, until)] == B_FILLS  # one page
    first = broker.fills(ACCOUNT_B, T0, until, page_size=5)[0]
    assert (first.instrument, first.units, first.price) == ("EUR_USD", 1000, Decimal("1.08000"))
    assert first.time == T0


def test_fills_keep_to_the_time_window(broker):
    window = broker.fills(ACCOUNT_B, T0 + timedelta(minutes=4), T0 + timedelta(minutes=10))
    # Fills 6, 8, 10, 12 are at minutes 4, 6, 8, 10: both ends inclusive, as OANDA's from/to.
    assert [f.id for f in window] == ["6", "8", "10", "12"]


def test_transactions_since_an_id_are_typed(broker):
    later = broker.transactions_since(ACCOUNT_A, "9")
    assert [(t.id, t.type, t.units) for t in later] == [
        ("10", "MARKET_ORDER", Decimal(-5000)),
        ("11", "ORDER_FILL", Decimal(-5000)),
    ]
    assert later[1].price == Decimal("1.26500")


# -- every error mapping, against real servers ------------------------------------------


def test_a_rejected_token_is_an_auth_error_naming_where_the_token_came_from(sim):
    with OandaBroker(NAME, sim.url, Secret(new_token(), "$OANDA_TOKEN"), 5.0) as client:
        error = failure(client, "summary", ACCOUNT_A)
    assert error.kind == "auth"
    assert "token in $OANDA_TOKEN was rejected (401)" in str(error)
    assert ACCOUNT_A in str(error)


def test_an_account_of_another_login_is_forbidden(broker):
    error = failure(broker, "summary", ACCOUNT_C)
    assert (error.kind, ACCOUNT_C in str(error)) == ("forbidden", True)


def test_an_unknown_account_is_not_found(broker):
    assert failure(broker, "open_positions", "101-004-7654321-009").kind == "not_found"


def test_a_retry_after_beyond_the_budget_fails_at_once_saying_so(tmp_path):
    limited = start_broker(
        tmp_path,
        sample_ledger(),
        {TOKEN: [ACCOUNT_A]},
        {"rate_limited_accounts": [ACCOUNT_A], "retry_after_s": 30},
    )
    try:
        with OandaBroker(NAME, limited.url, Secret(TOKEN), 5.0) as client:
            error = failure(client, "summary", ACCOUNT_A)
    finally:
        limited.stop()
    assert error.kind == "rate_limited"
    assert "Retry-After 30 s does not fit in the 5 s budget" in str(error)


def test_a_hanging_broker_times_out_within_the_budget(tmp_path):
    hung = start_broker(tmp_path, sample_ledger(), {TOKEN: [ACCOUNT_A]}, {"hang": True})
    try:
        with OandaBroker(NAME, hung.url, Secret(TOKEN), 0.5) as client:
            error = failure(client, "summary", ACCOUNT_A)
    finally:
        hung.stop()
    assert (error.kind, "no answer within 0.5 s" in str(error)) == ("timeout", True)


def test_a_refused_connection_is_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nobody listens there
    with OandaBroker(NAME, f"http://127.0.0.1:{port}", Secret(TOKEN), 2.0) as client:
        error = failure(client, "account_ids")
    assert error.kind == "unreachable"
    assert "account list" in str(error) and f"127.0.0.1:{port}" in str(error)


# The canned server: one process, one behaviour per path prefix (/<case>/v3/...), and
# /stats/<case> telling how many requests a case has seen.
_CANNED = r"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit
summary, account = json.loads(open(sys.argv[1]).read()), sys.argv[2]
seen = {}

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def answer(self, status, body, ctype="application/json", **headers):
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        case = self.path.split("/")[1]
        if case == "stats":
            return self.answer(200, {"seen": seen.get(self.path.split("/")[2], 0)})
        seen[case] = seen.get(case, 0) + 1
        base = f"http://{self.headers['Host']}/{case}/v3/accounts/{account}"
        listed = {"accounts": [{"id": account, "tags": []}]}
        if case == "busy":
            if seen[case] == 1:
                return self.answer(429, {"errorMessage": "slow down"}, Retry_After="0.2")
            return self.answer(200, listed)
        if case == "slow":
            return self.answer(429, {"errorMessage": "slow down"}, Retry_After="30")
        if case == "nagging":
            return self.answer(429, {"errorMessage": "slow down"}, Retry_After="0.01")
        if case == "down":
            return self.answer(503, {"errorMessage": "Service Unavailable"})
        if case == "html":
            return self.answer(200, "<html>maintenance</html>", "text/html")
        if case in ("navnumber", "navmissing"):
            body = json.loads(json.dumps(summary))
            if case == "navnumber":
                body["account"]["NAV"] = 100012.5
            else:
                del body["account"]["NAV"]
            return self.answer(200, body)
        if case == "echo":
            said = "denied for " + self.headers.get("Authorization", "")
            return self.answer(403, {"errorMessage": said})
        if case in ("slowpages", "stuckpage"):
            # Four pages, each answered in 0.3 s (the second in 1.5 s when "stuck"): the
            # page URLs carry the listing's `from` time for the fills they answer with.
            query = parse_qs(urlsplit(self.path).query)
            if "/idrange" not in self.path:
                at = quote(query["from"][0])
                page = base + "/transactions/idrange?from={0}&to={0}&at=" + at
                pages = [page.format(k) for k in (1, 2, 3, 4)]
                return self.answer(200, {"count": 4, "pages": pages, "lastTransactionID": "4"})
            k = query["from"][0]
            time.sleep(1.5 if case == "stuckpage" and k == "2" else 0.3)
            fill = {"id": k, "time": query["at"][0], "type": "ORDER_FILL",
                    "instrument": "EUR_USD", "units": "1000", "price": "1.08000"}
            return self.answer(200, {"transactions": [fill], "lastTransactionID": "4"})
        if case == "foreign":
            page = f"http://198.51.100.7/v3/accounts/{account}/transactions/idrange?from=1&to=2"
            return self.answer(200, {"count": 2, "pages": [page], "lastTransactionID": "2"})
        return self.answer(404, {"errorMessage": "no such case"})

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
"""


@pytest.fixture(scope="module")
def canned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The canned server's base URL."""
    summary_file = tmp_path_factory.mktemp("canned") / "summary.json"
    summary_file.write_text(json.dumps(Book(sample_ledger()).summary(ACCOUNT_A, T0)))
    process = subprocess.Popen(
        [sys.executable, "-c", _CANNED, str(summary_file), ACCOUNT_A],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{first_line(process).split()[1]}"
    finally:
        process.terminate()
        process.wait(timeout=5)
        process.stdout.close()


def canned_broker(canned: str, case: str, timeout_s: float = 2.0) -> OandaBroker:
    return OandaBroker(NAME, f"{canned}/{case}", Secret(TOKEN, "$OANDA_TOKEN"), timeout_s)


def seen(canned: str, case: str) -> int:
    """How many requests the canned server has had for `case`."""
    return httpx.get(f"{canned}/stats/{case}", timeout=2).json()["seen"]


def test_a_short_retry_after_is_honoured_and_the_retry_answers(canned):
    with canned_broker(canned, "busy") as client:
        assert client.account_ids() == [ACCOUNT_A]
    assert seen(canned, "busy") == 2


def test_a_long_retry_after_is_not_waited_for(canned):
    with canned_broker(canned, "slow") as client:
        error = failure(client, "account_ids")
    assert error.kind == "rate_limited" and "Retry-After 30 s" in str(error)
    assert seen(canned, "slow") == 1


def test_a_rate_limit_that_persists_gives_up_after_three_tries(canned):
    with canned_broker(canned, "nagging") as client:
        error = failure(client, "account_ids")
    assert error.kind == "rate_limited" and "after 3 tries" in str(error)
    assert seen(canned, "nagging") == 3


def test_a_5xx_is_a_server_error_with_oanda_message(canned):
    with canned_broker(canned, "down") as client:
        error = failure(client, "summary", ACCOUNT_A)
    assert error.kind == "server"
    assert "server error (503) after 1 retry: Service Unavailable" in str(error)


def test_an_answer_that_is_not_json_is_malformed(canned):
    with canned_broker(canned, "html") as client:
        error = failure(client, "summary", ACCOUNT_A)
    assert error.kind == "malformed" and "not JSON" in str(error)


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("navnumber", "account.NAV: expected a decimal string, got 100012.5"),
        ("navmissing", "account.NAV: expected a decimal string, got None"),
    ],
)
def test_a_mistyped_or_missing_field_is_malformed_and_named(canned, case, said):
    with canned_broker(canned, case) as client:
        error = failure(client, "summary", ACCOUNT_A)
    assert error.kind == "malformed"
    assert str(error).endswith(said)


def test_page_urls_on_another_host_are_not_followed(canned):
    with canned_broker(canned, "foreign") as client:
        error = failure(client, "fills", ACCOUNT_A, T0, T0 + timedelta(days=1))
    assert error.kind == "malformed" and "not followed" in str(error)
    assert "198.51.100.7" in str(error)


def test_each_page_of_fills_has_the_brokers_timeout_not_one_for_all_pages(canned):
    # Four pages of 0.3 s with a 1 s timeout: 1.2 s in all, every page well in time.
    with canned_broker(canned, "slowpages", timeout_s=1.0) as client:
        fills = client.fills(ACCOUNT_A, T0, T0 + timedelta(days=1))
    assert [f.id for f in fills] == ["1", "2", "3", "4"]


def test_a_page_that_outlasts_the_timeout_fails_the_read_naming_the_page(canned):
    with canned_broker(canned, "stuckpage", timeout_s=1.0) as client:
        error = failure(client, "fills", ACCOUNT_A, T0, T0 + timedelta(days=1))
    assert error.kind == "timeout" and "no answer within 1 s" in str(error)
    assert "idrange?from=2" in str(error)


def test_a_server_that_echoes_the_token_cannot_leak_it(canned):
    with canned_broker(canned, "echo") as client:
        error = failure(client, "summary", ACCOUNT_A)
    assert error.kind == "forbidden" and "denied for Bearer ***" in str(error)


def test_the_broker_repr_shows_the_token_source_only(sim):
    client = OandaBroker(NAME, sim.url, Secret(TOKEN, "$OANDA_TOKEN"), 5.0)
    client.close()
    assert "$OANDA_TOKEN" in repr(client) and TOKEN not in repr(client)
