"""The platform's control plane over HTTP: GET only, a timeout on every call, typed answers.

Every failure is a ControlPlaneError an operator can act on: it names the URL and the
request (`GET /api/health`), and for a malformed answer the field by its path
(`runs[3].gaps`). A token is only ever named by where it came from (`$CONTROL_PLANE_TOKEN`).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx

from tradeops._record import frozen_record
from tradeops._secret import Secret
from tradeops.config import ControlPlaneConfig, Manifest
from tradeops.connectors._http import (
    Answer,
    BadJson,
    Failure,
    decode_json,
    fetch_once_more,
    new_client,
    scrub,
)
from tradeops.connectors._json_fields import Fields
from tradeops.connectors.errors import ControlPlaneError

HEALTH = "/api/health"
SUMMARY = "/api/control/summary"
STRATEGIES = "/api/strategies"


@frozen_record
class BrokerHealth:
    """One broker account as the platform sees its connection."""

    account_id: str
    connected: bool
    last_heartbeat: datetime | None


@frozen_record
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
    retries: int = 0  # 1 when the answer came on a second try (after a transient failure)


@frozen_record
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


@frozen_record
class Summary:
    """GET /api/control/summary: the platform's own verdict on its runs."""

    status: str
    generated_at: datetime
    runs: list[SummaryRun]


@frozen_record
class Backtest:
    """What a strategy's backtest promised."""

    trades_per_day: float
    win_rate: float
    avg_pl_per_trade: float
    max_drawdown: float


@frozen_record
class Strategy:
    """One configured strategy from GET /api/strategies."""

    strategy_id: str
    instrument: str
    account_id: str
    mode: str
    scheduled: bool
    backtest: Backtest


class ControlPlane:
    """Client of the control plane API; use as a context manager or call close().

    Each call ends within `timeout_s` as a whole (connect, headers, body, one retry) and
    reads at most `max_answer_mb`. A call that needed a retry says so: `Health.retries`,
    and `retried` lists every such call ("GET /api/health after 1 retry (timeout)").
    """

    def __init__(
        self,
        url: str,
        token: Secret | None = None,
        timeout_s: float = 5.0,
        *,
        max_answer_mb: float = 10.0,
        clock_skew_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_bytes = int(max_answer_mb * 1_000_000)
        self.clock_skew_s = clock_skew_s
        self.retried: list[str] = []
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
        self._client = new_client(
            str(parsed).rstrip("/"), timeout_s=timeout_s, headers=headers, transport=transport
        )

    @classmethod
    def from_config(cls, config: ControlPlaneConfig, *, clock_skew_s: float = 5.0) -> ControlPlane:
        """The connector the manifest's [control_plane] section describes."""
        return cls(
            config.url,
            config.token,
            config.timeout_s,
            max_answer_mb=config.max_answer_mb,
            clock_skew_s=clock_skew_s,
        )

    @classmethod
    def of(cls, manifest: Manifest) -> ControlPlane:
        """The manifest's control plane, its clock judged with the manifest's skew limit."""
        skew_s = manifest.thresholds.clock_skew_max_s
        return cls.from_config(manifest.control_plane, clock_skew_s=skew_s)

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
        body, answer_of = self._get(HEALTH)
        status, latency_ms = answer_of.status, answer_of.latency_ms
        f = self._fields(HEALTH)
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
            time=f.time(answer, "time", clock=True),
            journal_mode=f.text(store, "journal_mode", "event_store"),
            last_write=f.time_or_none(store, "last_write", "event_store"),
            brokers=brokers,
            latency_ms=latency_ms,
            http_status=status,
            retries=answer_of.retries,
        )

    def summary(self) -> Summary:
        """GET /api/control/summary."""
        body, _ = self._get(SUMMARY)
        f = self._fields(SUMMARY)
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
            generated_at=f.time(answer, "generated_at", clock=True),
            runs=runs,
        )

    def strategies(self) -> list[Strategy]:
        """GET /api/strategies."""
        body, _ = self._get(STRATEGIES)
        f = self._fields(STRATEGIES)
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
                        trades_per_day=f.number(bt, "trades_per_day", bt_at, lo=0),
                        win_rate=f.number(bt, "win_rate", bt_at, lo=0, hi=1),
                        avg_pl_per_trade=f.number(bt, "avg_pl_per_trade", bt_at),
                        max_drawdown=f.number(bt, "max_drawdown", bt_at, lo=0, hi=1),
                    ),
                )
            )
        return found

    # -- plumbing --------------------------------------------------------------------

    def _prefix(self, path: str) -> str:
        return f"control plane at {self.url}: GET {path}"

    def _fields(self, path: str) -> Fields:
        return Fields(self._prefix(path), self.clock_skew_s)

    def _error(self, text: str) -> ControlPlaneError:
        """Every error of this connector: scrubbed, whatever part of it a server wrote."""
        return ControlPlaneError(scrub(text))

    def _get(self, path: str) -> tuple[Any, Answer]:
        """One GET (one retry after a transient failure): (decoded JSON, its answer)."""
        if self._invalid is not None:
            raise self._error(self._invalid)
        where = f"GET {path}"
        started = time.perf_counter()
        try:
            answer = fetch_once_more(
                self._client,
                path,
                deadline=time.monotonic() + self.timeout_s,
                budget_s=self.timeout_s,
                max_bytes=self.max_bytes,
            )
        except Failure as exc:
            raise self._failure(where, exc) from None
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        after = " after 1 retry" if answer.retries else ""
        if answer.retries:
            self.retried.append(f"{where}{after} ({answer.retried_for[0]})")
        status = answer.status
        if status in (401, 403):
            if self._token is None:
                raise self._error(
                    f"control plane at {self.url} requires a token ({status}) and none is "
                    "configured: set [control_plane] token_env in the manifest"
                )
            raise self._error(
                f"control plane at {self.url} rejected the token from {self._token.source} "
                f"({status})"
            )
        if 300 <= status < 400:
            location = answer.header("Location") or "nowhere"
            raise self._error(
                f"control plane at {self.url}: {where} answered a redirect (HTTP {status}) "
                f"to {location[:160]}; redirects are not followed"
            )
        if not 200 <= status < 300:
            raise self._error(
                f"control plane at {self.url}: {where} answered HTTP {status}{after}"
                + self._detail(answer)
            )
        try:
            body = decode_json(answer.body)
        except BadJson as exc:
            raise self._error(f"control plane at {self.url}: {where}: {exc}") from None
        return body, answer

    def _failure(self, where: str, exc: Failure) -> ControlPlaneError:
        if exc.kind == "timeout":
            return self._error(
                f"control plane at {self.url} did not answer {where} within "
                f"{self.timeout_s:g} s ({exc.detail})"
            )
        if exc.kind == "refused":
            return self._error(f"control plane at {self.url} refused the connection")
        if exc.kind == "too_big":
            return self._error(f"control plane at {self.url}: {where}: {exc.detail}")
        return self._error(f"control plane at {self.url}: {where} failed ({exc.detail})")

    def _detail(self, answer: Answer) -> str:
        """The platform's own error text for a non-2xx answer, if it gave one, cut short."""
        try:
            body = decode_json(answer.body)
        except BadJson:
            return ""
        text = body.get("error") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            return ""
        return f" ({scrub(text)[:160]})"
