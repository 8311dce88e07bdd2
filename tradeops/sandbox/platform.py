"""Start and stop the sandbox platform: real processes on 127.0.0.1, a real WAL store.

`Sandbox(scenario).start()` builds the store (cached history + a live session),
starts the writer, the control plane and the OANDA simulator as separate processes
(freezegun in the suite's process cannot reach them), and writes the ops.toml the
suite reads. Tokens are fresh random values handed over through the environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tradeops.sandbox.scenarios import BROKERS, FAULTY_BROKER, Scenario, scenario
from tradeops.sandbox.servers.writer import JOURNAL_LIMIT_MB, MAX_SLEEP_S
from tradeops.sandbox.store.generator import build_platform_data
from tradeops.sandbox.store.model import StoreParams

# The suite reads its tokens from these (named in the ops.toml the sandbox writes).
CONTROL_TOKEN_ENV = "TRADEOPS_SANDBOX_CP_TOKEN"
BROKER_TOKEN_ENV = {
    "oanda-practice-a": "TRADEOPS_SANDBOX_OANDA_A_TOKEN",
    "oanda-practice-b": "TRADEOPS_SANDBOX_OANDA_B_TOKEN",
}
# The sandbox's own processes read theirs from these.
SERVER_BROKER_TOKENS_ENV = "TRADEOPS_SANDBOX_BROKER_TOKENS"
SERVER_CONTROL_TOKEN_ENV = "TRADEOPS_SANDBOX_CONTROL_TOKEN"

TIMEOUT_S = 2.0  # the sandbox manifest's network timeouts: a hang costs 2 s, not 5
START_TIMEOUT_S = 15.0
STALE_AFTER_HEARTBEATS = 3
# The sandbox's WAL limit, at least WAL_MAX_MB (see wal_limit_mb). Its writer checkpoints
# every 1000 pages (SQLite's default) and cuts the file back to 4 MB after a checkpoint
# (journal_size_limit); checkpoint_stalled grows it to twice the limit.
# (256 MB, the suite's default, is sized for a real platform's write rate.)
WAL_MAX_MB = 8
PAGE_BYTES = 4_096 + 24  # one WAL frame: a page and its header
# Fault sizes (see scenarios.py): each is well past the limit its check applies.
HEALTH_DELAY_S = 1.5  # control_plane_slow; the latency budget is 1 s, the timeout 2 s
CLOCK_OFFSET_S = 120  # control_plane_clock_ahead; skew limit 5 s
PRICES_FROZEN_S = 600  # prices_frozen; prices are stale after 60 s
WRITER_STOPPED_MS = 300_000  # writer_stopped; writes are stale after 60 s


class SandboxError(RuntimeError):
    """The sandbox could not start; the message says which part and why."""


def default_cache_dir() -> Path:
    """Where generated histories are kept between runs ($TRADEOPS_CACHE or ~/.cache/tradeops)."""
    return Path(os.environ.get("TRADEOPS_CACHE") or Path.home() / ".cache" / "tradeops")


@dataclass
class Sandbox:
    """One running sandbox platform; use as a context manager or call start()/stop()."""

    scenario_name: str = "healthy"
    directory: Path | None = None
    params: StoreParams = field(default_factory=StoreParams)
    cache_dir: Path | None = None
    environ: dict[str, str] = field(default_factory=dict)
    manifest_path: Path | None = None
    _processes: list[subprocess.Popen] = field(default_factory=list)
    _own_directory: bool = False

    @property
    def scenario(self) -> Scenario:
        return scenario(self.scenario_name)

    def start(self) -> Path:
        """Build the data, start the processes, write ops.toml; return its path."""
        faults = self.scenario.faults
        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="tradeops-sandbox-"))
            self._own_directory = True
        self.directory.mkdir(parents=True, exist_ok=True)
        now_ms = int(time.time() * 1000)
        # writer_stopped: the platform's last write was 5 minutes ago, and nothing since.
        built_ms = now_ms - WRITER_STOPPED_MS if "writer_stopped" in faults else now_ms
        built = build_platform_data(
            self.directory,
            self.params,
            faults,
            built_ms,
            self.cache_dir if self.cache_dir is not None else default_cache_dir(),
        )
        wal_limit = wal_limit_mb(built.live_runs)
        # Where the service faults are, beside the generator's notes on the store faults.
        service_notes = {
            "writer_stopped": {"last_write_ms": built_ms},
            "control_plane_slow": {"health_delay_s": HEALTH_DELAY_S},
            "control_plane_clock_ahead": {"clock_offset_s": CLOCK_OFFSET_S},
            "prices_frozen": {"frozen_at_ms": now_ms - PRICES_FROZEN_S * 1000},
            "checkpoint_stalled": {"wal_autocheckpoint": 0, "diagnostic_mb": 2 * wal_limit},
        }
        notes = {**built.notes, **{f: n for f, n in service_notes.items() if f in faults}}
        price_gap = notes.get("price_gap", {}) if "price_gap" in faults else {}
        if "price_gap" in faults and not price_gap:
            self.stop()
            raise SandboxError("the price_gap fault needs big_position (the position it hits)")
        tokens = {name: secrets.token_urlsafe(24) for name in BROKERS}
        control_token = secrets.token_urlsafe(24)
        self.environ = {CONTROL_TOKEN_ENV: control_token}
        for name, token in tokens.items():
            revoked = name == FAULTY_BROKER and "broker_bad_token" in faults
            self.environ[BROKER_TOKEN_ENV[name]] = secrets.token_urlsafe(24) if revoked else token

        config_path = self.directory / "sandbox.json"
        config_path.write_text(
            json.dumps(
                {
                    "scenario": self.scenario_name,
                    "faults": sorted(faults),
                    "now_ms": now_ms,
                    "store": str(built.store),
                    "ledger": str(built.ledger),
                    "strategies": str(built.strategies),
                    "stale_after_heartbeats": STALE_AFTER_HEARTBEATS,
                    "live_runs": built.live_runs,
                    "notes": notes,
                    "brokers": {name: list(accounts) for name, accounts in BROKERS.items()},
                    "broker": {
                        "hang": "broker_hang" in faults,
                        "rate_limited_accounts": (
                            list(BROKERS[FAULTY_BROKER]) if "broker_rate_limited" in faults else []
                        ),
                        "retry_after_s": 30,
                        "prices_frozen_s": PRICES_FROZEN_S if "prices_frozen" in faults else 0,
                        "price_gap": price_gap,
                    },
                    "control_plane": {
                        "degraded": "control_plane_degraded" in faults,
                        "summary_lies": "summary_lies" in faults,
                        "brokers_connected": not faults & {"broker_down", "broker_hang"},
                        "health_delay_s": HEALTH_DELAY_S if "control_plane_slow" in faults else 0,
                        "clock_offset_s": (
                            CLOCK_OFFSET_S if "control_plane_clock_ahead" in faults else 0
                        ),
                    },
                    "writer": {
                        "checkpoint_stalled": "checkpoint_stalled" in faults,
                        "diagnostic_mb": 2 * wal_limit,
                    },
                },
                indent=1,
            )
        )
        server_env = {
            **os.environ,
            SERVER_BROKER_TOKENS_ENV: json.dumps({tokens[n]: list(a) for n, a in BROKERS.items()}),
            SERVER_CONTROL_TOKEN_ENV: control_token,
        }
        try:
            ports = self._start_processes(config_path, faults, server_env)
        except BaseException:
            self.stop()
            raise
        self.manifest_path = self._write_manifest(ports, built.store, wal_limit)
        self._write_env_file()
        return self.manifest_path

    def _start_processes(self, config: Path, faults: frozenset[str], env: dict) -> dict:
        wanted = {}
        if "writer_stopped" not in faults:
            wanted["writer"] = "tradeops.sandbox.servers.writer"
        if "control_plane_down" not in faults:
            wanted["control_plane"] = "tradeops.sandbox.servers.control_plane"
        if "broker_down" not in faults:
            wanted["broker"] = "tradeops.sandbox.oanda.broker"
        started = {}
        for name, module in wanted.items():
            # stderr goes to a log beside the store: the operator's terminal stays clean,
            # and a sandbox that misbehaves leaves its own account of why.
            with open(config.parent / f"{name}.log", "w") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", module, "--config", str(config)],
                    stdout=subprocess.PIPE,
                    stderr=log,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    text=True,
                )
            self._processes.append(process)
            started[name] = process
        # The processes start in parallel; wait for each one's first line.
        ports = {name: _closed_port() for name in ("control_plane", "broker")}
        deadline = time.monotonic() + START_TIMEOUT_S
        for name, process in started.items():
            line = _first_line(process, deadline)
            if name == "writer":
                if line != "READY":
                    raise SandboxError(f"sandbox writer did not start (said {line!r})")
                continue
            if not line.startswith("PORT "):
                raise SandboxError(f"sandbox {name} did not start (said {line!r})")
            ports[name] = int(line.split()[1])
        return ports

    def _write_manifest(self, ports: dict[str, int], store: Path, wal_limit: int) -> Path:
        assert self.directory is not None
        brokers = "".join(
            f"""
