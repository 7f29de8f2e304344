"""Kill points for fault-injection tests: the crash-safety claims are only as good as these drills.

`CHERRYCONF_KILL_AT=N` makes the process kill itself (SIGKILL; TerminateProcess on Windows) at the N-th step
boundary it reaches (1-based), so a test can stop apply or restore at every step and check that the store reads
back as the old or the new state.
`CHERRYCONF_TRACE_STEPS=1` prints each boundary's number and name to stderr. Without either variable, `step()`
costs two dictionary lookups.
"""

from __future__ import annotations

import os
import signal
import sys

_count = 0


def step(name: str) -> None:
    global _count
    target = os.environ.get("CHERRYCONF_KILL_AT")
    trace = os.environ.get("CHERRYCONF_TRACE_STEPS")
    # Tracing alone must work too: it is how a test finds out how many boundaries there are to kill at.
    if not target and not trace:
        return
    _count += 1
    if trace:
        print(f"step {_count}: {name}", file=sys.stderr, flush=True)
    if target == str(_count):
        if sys.platform == "win32":
            # os.kill is TerminateProcess there (exit code 9): like SIGKILL, no handler or clean-up runs.
            os.kill(os.getpid(), 9)
        else:
            os.kill(os.getpid(), signal.SIGKILL)
