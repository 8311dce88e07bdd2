"""A running sandbox platform whose event store a hardening test may point elsewhere or edit.

`python -m tradeops.sandbox` is started as an operator would; `manifest_for(path)` writes
a copy of its ops.toml whose [event_store] path is another file (a FIFO, a symlink loop,
a corrupt store...), so the control plane and brokers stay healthy and only the store is
bad. `edit()` appends rows to the live store itself, beside the sandbox's writer.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.suite_runner import REPO


@dataclass
class StorePlatform:
    directory: Path
    manifest: Path
    env: dict[str, str]

    @property
    def store(self) -> Path:
        return Path(json.loads((self.directory / "sandbox.json").read_text())["store"])

    @property
    def accounts(self) -> list[str]:
        brokers = json.loads((self.directory / "sandbox.json").read_text())["brokers"]
        return [a for accounts in brokers.values() for a in accounts]

    def manifest_for(self, store: Path, name: str = "ops-bad-store.toml") -> Path:
        """A copy of the sandbox's ops.toml reading the event store at `store`."""
        text = self.manifest.read_text()
        text = re.sub(
            r"(?m)^(\[event_store\]\npath = ).*$",
            lambda m: m.group(1) + json.dumps(str(store)),
            text,
        )
        path = self.manifest.parent / name
        path.write_text(text)
        return path

    def edit(self, sql: str, params: dict | tuple = ()) -> int:
        """Run one write on the live store (beside the sandbox's writer); the new rowid."""
        conn = sqlite3.connect(self.store, timeout=10, isolation_level=None)
        try:
            return conn.execute(sql, params).lastrowid or 0
        finally:
            conn.close()

    def rows(self, sql: str, params: dict | tuple = ()) -> list[tuple]:
        conn = sqlite3.connect(f"file:{self.store}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


@contextlib.contextmanager
def store_platform(
    directory: Path, scenario: str = "healthy", days: int = 8
) -> Iterator[StorePlatform]:
    """Start the sandbox `scenario` in `directory` and stop it afterwards."""
    command = [sys.executable, "-m", "tradeops.sandbox", "--scenario", scenario]
    command += ["--dir", str(directory), "--days", str(days)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEOPS_", "PYTEST_"))}
    env["TRADEOPS_CACHE"] = os.environ.get("TRADEOPS_CACHE", str(REPO / ".cache-tests"))
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.endswith("ops.toml"), f"the sandbox did not start: {line!r}"
        secrets = {}
        for entry in (directory / "sandbox.env").read_text().splitlines():
            key, _, value = entry.removeprefix("export ").partition("=")
            secrets[key] = value
        yield StorePlatform(directory, Path(line), secrets)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
