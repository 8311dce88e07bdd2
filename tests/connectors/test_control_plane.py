"""ControlPlane against a real HTTP server process on 127.0.0.1 serving canned answers.

One server serves every case under its own path prefix: the client's base URL is
`http://127.0.0.1:PORT/<case>`, so `GET /api/health` for case "degraded" arrives as
`/degraded/api/health`, and the messages still say `GET /api/health`.
"""

from __future__ import annotations

import json
import selectors
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tradeops._secret import Secret
from tradeops.connectors.control_plane import BrokerHealth, ControlPlane
from tradeops.connectors.errors import ControlPlaneError

Server = tuple[str, Path]  # (base URL, request log)
TOKEN = "tok-3f9a1c-very-secret"
TOKEN_ENV = "$CONTROL_PLANE_TOKEN"

HEALTH = {
    "status": "ok",
    "version": "1.4.2",
    "time": "2026-11-24T09:00:00Z",
    "event_store": {"journal_mode": "wal", "last_write": "2026-11-24T08:59:58Z"},
    "brokers": [
        {
            "account_id": "101-004-1234567-001",
            "connected": True,
            "last_heartbeat": "2026-11-24T10:59:55.123456789+02:00",
        }
    ],
}
RUN = {
    "run_id": "r-0193",
    "strategy_id": "mr-eurusd-01",
    "instrument": "EUR_USD",
    "account_id": "101-004-1234567-001",
    "state": "running",
    "last_heartbeat": "2026-11-24T08:59:51Z",
    "stale": False,
    "gaps": 0,
}
SUMMARY = {"status": "green", "generated_at": "2026-11-24T09:00:00Z", "runs": [RUN]}
STRATEGY = {
    "strategy_id": "mr-eurusd-01",
    "instrument": "EUR_USD",
    "account_id": "101-004-1234567-001",
    "mode": "paper",
    "scheduled": True,
    "backtest": {
        "trades_per_day": 6.5,
        "win_rate": 0.54,
        "avg_pl_per_trade": 1.8,
        "max_drawdown": 0,
    },
}


def _json(body: object, status: int = 200, **extra: object) -> dict:
    return {"status": status, "body": json.dumps(body), **extra}


ROUTES: dict[str, dict] = {
    "/good/api/health": _json(HEALTH),
    "/good/api/control/summary": _json(SUMMARY),
    "/good/api/strategies": _json({"strategies": [STRATEGY]}),
    "/nowrite/api/health": _json(
        {**HEALTH, "event_store": {"journal_mode": "wal", "last_write": None}}
    ),
    "/degraded/api/health": _json({**HEALTH, "status": "degraded"}),
    "/down/api/health": _json({"status": "error", "error": "store unreadable"}, 503),
    "/teapot/api/control/summary": {"status": 418, "body": "short and stout"},
    "/garbage/api/health": {"status": 200, "body": "<html>not json</html>"},
    "/hang/api/health": _json(HEALTH, delay_s=3),
    "/locked/api/health": _json(HEALTH, token=TOKEN),
    "/forbidden/api/health": _json({"error": f"token {TOKEN} is not allowed"}, 403),
    "/echo/api/health": _json({"error": f"bad header Bearer {TOKEN}"}, 500),
    "/badgaps/api/control/summary": _json(
        {**SUMMARY, "runs": [RUN, RUN, RUN, {**RUN, "gaps": "x"}]}
    ),
    "/nostale/api/control/summary": _json(
        {**SUMMARY, "runs": [{k: v for k, v in RUN.items() if k != "stale"}]}
    ),
    "/badtime/api/control/summary": _json({**SUMMARY, "generated_at": "24/11/2026 09:00"}),
    "/naive/api/health": _json({**HEALTH, "time": "2026-11-24T09:00:00"}),
    "/month13/api/health": _json({**HEALTH, "time": "2026-13-24T09:00:00Z"}),
    "/list/api/health": _json([HEALTH]),
    "/boolgaps/api/control/summary": _json({**SUMMARY, "runs": [{**RUN, "gaps": True}]}),
    "/badrate/api/strategies": _json(
        {"strategies": [{**STRATEGY, "backtest": {**STRATEGY["backtest"], "win_rate": "0.5"}}]}
    ),
    "/nobroker/api/health": _json({**HEALTH, "brokers": [{"account_id": 7, "connected": True}]}),
}

