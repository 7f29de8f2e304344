"""Wall time of `verify` on 40 models with 200 ms of gateway latency each, at concurrency 1 and 4.

Run: python benchmarks/bench_verify.py. The target at concurrency 4 is near 40 x 0.2 / 4 = 2 s per endpoint
(plus one /models request, which carries the same latency).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

# Runs from a checkout: the package from the repo, the loopback gateway from the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from testing.gateway import Gateway, ModelSpec, running

from cherryconf.ops.probe import Endpoints, verify

ENDPOINTS: tuple[Endpoints, ...] = ("chat", "responses", "both")
MODELS = 40
LATENCY = 0.2


def main() -> None:
    gw = Gateway({f"model-{i:02d}": ModelSpec() for i in range(MODELS)}, latency=LATENCY)
    print(f"{MODELS} models, {LATENCY * 1000:.0f} ms latency per request")
    print(f"{'endpoint':<10} {'concurrency':>11} {'wall s':>8} {'ideal s':>8} {'max in flight':>14}")
    with running(gw):
        for endpoints in ENDPOINTS:
            for concurrency in (1, 4):
                gw.max_in_flight = 0
                started = time.perf_counter()
                report = verify(gw.provider(), models=None, endpoints=endpoints, concurrency=concurrency)
                wall = time.perf_counter() - started
                probes = len(report.results)
                assert all(r.outcome == "pass" for r in report.results), report.verdict()
                ideal = LATENCY + probes * LATENCY / concurrency  # /models, then the probes in rounds
                print(f"{endpoints:<10} {concurrency:>11} {wall:>8.2f} {ideal:>8.2f} {gw.max_in_flight:>14}")


if __name__ == "__main__":
    main()
