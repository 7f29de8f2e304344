"""The console's text for people: wrapped to a width (fill), coloured or not, control characters escaped (finish)."""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cherryconf import console
from cherryconf.console import columns, fill, finish, paint

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
