"""Running the real CLI and measuring what it cost: exit code, output, seconds and peak memory.

The CLI runs as the child of a small Python wrapper that reports `RUSAGE_CHILDREN`'s peak resident size, so the
figure is that one run's alone (pytest's own children do not count). POSIX only (the `resource` module).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from testing.cli import PACKAGE_ROOT

_WRAPPER = """
import json, resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"code": r.returncode, "out": r.stdout.decode("utf-8", "replace"),
                  "err": r.stderr.decode("utf-8", "replace"), "peak_kib": peak}))
"""


class Measured(NamedTuple):
    code: int
    out: str
    err: str
    seconds: float
    peak_mb: float


def run_measured(*args: str, cwd: Path, env: Mapping[str, str | None] | None = None,
                 timeout: float = 120) -> Measured:
    """`python -m cherryconf ARGS` in this (isolated) environment plus `env`, measured."""
    full = dict(os.environ)
    full["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    for name, value in (env or {}).items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _WRAPPER, sys.executable, "-m", "cherryconf", *args], cwd=cwd,
                          env=full, capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - start
    report = json.loads(done.stdout)
    return Measured(report["code"], report["out"], report["err"], seconds, report["peak_kib"] / 1024)


def one_sentence(err: str) -> bool:
    """One line, `cherryconf: ...`, no traceback."""
    return len(err.splitlines()) == 1 and err.startswith("cherryconf: ") and "Traceback" not in err
