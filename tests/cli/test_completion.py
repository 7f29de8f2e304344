"""Shell completion (issue 27): `cherryconf completion SHELL` prints click's script, and the real CLI answers the
shell's questions through click's protocol."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from testing.cli import PACKAGE_ROOT


def ask(run_cli: Any, line: str, **env: str) -> list[str]:
    """What the real CLI answers bash for the last word of `line`, as bash's script asks it."""
    words = line.split(" ")
    result = run_cli(env={"_CHERRYCONF_COMPLETE": "bash_complete", "COMP_WORDS": line,
                          "COMP_CWORD": str(len(words) - 1), **env})
    assert result.code == 0, result.err
    return result.out.splitlines()


def test_the_cli_completes_commands_and_options(run_cli: Any) -> None:
    assert ask(run_cli, "cherryconf ver") == ["plain,verify"]
    assert {"plain,completion", "plain,apply", "plain,doctor"} <= set(ask(run_cli, "cherryconf "))
    assert "plain,--all-models" in ask(run_cli, "cherryconf verify --all")
    assert ask(run_cli, "cherryconf verify --endpoint ") == ["plain,chat", "plain,responses", "plain,both"]
    assert ask(run_cli, "cherryconf completion ") == ["plain,bash", "plain,zsh", "plain,fish"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_script_names_the_program_and_its_variable(run_cli: Any, shell: str) -> None:
    result = run_cli("completion", shell)
    # click asks bash for its version first; without a bash (Windows without Git Bash) it warns, and still prints.
    warned = shell == "bash" and shutil.which("bash") is None
    assert result.code == 0 and (result.err == "" or (warned and "Bash version" in result.err))
    assert "_CHERRYCONF_COMPLETE" in result.out and f"{shell}_complete" in result.out


def test_an_unknown_shell_is_refused_in_one_sentence(run_cli: Any) -> None:
    result = run_cli("completion", "powershell")
    assert result.code == 2 and result.err.startswith("cherryconf: ") and result.err.count("\n") == 1


def test_the_help_says_how_to_enable_it_in_chinese_too(run_cli: Any) -> None:
    assert 'eval "$(cherryconf completion bash)"' in run_cli("completion", "--help").out
    zh = run_cli("completion", "--help", env={"LANG": "zh_CN.UTF-8"}).out
    assert 'eval "$(cherryconf completion bash)"' in zh and "~/.bashrc" in zh and "补全" in zh


@pytest.mark.posix_only  # bash
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_a_subcommand_with_the_printed_script(run_cli: Any, tmp_path: Path) -> None:
    script = tmp_path / "cherryconf.bash"
    script.write_text(run_cli("completion", "bash").out, encoding="utf-8")
    # `cherryconf` on PATH, as an install puts it there: this checkout's package, run by this Python.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "cherryconf"
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m cherryconf "$@"\n', encoding="utf-8")
    program.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(PACKAGE_ROOT)}
    # What bash does on Tab after `cherryconf ver`: the function `complete -F` registered, then COMPREPLY.
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c",
         f'source "{script}"; complete -p cherryconf; COMP_WORDS=(cherryconf ver); COMP_CWORD=1; '
         '_cherryconf_completion cherryconf; printf "%s\\n" "${COMPREPLY[@]}"'],
        env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    registered, *replies = done.stdout.splitlines()
    assert registered == "complete -o nosort -F _cherryconf_completion cherryconf"
    assert replies == ["verify"]
