"""Polite to the broker: the whole suite, at 10 accounts and 300 strategies, stays under
OANDA's documented limits (120 requests per second, 2 new connections per second), at
-n 0 and -n 2.

The platform is a sandbox of 300 strategies; its brokers are replaced in the manifest by
one counting OANDA stand-in on 127.0.0.1 that owns 10 accounts and answers every read the
suite makes (summary, positions, prices, transaction pages). It records when each request
and each new TCP connection arrived; the test reads the busiest second of each.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.hardening import _hostile as h
from tests.hardening.test_http_matrix import account, prices
from tests.hardening.test_http_suite import TIMEOUT_S, Platform, proxy, run_suite
from tests.suite_runner import REPO
from tradeops.connectors._http import BROKER_CONNECTIONS, fetch, new_client
from tradeops.connectors.event_store import EventStore
from tradeops.sandbox import Sandbox, StoreParams

OANDA_REQUESTS_PER_S = 120
OANDA_NEW_CONNECTIONS_PER_S = 2
ACCOUNTS = [f"101-004-1234567-{n:03d}" for n in range(1, 11)]


class CountingServer(h.HostileServer):
    """A HostileServer that notes the arrival time of every connection and request."""

    def __init__(self, cases: dict[str, h.Behaviour]) -> None:
        super().__init__(cases)
        self.connected_at: list[float] = []
        self.requested_at: list[float] = []
        self._lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._lock:
            self.connected_at.append(time.monotonic())
        super().process_request(request, client_address)

    def verify_request(self, request, client_address) -> bool:
        return True


def busiest_second(times: list[float]) -> int:
    """The most events in any window of one second."""
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def price(instrument: str) -> dict:
    return {
        **prices(rfc3339(datetime.now(UTC)))["prices"][0],
        "instrument": instrument,
    }


def oanda(server: CountingServer, positions: dict[tuple[str, str], int]) -> h.Behaviour:
    """A valid OANDA answer to every read, for any of the 10 accounts; open positions are
    the store's, so the suite finds them matching and judges every layer."""
    now = datetime.now(UTC)
    fill = {
        "id": "7",
        "time": (now - timedelta(minutes=5)).isoformat(),
        "type": "ORDER_FILL",
        "instrument": "EUR_USD",
        "units": "1000",
        "price": "1.10000",
    }

    def run(r: h.Request) -> None:
        with server._lock:
            server.requested_at.append(time.monotonic())
        path = r.path.split("?")[0]
        account_id = path.split("/")[3] if path.count("/") >= 3 else ""
        if path.endswith("/summary"):
            r.send(account())
        elif path.endswith("/openPositions"):
            held = [
                {
                    "instrument": i,
                    "long": {"units": str(max(u, 0))},
                    "short": {"units": str(min(u, 0))},
                }
                for (a, i), u in positions.items()
                if a == account_id and u
            ]
            r.send({"positions": held, "lastTransactionID": "7"})
        elif path.endswith("/pricing"):
            wanted = r.path.split("instruments=")[-1].split("&")[0].replace("%2C", ",")
            r.send({"prices": [price(i) for i in wanted.split(",") if i]})
        elif path.endswith("/transactions"):
            page = (
                f"{server.url('oanda')}/v3/accounts/{account_id}/transactions/idrange?from=1&to=7"
            )
            r.send({"count": 1, "pages": [page], "lastTransactionID": "7"})
        elif path.endswith(("/idrange", "/sinceid")):
            r.send({"transactions": [fill], "lastTransactionID": "7"})
        elif path == "/v3/accounts":
            r.send({"accounts": [{"id": a, "tags": []} for a in ACCOUNTS]})
        else:
            r.send({"errorMessage": "no such path"}, 404)

    return run


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    params = StoreParams(days=1, strategies=300)
    sandbox = Sandbox("healthy", params=params, cache_dir=REPO / ".cache-tests")
    sandbox.start()
    try:
        import tomllib

        assert sandbox.manifest_path is not None
        config = tomllib.loads(sandbox.manifest_path.read_text())
        yield Platform(config, dict(sandbox.environ))
    finally:
        sandbox.stop()


