"""The sandbox's OANDA v20 REST simulator: `python -m tradeops.sandbox.oanda.broker --config FILE`.

Serves the ledger (ledger.json) as the read-only part of OANDA's v20 API, with OANDA's
field names, string money, RFC 3339 nanosecond times, `RequestID` headers and
`{"errorMessage": ...}` errors. Faults come from sandbox.json's `broker` block: `hang`
(accept, never answer), `rate_limited_accounts` (429 with Retry-After), `prices_frozen_s`
(quotes stopped that many seconds before the sandbox's `now_ms` and no longer move) and
`price_gap` ({instrument: decimal string} added to that instrument's mid). Tokens arrive
in $TRADEOPS_SANDBOX_BROKER_TOKENS as {token: [account ids]}, never in a file.

Standard library only, so the process starts fast; it binds 127.0.0.1:0, prints
`PORT <n>`, and serves until SIGTERM or until its parent process is gone.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tradeops.sandbox._loopback import LoopbackServer
from tradeops.sandbox.oanda._api import ApiError, BrokerState, answer
from tradeops.sandbox.oanda._ledger import LedgerError
from tradeops.sandbox.oanda._render import Book

__all__ = ["TOKENS_ENV", "BrokerServer", "BrokerState", "load_state", "main"]

TOKENS_ENV = "TRADEOPS_SANDBOX_BROKER_TOKENS"
_MAX_DISCARDED_BODY = 1 << 20
# OANDA RequestIDs are large decimal numbers; count up from one of that size.
_request_ids = itertools.count(24_691_046_405_358_350)


class BrokerServer(LoopbackServer):
    """A threaded HTTP server on 127.0.0.1 (ephemeral port) answering as OANDA v20."""

    request_queue_size = 128  # requests that arrive together queue instead of being refused

    def __init__(self, state: BrokerState, port: int = 0) -> None:
        self.state = state
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def port(self) -> int:
        """The ephemeral port bound on 127.0.0.1."""
        return self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as OANDA; every answer has a Content-Length
    server_version = "tradeops-oanda-simulator"
    server: BrokerServer

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes; without NODELAY, Nagle's algorithm and the
        # client's delayed ACK would add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        if self.server.state.hang:
            self._hang()
        else:
            super().handle()

    def _hang(self) -> None:
        """Accept and read, never answer, until the client leaves or the server stops."""
        while not self.server.state.stopping.is_set():
            # Wait for bytes with a timeout (no busy loop); drain them so select blocks again.
            readable, _, _ = select.select([self.connection], [], [], 1.0)
            if readable:
                try:
                    if not self.connection.recv(65536):
                        return  # the client went away
                except OSError:
                    return

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _serve(self) -> None:
        try:
            self._discard_body()
            status, body, headers = 200, self._answer(), {}
        except ApiError as exc:
            status, body, headers = exc.status, {"errorMessage": exc.message}, exc.headers
        except Exception as exc:  # a simulator bug still answers in OANDA's error shape
            traceback.print_exc()
            status, headers = 500, {}
            body = {"errorMessage": f"internal simulator error ({type(exc).__name__})"}
        self._send(status, body, headers)

    def _discard_body(self) -> None:
        """Read and drop a request body (a POST's), so the keep-alive connection stays sane."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > _MAX_DISCARDED_BODY:
            self.close_connection = True  # cannot skip it safely: answer, then hang up
        elif length > 0:
            self.rfile.read(length)

    def _send(self, status: int, body: dict, headers: dict[str, str]) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("RequestID", str(next(_request_ids)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        """Protocol-level errors (bad request line, ...) in OANDA's JSON shape, not HTML."""
        self.close_connection = True
        self._send(code, {"errorMessage": message or HTTPStatus(code).phrase}, {})

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per request would swamp broker.log; errors still go to stderr

    def _answer(self) -> dict:
        return answer(self.server.state, self.command, self.path, self.headers, self._own_host())

    def _own_host(self) -> str:
        """host:port for page URLs: as the client named us if that is a loopback name."""
        host = (self.headers.get("Host") or "").rpartition(":")[0] or "127.0.0.1"
        if host not in {"127.0.0.1", "localhost"}:
            host = "127.0.0.1"
        return f"{host}:{self.server.port}"


def load_state(config_path: Path, environ: Mapping[str, str]) -> BrokerState:
    """Read sandbox.json, its ledger and the token map; ValueError says what is wrong."""
    config = json.loads(config_path.read_text())
    faults = config.get("broker") or {}
    ledger = json.loads(Path(config["ledger"]).read_text())
    book = Book(ledger, _price_gaps(faults, ledger), _frozen_at(faults, config))
    try:
        raw_tokens = json.loads(environ.get(TOKENS_ENV) or "{}")
        tokens = {str(t): frozenset(map(str, a)) for t, a in raw_tokens.items()}
        if not all(isinstance(a, list) for a in raw_tokens.values()):
            raise TypeError
    except (ValueError, AttributeError, TypeError):
        # Never echo the value: it holds the tokens.
        raise ValueError(f"${TOKENS_ENV} must be a JSON object {{token: [account ids]}}") from None
    return BrokerState(
        book=book,
        tokens=tokens,
        hang=bool(faults.get("hang", False)),
        rate_limited=frozenset(faults.get("rate_limited_accounts") or ()),
        retry_after_s=int(faults.get("retry_after_s", 30)),
    )


def _price_gaps(faults: dict, ledger: dict) -> dict[str, Decimal]:
    """sandbox.json's `price_gap`, checked: known instruments, decimal strings, mids above 0."""
    gaps = {}
    for name, text in (faults.get("price_gap") or {}).items():
        spec = (ledger.get("instruments") or {}).get(name)
        try:
            gap = Decimal(text) if isinstance(text, str) else None
        except InvalidOperation:
            gap = None
        if spec is None or gap is None or not gap.is_finite():
            raise ValueError(
                f"sandbox.json broker.price_gap.{name}: expected a listed instrument "
                f"and a decimal string, got {text!r:.40}"
            )
        if Decimal(spec["mid"]) + gap <= 0:
            raise ValueError(f"sandbox.json broker.price_gap.{name}: {text} takes the mid below 0")
        gaps[name] = gap
    return gaps


def _frozen_at(faults: dict, config: dict) -> datetime | None:
    """When quotes stopped moving: `prices_frozen_s` before the sandbox's now (or ours)."""
    frozen_s = float(faults.get("prices_frozen_s") or 0)
    if frozen_s <= 0:
        return None
    now_ms = config.get("now_ms") or time.time() * 1000
    return datetime.fromtimestamp(now_ms / 1000, UTC) - timedelta(seconds=frozen_s)


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGTERM or until the parent process is gone."""
    parser = argparse.ArgumentParser(prog="python -m tradeops.sandbox.oanda.broker")
    parser.add_argument("--config", required=True, type=Path, help="the sandbox.json to serve")
    args = parser.parse_args(argv)
    try:
        state = load_state(args.config, os.environ)
    except (OSError, KeyError, TypeError, ValueError, LedgerError) as exc:
        print(f"broker simulator: cannot start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    parent = os.getppid()
    server = BrokerServer(state)
    print(f"PORT {server.port}", flush=True)
    # A short poll interval: shutdown() waits for it, and sandboxes stop many times a run.
    worker = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    worker.start()
    # Once a second: a killed pytest reparents us, and no orphan may outlive it.
    while not stop.wait(1.0) and os.getppid() == parent:
        pass
    state.stopping.set()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
