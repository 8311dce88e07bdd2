"""Local fixtures for the sandbox's server processes.

Section "OANDA broker simulator" (below): a small ledger.json in docs/architecture.md's
format (the real generator is built elsewhere), a real simulator process, and OANDA's own
v20.json spec as a strict JSON Schema oracle. `sample_ledger()`, `start_broker()` and
friends are plain functions so tests/connectors can build on them too.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import selectors
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import v20
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

# --- OANDA broker simulator ------------------------------------------------------------

ACCOUNT_A, ACCOUNT_B, ACCOUNT_C = (
    "101-004-1234567-001",
    "101-004-1234567-002",
    "101-004-1234567-003",
)
T0_MS = 1_795_000_000_000  # 2026-11-18T..., a Wednesday: every fill is in a trading week
MINUTE_MS = 60_000
INSTRUMENTS = {
    "EUR_USD": {"mid": "1.08415", "pip": "0.0001", "precision": 5},
    "GBP_USD": {"mid": "1.26500", "pip": "0.0001", "precision": 5},
    "USD_JPY": {"mid": "150.000", "pip": "0.01", "precision": 3},
    "EUR_GBP": {"mid": "0.85700", "pip": "0.0001", "precision": 5},
}
START_TIMEOUT_S = 10.0
SPEC_FILE = Path(
    os.environ.get("TRADEOPS_OANDA_SPEC")
    or Path(__file__).resolve().parents[3] / "shared" / "oanda-v20" / "v20.json"
)


def order_and_fill(
    first_id: int,
    time_ms: int,
    instrument: str,
    units: int,
    price: str,
    balance: str,
    *,
    closes: tuple[str, int, str] | None = None,
) -> list[dict]:
    """A MARKET_ORDER (id first_id) and its ORDER_FILL (first_id + 1).

    The fill opens trade `first_id + 1`, or with `closes=(trade_id, units, realized_pl)`
    closes that trade instead.
    """
    client_id = f"c-{first_id}"
    fill: dict = {
        "id": str(first_id + 1),
        "time_ms": time_ms,
        "type": "ORDER_FILL",
        "order_id": str(first_id),
        "instrument": instrument,
        "units": str(units),
        "price": price,
        "pl": closes[2] if closes else "0.0000",
        "account_balance": balance,
        "client_order_id": client_id,
    }
    if closes:
        trade_id, closed_units, realized = closes
        fill["trades_closed"] = [
            {"trade_id": trade_id, "units": str(closed_units), "realized_pl": realized}
        ]
    else:
        fill["trade_opened"] = {"trade_id": str(first_id + 1), "units": str(units)}
    order = {
        "id": str(first_id),
        "time_ms": time_ms,
        "type": "MARKET_ORDER",
        "instrument": instrument,
        "units": str(units),
        "client_order_id": client_id,
    }
    return [order, fill]


def account(account_id: str, balance: str, transactions: list[dict], open_trades: list[dict]):
    """One ledger account in USD with a 3.33% margin rate."""
    return {
        "id": account_id,
        "alias": f"alias-{account_id[-3:]}",
        "currency": "USD",
        "created_ms": T0_MS - MINUTE_MS,
        "initial_balance": "100000.0000",
        "balance": balance,
        "margin_rate": "0.0333",
        "transactions": transactions,
        "open_trades": open_trades,
    }


def sample_ledger() -> dict:
    """Account A: a deposit, three open trades (long EUR_USD, short USD_JPY, long EUR_GBP)
    and a GBP_USD round trip (+25.0000); B: empty; C: one open trade, another login's."""
    at = [T0_MS + i * MINUTE_MS for i in range(12)]
    deposit = {
        "id": "1",
        "time_ms": at[0],
        "type": "TRANSFER_FUNDS",
        "amount": "100000.0000",
        "funding_reason": "CLIENT_FUNDING",
        "account_balance": "100000.0000",
    }
    a_txns = [
        deposit,
        *order_and_fill(2, at[1], "EUR_USD", 10_000, "1.08000", "100000.0000"),
        *order_and_fill(4, at[2], "USD_JPY", -20_000, "151.000", "100000.0000"),
        *order_and_fill(6, at[3], "EUR_GBP", 30_000, "0.85000", "100000.0000"),
        *order_and_fill(8, at[4], "GBP_USD", 5_000, "1.26000", "100000.0000"),
        *order_and_fill(
            10, at[5], "GBP_USD", -5_000, "1.26500", "100025.0000", closes=("9", -5_000, "25.0000")
        ),
    ]
    a_open = [
        {"id": "3", "instrument": "EUR_USD", "units": "10000", "price": "1.08000",
         "open_time_ms": at[1]},
        {"id": "5", "instrument": "USD_JPY", "units": "-20000", "price": "151.000",
         "open_time_ms": at[2]},
        {"id": "7", "instrument": "EUR_GBP", "units": "30000", "price": "0.85000",
         "open_time_ms": at[3]},
    ]  # fmt: skip
    c_txns = order_and_fill(1, at[6], "EUR_USD", 1_000, "1.08400", "100000.0000")
    c_open = [
        {"id": "2", "instrument": "EUR_USD", "units": "1000", "price": "1.08400",
         "open_time_ms": at[6]}
    ]  # fmt: skip
    return {
        "home_currency": "USD",
        "instruments": copy.deepcopy(INSTRUMENTS),  # callers may spoil their copy
        "accounts": [
            account(ACCOUNT_A, "100025.0000", a_txns, a_open),
            account(ACCOUNT_B, "50000.0000", [], []),
            account(ACCOUNT_C, "100000.0000", c_txns, c_open),
        ],
    }


