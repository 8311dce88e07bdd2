"""pytest's own floor on this machine: five trivial tests, the same plugins and addopts.

The benchmarks that time whole pytest processes (preflight.py, scale.py) print their
figures against this floor, measured in the same run, so a busy or slow machine moves
both alike.
"""

from __future__ import annotations

import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The first also proves the floor is the floor: the tradeops plugin is not loaded in it.
FLOOR_TESTS = (
    "import sys\n\n\ndef test_trivial_0():\n    assert 'tradeops.plugin' not in sys.modules\n\n\n"
    + "".join(f"def test_trivial_{k}():\n    assert True\n\n\n" for k in range(1, 5))
)


def floor_dir() -> Path:
    """A directory of five trivial tests with the repository's addopts."""
    pytest_table = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]
    options = pytest_table.get("ini_options", pytest_table)
    where = Path(tempfile.mkdtemp(prefix="tradeops-floor-"))
    # The tradeops plugin (a pytest11 entry point) is what is measured: off in the floor.
    addopts = " ".join([*options["addopts"], "-p", "no:tradeops.plugin"])
    (where / "pytest.ini").write_text(f"[pytest]\naddopts = {addopts}\n")
    (where / "test_floor.py").write_text(FLOOR_TESTS)
    return where


def floor_command(report: Path) -> list[str]:
    """Run in floor_dir(). `--html=PATH`, not `--html PATH`: pytest takes a spaced value it
    does not know yet (pytest-html's option) for a path, finds no ini file from it, and
    skips the ini's addopts, so the floor would load the tradeops plugin too."""
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"--html={report}"]
