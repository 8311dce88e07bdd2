"""OANDA v20 REST connector: GET only, Decimal money, every failure a clear BrokerError.

`OandaBroker.from_config(broker_config)` reads one OANDA login (practice or live: they
differ only in URL and token). Each method call has one deadline, `timeout_s`, that covers
its retries and pages, connect to last byte; each answer is at most `max_answer_mb`.
Requests are paced under OANDA's limits (see `_http.broker_pace`). A call that needed a
retry after a transient failure is noted in `retried`. Failures map to `BrokerError.kind`:
unreachable, timeout, auth, forbidden, not_found, rate_limited, server, malformed, http.
Messages name the broker and the account, and the token's source (`$OANDA_TOKEN`), never
its value, nor any token a server echoed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote

import httpx

from tradeops._record import frozen_record
from tradeops._secret import Secret
from tradeops.config import BrokerConfig
from tradeops.connectors._http import BROKER_CONNECTIONS, broker_pace, new_client
from tradeops.connectors._oanda_fields import Fields
from tradeops.connectors._oanda_http import Bearer, Call, Endpoint, origin, origin_text
from tradeops.connectors.errors import BrokerError

__all__ = [
    "AccountSummary",
    "Fill",
    "OandaBroker",
    "Position",
    "Price",
    "Transaction",
]

MAX_PAGES = 1000  # transaction pages followed per call: a bound, not an expectation
# A paged read (fills) gives each page the broker's timeout, and all of them together at
# most this many timeouts: one budget for every page made a busy account (12 pages of
# fills in 7 days at 300 strategies) time out on a slow but working broker, a false red.
PAGED_TIMEOUTS = 30
PAGE_SIZE = 1000  # OANDA's maximum pageSize


@frozen_record
class AccountSummary:
    """An account's figures from /summary, money in the account currency."""

    balance: Decimal
    nav: Decimal
    unrealized_pl: Decimal
    margin_used: Decimal
    margin_available: Decimal
    margin_closeout_percent: Decimal  # >= 1 means OANDA is closing the account out
    currency: str
    open_trade_count: int
    open_position_count: int
    last_transaction_id: str


@frozen_record
class Position:
    """An open position; short units are negative, net = long + short."""

    instrument: str
    long_units: Decimal
    short_units: Decimal
    net_units: Decimal


@frozen_record
class Price:
    """The best bid/ask of one instrument; `tradeable` is false while the market is shut."""

    instrument: str
    time: datetime
    tradeable: bool
    bid: Decimal
    ask: Decimal


@frozen_record
class Fill:
    """One ORDER_FILL transaction: the id the store's ORDER_FILLED must carry."""

    id: str
    time: datetime
    instrument: str
    units: Decimal
    price: Decimal


@frozen_record
class Transaction:
    """Any transaction; instrument/units/price only where its type has them."""

    id: str
    time: datetime
    type: str
    instrument: str | None = None
    units: Decimal | None = None
    price: Decimal | None = None


