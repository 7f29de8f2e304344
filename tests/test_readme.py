"""The README's command reference and its first commands stay true: the install line is run as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cherryconf.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def first_command() -> str:
    """The first line of the README's first shell block: what a new user types."""
    block = README.split("```sh\n", 1)[1].split("```", 1)[0]
    return block.splitlines()[0]


def test_every_command_is_documented_and_every_documented_command_exists() -> None:
    reference = README.split("## Commands", 1)[1].split("```", 2)[1]
    documented = set(re.findall(r"^  ([a-z]+)\b", reference, re.MULTILINE))
    assert documented == set(cli.commands)


def test_the_first_command_installs_into_a_venv_and_ci_runs_the_test_command() -> None:
    assert first_command().startswith("python3 -m venv ")  # never a bare `pip install`: PEP 668 refuses it
    assert "bash scripts/test" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in ci


# Debian's own Python (externally managed, the case a bare `pip install .` fails on), and whatever `python3` is
# first on this machine's PATH.
PYTHONS = [pytest.param("/usr/bin", id="debian-python"), pytest.param("", id="path-python")]


@pytest.mark.slow
@pytest.mark.parametrize("first_on_path", PYTHONS)
def test_the_install_command_works_as_written(tmp_path: Path, first_on_path: str) -> None:
    if first_on_path and not (Path(first_on_path) / "python3").exists():
        pytest.skip(f"no python3 in {first_on_path}")  # not a Debian machine
    checkout = tmp_path / "cherryconf"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".*_cache", ".hypothesis", "*.egg-info"))
    home = tmp_path / "home"
    home.mkdir()
    path = os.pathsep.join(p for p in (first_on_path, os.environ.get("PATH", "")) if p)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "CHERRYCONF"))}
    env |= {"HOME": str(home), "PATH": path, "CHERRYCONF_HOME": str(tmp_path / "cc")}
    # As written; off a terminal `cherryconf` prints its help and exits 2, which shows it installed and ran.
    done = subprocess.run(["sh", "-c", first_command()], cwd=checkout, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=900, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("Usage: cherryconf"), done.stderr
    venv = home / ".venvs" / "cherryconf"
    if first_on_path:
        assert f"home = {first_on_path}\n" in (venv / "pyvenv.cfg").read_text()  # made by that very Python
    installed = venv / "bin" / "cherryconf"
    version = subprocess.run([str(installed), "--version"], env=env, capture_output=True, text=True, check=True)
    assert version.stdout.startswith("cherryconf, version ")
