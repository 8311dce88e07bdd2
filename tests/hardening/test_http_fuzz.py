"""Every parser of an HTTP answer, fed malformed answers by hypothesis: it returns typed
values or raises the connector's own error (ControlPlaneError, BrokerError), nothing else."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.test_http_matrix import HEALTH, RUN, account, prices, strategies
from tradeops._secret import Secret
from tradeops.connectors.control_plane import ControlPlane
from tradeops.connectors.errors import BrokerError, ControlPlaneError
from tradeops.connectors.oanda import OandaBroker

ACCOUNT = "101-004-1234567-001"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["1e400", "NaN", "-1", "2100-01-01T00:00:00Z", "1970-01-01T00:00:00Z"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def spoiled(draw: st.DrawFn, valid: object) -> object:
    """`valid` with one value somewhere in it replaced (or a key removed)."""
    if not isinstance(valid, dict | list) or draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    items = list(valid.items()) if isinstance(valid, dict) else list(enumerate(valid))
    if not items:
        return valid
    key, value = draw(st.sampled_from(items))
    copy = dict(valid) if isinstance(valid, dict) else list(valid)
    if isinstance(copy, dict) and draw(st.booleans()) and draw(st.booleans()):
        del copy[key]
    else:
        copy[key] = draw(spoiled(value))
    return copy


def transport(body: object) -> httpx.MockTransport:
    raw = json.dumps(body, allow_nan=True).encode()
    return httpx.MockTransport(lambda request: httpx.Response(200, content=raw))


def cp_read(body: object, method: str) -> None:
    cp = ControlPlane("http://cp.test", Secret("t0k-fuzz-123456"), 1, transport=transport(body))
    with cp, contextlib.suppress(ControlPlaneError):
        getattr(cp, method)()


def broker_read(body: object, method: str) -> None:
    broker = OandaBroker(
        "fuzz", "http://br.test", Secret("t0k-fuzz-123456"), 1, transport=transport(body)
    )
    now = datetime.now(UTC)
    calls = {
        "summary": lambda: broker.summary(ACCOUNT),
        "pricing": lambda: broker.pricing(ACCOUNT, ["EUR_USD"]),
        "positions": lambda: broker.open_positions(ACCOUNT),
        "accounts": broker.account_ids,
        "since": lambda: broker.transactions_since(ACCOUNT, "1"),
        "fills": lambda: broker.fills(ACCOUNT, now - timedelta(hours=1), now),
    }
    with broker, contextlib.suppress(BrokerError):
        calls[method]()


SUMMARY = {"status": "green", "generated_at": HEALTH["time"], "runs": [RUN]}
POSITIONS = {
    "positions": [{"instrument": "EUR_USD", "long": {"units": "10"}, "short": {"units": "0"}}]
}
TRANSACTIONS = {
    "transactions": [
        {
            "id": "2",
            "time": HEALTH["time"],
            "type": "ORDER_FILL",
            "instrument": "EUR_USD",
            "units": "10",
            "price": "1.1",
        }
    ]
}


@SETTINGS
@given(spoiled(HEALTH))
def test_health_parser_raises_only_control_plane_errors(body):
    cp_read(body, "health")


@SETTINGS
@given(spoiled(SUMMARY))
def test_summary_parser_raises_only_control_plane_errors(body):
    cp_read(body, "summary")


@SETTINGS
@given(spoiled(strategies()))
def test_strategies_parser_raises_only_control_plane_errors(body):
    cp_read(body, "strategies")


@SETTINGS
@given(spoiled(account()))
def test_account_summary_parser_raises_only_broker_errors(body):
    broker_read(body, "summary")


@SETTINGS
@given(spoiled(prices()))
def test_pricing_parser_raises_only_broker_errors(body):
    broker_read(body, "pricing")


@SETTINGS
@given(spoiled(POSITIONS))
def test_positions_parser_raises_only_broker_errors(body):
    broker_read(body, "positions")


@SETTINGS
@given(spoiled(TRANSACTIONS))
def test_transaction_parser_raises_only_broker_errors(body):
    broker_read(body, "since")


@SETTINGS
@given(spoiled({"accounts": [{"id": ACCOUNT}]}), st.sampled_from(["accounts", "fills"]))
def test_account_list_and_fills_parsers_raise_only_broker_errors(body, method):
    broker_read(body, method)


@SETTINGS
@given(st.binary(max_size=200))
def test_any_bytes_are_a_connector_error_or_an_answer(raw):
    def mock(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=raw)

    cp = ControlPlane("http://cp.test", None, 1, transport=httpx.MockTransport(mock))
    with cp, contextlib.suppress(ControlPlaneError):
        cp.health()
