"""The suite against a platform that is not the generated sandbox: same contract, other data.

One OANDA login with one account of another id format's range, two strategies with 15 s and
30 s heartbeats, other strategy ids and instruments, a hand-written ops.toml with its own
token variable names: pre-flight and the whole suite judge it green, and a residual run in
it is caught. The platform's processes are the sandbox's servers over these hand-made files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sandbox.conftest import INSTRUMENTS, account, first_line, order_and_fill
from tests.storebuilder import StoreBuilder
from tests.suite_runner import run_suite

ACCOUNT = "001-002-7654321-009"
HOUR = 3_600_000


@dataclass
class Platform:
    manifest: Path
    env: dict[str, str]


def build_store(path: Path, now: int, residual: bool) -> None:
    b = StoreBuilder(path, now_ms=now)
    yesterday = now - 24 * HOUR
    b.event(
        "ACCOUNT_SNAPSHOT",
        ts=yesterday,
        account_id=ACCOUNT,
        payload={"nav": 100000, "balance": 100000, "unrealized_pl": 0, "margin_used": 0},
    )
    b.run_started(
        "old-1",
        strategy_id="carry-eurgbp-a",
        instrument="EUR_GBP",
        account_id=ACCOUNT,
        ts=yesterday,
        heartbeat_interval_s=30,
        scheduled_end_ts=yesterday + HOUR,
    )
    b.heartbeats("old-1", count=119)  # it ran its whole session; only the end is missing
    if not residual:
        b.run_ended("old-1")
    for run, strategy, instrument, interval, units, tx in (
        ("live-a", "carry-eurgbp-a", "EUR_GBP", 30, 30_000, "3"),
        ("live-b", "momo-usdjpy-b", "USD_JPY", 15, -20_000, "5"),
    ):
        start = now - interval * 1000 * 20
        b.run_started(
            run,
            strategy_id=strategy,
            instrument=instrument,
            account_id=ACCOUNT,
            ts=start,
            heartbeat_interval_s=interval,
            scheduled_end_ts=now + 2 * HOUR,
        )
        b.heartbeats(run, count=5)
        payload = {
            "client_order_id": f"c-{tx}",
            "broker_transaction_id": tx,
            "units": units,
            "price": "1.0",
        }
        b.event("ORDER_FILLED", ts=start + 5 * interval * 1000 + 500, run_id=run, payload=payload)
        b.heartbeats(run, count=14)
    # A platform appends in time order: interleave the runs' events as they happened.
    b.rows.sort(key=lambda row: row["ts"])
    b.write()


def ledger(now: int) -> dict:
    at = now - 10 * 60_000
    transactions = [
        {
            "id": "1",
            "time_ms": at - 60_000,
            "type": "TRANSFER_FUNDS",
            "amount": "100000.0000",
            "funding_reason": "CLIENT_FUNDING",
            "account_balance": "100000.0000",
        },
        *order_and_fill(2, at, "EUR_GBP", 30_000, "0.85000", "100000.0000"),
        *order_and_fill(4, at, "USD_JPY", -20_000, "151.000", "100000.0000"),
    ]
    trades = [
        {
            "id": "3",
            "instrument": "EUR_GBP",
            "units": "30000",
            "price": "0.85000",
            "open_time_ms": at,
        },
        {
            "id": "5",
            "instrument": "USD_JPY",
            "units": "-20000",
            "price": "151.000",
            "open_time_ms": at,
        },
    ]
    return {
        "home_currency": "USD",
        "instruments": INSTRUMENTS,
        "accounts": [account(ACCOUNT, "100000.0000", transactions, trades)],
    }


STRATEGIES = [
    {
        "strategy_id": sid,
        "instrument": inst,
        "account_id": ACCOUNT,
        "mode": "paper",
        "scheduled": True,
        "backtest": {
            "trades_per_day": 2.0,
            "win_rate": 0.5,
            "avg_pl_per_trade": 3.0,
            "max_drawdown": 0.02,
        },
    }
    for sid, inst in (("carry-eurgbp-a", "EUR_GBP"), ("momo-usdjpy-b", "USD_JPY"))
]


def start(module: str, config: Path, env: dict) -> tuple[subprocess.Popen, int]:
    with open(config.parent / f"{module}.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", f"tradeops.sandbox.{module}", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
        )
    line = first_line(process)
    assert line.startswith("PORT "), (module, line)
    return process, int(line.split()[1])


@pytest.fixture(params=[False, True], ids=["healthy", "residual"])
def platform(request, tmp_path) -> Iterator[Platform]:
    now = int(time.time() * 1000)
    build_store(tmp_path / "platform.db", now, residual=request.param)
    (tmp_path / "ledger.json").write_text(json.dumps(ledger(now)))
    (tmp_path / "strategies.json").write_text(json.dumps(STRATEGIES))
    config = tmp_path / "sandbox.json"
    config.write_text(
        json.dumps(
            {
                "store": str(tmp_path / "platform.db"),
                "ledger": str(tmp_path / "ledger.json"),
                "strategies": str(tmp_path / "strategies.json"),
                "stale_after_heartbeats": 3,
                "brokers": {"oanda-live-eu": [ACCOUNT]},
                "broker": {"hang": False, "rate_limited_accounts": [], "retry_after_s": 30},
                "control_plane": {
                    "degraded": False,
                    "summary_lies": False,
                    "brokers_connected": True,
                },
            }
        )
    )
    server_env = {
        **os.environ,
        "TRADEOPS_SANDBOX_BROKER_TOKENS": json.dumps({"bt": [ACCOUNT]}),
        "TRADEOPS_SANDBOX_CONTROL_TOKEN": "ct",
    }
    processes = []
    try:
        cp, cp_port = start("servers.control_plane", config, server_env)
        processes.append(cp)
        broker, broker_port = start("oanda.broker", config, server_env)
        processes.append(broker)
        manifest = tmp_path / "ops.toml"
        manifest.write_text(f"""
[control_plane]
url = "http://localhost:{cp_port}"
token_env = "EU_CONTROL_TOKEN"

[event_store]
path = "platform.db"

[[brokers]]
name = "oanda-live-eu"
url = "http://localhost:{broker_port}"
token_env = "EU_OANDA_TOKEN"
accounts = ["{ACCOUNT}"]
timeout_s = 3

[reports]
dir = "trail"
""")
        yield Platform(manifest, {"EU_CONTROL_TOKEN": "ct", "EU_OANDA_TOKEN": "bt"})
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=5)
            process.stdout.close()


def test_another_platform_of_the_same_contract_is_judged_the_same_way(platform, tmp_path, request):
    residual = "residual" in request.node.callspec.id
    run = run_suite(
        tmp_path, f"--ops-config={platform.manifest}", env=platform.env, paths=("checks", "slo")
    )
    assert run.failed() == ({"residual_runs": "P1"} if residual else {}), run.output[-4000:]
    names = run.outcomes()
    assert names["heartbeat_fresh[carry-eurgbp-a]"] == "passed"
    assert names["heartbeat_fresh[momo-usdjpy-b]"] == "passed"
    assert names["positions_match_broker[momo-usdjpy-b]"] == "passed"
    assert names[f"drawdown[{ACCOUNT}]"] == "passed"
    assert run.returncode == (10 if residual else 0)
    # Its own [reports] dir holds the suite's probe history for this platform.
    assert (platform.manifest.parent / "trail" / "probe-history.sqlite").is_file()
