"""Kill points for fault-injection tests: the crash-safety claims are only as good as these drills.

`CHERRYCONF_KILL_AT=N` makes the process SIGKILL itself at the N-th step boundary it reaches (1-based), so a
test can stop apply or restore at every step and check that the store reads back as the old or the new state.
Without the variable, `step()` costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import sys

_count = 0


def step(name: str) -> None:
    global _count
    target = os.environ.get("CHERRYCONF_KILL_AT")
    if not target:
        return
    _count += 1
    if os.environ.get("CHERRYCONF_TRACE_STEPS"):
        print(f"step {_count}: {name}", file=sys.stderr, flush=True)
    if target == str(_count):
        os.kill(os.getpid(), signal.SIGKILL)
