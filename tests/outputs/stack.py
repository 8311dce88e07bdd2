"""Debian's node_exporter and Prometheus as real processes on 127.0.0.1, for the tests.

Each binds an ephemeral port (127.0.0.1:0); the port is read back from the kernel's socket
table of that very process (/proc), so there is no port race. Every wait is bounded, and a
child dies with the test process (PR_SET_PDEATHSIG) even if pytest is killed.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

NODE_EXPORTER = shutil.which("prometheus-node-exporter")
PROMETHEUS = shutil.which("prometheus")
START_TIMEOUT_S = 60
QUERY_TIMEOUT_S = 60
POLL_S = 0.25


@dataclass
class Stack:
    """A running node_exporter over `textfile_dir` and a Prometheus scraping it every second."""

    textfile_dir: Path
    node_exporter: str  # base URL
    prometheus: str  # base URL

    def query(self, promql: str) -> list[dict]:
        """An instant query's result vector ([] when nothing matches)."""
        answer = httpx.get(
            f"{self.prometheus}/api/v1/query", params={"query": promql}, timeout=10
        ).json()
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def value(self, promql: str) -> float | None:
        """The single sample's value, or None when the query matches nothing."""
        result = self.query(promql)
        assert len(result) <= 1, f"{promql}: {len(result)} series"
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, promql: str, accept: Callable[[list[dict]], bool]) -> list[dict]:
        """Poll an instant query until `accept(result)`, at most QUERY_TIMEOUT_S seconds."""
        deadline = time.monotonic() + QUERY_TIMEOUT_S
        result: list[dict] = []
        for _ in range(int(QUERY_TIMEOUT_S / POLL_S) + 1):
            result = self.query(promql)
            if accept(result) or time.monotonic() > deadline:
                break
            time.sleep(POLL_S)
        assert accept(result), f"after {QUERY_TIMEOUT_S}s, {promql} is still {result}"
        return result


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _listening_port(pid: int) -> int | None:
    """The TCP port process `pid` listens on, from /proc (None until it listens)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
            return int(fields[1].split(":")[1], 16)
    return None


@contextmanager
def _process(argv: list[str], log: Path) -> Iterator[str]:
    """Start argv, wait until it listens and answers, yield its base URL, then stop it."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        url = None
        for _ in range(int(START_TIMEOUT_S / POLL_S) + 1):
            if proc.poll() is not None or time.monotonic() > deadline:
                break
            port = _listening_port(proc.pid)
            if port and _answers(f"http://127.0.0.1:{port}"):
                url = f"http://127.0.0.1:{port}"
                break
            time.sleep(POLL_S)
        assert url, f"{argv[0]} did not start in {START_TIMEOUT_S}s:\n{log.read_text()[-2000:]}"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


@contextmanager
def stack(work: Path, rule_files: list[Path] = ()) -> Iterator[Stack]:
    """node_exporter (textfile collector only) and Prometheus, both on 127.0.0.1."""
    textfile_dir = work / "textfile"
    textfile_dir.mkdir()
    node_argv = [
        NODE_EXPORTER,
        "--web.listen-address=127.0.0.1:0",
        "--collector.disable-defaults",
        "--collector.textfile",
        f"--collector.textfile.directory={textfile_dir}",
    ]
    with _process(node_argv, work / "node_exporter.log") as node_url:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [
                {"job_name": "node", "static_configs": [{"targets": [node_url[len("http://") :]]}]}
            ],
        }
        (work / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        prom_argv = [
            PROMETHEUS,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'tsdb'}",
            "--web.listen-address=127.0.0.1:0",
        ]
        with _process(prom_argv, work / "prometheus.log") as prom_url:
            yield Stack(textfile_dir, node_url, prom_url)
