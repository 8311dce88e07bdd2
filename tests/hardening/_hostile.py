"""A hostile HTTP server on 127.0.0.1: one behaviour per case, chosen by the path's first part.

`http://127.0.0.1:PORT/<case>/api/health` runs `CASES[case]` (a function writing raw bytes),
so one server serves a whole matrix and a connector's base URL picks its case. Every
behaviour is bounded (a drip or an endless body stops after MAX_STREAM_S or when the
client goes away), and the server echoes the Authorization header it received wherever
a behaviour asks for `{auth}`: the token must come back to the suite in every way a
server can send it, and never reach an output.
"""

from __future__ import annotations

import gzip
import json
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

MAX_STREAM_S = 20.0  # no behaviour writes for longer than this


class Request:
    """What a behaviour sees: the rest of the path, the Authorization header, the socket."""

    def __init__(self, handler: BaseHTTPRequestHandler, case: str, rest: str) -> None:
        self.handler = handler
        self.case = case
        self.path = rest
        self.auth = handler.headers.get("Authorization", "")
        self.seen = handler.server.seen[case]  # type: ignore[attr-defined]

    def raw(self, data: bytes) -> None:
        self.handler.wfile.write(data)
        self.handler.wfile.flush()

    def head(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.raw(("\r\n".join(lines) + "\r\n\r\n").encode())

    def send(
        self,
        body: bytes | str | Any,
        status: int = 200,
        ctype: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        fields = {"Content-Type": ctype, "Content-Length": str(len(data)), **(headers or {})}
        lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in fields.items()]
        # One write: a head and a body written apart wait out Nagle and delayed ACKs (40 ms).
        self.raw(("\r\n".join(lines) + "\r\n\r\n").encode() + data)


Behaviour = Callable[[Request], None]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        _, case, *rest = [*self.path.split("/", 2), ""]
        behaviour = self.server.cases.get(case)  # type: ignore[attr-defined]
        self.server.seen[case] += 1  # type: ignore[attr-defined]
        self.server.connections.add(id(self.connection))  # type: ignore[attr-defined]
        if behaviour is None:
            Request(self, case, "").send({"error": f"no case {case}"}, 404)
            return
        try:
            behaviour(Request(self, case, "/" + (rest[0] if rest else "")))
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


class HostileServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """The server; `url(case)` is a base URL, `seen[case]` counts requests to it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, cases: dict[str, Behaviour]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.cases = cases
        self.seen: Counter[str] = Counter()
        self.connections: set[int] = set()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def url(self, case: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{case}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


# -- behaviours ------------------------------------------------------------------------


def answer(body: Any, status: int = 200, **kw: Any) -> Behaviour:
    """Always the same answer; `{auth}` in a string body is the received Authorization."""

    def run(r: Request) -> None:
        kw_now = dict(kw)
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        if isinstance(data, str):
            data = data.replace("{auth}", r.auth)
        headers = {k: v.replace("{auth}", r.auth) for k, v in kw_now.pop("headers", {}).items()}
        r.send(data, status, headers=headers, **kw_now)

    return run


def drip(r: Request) -> None:
    """A valid-looking answer, one byte every 0.2 s."""
    r.head(200, {"Content-Type": "application/json", "Content-Length": "100000"})
    _stream(r, lambda: b" ", 0.2)


def endless_chunks(r: Request) -> None:
    """A chunked body that never ends: a chunk of spaces every 50 ms."""
    r.head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    _stream(r, lambda: b"400\r\n" + b" " * 1024 + b"\r\n", 0.05)


def hang_after_headers(r: Request) -> None:
    r.head(200, {"Content-Type": "application/json", "Content-Length": "2"})
    time.sleep(MAX_STREAM_S)


def hang_before_headers(r: Request) -> None:
    time.sleep(MAX_STREAM_S)


def huge(r: Request) -> None:
    """11 MB of a JSON string, no Content-Length (the body ends when the socket closes)."""
    r.head(200, {"Content-Type": "application/json", "Connection": "close"})
    r.raw(b'{"status": "' + b"x" * 11_000_000 + b'"}')
    r.handler.close_connection = True


def declared_huge(r: Request) -> None:
    r.head(200, {"Content-Type": "application/json", "Content-Length": str(50_000_000)})
    r.raw(b"{")
    r.handler.close_connection = True


def gzip_bomb(r: Request) -> None:
    data = gzip.compress(b'{"status": "' + b"0" * 20_000_000 + b'"}')
    r.send(data, headers={"Content-Encoding": "gzip"})


def reset(r: Request) -> None:
    """Close the connection with a RST, no answer at all."""
    r.handler.connection.setsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
    )
    r.handler.close_connection = True
    r.handler.connection.close()


def first_then(first: Behaviour, then: Behaviour) -> Behaviour:
    """`first` for the case's first request, `then` for every later one."""

    def run(r: Request) -> None:
        (first if r.seen == 1 else then)(r)

    return run


def by_path(routes: dict[str, Behaviour], default: Behaviour) -> Behaviour:
    """The behaviour of the first route that the path ends with."""

    def run(r: Request) -> None:
        for suffix, behaviour in routes.items():
            if r.path.split("?")[0].endswith(suffix):
                return behaviour(r)
        return default(r)

    return run


def _stream(r: Request, piece: Callable[[], bytes], every_s: float) -> None:
    end = time.monotonic() + MAX_STREAM_S
    while time.monotonic() < end:
        r.raw(piece())
        time.sleep(every_s)
    r.handler.close_connection = True
