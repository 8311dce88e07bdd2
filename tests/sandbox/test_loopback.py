"""The sandbox's one HTTP server: a client that hangs up is no error, anything else is."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from tradeops.sandbox._loopback import LoopbackServer


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/broken":
            raise ValueError("a fault of the server's own")
        time.sleep(0.2)  # the client has reset the connection by now
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    server = LoopbackServer(("127.0.0.1", 0), _Handler)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    serving.start()
    yield server
    server.shutdown()
    server.server_close()
    serving.join(timeout=5)


def _request(server: LoopbackServer, path: str, *, reset: bool) -> None:
    with socket.create_connection(server.server_address, timeout=5) as client:
        if reset:  # close with RST: the server's write then fails, as after a passed deadline
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        if not reset:
            client.recv(1024)


def test_a_client_that_hangs_up_before_its_answer_prints_no_traceback(server, capsys):
    for _ in range(5):
        _request(server, "/slow", reset=True)
    time.sleep(0.5)  # the handlers have tried their writes
    assert "Traceback" not in capsys.readouterr().err


def test_any_other_error_is_still_printed(server, capsys):
    _request(server, "/broken", reset=False)
    assert "ValueError: a fault of the server's own" in capsys.readouterr().err


def test_its_request_threads_never_hold_the_process_open():
    assert LoopbackServer.daemon_threads is True