class OandaBroker:
    """One OANDA v20 login: read-only access to the accounts its token owns."""

    def __init__(
        self,
        name: str,
        url: str,
        token: Secret,
        timeout_s: float,
        *,
        max_answer_mb: float = 10.0,
        clock_skew_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/").removesuffix("/v3")
        self.timeout_s = timeout_s
        self.retried: list[str] = []
        self._token = token
        self._endpoint = Endpoint(
            name,
            self.url,
            token,
            timeout_s,
            max_bytes=int(max_answer_mb * 1_000_000),
            skew_s=clock_skew_s,
            pace=broker_pace(),
            retried=self.retried,
        )
        try:
            self._base = httpx.URL(self.url)
        except httpx.InvalidURL as exc:
            raise BrokerError(
                f"broker {name}: url {self.url!r} is not a URL ({exc})",
                kind="unreachable",
                broker=name,
            ) from None
        self._client = new_client(
            self.url,
            timeout_s=timeout_s,
            auth=Bearer(token),
            headers={"Accept-Datetime-Format": "RFC3339", "Accept": "application/json"},
            transport=transport,
            max_connections=BROKER_CONNECTIONS,
        )

    @classmethod
    def from_config(cls, config: BrokerConfig, *, clock_skew_s: float = 5.0) -> OandaBroker:
        """The connector one [[brokers]] section of the manifest describes."""
        if config.token is None:
            raise BrokerError(
                f"broker {config.name}: no token (set ${config.token_env})",
                kind="auth",
                broker=config.name,
            )
        return cls(
            config.name,
            config.url,
            config.token,
            config.timeout_s,
            max_answer_mb=config.max_answer_mb,
            clock_skew_s=clock_skew_s,
        )

    def __repr__(self) -> str:
        return f"OandaBroker(name={self.name!r}, url={self.url!r}, token={self._token!r})"

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def __enter__(self) -> OandaBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the reads the suite uses ------------------------------------------------------

    def account_ids(self) -> list[str]:
        """The ids of every account the token may read (GET /v3/accounts)."""
        call = Call(self._client, self._endpoint, None)
        body = call.get("/v3/accounts")
        with call.reading():
            return [a.text("id") for a in body.objects("accounts")]

    def summary(self, account: str) -> AccountSummary:
        """The account's balance, NAV, margin figures and counts (GET .../summary)."""
        call = Call(self._client, self._endpoint, account)
        body = call.get(f"{_account_path(account)}/summary")
        with call.reading():
            a = body.object("account")
            return AccountSummary(
                balance=a.decimal("balance"),
                nav=a.decimal("NAV"),
                unrealized_pl=a.decimal("unrealizedPL"),
                margin_used=a.decimal("marginUsed", lo=0),
                margin_available=a.decimal("marginAvailable"),
                margin_closeout_percent=a.decimal("marginCloseoutPercent", lo=0),
                currency=a.text("currency"),
                open_trade_count=a.integer("openTradeCount"),
                open_position_count=a.integer("openPositionCount"),
                last_transaction_id=a.text("lastTransactionID"),
            )

    def open_positions(self, account: str) -> list[Position]:
        """Every instrument with open trades (GET .../openPositions)."""
        call = Call(self._client, self._endpoint, account)
        body = call.get(f"{_account_path(account)}/openPositions")
        with call.reading():
            positions = []
            for p in body.objects("positions"):
                long = p.object("long").decimal("units")
                short = p.object("short").decimal("units")
                positions.append(Position(p.text("instrument"), long, short, long + short))
            return positions

    def pricing(self, account: str, instruments: list[str]) -> list[Price]:
        """Current prices of the instruments (GET .../pricing?instruments=A,B)."""
        call = Call(self._client, self._endpoint, account)
        body = call.get(f"{_account_path(account)}/pricing", {"instruments": ",".join(instruments)})
        with call.reading():
            prices = []
            for p in body.objects("prices"):
                bids, asks = p.objects("bids"), p.objects("asks")
                bid = bids[0].decimal("price", lo=0) if bids else p.decimal("closeoutBid", lo=0)
                ask = asks[0].decimal("price", lo=0) if asks else p.decimal("closeoutAsk", lo=0)
                prices.append(
                    Price(p.text("instrument"), p.time("time"), p.boolean("tradeable"), bid, ask)
                )
            return prices

    def fills(
        self, account: str, since: datetime, until: datetime, *, page_size: int = PAGE_SIZE
    ) -> list[Fill]:
        """ORDER_FILL transactions with since <= time <= until, through every page."""
        call = Call(self._client, self._endpoint, account)
        since, until = _utc(since), _utc(until)
        params = {
            "from": _rfc3339(since),
            "to": _rfc3339(until),
            "type": "ORDER_FILL",
            "pageSize": str(page_size),
        }
        listing = call.get(f"{_account_path(account)}/transactions", params)
        with call.reading():
            pages = listing.texts("pages")
        if len(pages) > MAX_PAGES:
            raise call.error("malformed", f"{len(pages)} pages listed, more than {MAX_PAGES}")
        found: dict[str, Fill] = {}
        timeout_s = self._endpoint.timeout_s
        ceiling = time.monotonic() + PAGED_TIMEOUTS * timeout_s
        for index, page in enumerate(pages):
            target = self._page_target(call, account, page, index)
            if time.monotonic() >= ceiling:
                raise call.error(
                    "timeout",
                    f"{len(pages)} pages not read within {PAGED_TIMEOUTS} x {timeout_s:g} s "
                    f"(stopped at pages[{index}])",
                )
            call.next_request(ceiling)
            body = call.get(target, name=f"pages[{index}]")
            with call.reading():
                for fill in filter(None, map(_fill, body.objects("transactions"))):
                    if since <= fill.time <= until:
                        found.setdefault(fill.id, fill)
        return sorted(found.values(), key=lambda f: (f.time, int(f.id) if f.id.isdigit() else 0))

    def transactions_since(self, account: str, transaction_id: str) -> list[Transaction]:
        """Every transaction after (not including) `transaction_id` (GET .../sinceid)."""
        call = Call(self._client, self._endpoint, account)
        body = call.get(f"{_account_path(account)}/transactions/sinceid", {"id": transaction_id})
        with call.reading():
            return [_transaction(t) for t in body.objects("transactions")]

    # -- plumbing ----------------------------------------------------------------------

    def _page_target(self, call: Call, account: str, page: str, index: int) -> str:
        """A page URL to follow: only on our own scheme/host/port and this account's idrange."""
        try:
            url = httpx.URL(page)
        except (httpx.InvalidURL, TypeError):
            raise call.error("malformed", f"pages[{index}] is not a URL") from None
        wanted = self._base.path.rstrip("/") + f"{_account_path(account)}/transactions/idrange"
        if origin(url) != origin(self._base) or url.path != wanted:
            raise call.error(
                "malformed",
                f"pages[{index}] points at {origin_text(url)}{url.path}, not this broker's "
                f"{origin_text(self._base)}{wanted}; not followed",
            )
        return str(url)


def _account_path(account: str) -> str:
    return f"/v3/accounts/{quote(account, safe='')}"


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _rfc3339(moment: datetime) -> str:
    """OANDA's RFC 3339 form with nanoseconds."""
    utc = _utc(moment)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond:06d}000Z"


def _fill(t: Fields) -> Fill | None:
    if t.text("type") != "ORDER_FILL":
        return None  # a server that ignores the type filter: skip, do not fail
    price = t.decimal("price") if t.has("price") else t.decimal("fullVWAP")
    return Fill(t.text("id"), t.time("time"), t.text("instrument"), t.decimal("units"), price)


def _transaction(t: Fields) -> Transaction:
    return Transaction(
        id=t.text("id"),
        time=t.time("time"),
        type=t.text("type"),
        instrument=t.text("instrument") if t.has("instrument") else None,
        units=t.decimal("units") if t.has("units") else None,
        price=t.decimal("price") if t.has("price") else None,
    )