@dataclass
class Simulator:
    """A running broker simulator process."""

    port: int
    process: subprocess.Popen
    directory: Path

    @property
    def url(self) -> str:
        """The base URL, as an ops.toml would hold it."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it lingers; the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=5)
        finally:
            if self.process.stdout:
                self.process.stdout.close()

    @property
    def log(self) -> str:
        """What the process wrote to stderr."""
        return (self.directory / "broker.log").read_text()


def write_sandbox(
    directory: Path, ledger: dict, broker: dict | None = None, now_ms: int | None = None
) -> Path:
    """ledger.json + sandbox.json (with the sandbox's now_ms if given); the sandbox.json path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ledger.json").write_text(json.dumps(ledger))
    block = {"hang": False, "rate_limited_accounts": [], "retry_after_s": 30, **(broker or {})}
    config = directory / "sandbox.json"
    body = {"ledger": str(directory / "ledger.json"), "broker": block}
    config.write_text(json.dumps(body if now_ms is None else {**body, "now_ms": now_ms}))
    return config


def launch(config: Path, tokens: dict[str, list[str]]) -> subprocess.Popen:
    """Start `python -m tradeops.sandbox.oanda.broker --config CONFIG`, stderr to broker.log."""
    env = {**os.environ, "TRADEOPS_SANDBOX_BROKER_TOKENS": json.dumps(tokens)}
    with open(config.parent / "broker.log", "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tradeops.sandbox.oanda.broker", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
        )


def first_line(process: subprocess.Popen, timeout_s: float = START_TIMEOUT_S) -> str:
    """The process's first stdout line ('' if it exits first), bounded by a timeout."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=timeout_s):
            process.kill()
            raise AssertionError("the broker simulator printed nothing in time")
    return process.stdout.readline().strip()


def start_broker(
    directory: Path,
    ledger: dict,
    tokens: dict[str, list[str]],
    broker: dict | None = None,
    now_ms: int | None = None,
) -> Simulator:
    """A running simulator over `ledger`; the caller stops it."""
    process = launch(write_sandbox(directory, ledger, broker, now_ms), tokens)
    line = first_line(process)
    if not line.startswith("PORT "):
        process.kill()
        process.wait(timeout=5)
        log = (directory / "broker.log").read_text()
        raise AssertionError(f"the broker simulator did not start: {line!r}\n{log}")
    return Simulator(int(line.split()[1]), process, directory)


def new_token() -> str:
    """A fresh random token, so a leak would be a recognisable string."""
    return f"tok-{secrets.token_urlsafe(18)}"


@pytest.fixture(scope="module")
def broker_tokens() -> dict[str, str]:
    """Two logins: "a" owns accounts A and B, "c" owns C."""
    return {"a": new_token(), "c": new_token()}


@pytest.fixture(scope="module")
def broker_sim(tmp_path_factory: pytest.TempPathFactory, broker_tokens) -> Iterator[Simulator]:
    """One healthy simulator over the sample ledger for the whole module."""
    sim = start_broker(
        tmp_path_factory.mktemp("broker"),
        sample_ledger(),
        {broker_tokens["a"]: [ACCOUNT_A, ACCOUNT_B], broker_tokens["c"]: [ACCOUNT_C]},
    )
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def http(broker_sim, broker_tokens) -> Iterator[httpx.Client]:
    """Raw HTTP to the shared simulator as login "a"."""
    with httpx.Client(
        base_url=broker_sim.url,
        headers={
            "Authorization": f"Bearer {broker_tokens['a']}",
            "Accept-Datetime-Format": "RFC3339",
        },
        timeout=5,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def ctx(broker_sim, broker_tokens) -> v20.Context:
    """OANDA's own client, pointed at the shared simulator as login "a"."""
    return v20.Context(
        "127.0.0.1",
        broker_sim.port,
        ssl=False,
        token=broker_tokens["a"],
        datetime_format="RFC3339",
        decimal_number_as_float=False,
        poll_timeout=5,
    )


# --- OANDA v20 spec as a JSON Schema oracle ----------------------------------------------


class Oracle:
    """OANDA's v20.json as JSON Schema (draft 4), strict: objects admit only named fields."""

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.registry = Registry().with_resource("urn:v20", DRAFT4.create_resource(spec))

    def errors(self, pointer: str, body: object) -> list[str]:
        validator = Draft4Validator({"$ref": f"urn:v20#{pointer}"}, registry=self.registry)
        found = validator.iter_errors(body)
        return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in found]

    def response_errors(self, path: str, status: int, body: object) -> list[str]:
        """Errors against the spec's response schema for (path, status); the path's own
        entry when it declares one, else the spec's shared `responses/<status>`."""
        escaped = path.replace("~", "~0").replace("/", "~1")
        entry = self.spec["paths"][path]["get"]["responses"].get(str(status))
        if entry is None:
            pointer = f"/responses/{status}/schema"
        elif "$ref" in entry:
            pointer = entry["$ref"].removeprefix("#") + "/schema"
        else:
            pointer = f"/paths/{escaped}/get/responses/{status}/schema"
        return self.errors(pointer, body)

    def transaction_errors(self, txn: dict) -> list[str]:
        """Errors against the transaction's own type (ORDER_FILL -> OrderFillTransaction)."""
        name = "".join(part.capitalize() for part in txn["type"].split("_")) + "Transaction"
        return self.errors(f"/definitions/{name}", txn)


def _strict(node: object) -> None:
    if isinstance(node, dict):
        if node.get("type") == "int":  # the spec's one defect (mt4ServerID): see its README
            node["type"] = "integer"
        if node.get("type") == "object" and "properties" in node:
            node["additionalProperties"] = False
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    if not SPEC_FILE.is_file():
        pytest.fail(f"OANDA's spec is missing at {SPEC_FILE} (set $TRADEOPS_OANDA_SPEC)")
    spec = json.loads(SPEC_FILE.read_text())
    base = copy.deepcopy(spec["definitions"]["Transaction"])
    _strict(spec)
    # Transaction is polymorphic: lists hold subtypes with more fields; each is then
    # checked strictly against its own type by transaction_errors().
    spec["definitions"]["Transaction"] = base
    return Oracle(spec)
