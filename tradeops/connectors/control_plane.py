"""The platform's control plane over HTTP: GET only, a timeout on every call, typed answers.

Every failure is a ControlPlaneError an operator can act on: it names the URL and the
request (`GET /api/health`), and for a malformed answer the field by its path
(`runs[3].gaps`). A token is only ever named by where it came from (`$CONTROL_PLANE_TOKEN`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from tradeops._secret import Secret
from tradeops.connectors._json_fields import Fields
from tradeops.connectors.errors import ControlPlaneError

HEALTH = "/api/health"
SUMMARY = "/api/control/summary"
STRATEGIES = "/api/strategies"


@dataclass(frozen=True)
class BrokerHealth:
    """One broker account as the platform sees its connection."""

    account_id: str
    connected: bool
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class Health:
    """GET /api/health; `ok` only for HTTP 200 with status "ok"."""

    ok: bool
    status: str
    version: str
    time: datetime
    journal_mode: str
    last_write: datetime | None
    brokers: list[BrokerHealth]
    latency_ms: float
    http_status: int = 200


@dataclass(frozen=True)
class SummaryRun:
    """One run in the platform's own summary."""

    run_id: str
    strategy_id: str
    instrument: str
    account_id: str
    state: str
    last_heartbeat: datetime | None
    stale: bool
    gaps: int


@dataclass(frozen=True)
class Summary:
    """GET /api/control/summary: the platform's own verdict on its runs."""

    status: str
    generated_at: datetime
    runs: list[SummaryRun]


@dataclass(frozen=True)
class Backtest:
    """What a strategy's backtest promised."""

    trades_per_day: float
    win_rate: float
    avg_pl_per_trade: float
    max_drawdown: float


@dataclass(frozen=True)
class Strategy:
    """One configured strategy from GET /api/strategies."""

    strategy_id: str
    instrument: str
    account_id: str
    mode: str
    scheduled: bool
    backtest: Backtest


