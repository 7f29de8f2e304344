"""The README's command reference and its two commands stay true."""

from __future__ import annotations

import re
from pathlib import Path

from cherryconf.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented_and_every_documented_command_exists() -> None:
    reference = README.split("## Commands", 1)[1].split("```", 2)[1]
    documented = set(re.findall(r"^  ([a-z]+)\b", reference, re.MULTILINE))
    assert documented == set(cli.commands)


def test_the_two_commands_are_the_ones_ci_runs() -> None:
    assert "pip install . && cherryconf" in README
    assert "bash scripts/test" in README
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "scripts/test" in ci
