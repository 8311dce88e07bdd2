"""A throwaway tradeops project for the paper trail's tests: real plugins, real pytest runs.

The project has the repo's markers, a conftest loading `tradeops.plugin` and
`tradeops.plugin`, a manifest whose platform listens nowhere (so layer 1 is red
and strategy checks are skipped as unreliable), and a few checks whose outcome the test
chooses through $FAKE_FAIL. One check calls the real control plane connector with the
manifest's token, so a token travels the error path the canary test watches.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import socket
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 120
# Exit statuses of a run whose checks failed: pytest's 1, or tradeops.plugin's page (10)
# and ticket (11) codes.
FAILED_CHECKS = (1, 10, 11)

CHECKS = '''
import json
import os

import pytest

from tradeops import Finding, Where, expect_none
from tradeops.connectors.control_plane import ControlPlane

FAIL = set(os.environ.get("FAKE_FAIL", "").split(","))


@pytest.mark.platform
@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="event-store-wal")
def test_store_mode():
    """Fails when told to, with a finding that names where."""
    if "store_mode" in FAIL:
        expect_none([Finding("journal mode is 'delete', not 'wal'", Where(account="101-A"))])


@pytest.mark.platform
@pytest.mark.severity(level="P0")
@pytest.mark.runbook(id="control-plane-down")
def test_control_plane_answers(ops):
    """Calls the real connector with the manifest's token (the canary's path)."""
    if "control_plane" in FAIL:
        cp = ops.manifest.control_plane
        client = ControlPlane(cp.url, cp.token, cp.timeout_s)
        try:
            client.health()
        finally:
            client.close()


@pytest.mark.platform
@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="broker-prices")
@pytest.mark.parametrize("broker_account", ["101-A", "101-B"])
def test_prices_fresh(broker_account):
    """A check with a subject per account."""
    if f"prices_fresh[{broker_account}]" in FAIL:
        expect_none([Finding("price 90 s old", Where(account=broker_account), severity="P2")])


@pytest.mark.strategy
@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="residual-run")
def test_no_residual_runs():
    """Skipped as unreliable whenever layer 1 is red (always, in this project)."""
'''

SLO_CHECKS = '''
import json

import pytest

from tradeops.config import SloConfig
from tradeops.slo.budget import Counts
from tradeops.slo.result import SloResult


@pytest.mark.slo
@pytest.mark.platform
@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="event-store-writes")
def test_run_success(record_property):
    """Hands its result to the report the way slo/conftest.py's record_slo does."""
    result = SloResult("run_success", "run success rate", "P2", SloConfig(0.995, 30),
                       1795000000000, window=Counts(eligible=400, bad=3))
    record_property("tradeops_slo", json.dumps(result.to_json()))
