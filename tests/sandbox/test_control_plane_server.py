"""The sandbox control plane as a real process over a real store built with StoreBuilder."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.storebuilder import StoreBuilder
from tradeops._secret import Secret
from tradeops.connectors.control_plane import ControlPlane

TOKEN = "sandbox-cp-token-8d1e"
HOUR = 3_600_000
ACCOUNTS = {"oanda-practice-a": ["acct-1", "acct-2"], "oanda-practice-b": ["acct-3"]}
STRATEGIES = [
    {
        "strategy_id": "mr-eurusd-01",
        "instrument": "EUR_USD",
        "account_id": "acct-1",
        "mode": "paper",
        "scheduled": True,
        "backtest": {
            "trades_per_day": 6.5,
            "win_rate": 0.54,
            "avg_pl_per_trade": 1.8,
            "max_drawdown": 0.04,
        },
    }
]


def _first_line(process: subprocess.Popen, timeout_s: float = 15.0) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=timeout_s), "the control plane did not start"
    return process.stdout.readline().strip()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()


def _build_store(path: Path, now: int, journal_mode: str = "wal") -> Path:
    """Live runs: fresh, stale (silent 5 min), gapped; plus residual, ended and malformed."""
    builder = StoreBuilder(path, now_ms=now, journal_mode=journal_mode)
    # Fresh runs heartbeat every 60 s (stale after 180 s): a slow CI machine between
    # building the store and asking for the summary must not make them stale.
    builder.run_started("r-fresh", account_id="acct-1", ts=now - 300_000, heartbeat_interval_s=60)
    builder.heartbeats("r-fresh", count=5)
    builder.run_started("r-stale", strategy_id="trend-gbpusd-02", ts=now - 10 * 60_000)
    builder.heartbeats("r-stale", count=30)  # last one 5 min ago
    builder.run_started(
        "r-gap", strategy_id="carry-audjpy-03", ts=now - 180_000, heartbeat_interval_s=60
    )
    builder.heartbeat("r-gap").skip("r-gap").heartbeat("r-gap")
    builder.run_started("r-old", ts=now - 30 * HOUR, scheduled_end_ts=now - 22 * HOUR)
    builder.run_started("r-done", ts=now - 2 * HOUR).run_ended("r-done")
    # Newest by seq, though not by time: last_write is the last event appended.
    builder.event("RUN_STARTED", run_id="r-broken", ts=now - 45_000, run_seq=1, payload="{x")
    return builder.write()


@pytest.fixture(scope="module")
def start(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """start(**control_plane_faults, token=..., store=...) -> base URL of a running server.

    Module-scoped: the servers run until the module's last test, so each test pays for
    starting its own variant but none waits for another's shutdown.
    """
    tmp_path = tmp_path_factory.mktemp("control-plane")
    processes: list[subprocess.Popen] = []

    def _start(*, token: str | None = TOKEN, store: Path | None = None, **faults: float) -> str:
        now = int(time.time() * 1000)
        directory = tmp_path / f"sandbox-{len(processes)}"
        directory.mkdir()
        store = store or _build_store(directory / "events.sqlite", now)
        (directory / "strategies.json").write_text(json.dumps(STRATEGIES))
        config = {
            "scenario": "test",
            "now_ms": now,
            "store": str(store),
            "strategies": str(directory / "strategies.json"),
            "stale_after_heartbeats": 3,
            "brokers": ACCOUNTS,
            "control_plane": {
                "degraded": False,
                "summary_lies": False,
                "brokers_connected": True,
                **faults,
            },
        }
        (directory / "sandbox.json").write_text(json.dumps(config))
        env = {k: v for k, v in os.environ.items() if k != "TRADEOPS_SANDBOX_CONTROL_TOKEN"}
        if token:
            env["TRADEOPS_SANDBOX_CONTROL_TOKEN"] = token
        command = [sys.executable, "-m", "tradeops.sandbox.servers.control_plane"]
        process = subprocess.Popen(
            [*command, "--config", str(directory / "sandbox.json")],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        processes.append(process)
        line = _first_line(process)
        assert line.startswith("PORT "), line
        return f"http://127.0.0.1:{int(line.split()[1])}"

    yield _start
    for process in processes:
        _stop(process)


@pytest.fixture(scope="module")
def url(start: Callable[..., str]) -> str:
    """A server with no faults, over the default store, requiring TOKEN."""
    return start()


def _cp(url: str, token: str | None = TOKEN) -> ControlPlane:
    return ControlPlane(url, Secret(token, "$CP") if token else None, 5.0)


def _get(url: str, path: str, token: str | None = TOKEN, method: str = "GET") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, url + path, headers=headers, timeout=5.0)


def test_health_reports_the_store_and_every_broker_account(
    start: Callable[..., str], tmp_path: Path
) -> None:
    now = int(time.time() * 1000)
    with _cp(start(store=_build_store(tmp_path / "events.sqlite", now))) as cp:
        health = cp.health()
    assert health.ok and health.version == "1.4.2"
    assert abs(health.time - datetime.now(UTC)) < timedelta(minutes=1)
    assert health.journal_mode == "wal"
    assert health.last_write == datetime.fromtimestamp((now - 45_000) / 1000, UTC)
    assert [(b.account_id, b.connected) for b in health.brokers] == [
        ("acct-1", True),
        ("acct-2", True),
        ("acct-3", True),
    ]


def test_a_rollback_journal_store_is_reported_as_delete(
    start: Callable[..., str], tmp_path: Path
) -> None:
    store = _build_store(tmp_path / "del.sqlite", int(time.time() * 1000), journal_mode="delete")
    with _cp(start(store=store)) as cp:
        assert cp.health().journal_mode == "delete"


def test_degraded_and_disconnected_faults_show_in_health(start: Callable[..., str]) -> None:
    with _cp(start(degraded=True, brokers_connected=False)) as cp:
        health = cp.health()
    assert (health.ok, health.status) == (False, "degraded")
    assert [b.connected for b in health.brokers] == [False, False, False]


def test_a_slow_platform_answers_health_late_but_still_ok(start: Callable[..., str]) -> None:
    with _cp(start(health_delay_s=1.5)) as cp:
        health = cp.health()
    # A lower bound only: the answer cannot arrive before the server has waited.
    assert health.ok and health.latency_ms >= 1500


def test_a_clock_ahead_moves_only_the_times_the_platform_stamps(start: Callable[..., str]) -> None:
    with _cp(start(clock_offset_s=120)) as cp:
        health, summary = cp.health(), cp.summary()
    for stamped in (health.time, summary.generated_at):
        ahead = stamped - datetime.now(UTC)
        assert timedelta(seconds=100) < ahead <= timedelta(seconds=120)
    # The store's facts are the store's: the same runs, stale or not, as on a true clock.
    facts = {r.run_id: (r.stale, r.gaps) for r in summary.runs}
    assert facts == {"r-fresh": (False, 0), "r-stale": (True, 0), "r-gap": (False, 1)}


def test_the_summary_lists_live_runs_with_stale_and_gap_facts(url: str) -> None:
    with _cp(url) as cp:
        summary = cp.summary()
    facts = {r.run_id: (r.state, r.stale, r.gaps) for r in summary.runs}
    assert facts == {
        "r-fresh": ("running", False, 0),
        "r-stale": ("running", True, 0),
        "r-gap": ("running", False, 1),
    }
    assert summary.status == "amber"
    stale = next(r for r in summary.runs if r.run_id == "r-stale")
    assert stale.last_heartbeat is not None
    assert datetime.now(UTC) - stale.last_heartbeat > timedelta(minutes=4)


def test_a_healthy_store_gives_a_green_summary(start: Callable[..., str], tmp_path: Path) -> None:
    now = int(time.time() * 1000)
    builder = StoreBuilder(tmp_path / "ok.sqlite", now_ms=now)
    builder.run_started("r-1", ts=now - 30_000).heartbeats("r-1", count=2)
    with _cp(start(store=builder.write())) as cp:
        summary = cp.summary()
    assert summary.status == "green" and [r.stale for r in summary.runs] == [False]


def test_a_lying_summary_says_green_and_fresh(start: Callable[..., str]) -> None:
    with _cp(start(summary_lies=True)) as cp:
        summary = cp.summary()
    assert summary.status == "green"
    assert {(r.stale, r.gaps) for r in summary.runs} == {(False, 0)}
    assert all(
        r.last_heartbeat and datetime.now(UTC) - r.last_heartbeat < timedelta(minutes=1)
        for r in summary.runs
    )
    assert len(summary.runs) == 3  # it lies about the facts, not about which runs exist


def test_strategies_are_served_from_strategies_json(url: str) -> None:
    assert _get(url, "/api/strategies").json() == {"strategies": STRATEGIES}
    with _cp(url) as cp:
        assert [s.strategy_id for s in cp.strategies()] == ["mr-eurusd-01"]


def test_a_wrong_or_missing_token_is_a_401_json_error(url: str) -> None:
    for token in ("not-the-token", None):
        response = _get(url, "/api/health", token=token)
        assert response.status_code == 401
        assert response.json() == {"error": "missing or wrong bearer token"}


def test_without_a_token_in_the_environment_there_is_no_auth(start: Callable[..., str]) -> None:
    assert _get(start(token=None), "/api/health", token=None).status_code == 200


def test_unknown_paths_and_other_methods_are_json_errors(url: str) -> None:
    missing = _get(url, "/api/nothing")
    post = _get(url, "/api/health", method="POST")
    assert (missing.status_code, post.status_code) == (404, 405)
    assert "error" in missing.json() and "error" in post.json()
    assert post.headers["Allow"] == "GET"


def test_an_unreadable_store_makes_health_a_503(start: Callable[..., str], tmp_path: Path) -> None:
    url = start(store=tmp_path / "gone.sqlite")
    response = _get(url, "/api/health")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_sigterm_stops_the_server(tmp_path: Path) -> None:
    store = _build_store(tmp_path / "events.sqlite", int(time.time() * 1000))
    config = tmp_path / "sandbox.json"
    config.write_text(json.dumps({"store": str(store), "strategies": "x", "brokers": {}}))
    process = subprocess.Popen(
        [sys.executable, "-m", "tradeops.sandbox.servers.control_plane", "--config", str(config)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert _first_line(process).startswith("PORT ")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        _stop(process)


def _running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting for init to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


_ORPHANER = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-m", "tradeops.sandbox.servers.control_plane",
                          "--config", sys.argv[1]], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
print(child.stdout.readline().strip(), child.pid, flush=True)
# exit without stopping the child: it must notice its parent is gone
"""


