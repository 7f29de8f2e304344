"""The console: text for people wrapped to a width (fill), coloured or not, control characters escaped (finish);
the shell the user types in and the line that sets a variable there (one case per branch)."""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cherryconf import console
from cherryconf.console import columns, fill, finish, paint, set_variable_example, user_shell

# Words, Chinese, punctuation and bullets, after an indent: what plans, findings and the wizard print.
_LINE = st.builds(lambda indent, body: " " * indent + body, st.integers(min_value=0, max_value=8),
                  st.text(alphabet=st.sampled_from(list("探测网关模型，。（）abc-/:+~✗ ")), max_size=120))


@given(st.lists(_LINE, max_size=5), st.integers(min_value=30, max_value=100))
def test_fill_fits_and_loses_nothing_but_spaces(lines: list[str], width: int) -> None:
    text = "\n".join(lines)
    filled = fill(text, width)
    assert filled.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
    # A line is longer only when it is one run that cannot be broken (an ASCII word longer than the width).
    for line in filled.split("\n"):
        body = line.strip().removeprefix("+ ").removeprefix("✗ ").removeprefix("~ ").removeprefix("- ")
        assert columns(line) <= width or (" " not in body and columns(body) == len(body)), (line, width)


def test_fill_hangs_a_bullets_next_lines_under_its_text_and_never_cuts_a_word() -> None:
    line = "  + " + " ".join(f"word{i}" for i in range(30))
    filled = fill(line, 40).split("\n")
    assert filled[0].startswith("  + word0") and all(f.startswith("    word") for f in filled[1:])
    assert " ".join(f.strip().removeprefix("+ ") for f in filled).split() == line.split()[1:]
    assert fill(line, None) == line  # a pipe: left whole


def test_finish_colours_painted_spans_or_drops_their_marks_and_escapes_the_rest() -> None:
    text = paint("+ gw", console.GOOD) + " name\x1b[2J\n" + paint("fail", console.BAD) + ": \x07"
    assert finish(text, colour=False) == "+ gw name\\x1b[2J\nfail: \\x07"
    coloured = finish(text, colour=True)
    assert coloured.startswith("\x1b[32m+ gw\x1b[0m name\\x1b[2J\n\x1b[31mfail\x1b[0m")
    # A mark with no end (from a store, say) is not a span: escaped like any control character.
    assert finish("\x11name", colour=True) == "\\x11name"


def test_colour_follows_no_color_force_color_and_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    mp = monkeypatch

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        mp.delenv(name, raising=False)
    assert console.use_colour(Terminal()) is (sys.platform != "win32")
    assert console.use_colour(io.StringIO()) is False
    mp.setenv("FORCE_COLOR", "1")
    assert console.use_colour(io.StringIO()) is True
    mp.setenv("NO_COLOR", "anything")
    assert console.use_colour(Terminal()) is False
    mp.delenv("NO_COLOR")
    mp.delenv("FORCE_COLOR")
    mp.setenv("TERM", "dumb")
    assert console.use_colour(Terminal()) is False


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