[[brokers]]
name = "{name}"
url = "http://127.0.0.1:{ports["broker"]}"
token_env = "{BROKER_TOKEN_ENV[name]}"
accounts = {json.dumps(list(accounts))}
timeout_s = {TIMEOUT_S}
"""
            for name, accounts in BROKERS.items()
        )
        path = self.directory / "ops.toml"
        path.write_text(
            f"""# Written by the tradeops sandbox (scenario {self.scenario_name}).
# Tokens are in the environment: source {self.directory / "sandbox.env"}

[control_plane]
url = "http://127.0.0.1:{ports["control_plane"]}"
token_env = "{CONTROL_TOKEN_ENV}"
timeout_s = {TIMEOUT_S}

[event_store]
path = {json.dumps(str(store))}
{brokers}
[thresholds]
stale_after_heartbeats = {STALE_AFTER_HEARTBEATS}
# Sized for the sandbox's write rate (its writer checkpoints and caps the WAL at 4 MB).
wal_max_mb = {wal_limit}

[reports]
# The sandbox's control-plane probes stay with the sandbox: a scenario that takes the
# control plane down must not spend a real platform's availability budget.
history_db = {json.dumps(str(self.directory / "probe-history.sqlite"))}
"""
        )
        return path

    def _write_env_file(self) -> None:
        assert self.directory is not None
        path = self.directory / "sandbox.env"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as env_file:
            env_file.writelines(f"export {k}={v}\n" for k, v in sorted(self.environ.items()))

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL) and remove a directory we created."""
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                # Killed, but perhaps still in the kernel (seen: the writer of a 600-strategy
                # store in a long disk write on a loaded machine). It ends on its own; a stop
                # that raised here would be the run's INTERNALERROR.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
            if process.stdout:
                process.stdout.close()
        self._processes.clear()
        if self._own_directory and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wal_growth_per_minute_mb(live_runs: list[dict]) -> float:
    """How much a minute of the healthy writer grows the WAL while readers keep it from
    being rewound. Measured, not derived: each heartbeat dirties about two pages (its
    run's leaf of the events_run index, and the splits as leaves fill), each commit (at
    most one per writer tick) about four (the tails of the table and its other indexes).
    """
    beats = sum(60 / r["heartbeat_interval_s"] for r in live_runs if r.get("heartbeats"))
    commits = min(beats, 60 / MAX_SLEEP_S)
    return (2 * beats + 4 * commits) * PAGE_BYTES / 1_000_000


def wal_limit_mb(live_runs: list[dict]) -> int:
    """The sandbox manifest's WAL limit: the 4 MB cap plus a minute of unbroken reading
    (more than a whole suite run at 300 strategies takes), never under WAL_MAX_MB. A fixed
    8 MB was a false alarm at 300 strategies: six back-to-back runs (-n 2, a busy 2-core
    machine) saw the WAL peak at 9.4 to 18 MB; the limit there is 21 MB."""
    return max(WAL_MAX_MB, round(JOURNAL_LIMIT_MB + wal_growth_per_minute_mb(live_runs)))


def _first_line(process: subprocess.Popen, deadline: float) -> str:
    """The process's first stdout line, or SandboxError if it dies or the deadline passes."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not selector.select(timeout=remaining):
            raise SandboxError(f"sandbox process {process.args[2]} did not start in time")
    line = process.stdout.readline().strip()
    if not line and process.poll() is not None:
        raise SandboxError(f"sandbox process {process.args[2]} exited with {process.returncode}")
    return line


def _closed_port() -> int:
    """A 127.0.0.1 port nobody listens on: where a 'down' service is configured to be."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
