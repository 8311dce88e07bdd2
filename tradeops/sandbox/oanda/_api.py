"""The simulator's API logic: one request (method, target, headers) -> an OANDA answer.

No sockets here: `answer()` returns the JSON body of a 200 or raises ApiError with the
status, OANDA's errorMessage and extra headers. Checks run in OANDA's order of concerns:
path (404), method (405), token (401), account id shape (400), ownership (403/404),
rate limit (429), then the query's own parameters (400).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from tradeops.sandbox.oanda._render import Book
from tradeops.sandbox.oanda._transactions import TRANSACTION_FILTERS, Account, parse_time, rfc3339

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
# OANDA account ids: {siteID}-{divisionID}-{userID}-{accountNumber}, e.g. 101-004-1234567-001.
ACCOUNT_ID = re.compile(r"\d{3}-\d{3}-\d{1,12}-\d{3}")
UNAUTHORIZED = "Insufficient authorization to perform request."
_ROUTE = re.compile(
    r"/v3/accounts(?:/(?P<account>[^/]+)"
    r"(?P<rest>/summary|/openPositions|/pricing|/transactions(?:/idrange|/sinceid)?))?"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Query = dict[str, list[str]]


class ApiError(Exception):
    """An answer other than 200: status, OANDA errorMessage, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class BrokerState:
    """Everything a request needs: the books, who owns what, the faults, the clock."""

    book: Book
    tokens: dict[str, frozenset[str]]
    hang: bool = False
    rate_limited: frozenset[str] = frozenset()
    retry_after_s: int = 30
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def known_accounts(self) -> set[str]:
        """Every account id anyone has heard of: another login's is 403, not 404."""
        return set(self.book.accounts).union(*self.tokens.values())


def answer(
    state: BrokerState, method: str, target: str, headers: Mapping[str, str], own_host: str
) -> dict:
    """The 200 body for one request, or ApiError. `own_host` (host:port) prefixes page URLs."""
    url = urlsplit(target)
    route = _ROUTE.fullmatch(url.path)
    if route is None:
        raise ApiError(404, f"The path {url.path} does not exist on this server.")
    if method != "GET":
        raise ApiError(405, f"The method {method} is not allowed on this endpoint.")
    owned = _owned_accounts(state, headers.get("Authorization") or "")
    query = parse_qs(url.query, keep_blank_values=True)
    account_id = route["account"]
    if account_id is None:
        if owned & state.rate_limited:
            raise _rate_limited(state)
        listed = sorted(owned & state.book.accounts.keys())
        return {"accounts": [{"id": a, "tags": []} for a in listed]}
    if not ACCOUNT_ID.fullmatch(account_id):
        raise ApiError(400, "Invalid value specified for 'accountID'")
    if account_id not in owned:
        if account_id in state.known_accounts:
            raise ApiError(403, "The provided request was forbidden.")
        raise ApiError(404, "The Account specified does not exist.")
    account = state.book.accounts.get(account_id)
    if account is None:
        raise ApiError(404, "The Account specified does not exist.")
    if account_id in state.rate_limited:
        raise _rate_limited(state)
    now = state.clock()
    rest = route["rest"]
    if rest == "/summary":
        return state.book.summary(account_id, now)
    if rest == "/openPositions":
        return state.book.open_positions(account_id, now)
    if rest == "/pricing":
        return _pricing(state.book, query, now)
    if rest == "/transactions":
        return _transaction_pages(account, query, now, own_host)
    if rest == "/transactions/idrange":
        first, last = _id_param(query, "from"), _id_param(query, "to")
        return _transactions(account, account.in_ids(first, last, _filters(query)))
    return _transactions(account, account.since(_id_param(query, "id")))


def _owned_accounts(state: BrokerState, authorization: str) -> frozenset[str]:
    scheme, _, token = authorization.partition(" ")
    owned = state.tokens.get(token.strip()) if scheme == "Bearer" else None
    if owned is None:
        raise ApiError(401, UNAUTHORIZED)
    return owned


def _rate_limited(state: BrokerState) -> ApiError:
    after = state.retry_after_s
    return ApiError(
        429,
        f"Rate limit exceeded for this token. Retry after {after} seconds.",
        {"Retry-After": str(after)},
    )


def _pricing(book: Book, query: Query, now: datetime) -> dict:
    names = [n for n in _one(query, "instruments", "").split(",") if n]
    if not names or any(n not in book.instruments for n in names):
        raise ApiError(400, "Invalid value specified for 'instruments'")
    conversions = _one(query, "includeHomeConversions", "false").lower() == "true"
    return book.pricing(names, now, conversions)


def _transaction_pages(account: Account, query: Query, now: datetime, own_host: str) -> dict:
    """TransactionPages: the count and idrange page URLs of a time range's transactions."""
    created = _EPOCH + timedelta(milliseconds=int(account.raw.get("created_ms", 0)))
    start = _time_param(query, "from", created)
    end = _time_param(query, "to", now)
    if start > end:
        raise ApiError(400, "Invalid value specified for 'to': before 'from'")
    try:
        page_size = int(_one(query, "pageSize", str(DEFAULT_PAGE_SIZE)))
    except ValueError:
        page_size = 0
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ApiError(400, "Invalid value specified for 'pageSize'")
    filters = _filters(query)
    found = account.in_time(_micros(start), _micros(end), filters)
    type_query = f"&type={','.join(sorted(filters))}" if filters else ""
    base = f"http://{own_host}/v3/accounts/{account.id}/transactions/idrange"
    pages = [
        f"{base}?from={chunk[0]['id']}&to={chunk[-1]['id']}{type_query}"
        for chunk in (found[i : i + page_size] for i in range(0, len(found), page_size))
    ]
    body: dict = {"from": rfc3339(start), "to": rfc3339(end), "pageSize": page_size}
    if filters:
        body["type"] = sorted(filters)
    body.update(count=len(found), pages=pages, lastTransactionID=account.last_id)
    return body


def _one(query: Query, name: str, default: str | None = None) -> str:
    values = query.get(name)
    if not values:
        if default is None:
            raise ApiError(400, f"Invalid value specified for '{name}': missing")
        return default
    return values[-1]


def _id_param(query: Query, name: str) -> int:
    value = _one(query, name)
    if not value.isdigit():
        raise ApiError(400, f"Invalid value specified for '{name}'")
    return int(value)


def _time_param(query: Query, name: str, default: datetime) -> datetime:
    if name not in query:
        return default
    try:
        return parse_time(_one(query, name))
    except ValueError:
        raise ApiError(400, f"Invalid value specified for '{name}'") from None


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _filters(query: Query) -> frozenset[str]:
    names = frozenset(n for v in query.get("type", []) for n in v.split(",") if n)
    if names - TRANSACTION_FILTERS:
        raise ApiError(400, "Invalid value specified for 'type'")
    return names


def _transactions(account: Account, found: list[dict]) -> dict:
    return {
        "transactions": [account.render(t) for t in found],
        "lastTransactionID": account.last_id,
    }
