"""The hosted CI runs the README's test command on Windows, macOS and Linux with every supported Python; a version
tag builds, checks and publishes the release by trusted publishing. Written for GitHub, checked here as data."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import yaml
from testing import REPO

ROOT = REPO
WORKFLOWS = ROOT / ".github" / "workflows"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def workflow(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as true
    return doc


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Run the tests\n", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return block.splitlines()[0]


def test_every_workflow_parses() -> None:
    names = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
    assert names == ["ci.yml", "release.yml"]
    for name in names:
        assert workflow(name)["jobs"]


def test_ci_runs_the_readme_test_command_on_three_systems_and_three_pythons() -> None:
    (job,) = workflow("ci.yml")["jobs"].values()
    matrix = job["strategy"]["matrix"]
    assert set(matrix["os"]) == {"ubuntu-latest", "macos-latest", "windows-latest"}
    assert matrix["python"] == ["3.11", "3.12", "3.13"]  # strings: YAML would read 3.10 as 3.1
    assert job["strategy"]["fail-fast"] is False  # one system's failure must not hide another's
    assert job["defaults"]["run"]["shell"] == "bash"  # Git Bash on Windows runs scripts/test as on Linux
    assert readme_test_command() == "bash scripts/test"
    assert [s["run"] for s in steps(job) if "run" in s][-1] == readme_test_command()
    assert any(s.get("with", {}).get("python-version") == "${{ matrix.python }}" for s in steps(job))


def test_ci_tests_the_pythons_the_package_claims() -> None:
    (job,) = workflow("ci.yml")["jobs"].values()
    claimed = [c.rsplit(" :: ", 1)[1] for c in PYPROJECT["project"]["classifiers"]
               if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert claimed == job["strategy"]["matrix"]["python"]
    assert PYPROJECT["project"]["requires-python"] == f">={claimed[0]}"


def test_release_builds_checks_and_publishes_a_version_tag_by_trusted_publishing() -> None:
    release = workflow("release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    runs = [s.get("run", "") for s in steps(build)]
    assert "python -m build" in runs  # the sdist, and the wheel built from it
    assert "python -m twine check --strict dist/*" in runs
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    assert release["permissions"] == {"contents": "read"}  # the token is the publish job's alone
    assert [s["uses"] for s in steps(publish) if "uses" in s][-1].startswith("pypa/gh-action-pypi-publish@")
