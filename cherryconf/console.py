"""The console: what cherryconf's output is encoded as, whether it is in colour, how wide it may be, and which
shell the user types in; the one place the console differs by platform.

POSIX: the locale's encoding (UTF-8 nearly everywhere). Windows: a console gets Unicode whatever its code page
(Python writes it with WriteConsoleW); a pipe or a file would get the ANSI code page (cp1252, cp936), in which an
emoji or, on cp1252, any Chinese cannot be written. What reads a redirected program's output there is PowerShell
or cmd, and both decode it with the console's output code page, so that is what redirected text is written in.
JSON is written with every non-ASCII character escaped on Windows: the same bytes are then valid UTF-8 and valid
in every code page, so `ConvertFrom-Json`, Python and jq all read `我的中转 🚀` back intact.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping
from typing import Literal, TextIO

# Escape non-ASCII in JSON output (see above); elsewhere JSON is UTF-8 as is, readable by eye.
JSON_ASCII = sys.platform == "win32"


def setup_streams() -> None:
    """Set stdout's and stderr's encoding and error handler once, before anything is printed.

    Everywhere, text that cannot be encoded (a JavaScript string's lone surrogate, an emoji on cp936) is shown
    escaped rather than crashing. A user's PYTHONIOENCODING or UTF-8 mode is kept.
    """
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper):
            continue
        encoding = _redirected_encoding(stream)
        if encoding:
            stream.reconfigure(encoding=encoding, errors="backslashreplace")
        else:
            stream.reconfigure(errors="backslashreplace")


def _redirected_encoding(stream: io.TextIOWrapper) -> str | None:
    if sys.platform != "win32" or sys.flags.utf8_mode or os.environ.get("PYTHONIOENCODING"):
        return None
    try:
        if stream.isatty():
            return None
    except ValueError:  # closed
        return None
    import ctypes

    code_page = ctypes.windll.kernel32.GetConsoleOutputCP()  # 0 without a console (a service, a scheduled task)
    return f"cp{code_page}" if code_page else "utf-8"


# --- Colour: whether a stream gets it, decided here only. -----------------------------------------------------

def use_colour(stream: TextIO) -> bool:
    """Colour on `stream`: never with NO_COLOR (any value), always with FORCE_COLOR (but 0), else on a terminal
    that is not a dumb one (on Windows, one that takes ANSI sequences once asked to: see `_windows_ansi`)."""
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force:
        return force != "0"
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # no stream (pythonw), or a closed one
        return False
    if not tty or os.environ.get("TERM") == "dumb":
        return False
    return sys.platform != "win32" or _windows_ansi(stream)


def _windows_ansi(stream: TextIO) -> bool:
    """Ask a Windows console to act on ANSI sequences (Windows 10 and later can; a legacy console says no)."""
    import ctypes
    import msvcrt

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
    try:
        handle = msvcrt.get_osfhandle(stream.fileno())  # type: ignore[attr-defined,unused-ignore]
    except (OSError, ValueError):  # a stream with no file behind it
        return False
    mode = ctypes.c_uint32()
    if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
        return False
    enable_virtual_terminal_processing = 0x0004
    return bool(mode.value & enable_virtual_terminal_processing
                or kernel32.SetConsoleMode(handle, mode.value | enable_virtual_terminal_processing))


# A view marks what to colour (`paint`) with control characters of its own: one opens a span in a colour, END
# closes it. `finish` turns them into click's styles or drops them; they are never printed as they are.
GOOD, BAD, CHANGE = "\x11", "\x12", "\x13"
END = "\x0f"
_STYLE = {GOOD: "green", BAD: "red", CHANGE: "yellow"}
_MARKS = frozenset((*_STYLE, END))


def paint(text: str, colour: str) -> str:
    """`text` to be shown in `colour` (GOOD, BAD or CHANGE) where colour is on."""
    return f"{colour}{text}{END}"


def finish(text: str, colour: bool) -> str:
    """`text` as printed: every control character written as an escape, line by line (names, paths and messages
    come from stores, configs and gateways: one must not erase or forge a line, or set the title), the painted
    spans in colour or plain. A forged mark in such a text can at most colour a span."""
    import re

    import click

    from cherryconf.errors import one_line

    def plain(part: str) -> str:
        return "\n".join(one_line(line) for line in part.split("\n"))

    out: list[str] = []
    done = 0
    for span in re.finditer("([\x11\x12\x13])([^\x0f\x11\x12\x13]*)\x0f", text):
        inner = plain(span[2])
        out += [plain(text[done:span.start()]), click.style(inner, fg=_STYLE[span[1]]) if colour else inner]
        done = span.end()
    out.append(plain(text[done:]))
    return "".join(out)


# --- Width: what fits the terminal, in its columns. -------------------------------------------------------

def width(stream: TextIO) -> int | None:
    """The columns text printed on `stream` is wrapped to: COLUMNS when set, else the terminal's (80 when it
    cannot tell); None for a pipe or a file, whose lines are kept whole for grep and scripts."""
    import shutil

    if os.environ.get("COLUMNS", "").isdigit():
        return max(int(os.environ["COLUMNS"]), 20)
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return shutil.get_terminal_size((80, 24)).columns


def columns(text: str) -> int:
    """Terminal columns: CJK and other wide characters take two; a paint mark takes none."""
    import unicodedata

    return sum(0 if c in _MARKS else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# Chinese punctuation that does not start a line, and brackets that do not end one.
_NO_START = frozenset("，。、；：！？）」』》)]},.;:!?'\"")
_NO_END = frozenset("（「『《")


def _wide(c: str) -> bool:
    return columns(c) == 2


def _cut(line: str) -> int:
    """Where to break `line` (line[:i] | line[i:]): the last space or wide-character boundary, not before Chinese
    punctuation nor after an opening bracket unless there is no other; 0 when it cannot be broken."""
    anywhere = 0
    for i in range(len(line) - 1, 0, -1):
        before, after = line[i - 1], line[i]
        if before == " " or after == " " or _wide(before) or _wide(after):
            if after not in _NO_START and before not in _NO_END:
                return i
            anywhere = anywhere or i
    return anywhere


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns, broken at spaces or beside a wide character (never inside a
    Latin word); only a run that cannot be broken (a word or URL longer than the width) stays longer."""
    lines: list[str] = []
    line = ""
    for c in text:
        if not line and c == " ":
            continue
        line += c
        while columns(line) > width and (cut := _cut(line)):
            lines.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


