"""pytest's own floor on this machine: trivial tests, the same plugins and addopts.

The benchmarks that time whole pytest processes print their figures against this floor,
measured in the same run, so a busy or slow machine moves both alike: preflight.py
against five trivial tests, scale.py also against as many trivial tests as the suite
has checks (what pytest and pytest-html cost per item, before any check does anything).
"""

from __future__ import annotations

import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def floor_tests(items: int) -> str:
    """`items` trivial tests; the first also proves the floor is the floor: the tradeops
    plugin is not loaded in it."""
    return (
        "import sys\n\nimport pytest\n\n\n"
        "def test_trivial_0():\n    assert 'tradeops.plugin' not in sys.modules\n\n\n"
        f"@pytest.mark.parametrize('k', range({items - 1}))\n"
        "def test_trivial(k):\n    assert k >= 0\n"
    )


def floor_dir(items: int = 5) -> Path:
    """A directory of `items` trivial tests with the repository's addopts."""
    pytest_table = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]
    options = pytest_table.get("ini_options", pytest_table)
    where = Path(tempfile.mkdtemp(prefix="tradeops-floor-"))
    # The tradeops plugin (a pytest11 entry point) is what is measured: off in the floor.
    addopts = " ".join([*options["addopts"], "-p", "no:tradeops.plugin"])
    (where / "pytest.ini").write_text(f"[pytest]\naddopts = {addopts}\n")
    (where / "test_floor.py").write_text(floor_tests(items))
    return where


def floor_command(report: Path) -> list[str]:
    """Run in floor_dir(). `--html=PATH`, not `--html PATH`: pytest takes a spaced value it
    does not know yet (pytest-html's option) for a path, finds no ini file from it, and
    skips the ini's addopts, so the floor would load the tradeops plugin too."""
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"--html={report}"]