def all_connected(path: str, body: dict) -> dict | None:
    """/api/health lists the 10 accounts as connected (the sandbox knows 3 of them)."""
    if not path.endswith("/api/health"):
        return None
    heard = rfc3339(datetime.now(UTC))
    body["brokers"] = [
        {"account_id": a, "connected": True, "last_heartbeat": heard} for a in ACCOUNTS
    ]
    return body


def manifest(tmp_path: Path, p: Platform, broker_url: str, cp_url: str) -> Path:
    c = p.config
    path = tmp_path / "ops.toml"
    path.write_text(f"""
[control_plane]
url = "{cp_url}"
token_env = "{c["control_plane"]["token_env"]}"
timeout_s = {TIMEOUT_S}

[event_store]
path = {json.dumps(c["event_store"]["path"])}

[[brokers]]
name = "counted"
url = "{broker_url}"
token_env = "{c["brokers"][0]["token_env"]}"
accounts = {json.dumps(ACCOUNTS)}
timeout_s = {TIMEOUT_S}

[reports]
history_db = {json.dumps(str(tmp_path / "probe-history.sqlite"))}
""")
    return path


@pytest.mark.parametrize("workers", ["0", "2"])
def test_the_suite_stays_under_oandas_limits_at_10_accounts_and_300_strategies(
    platform, tmp_path, workers
):
    with EventStore(platform.config["event_store"]["path"]) as store:
        positions = store.net_positions()
    server = CountingServer({})
    server.cases["oanda"] = oanda(server, positions)
    control_plane = h.HostileServer(
        {"cp": proxy(platform.config["control_plane"]["url"], all_connected)}
    )
    with server, control_plane:
        path = manifest(tmp_path, platform, server.url("oanda"), control_plane.url("cp"))
        run = run_suite(
            tmp_path,
            f"--ops-config={path}",
            f"-n{workers}",
            env=platform.env,
            paths=("checks", "slo"),
        )
    assert run.summary is not None, run.output[-3000:]
    assert "INTERNALERROR" not in run.output
    # Every account was read (the counts below are of a suite that did its work).
    assert len(server.requested_at) >= 3 * len(ACCOUNTS), len(server.requested_at)
    assert busiest_second(server.requested_at) <= OANDA_REQUESTS_PER_S
    assert busiest_second(server.connected_at) <= OANDA_NEW_CONNECTIONS_PER_S, sorted(
        round(t - server.connected_at[0], 2) for t in server.connected_at
    )


def test_threads_sharing_a_broker_client_take_turns_so_its_pool_never_queues():
    # httpcore's pool may close a connection it has assigned to a queued request
    # (encode/httpcore#1110): under load the probe's threads then lost their connection and
    # a retry opened another, three new connections in a second. A client's threads take
    # turns instead, so no request ever waits inside the pool.
    def slow(r: h.Request) -> None:
        time.sleep(0.003)
        r.send({"ok": True})

    server = CountingServer({"slow": slow})
    inside, most, lock = 0, 0, threading.Lock()
    with server:
        client = new_client(
            server.url("slow"), timeout_s=TIMEOUT_S, headers={}, max_connections=BROKER_CONNECTIONS
        )
        into_pool = client._transport.handle_request

        def counted(request):
            nonlocal inside, most
            with lock:
                inside += 1
                most = max(most, inside)
            try:
                return into_pool(request)
            finally:
                with lock:
                    inside -= 1

        client._transport.handle_request = counted

        def one(_: int) -> int:
            return fetch(client, "/x", deadline=time.monotonic() + TIMEOUT_S, max_bytes=1000).status

        with client, ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(one, range(64)))
    assert statuses == [200] * 64
    assert most == 1
    assert len(server.connected_at) == 1