'''


def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manifest_text(port: int, extra: str = "") -> str:
    """A manifest whose platform listens nowhere; tokens from $FAKE_CP_TOKEN/$FAKE_OANDA."""
    return f"""
[control_plane]
url = "http://127.0.0.1:{port}"
token_env = "FAKE_CP_TOKEN"
timeout_s = 1

[event_store]
path = "events.sqlite"

[[brokers]]
name = "oanda-practice"
url = "http://127.0.0.1:{port}"
token_env = "FAKE_OANDA_TOKEN"
accounts = ["101-A", "101-B"]
timeout_s = 1
{extra}"""


_HEALTHY: dict = {}


def healthy_platform() -> tuple[str, dict[str, str]]:
    """A healthy sandbox shared by this process's fake projects: (manifest text, token env).

    The fake checks never read it; it is there so that layer 1, which the plugin probes
    for real, is green, and a run whose fake checks pass is a green run.
    """
    if not _HEALTHY:
        from tradeops.sandbox import StoreParams
        from tradeops.sandbox.platform import BROKER_TOKEN_ENV, CONTROL_TOKEN_ENV, Sandbox

        sandbox = Sandbox("healthy", params=StoreParams(days=3), cache_dir=REPO / ".cache-tests")
        sandbox.start()
        atexit.register(sandbox.stop)
        config = tomllib.loads(sandbox.manifest_path.read_text())
        broker = config["brokers"][0]
        _HEALTHY["manifest"] = f"""
[control_plane]
url = "{config["control_plane"]["url"]}"
token_env = "FAKE_CP_TOKEN"
timeout_s = 2

[event_store]
path = "{config["event_store"]["path"]}"

[[brokers]]
name = "{broker["name"]}"
url = "{broker["url"]}"
token_env = "FAKE_OANDA_TOKEN"
accounts = {json.dumps(broker["accounts"])}
timeout_s = 2
"""
        _HEALTHY["env"] = {
            "FAKE_CP_TOKEN": sandbox.environ[CONTROL_TOKEN_ENV],
            "FAKE_OANDA_TOKEN": sandbox.environ[BROKER_TOKEN_ENV[broker["name"]]],
        }
    return _HEALTHY["manifest"], _HEALTHY["env"]


def make_project(
    path: Path, manifest_extra: str = "", slo: bool = False, healthy: bool = False
) -> Path:
    """Write the project under path; return it. Its platform is down (layer 1 red, the
    upper layers unreliable) unless `healthy`, when it is a real healthy sandbox."""
    pyproject = (REPO / "pyproject.toml").read_text()
    markers = re.search(r"^markers = \[.*?^\]", pyproject, re.S | re.M)
    assert markers is not None, "the repo's pyproject lists its markers"
    (path / "checks").mkdir(parents=True)
    (path / "pyproject.toml").write_text(
        '[tool.pytest]\nstrict = true\ntestpaths = ["checks"]\n'
        'addopts = ["-p", "no:hypothesispytest", "-p", "no:cacheprovider", "-p", "no:randomly"]\n'
        + markers.group(0)
        + "\n"
    )
    (path / "conftest.py").write_text(
        "import pytest\n\n"
        'pytest_plugins = ["tradeops.plugin"]\n\n\n'
        '@pytest.fixture(scope="session")\n'
        "def ops(pytestconfig):\n"
        "    from tradeops._session import SESSION\n\n"
        "    return pytestconfig.stash[SESSION]\n"
    )
    (path / "checks" / "test_fake.py").write_text(CHECKS)
    if slo:
        (path / "slo").mkdir()
        (path / "slo" / "test_fake_slo.py").write_text(SLO_CHECKS)
    if healthy:
        manifest, env = healthy_platform()
        (path / "ops.toml").write_text(manifest + manifest_extra)
        (path / "platform.env.json").write_text(json.dumps(env))
    else:
        (path / "ops.toml").write_text(manifest_text(closed_port(), manifest_extra))
    return path


def project_env(project: Path) -> dict[str, str]:
    """The token env a project's platform takes: the sandbox's, or the down platform's."""
    tokens = project / "platform.env.json"
    if tokens.exists():
        return json.loads(tokens.read_text())
    return {"FAKE_CP_TOKEN": "cp-token-0123456789", "FAKE_OANDA_TOKEN": "oanda-0123456789"}


@dataclass
class Run:
    """A finished child pytest: exit code and everything it printed."""

    returncode: int
    output: str


def run_pytest(project: Path, *args: str, env: dict | None = None) -> Run:
    """`python -m pytest <args>` in the project, its own process, with a timeout."""
    child_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TRADEOPS_", "PYTEST_", "FAKE_"))
    }
    child_env.update(project_env(project))
    child_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--ops-config=ops.toml", *args],
        cwd=project,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    return Run(done.returncode, done.stdout + done.stderr)


def report_files(root: Path) -> list[Path]:
    """Every file in the reports root's date folders, sorted."""
    return sorted(p for p in root.glob("????-??-??/*") if p.is_file())


def verify(root: Path) -> subprocess.CompletedProcess:
    """`python -m tradeops.reports verify` on root."""
    return subprocess.run(
        [sys.executable, "-m", "tradeops.reports", "verify", "--dir", str(root)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
    )