# What starts a line of a plan or a list: its next lines hang under the text after it.
_BULLETS = ("+ ", "- ", "~ ", "✗ ", "! ", "· ", "✓ ", "* ")


def _lead(line: str) -> str:
    """The indent and bullet `line` starts with (paint marks among them included)."""
    seen = ""
    indent = 0
    for i, c in enumerate(line):
        if c in _MARKS:
            continue
        seen += c
        if not seen.strip(" "):
            indent = i + 1
        elif seen.lstrip(" ") in _BULLETS:
            return line[:i + 1]
        elif len(seen.lstrip(" ")) >= 2:
            break
    return line[:indent]


def fill(text: str, width: int | None) -> str:
    """Each line of `text` wrapped to `width`, its next lines indented as far as its text starts (after the
    indent and a bullet such as `+ `); lines that fit, and every line when `width` is None, are left alone."""
    if width is None:
        return text
    out: list[str] = []
    for line in text.split("\n"):
        if columns(line) <= width:
            out.append(line)
            continue
        lead = _lead(line)
        hang = " " * columns(lead)
        lines = wrap(line[len(lead):], max(width - len(hang), 20))
        out += [lead + lines[0], *(hang + cont for cont in lines[1:])]
    return "\n".join(out)


# --- The shell: for examples the user can paste. ---------------------------------------------------------------

Shell = Literal["powershell", "cmd", "fish", "csh", "posix"]


def user_shell(system: str, env: Mapping[str, str]) -> Shell:
    """The shell cherryconf was most likely typed in, for examples the user can paste into it.

    The login shell ($SHELL) where there is one: everywhere but Windows, and Git Bash or MSYS2 there. Otherwise
    Windows: PowerShell, unless PROMPT is set, which cmd.exe sets for what it runs (PowerShell has a prompt
    function instead; PSModulePath tells nothing, Windows sets it for every process).
    """
    name = env.get("SHELL", "").rstrip("/").rpartition("/")[2].removesuffix(".exe")
    if system == "windows" and not name:
        return "cmd" if "PROMPT" in env else "powershell"
    if name == "fish":
        return "fish"
    if name in ("csh", "tcsh"):
        return "csh"
    return "posix"


def set_variable_example(name: str, system: str, env: Mapping[str, str], value: str = "...") -> str:
    """How to set environment variable `name` in the user's shell (see user_shell), ready to paste."""
    return {
        "powershell": f'$env:{name} = "{value}"',
        "cmd": f"set {name}={value}",
        "fish": f"set -x {name} {value}",
        "csh": f"setenv {name} {value}",
        "posix": f"export {name}={value}",
    }[user_shell(system, env)]
