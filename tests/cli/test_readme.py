"""The README's command reference and its first commands stay true: the install line is run as written.

README.zh-CN.md is the same README in Simplified Chinese: its commands, code and command reference must stay
those of README.md, byte for byte, so that a Chinese reader never runs a stale or mistranslated command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from testing import REPO

from cherryconf.cli import cli

ROOT = REPO
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_ZH = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")


def first_command(readme: str = README) -> str:
    """The first line of the README's first shell block: what a new user types."""
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    return block.splitlines()[0]


def fenced(readme: str, lang: str) -> list[str]:
    """The bodies of the README's ```lang blocks, in order."""
    return re.findall(rf"^```{lang}\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)


def inline_code(readme: str) -> set[str]:
    """Every `code` span outside the fenced blocks, whitespace-normalised (a span may wrap across lines)."""
    prose = re.sub(r"^```.*?^```", "", readme, flags=re.MULTILINE | re.DOTALL)
    return {" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)}


def section(readme: str, heading: str) -> str:
    """The text under `## heading`, up to the next such heading."""
    return readme.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def reference(readme: str, heading: str) -> str:
    """The command reference: the first fenced block after the heading."""
    return readme.split(f"\n{heading}\n", 1)[1].split("```", 2)[1]


def documented_commands(block: str) -> set[str]:
    return set(re.findall(r"^  ([a-z]+)\b", block, re.MULTILINE))


def test_every_command_is_documented_and_every_documented_command_exists() -> None:
    assert documented_commands(reference(README, "## Commands")) == set(cli.commands)


def test_both_readmes_say_how_to_enable_tab_completion() -> None:
    for readme in (README, README_ZH):
        assert {'eval "$(cherryconf completion bash)"', 'eval "$(cherryconf completion zsh)"', "~/.bashrc",
                "cherryconf completion fish > ~/.config/fish/completions/cherryconf.fish"} <= inline_code(readme)


def test_each_readme_links_the_other_from_its_first_line() -> None:
    assert README.splitlines()[0] == "[简体中文](README.zh-CN.md)"
    assert README_ZH.splitlines()[0] == "[English](README.md)"


def test_the_chinese_readme_gives_the_same_install_and_test_commands() -> None:
    assert first_command(README_ZH) == first_command(README)
    assert fenced(README_ZH, "sh") == fenced(README, "sh")  # every shell block, byte for byte and in order
    assert fenced(README_ZH, "powershell") == fenced(README, "powershell")  # Windows' too
    assert "bash scripts/test" in fenced(section(README_ZH, "运行测试"), "sh")[0]


def test_the_chinese_readme_quotes_every_command_path_and_key_as_written() -> None:
    assert inline_code(README_ZH) == inline_code(README)


def test_the_chinese_readme_has_the_same_sections_and_profile() -> None:
    def headings(readme: str) -> int:
        return len(re.findall(r"^#{1,3} ", readme, re.MULTILINE))

    assert headings(README_ZH) == headings(README)
    # Only the profile's comments are translated: it must still load to the same profile.
    assert [yaml.safe_load(b) for b in fenced(README_ZH, "yaml")] == [yaml.safe_load(b) for b in fenced(README, "yaml")]


def test_the_chinese_command_reference_has_every_command_and_flag() -> None:
    english, chinese = reference(README, "## Commands"), reference(README_ZH, "## 命令")
    assert documented_commands(chinese) == set(cli.commands)
    assert chinese.splitlines()[1] == english.splitlines()[1]  # the usage line

    def flags(block: str) -> set[str]:
        return set(re.findall(r"--[a-z][a-z-]*", block))

    assert flags(chinese) == flags(english)


def test_the_first_command_installs_into_a_venv_and_ci_runs_the_test_command() -> None:
    assert first_command().startswith("python3 -m venv ")  # never a bare `pip install`: PEP 668 refuses it
    assert "bash scripts/test" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in ci


def venv_dir() -> str:
    """The virtualenv the first command makes, as written there (`~/...`)."""
    match = re.match(r"python3 -m venv (~/\S+) && ", first_command())
    assert match, first_command()
    return match[1]


def path_line() -> str:
    """The shell line that puts the virtualenv on PATH: what a new user must not miss."""
    (line,) = [line for block in fenced(README, "sh") for line in block.splitlines() if line.startswith("export PATH=")]
    return line


def test_the_path_line_names_the_virtualenv_the_install_line_makes() -> None:
    venv = venv_dir()
    assert path_line() == f'export PATH="$HOME/{venv.removeprefix("~/")}/bin:$PATH"'
    assert first_command() == f"python3 -m venv {venv} && {venv}/bin/pip install . && {venv}/bin/cherryconf"
    for readme in (README, README_ZH):
        assert {"~/.bashrc", "~/.zshrc", f"{venv}/bin"} <= inline_code(readme)  # where to keep the PATH line
        assert {"pipx ensurepath", "pipx install ."} <= inline_code(readme)  # or pipx, which sets PATH itself


def test_the_windows_lines_use_one_virtualenv_and_put_it_on_path() -> None:
    install, path = fenced(README, "powershell")
    made = re.fullmatch(r"py -3\.(\d+) -m venv (\S+)", install.splitlines()[0])
    assert made, install
    floor = PYPROJECT["project"]["requires-python"].removeprefix(">=3.")
    assert made[1] == floor  # the oldest Python cherryconf supports
    scripts = made[2] + "\\Scripts"
    assert install.splitlines()[1:] == [f"& {scripts}\\pip install .", f"& {scripts}\\cherryconf.exe"]
    session, permanent = path.splitlines()
    assert session == f'$env:Path = "{scripts};$env:Path"'
    assert permanent == (f'[Environment]::SetEnvironmentVariable("Path", "{scripts};" + '
                         '[Environment]::GetEnvironmentVariable("Path", "User"), "User")')
    for readme in (README, README_ZH):
        assert {"py -m pip install --user pipx", "py -m pipx ensurepath", "pipx install ."} <= inline_code(readme)


def test_the_source_comes_from_the_projects_repository_and_pip_from_any_mirror() -> None:
    source = PYPROJECT["project"]["urls"]["Source"]
    for readme, heading in ((README, "Install and run"), (README_ZH, "安装与运行")):
        install = section(readme, heading)
        assert f"git clone {source} && cd cherryconf" in inline_code(readme)
        assert "ZIP" in install
        # The mirror hint names no mirror: the only address in the install section is the repository's.
        assert set(re.findall(r"https?://[^\s`]+", install)) == {source}
        assert {"-i <mirror index URL>", "pip config set global.index-url <mirror index URL>"} <= inline_code(readme)


def test_the_test_section_says_how_long_and_how_to_run_less() -> None:
    for readme, heading in ((README, "Run the tests"), (README_ZH, "运行测试")):
        tests = section(readme, heading)
        assert re.search(r"\b5\b", tests) and "15" in tests and "25" in tests
        assert {'bash scripts/test -m "not slow and not chromium"', "CHERRYCONF_SKIP_WINDOWS=1 bash scripts/test",
                ".venv/bin/python -m pytest tests/unit/domain/test_plan.py"} <= inline_code(readme)
    assert (ROOT / "tests" / "unit" / "domain" / "test_plan.py").is_file()


# Debian's own Python (externally managed, the case a bare `pip install .` fails on), and whatever `python3` is
# first on this machine's PATH.
PYTHONS = [pytest.param("/usr/bin", id="debian-python"), pytest.param("", id="path-python")]


@pytest.mark.slow
@pytest.mark.posix_only  # the README's sh line (Windows' PowerShell lines are checked for consistency above)
@pytest.mark.parametrize("first_on_path", PYTHONS)
def test_the_install_command_works_as_written(tmp_path: Path, first_on_path: str) -> None:
    if first_on_path and not (Path(first_on_path) / "python3").exists():
        pytest.skip(f"no python3 in {first_on_path}")  # not a Debian machine
    checkout = tmp_path / "cherryconf"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".*_cache", ".hypothesis", "*.egg-info",
        ".wine-lane"))  # the Windows lane's Wine prefix: its drive Z: links to /
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
    # The PATH line, as written, makes a bare `cherryconf` the one just installed.
    bare = subprocess.run(["sh", "-c", f"{path_line()} && command -v cherryconf && cherryconf --version"], env=env,
                          capture_output=True, text=True, check=False)
    assert bare.returncode == 0, bare.stderr
    assert bare.stdout.splitlines() == [str(installed), version.stdout.strip()]