_SERVER = r"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
routes = json.load(open(sys.argv[1]))
log = open(sys.argv[2], "a", buffering=1)

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each answer waits 40 ms for a delayed ACK
    def log_message(self, *args):
        pass
    def _answer(self):
        log.write(f"{self.command} {self.path}\n")
        route = routes.get(self.path)
        if route is None:
            status, body = 404, json.dumps({"error": "no such path"})
        elif self.command != "GET":
            status, body = 405, json.dumps({"error": "GET only"})
        elif "token" in route and self.headers.get("Authorization") != "Bearer " + route["token"]:
            status, body = 401, json.dumps({"error": "bad token"})
        else:
            time.sleep(route.get("delay_s", 0))
            status, body = route["status"], route["body"]
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = do_PUT = do_DELETE = _answer

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """(base URL, request log) of the canned server, a separate process."""
    directory = tmp_path_factory.mktemp("canned")
    routes, log = directory / "routes.json", directory / "requests.log"
    routes.write_text(json.dumps(ROUTES))
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(routes), str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=15), "the canned server did not start"
    port = int(process.stdout.readline().split()[1])
    yield f"http://127.0.0.1:{port}", log
    process.terminate()
    process.wait(timeout=10)
    process.stdout.close()


def client(
    server: Server, case: str, *, token: str | None = None, timeout_s: float = 2.0
) -> ControlPlane:
    """A client for one canned case, with `token` from TOKEN_ENV if given."""
    secret = Secret(token, source=TOKEN_ENV) if token else None
    return ControlPlane(f"{server[0]}/{case}", secret, timeout_s)


def failure(server: Server, case: str, call: str, **kwargs: Any) -> str:
    """The ControlPlaneError message of one call."""
    with client(server, case, **kwargs) as cp, pytest.raises(ControlPlaneError) as caught:
        getattr(cp, call)()
    return str(caught.value)


# -- good answers ------------------------------------------------------------------------


def test_health_is_parsed_into_typed_fields(server: Server) -> None:
    with client(server, "good", token=TOKEN) as cp:
        health = cp.health()
    assert health.ok and health.status == "ok" and health.version == "1.4.2"
    assert health.time == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert health.journal_mode == "wal"
    assert health.last_write == datetime(2026, 11, 24, 8, 59, 58, tzinfo=UTC)
    # An offset is converted to UTC; nanoseconds are cut to microseconds.
    assert health.brokers == [
        BrokerHealth(
            "101-004-1234567-001", True, datetime(2026, 11, 24, 8, 59, 55, 123456, tzinfo=UTC)
        )
    ]
    assert health.latency_ms > 0


def test_a_store_never_written_has_no_last_write(server: Server) -> None:
    with client(server, "nowrite") as cp:
        assert cp.health().last_write is None


def test_a_degraded_platform_answers_but_is_not_ok(server: Server) -> None:
    with client(server, "degraded") as cp:
        health = cp.health()
    assert (health.ok, health.status, health.http_status) == (False, "degraded", 200)


def test_summary_and_strategies_are_parsed(server: Server) -> None:
    with client(server, "good") as cp:
        summary = cp.summary()
        (strategy,) = cp.strategies()
    assert summary.status == "green" and summary.generated_at.tzinfo is UTC
    (run,) = summary.runs
    assert (run.run_id, run.state, run.stale, run.gaps) == ("r-0193", "running", False, 0)
    assert strategy.scheduled and strategy.mode == "paper"
    assert strategy.backtest.max_drawdown == 0.0 and isinstance(
        strategy.backtest.max_drawdown, float
    )


def test_the_token_is_sent_as_a_bearer_header(server: Server) -> None:
    with client(server, "locked", token=TOKEN) as cp:
        assert cp.health().ok


def test_only_get_requests_reach_the_platform(server: Server) -> None:
    with client(server, "good") as cp:
        cp.health(), cp.summary(), cp.strategies()
    methods = {line.split()[0] for line in server[1].read_text().splitlines()}
    assert methods == {"GET"}


# -- failures an operator can act on -------------------------------------------------------


