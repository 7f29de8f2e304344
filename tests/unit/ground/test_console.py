"""Which shell the user types in, and the line that sets a variable there: one case per branch."""

from __future__ import annotations

import pytest

from cherryconf.console import set_variable_example, user_shell


@pytest.mark.parametrize(("system", "env", "shell", "example"), [
    # Windows: PowerShell unless cmd.exe's PROMPT is there; PSModulePath is set for every process, so no sign.
    ("windows", {"PSModulePath": r"C:\Program Files\WindowsPowerShell\Modules"}, "powershell",
     '$env:APIYI_API_KEY = "..."'),
    ("windows", {"PROMPT": "$P$G", "PSModulePath": r"C:\x"}, "cmd", "set APIYI_API_KEY=..."),
    ("linux", {"SHELL": "/bin/bash"}, "posix", "export APIYI_API_KEY=..."),
    ("darwin", {"SHELL": "/bin/zsh"}, "posix", "export APIYI_API_KEY=..."),
    ("linux", {}, "posix", "export APIYI_API_KEY=..."),
    ("linux", {"SHELL": "/usr/local/bin/fish"}, "fish", "set -x APIYI_API_KEY ..."),
    ("darwin", {"SHELL": "/bin/tcsh"}, "csh", "setenv APIYI_API_KEY ..."),
    ("linux", {"SHELL": "/bin/csh"}, "csh", "setenv APIYI_API_KEY ..."),
])
def test_the_example_is_for_the_users_shell(system: str, env: dict[str, str], shell: str, example: str) -> None:
    assert user_shell(system, env) == shell
    assert set_variable_example("APIYI_API_KEY", system, env) == example


def test_git_bash_on_windows_gets_the_posix_example() -> None:
    # Git Bash and MSYS2 export SHELL to the Windows programs they run; PowerShell and cmd.exe do not.
    env = {"SHELL": "/usr/bin/bash", "PSModulePath": r"C:\x"}
    assert set_variable_example("APIYI_API_KEY", "windows", env) == "export APIYI_API_KEY=..."
