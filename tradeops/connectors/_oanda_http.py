"""HTTP plumbing of the OANDA connector: one call's deadline, retries and error mapping.

A `Call` is one public method call: every request it makes (retries after 429, transaction
pages) shares one deadline of `timeout_s`. Every failure becomes a BrokerError whose
message names the broker, the account and the path, and never the token.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager

import httpx

from tradeops._record import frozen_record
from tradeops._secret import Secret
from tradeops.connectors._http import (
    Answer,
    BadJson,
    Failure,
    Pace,
    decode_json,
    fetch_once_more,
    scrub,
)
from tradeops.connectors._oanda_fields import Fields, Malformed
from tradeops.connectors.errors import BrokerError

MAX_TRIES = 3  # per request, when 429 Retry-After fits in the call's budget


@frozen_record
class Endpoint:
    """Who we talk to: the broker's name and base URL, its token, the per-call budget."""

    name: str
    url: str
    token: Secret
    timeout_s: float
    max_bytes: int = 10_000_000
    skew_s: float = 5.0
    pace: Pace | None = None
    retried: list[str] | None = None  # where each call that needed a retry is noted


class Bearer(httpx.Auth):
    """Adds the Authorization header per request: the token is revealed nowhere else."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request


class Call:
    """One method call: its deadline, its account, and the error text around it."""

    def __init__(self, client: httpx.Client, endpoint: Endpoint, account: str | None) -> None:
        self.client = client
        self.endpoint = endpoint
        self.account = account
        self.deadline = time.monotonic() + endpoint.timeout_s
        self.path = ""

    def next_request(self, ceiling: float) -> None:
        """A fresh deadline for the call's next request, never past `ceiling`: each page
        of a paged read gets the broker's timeout, as every request does."""
        self.deadline = min(time.monotonic() + self.endpoint.timeout_s, ceiling)

    def error(self, kind: str, detail: str) -> BrokerError:
        name = self.endpoint.name
        where = f"account {self.account}" if self.account else "account list"
        message = scrub(f"broker {name} {where}: GET {self.path}: {detail}")
        return BrokerError(message, kind=kind, broker=name, account=self.account)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Around the reading of answer fields: a missing/mistyped one is a malformed answer."""
        try:
            yield
        except Malformed as exc:
            raise self.error("malformed", str(exc)) from None

    def get(self, target: str, params: dict[str, str] | None = None, name: str = "") -> Fields:
        """GET with retries on an honourable 429 and once after a transient failure;
        the JSON object answered, or BrokerError."""
        url = httpx.URL(target)
        self.path = url.raw_path.decode() if url.is_absolute_url else target
        timeout_text = f"no answer within {self.endpoint.timeout_s:g} s"
        for attempt in range(1, MAX_TRIES + 1):
            try:
                response = fetch_once_more(
                    self.client,
                    target,
                    deadline=self.deadline,
                    budget_s=self.endpoint.timeout_s,
                    max_bytes=self.endpoint.max_bytes,
                    params=params,
                    pace=self.endpoint.pace,
                )
            except Failure as exc:
                if exc.kind == "timeout":
                    raise self.error("timeout", f"{timeout_text} ({exc.detail})") from None
                if exc.kind == "too_big":
                    raise self.error("malformed", exc.detail) from None
                if exc.kind == "refused":
                    raise self.error(
                        "unreachable", f"cannot connect to {self.endpoint.url} (refused)"
                    ) from None
                raise self.error("unreachable", exc.detail) from None
            self._note_retry(response)
            if response.status == 429:
                header = response.header("Retry-After")
                wait = _retry_after(header)
                room = self.deadline - time.monotonic()
                if wait is not None and wait < room and attempt < MAX_TRIES:
                    time.sleep(wait)
                    continue
                raise self.error("rate_limited", self._rate_detail(header, wait, attempt))
            if response.status >= 300:
                raise self._status_error(response)
            try:
                data = decode_json(response.body)
            except BadJson as exc:
                raise self.error("malformed", f"{exc}: {response.text(120)!r}") from None
            with self.reading():
                return Fields(data, name, self.endpoint.skew_s)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _note_retry(self, response: Answer) -> None:
        if response.retries and self.endpoint.retried is not None:
            where = f"account {self.account}" if self.account else "account list"
            self.endpoint.retried.append(
                f"{where}: GET {self.path} after 1 retry ({response.retried_for[0]})"
            )

    def _rate_detail(self, header: str | None, wait: float | None, attempt: int) -> str:
        if header is None:
            return "rate limited (429) without a Retry-After"
        if wait is not None and attempt >= MAX_TRIES:
            return f"still rate limited (429) after {attempt} tries; Retry-After {header} s"
        return (
            f"rate limited (429); Retry-After {_snippet(header)} s does not fit in the "
            f"{self.endpoint.timeout_s:g} s budget"
        )

    def _status_error(self, response: Answer) -> BrokerError:
        status = response.status
        said = _error_message(response)
        after = " after 1 retry" if response.retries else ""
        source = self.endpoint.token.source
        if status == 401:
            return self.error("auth", f"token in {source} was rejected (401)")
        if status == 403:
            return self.error(
                "forbidden", f"token in {source} may not read this account (403){said}"
            )
        if status == 404:
            return self.error("not_found", f"not found (404){said}")
        if status >= 500:
            return self.error("server", f"server error ({status}){after}{said}")
        if 300 <= status < 400:
            location = _snippet(response.header("Location") or "nowhere")
            return self.error("http", f"redirect ({status}) to {location} not followed")
        return self.error("http", f"unexpected answer ({status}){said}")


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def origin_text(url: httpx.URL) -> str:
    """scheme://host:port, for messages."""
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, or None if absent or not a number (an HTTP date: not honoured)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None


def _snippet(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _error_message(response: Answer) -> str:
    """': <OANDA errorMessage>' (or the body's start), for the end of an error line."""
    try:
        body = decode_json(response.body)
        said = body.get("errorMessage") if isinstance(body, dict) else None
    except BadJson:
        said = None
    text = _snippet(scrub(said)) if isinstance(said, str) else response.text(120)
    return f": {text}" if text else ""
