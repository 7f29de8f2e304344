"""What a test needs to know of the platform it runs on, for the Windows lane (scripts/test-windows).

`KILLED` is the exit status a child that cherryconf's kill points stopped reports: -SIGKILL on POSIX, and on
Windows the exit code TerminateProcess was given (cherryconf.faults). `run` is `subprocess.run` that starts a
child once more when Wine fails to start it: the child exits STATUS_DLL_INIT_FAILED (about one start in
3,000), or CreateProcess itself fails with ERROR_INTERNAL_ERROR (1359; seen once in a loaded CI run of about
9,000 starts). These two Wine flakes, before any of cherryconf's code runs, are the only failures the lane
tolerates. On Windows, `install()` (called by conftest) makes every
`subprocess.run` of the test run do so, the tests' own and their helpers'.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

KILLED = 9 if sys.platform == "win32" else -9
WINE_START_FLAKE = 0xC0000142
WINE_CREATE_FLAKE = 1359  # ERROR_INTERNAL_ERROR from CreateProcess

_run = subprocess.run


def run(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    if sys.platform != "win32":
        return _run(*args, **kwargs)
    try:
        proc = _run(*args, **kwargs)
    except OSError as e:
        if getattr(e, "winerror", None) != WINE_CREATE_FLAKE:
            raise
        return _run(*args, **kwargs)
    if proc.returncode == WINE_START_FLAKE:
        proc = _run(*args, **kwargs)
    return proc


def install() -> None:
    if sys.platform == "win32":
        subprocess.run = run
