"""What a test needs to know of the platform it runs on, for the Windows lane (scripts/test-windows).

`KILLED` is the exit status a child that cherryconf's kill points stopped reports: -SIGKILL on POSIX, and on
Windows the exit code TerminateProcess was given (cherryconf.faults). `run` is `subprocess.run` that starts a
child once more when Wine reports STATUS_DLL_INIT_FAILED at its start: a known Wine flake (about one start in
3,000), the only failure the lane tolerates. On Windows, `install()` (called by conftest) makes every
`subprocess.run` of the test run do so, the tests' own and their helpers'.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

KILLED = 9 if sys.platform == "win32" else -9
WINE_START_FLAKE = 0xC0000142

_run = subprocess.run


def run(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    proc = _run(*args, **kwargs)
    if sys.platform == "win32" and proc.returncode == WINE_START_FLAKE:
        proc = _run(*args, **kwargs)
    return proc


def install() -> None:
    if sys.platform == "win32":
        subprocess.run = run
