"""The example CI workflow runs the gate before the promote and keeps its evidence."""

from __future__ import annotations

import shlex

import yaml

from tests.suite_runner import REPO

WORKFLOW = REPO / "deploy" / "ci" / "promote-gate.yml"


def _steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def _gate_command(job: dict) -> list[str]:
    runs = [shlex.split(s["run"]) for s in _steps(job) if "run" in s]
    found = [words for words in runs if words[:3] == ["pytest", "-m", "promote_gate"]]
    assert len(found) == 1, runs
    return found[0]


def _option(words: list[str], name: str) -> str:
    (value,) = [w.split("=", 1)[1] for w in words if w.startswith(f"{name}=")]
    return value


def test_the_gate_job_runs_pytest_m_promote_gate_and_uploads_report_json_and_junit():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    gate = workflow["jobs"]["gate"]
    words = _gate_command(gate)
    wanted = {_option(words, o) for o in ("--html", "--ops-json", "--junitxml")}
    (upload,) = [s for s in _steps(gate) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["if"] == "always()"  # a failed gate's evidence is kept too
    assert set(upload["with"]["path"].split()) == wanted
    assert upload["with"]["if-no-files-found"] == "error"


def test_the_promote_runs_only_after_the_gate_passed():
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    assert jobs["promote"]["needs"] == "gate"
    assert "if" not in jobs["promote"]  # the default: only when every needed job succeeded


def test_the_example_does_not_run_in_this_repositorys_own_ci():
    assert not (REPO / ".github" / "workflows" / "promote-gate.yml").exists()
    assert "promote-gate.yml" not in (REPO / ".ci" / "run").read_text()


def test_the_readme_shows_the_workflows_gate_command_and_artifacts():
    readme = " ".join((REPO / "README.md").read_text().split())
    words = _gate_command(yaml.safe_load(WORKFLOW.read_text())["jobs"]["gate"])
    assert "pytest -m promote_gate" in readme
    for word in words[3:]:
        assert word in readme, word