def test_nothing_listening_is_a_refused_connection() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        ControlPlane(f"http://127.0.0.1:{port}", None, 2.0) as cp,
        pytest.raises(ControlPlaneError) as caught,
    ):
        cp.health()
    assert str(caught.value) == f"control plane at http://127.0.0.1:{port} refused the connection"


def test_a_hang_is_a_timeout_naming_the_request(server: Server) -> None:
    message = failure(server, "hang", "health", timeout_s=0.3)
    assert "did not answer GET /api/health within 0.3 s" in message


def test_a_503_with_a_body_is_still_an_error(server: Server) -> None:
    message = failure(server, "down", "health")
    prefix = f"control plane at {server[0]}/down"
    # A 503 is transient: tried once more, and the message says so.
    expected = "GET /api/health answered HTTP 503 after 1 retry (store unreadable)"
    assert message == f"{prefix}: {expected}"


def test_any_other_status_is_named(server: Server) -> None:
    assert failure(server, "teapot", "summary").endswith(
        "GET /api/control/summary answered HTTP 418"
    )


def test_an_unknown_path_is_a_404(server: Server) -> None:
    assert "GET /api/strategies answered HTTP 404" in failure(server, "nowhere", "strategies")


def test_invalid_json_is_named(server: Server) -> None:
    assert "GET /api/health: the answer is not JSON" in failure(server, "garbage", "health")


def test_a_rejected_token_names_its_variable_never_its_value(server: Server) -> None:
    wrong = failure(server, "locked", "health", token="tok-wrong-value")
    forbidden = failure(server, "forbidden", "health", token=TOKEN)
    assert wrong.endswith(f"rejected the token from {TOKEN_ENV} (401)")
    assert forbidden.endswith(f"rejected the token from {TOKEN_ENV} (403)")
    assert "tok-wrong-value" not in wrong


def test_a_missing_token_says_none_is_configured(server: Server) -> None:
    assert "requires a token (401) and none is configured" in failure(server, "locked", "health")


@pytest.mark.parametrize(
    ("case", "call", "expected"),
    [
        (
            "badgaps",
            "summary",
            "GET /api/control/summary: runs[3].gaps: expected an integer, got 'x'",
        ),
        ("boolgaps", "summary", "runs[0].gaps: expected an integer, got true"),
        ("nostale", "summary", "GET /api/control/summary: runs[0].stale: missing"),
        ("badtime", "summary", "generated_at: expected an RFC 3339 time, got '24/11/2026 09:00'"),
        ("naive", "health", "time: expected an RFC 3339 time, got '2026-11-24T09:00:00'"),
        ("month13", "health", "time: expected an RFC 3339 time, got '2026-13-24T09:00:00Z'"),
        ("list", "health", "GET /api/health: the answer: expected a JSON object, got [{"),
        ("nobroker", "health", "brokers[0].account_id: expected a string, got 7"),
        ("badrate", "strategies", "strategies[0].backtest.win_rate: expected a number, got '0.5'"),
    ],
)
def test_a_malformed_answer_names_the_field_by_path(
    server: Server, case: str, call: str, expected: str
) -> None:
    message = failure(server, case, call)
    assert expected in message
    assert message.startswith(f"control plane at {server[0]}/{case}: ")


def test_the_token_never_appears_in_any_message_or_repr(server: Server) -> None:
    cases = [("echo", "health"), ("forbidden", "health"), ("locked", "summary"), ("down", "health")]
    messages = [failure(server, case, call, token=TOKEN) for case, call in cases]
    messages.append(failure(server, "hang", "health", token=TOKEN, timeout_s=0.2))
    with client(server, "good", token=TOKEN) as cp:
        messages += [repr(cp), repr(cp.health()), repr(cp._client.headers)]
    assert len(messages) == 8
    assert all(TOKEN not in message for message in messages), messages
    assert "***" in messages[0]  # the server echoed it; the message shows asterisks


def test_a_url_that_is_not_http_fails_the_first_call_not_the_constructor() -> None:
    cp = ControlPlane("127.0.0.1:8080", None, 1.0)  # a scheme forgotten in the manifest
    with cp, pytest.raises(ControlPlaneError, match="is not an http:// or https:// URL"):
        cp.summary()