class ControlPlane:
    """Client of the control plane API; use as a context manager or call close()."""

    def __init__(
        self,
        url: str,
        token: Secret | None = None,
        timeout_s: float = 5.0,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self._token = token
        # A bad URL is reported by the first call, like an unreachable one: creating a
        # connector never fails, so a broken part fails the check that reads it.
        self._invalid: str | None = None
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            parsed = httpx.URL("http://invalid.invalid")
            self._invalid = f"control plane URL {url!r} is not a valid URL"
        if self._invalid is None and (parsed.scheme not in ("http", "https") or not parsed.host):
            self._invalid = f"control plane URL {url!r} is not an http:// or https:// URL"
        # Shown in every message: userinfo (if someone put a password in the URL) left out.
        self.url = str(parsed.copy_with(username=None, password=None)).rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "tradeops"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token.reveal()}"
        self._client = httpx.Client(
            base_url=str(parsed).rstrip("/"),
            headers=headers,
            timeout=timeout_s,
            transport=transport,
            follow_redirects=False,
            # Talk to exactly the URL in the manifest: no proxy or netrc from the environment.
            trust_env=False,
        )

    def __repr__(self) -> str:
        return f"ControlPlane({self.url!r})"

    def __enter__(self) -> ControlPlane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def health(self) -> Health:
        """GET /api/health; a non-2xx answer (even 503 with a body) is a ControlPlaneError."""
        body, status, latency_ms = self._get(HEALTH)
        f = Fields(self._prefix(HEALTH))
        answer = f.obj(body, "")
        store = f.sub(answer, "event_store")
        brokers = [
            BrokerHealth(
                account_id=f.text(f.obj(b, f"brokers[{i}]"), "account_id", f"brokers[{i}]"),
                connected=f.flag(b, "connected", f"brokers[{i}]"),
                last_heartbeat=f.time_or_none(b, "last_heartbeat", f"brokers[{i}]"),
            )
            for i, b in enumerate(f.array(answer, "brokers"))
        ]
        reported = f.text(answer, "status")
        return Health(
            ok=status == 200 and reported == "ok",
            status=reported,
            version=f.text(answer, "version"),
            time=f.time(answer, "time"),
            journal_mode=f.text(store, "journal_mode", "event_store"),
            last_write=f.time_or_none(store, "last_write", "event_store"),
            brokers=brokers,
            latency_ms=latency_ms,
            http_status=status,
        )

    def summary(self) -> Summary:
        """GET /api/control/summary."""
        body, _, _ = self._get(SUMMARY)
        f = Fields(self._prefix(SUMMARY))
        answer = f.obj(body, "")
        runs = []
        for i, raw in enumerate(f.array(answer, "runs")):
            at = f"runs[{i}]"
            run = f.obj(raw, at)
            runs.append(
                SummaryRun(
                    run_id=f.text(run, "run_id", at),
                    strategy_id=f.text(run, "strategy_id", at),
                    instrument=f.text(run, "instrument", at),
                    account_id=f.text(run, "account_id", at),
                    state=f.text(run, "state", at),
                    last_heartbeat=f.time_or_none(run, "last_heartbeat", at),
                    stale=f.flag(run, "stale", at),
                    gaps=f.integer(run, "gaps", at),
                )
            )
        return Summary(
            status=f.text(answer, "status"),
            generated_at=f.time(answer, "generated_at"),
            runs=runs,
        )

    def strategies(self) -> list[Strategy]:
        """GET /api/strategies."""
        body, _, _ = self._get(STRATEGIES)
        f = Fields(self._prefix(STRATEGIES))
        answer = f.obj(body, "")
        found = []
        for i, raw in enumerate(f.array(answer, "strategies")):
            at = f"strategies[{i}]"
            entry = f.obj(raw, at)
            bt_at = f"{at}.backtest"
            bt = f.sub(entry, "backtest", at)
            found.append(
                Strategy(
                    strategy_id=f.text(entry, "strategy_id", at),
                    instrument=f.text(entry, "instrument", at),
                    account_id=f.text(entry, "account_id", at),
                    mode=f.text(entry, "mode", at),
                    scheduled=f.flag(entry, "scheduled", at),
                    backtest=Backtest(
                        trades_per_day=f.number(bt, "trades_per_day", bt_at),
                        win_rate=f.number(bt, "win_rate", bt_at),
                        avg_pl_per_trade=f.number(bt, "avg_pl_per_trade", bt_at),
                        max_drawdown=f.number(bt, "max_drawdown", bt_at),
                    ),
                )
            )
        return found

    # -- plumbing --------------------------------------------------------------------

    def _prefix(self, path: str) -> str:
        return f"control plane at {self.url}: GET {path}"

    def _get(self, path: str) -> tuple[Any, int, float]:
        """One GET: (decoded JSON, HTTP status, latency in ms), or a ControlPlaneError."""
        if self._invalid is not None:
            raise ControlPlaneError(self._invalid)
        where = f"GET {path}"
        started = time.perf_counter()
        try:
            response = self._client.get(path)
        except httpx.TimeoutException:
            raise ControlPlaneError(
                f"control plane at {self.url} did not answer {where} within {self.timeout_s:g} s"
            ) from None
        except httpx.ConnectError as exc:
            if "refused" in str(exc).lower():
                raise ControlPlaneError(
                    f"control plane at {self.url} refused the connection"
                ) from None
            raise ControlPlaneError(
                f"control plane at {self.url} could not be reached ({self._scrub(str(exc))})"
            ) from None
        except httpx.HTTPError as exc:
            raise ControlPlaneError(
                f"control plane at {self.url}: {where} failed "
                f"({type(exc).__name__}: {self._scrub(str(exc))})"
            ) from None
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        status = response.status_code
        if status in (401, 403):
            if self._token is None:
                raise ControlPlaneError(
                    f"control plane at {self.url} requires a token ({status}) and none is "
                    "configured: set [control_plane] token_env in the manifest"
                )
            raise ControlPlaneError(
                f"control plane at {self.url} rejected the token from {self._token.source} "
                f"({status})"
            )
        if not 200 <= status < 300:
            raise ControlPlaneError(
                f"control plane at {self.url}: {where} answered HTTP {status}"
                + self._detail(response)
            )
        try:
            body = response.json()
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both
            raise ControlPlaneError(
                f"control plane at {self.url}: {where} answered invalid JSON ({exc})"
            ) from None
        return body, status, latency_ms

    def _detail(self, response: httpx.Response) -> str:
        """The platform's own error text for a non-2xx answer, if it gave one, cut short."""
        try:
            body = response.json()
        except ValueError:
            return ""
        text = body.get("error") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            return ""
        text = self._scrub(text)
        return f" ({text[:160]})"

    def _scrub(self, text: str) -> str:
        """The text with the token (should a server echo it) replaced by asterisks."""
        if self._token is not None and self._token.reveal():
            return text.replace(self._token.reveal(), "***")
        return text
