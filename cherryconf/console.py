"""What cherryconf's output is encoded as, and which shell the user types in: the one place the console differs
by platform.

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
from typing import Literal

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