def test_the_server_exits_when_its_parent_is_gone(tmp_path: Path) -> None:
    store = _build_store(tmp_path / "events.sqlite", int(time.time() * 1000))
    config = tmp_path / "sandbox.json"
    config.write_text(json.dumps({"store": str(store), "strategies": "x", "brokers": {}}))
    parent = subprocess.run(
        [sys.executable, "-c", _ORPHANER, str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    port_word, port, pid = parent.stdout.split()
    assert port_word == "PORT" and int(port) > 0
    for _ in range(100):  # bounded: the server polls its parent once a second
        if not _running(int(pid)):
            break
        time.sleep(0.05)
    else:
        os.kill(int(pid), signal.SIGKILL)
        pytest.fail("the orphaned control plane was still running after 5 s")


def test_the_server_imports_nothing_from_the_suite() -> None:
    probe = (
        "import json, sys, tradeops.sandbox.servers.control_plane; "
        "print(json.dumps(sorted(n for n in sys.modules if n.startswith(('tradeops', 'httpx')))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True
    )
    assert json.loads(result.stdout) == [
        "tradeops",
        "tradeops.sandbox",
        "tradeops.sandbox._loopback",
        "tradeops.sandbox.servers",
        "tradeops.sandbox.servers.control_plane",
    ]
