"""What collection leaves out: `-m preflight` builds only the modules that mark it, and
selects exactly the items a full collection would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.test_config import ENV, GOOD
from tradeops._collect import off_every_argument

REPO = Path(__file__).resolve().parents[1]


def collect(cwd: Path, *args: str, manifest: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:randomly", *args,
         f"--ops-config={manifest}"],
        cwd=cwd, env={**os.environ, **ENV}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def node_ids(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_the_suites_preflight_selects_the_same_items_with_or_without_the_shortcut(tmp_path):
    manifest = tmp_path / "ops.toml"
    manifest.write_text(GOOD)
    short = collect(REPO, "checks", "slo", "-m", "preflight", manifest=manifest)
    # Another expression that means the same: collected whole, then deselected by pytest.
    full = collect(REPO, "checks", "slo", "-m", "preflight or preflight", manifest=manifest)
    assert short.returncode == full.returncode == 0, short.stdout + full.stdout
    assert node_ids(short) == node_ids(full)
    assert len(node_ids(short)) == 5
    assert "deselected" in full.stdout and "deselected" not in short.stdout


def project(tmp_path: Path) -> Path:
    """Three check modules: one marked whole, one marking a function, one broken unmarked."""
    root = tmp_path / "project"
    (root / "checks").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.pytest]\ntestpaths = ["checks"]\n')
    (root / "checks" / "test_marked.py").write_text(
        "import pytest\n\npytestmark = pytest.mark.preflight\n\n\ndef test_a():\n    pass\n"
    )
    (root / "checks" / "test_one_marked.py").write_text(
        "import pytest\n\n\n@pytest.mark.preflight\ndef test_b():\n    pass\n\n\n"
        "def test_c():\n    pass\n"
    )
    (root / "checks" / "test_unmarked_and_broken.py").write_text("def test_d(:\n    pass\n")
    (root / "ops.toml").write_text(GOOD)
    return root


def test_a_module_that_never_writes_the_marker_is_not_imported_for_preflight(tmp_path):
    root = project(tmp_path)
    done = collect(root, "-m", "preflight", manifest=root / "ops.toml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert node_ids(done) == [
        "checks/test_marked.py::test_a",
        "checks/test_one_marked.py::test_b",
    ]


def test_any_other_expression_collects_every_module_and_reports_the_broken_one(tmp_path):
    root = project(tmp_path)
    done = collect(root, "-m", "preflight or portfolio", manifest=root / "ops.toml")
    assert done.returncode == 2, done.stdout  # pytest's collection-error status
    assert "test_unmarked_and_broken.py" in done.stdout
    assert "SyntaxError" in done.stdout


def test_a_preflight_imports_no_slo_module(tmp_path):
    # slo/conftest.py is loaded by every run (testpaths); what it evaluates is imported
    # where a fixture first asks for it, so a pre-flight never pays for the SLO modules.
    manifest = tmp_path / "ops.toml"
    manifest.write_text(GOOD)
    script = (
        "import sys, pytest\n"
        f"code = pytest.main(['--co', '-q', '-p', 'no:randomly', '-m', 'preflight', "
        f"'--ops-config={manifest}'])\n"
        "print('SLO MODULES', sorted(m for m in sys.modules if m.startswith('tradeops.slo')))\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO, env={**os.environ, **ENV}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(node_ids(done)) == 5
    assert "SLO MODULES []" in done.stdout, done.stdout[-2000:]


def config_for(root: Path, *args: str, pyargs: bool = False) -> SimpleNamespace:
    """What `off_every_argument` reads of a pytest.Config: rootdir, arguments, options."""
    return SimpleNamespace(
        rootpath=root,
        args=list(args),
        invocation_params=SimpleNamespace(dir=root),
        option=SimpleNamespace(pyargs=pyargs),
        stash=pytest.Stash(),
    )


def test_a_rootdir_entry_no_argument_leads_to_is_left_before_pytest_looks_at_it(tmp_path):
    config = config_for(tmp_path, "checks", "slo/test_slos.py::test_one")
    left = [n for n in ("checks", "slo", "tests", "docs", "README.md", "conftest.py")
            if off_every_argument(tmp_path / n, config)]  # fmt: skip
    assert left == ["tests", "docs", "README.md", "conftest.py"]
    assert not off_every_argument(tmp_path / "tests" / "deeper", config)  # not an entry


def test_an_argument_naming_the_rootdir_or_modules_leaves_nothing_out(tmp_path):
    assert not off_every_argument(tmp_path / "tests", config_for(tmp_path, "."))
    assert not off_every_argument(tmp_path / "tests", config_for(tmp_path, str(tmp_path)))
    modules = config_for(tmp_path, "tradeops.probe", pyargs=True)
    assert not off_every_argument(tmp_path / "tradeops", modules)
