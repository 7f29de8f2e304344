"""verify against loopback gateways: the schedule without a rate limit, and a 500-model rate-limited catalogue.

Run: python benchmarks/bench_verify.py [--quick]. Figures, not assertions (no timed tests in the suite).

1. No rate limit: 40 models, 200 ms latency per request, at concurrency ceilings 1, 4 and the default (8).
   The ideal schedule is /models, then the probes in full rounds of `ceiling`: 0.2 + ceil(P / c) x 0.2 s.
   verify starts with fewer requests in flight (pacing.START) and grows to the ceiling: the target is within 1.1x.
   The gateway serves from a process of its own, as a real one does: in this process its handler threads would
   take the interpreter lock from verify's event loop, and that cost is the benchmark's, not verify's.
2. Rate limited: 500 models, a token bucket of R = 20 requests/second per key (burst 20), a 429 with
   Retry-After (whole seconds, answered at once) beyond it, 100-400 ms latency for what it admits. The real CLI
   runs `verify --all-models --json` in a subprocess (its peak RSS is measured there): by default --all-models
   probes the endpoint the provider uses, so N = 500 requests and N/R = 25 s (target: under 1.25 x 25 s); then
   with `--endpoint both` (1000 requests, N/R = 50 s). Every model must get a real verdict (no rate-limit rows).
3. The wizard's model picker on 500 models: time from building the checkbox to its first screen being answered.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

# Runs from a checkout: the package from the repo, the loopback gateway from the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from testing.gateway import Gateway, ModelSpec, running

from cherryconf.ops.probe import DEFAULT_CONCURRENCY, Endpoints, verify

ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS: tuple[Endpoints, ...] = ("chat", "responses", "both")
MODELS = 40
LATENCY = 0.2
CATALOGUE = 500
RATE = 20.0


def _serve(gw: Gateway, conn: Connection) -> None:
    """The gateway in a child process: its URL, then the most requests in flight on each "max" asked."""
    with running(gw):
        conn.send(gw.url)
        while conn.recv() == "max":
            conn.send(gw.max_in_flight)
            gw.max_in_flight = 0


def unlimited() -> None:
    gw = Gateway({f"model-{i:02d}": ModelSpec() for i in range(MODELS)}, latency=LATENCY)
    print(f"1. no rate limit: {MODELS} models, {LATENCY * 1000:.0f} ms latency per request (gateway in its own "
          "process)")
    print(f"{'endpoint':<10} {'ceiling':>8} {'wall s':>8} {'ideal s':>8} {'ratio':>6} {'max in flight':>14}")
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(gw, theirs), daemon=True)
    server.start()
    url = ours.recv()
    provider = {"id": "loop", "name": "Loopback", "type": "openai", "apiHost": url, "apiKey": gw.key,
                "models": [{"id": m, "name": m, "provider": "loop", "group": "loop"} for m in gw.models]}
    try:
        for endpoints in ENDPOINTS:
            for concurrency in (1, 4, DEFAULT_CONCURRENCY):
                started = time.perf_counter()
                report = verify(provider, models=None, endpoints=endpoints, concurrency=concurrency)
                wall = time.perf_counter() - started
                ours.send("max")
                in_flight = ours.recv()
                probes = len(report.results)
                assert all(r.outcome == "pass" for r in report.results), report.verdict()
                ideal = LATENCY + math.ceil(probes / concurrency) * LATENCY
                print(f"{endpoints:<10} {concurrency:>8} {wall:>8.2f} {ideal:>8.2f} {wall / ideal:>6.2f} "
                      f"{in_flight:>14}")
    finally:
        ours.send("stop")
        server.join(timeout=10)


def peak_rss_mb() -> float:
    import resource  # POSIX; the benchmark runs on Linux

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def rate_limited(both: bool) -> None:
    gw = Gateway({f"vendor-{i % 12}/model-{i:03d}": ModelSpec() for i in range(CATALOGUE)}, rate=RATE,
                 burst=int(RATE), latency_range=(0.1, 0.4))
    extra = ["--endpoint", "both"] if both else []
    with running(gw), tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "gw.yaml"
        profile.write_text(f"version: 1\nproviders:\n  - id: relay\n    type: openai\n    apiHost: {gw.url}/v1\n"
                           f"    apiKey: {gw.key}\n    models: [vendor-0/model-000]\n", encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "CHERRYCONF_HOME": tmp, "HOME": tmp}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "cherryconf", "--json", "verify", str(profile),
                               "--all-models", *extra], capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - started
        rss = peak_rss_mb()
    report = json.loads(done.stdout)
    results = report["results"]
    requests = len(results)
    limited = sum(r["reason"] == "quota_or_rate_limit" for r in results)
    passed = sum(r["outcome"] == "pass" for r in results)
    ideal = requests / RATE
    print(f"   {'both endpoints' if both else 'endpoint in use'}: {requests} probes of {CATALOGUE} models, "
          f"exit {done.returncode}")
    print(f"   wall {wall:.2f} s vs N/R {ideal:.2f} s: {wall / ideal:.3f}x (target < 1.25x = {ideal * 1.25:.2f} s)")
    print(f"   429s seen {gw.throttled}, retries {report['rate_limited']}, waited {report['waited_s']} s, "
          f"rate-limit verdicts {limited}, passes {passed}/{requests}")
    print(f"   max in flight {gw.max_in_flight} (bucket burst {int(RATE)}), most admitted in any 1 s window "
          f"{gw.max_admitted_per_second()} (burst + R = {int(RATE) * 2})")
    print(f"   stderr lines off a terminal: {len(done.stderr.splitlines())}; peak RSS of the CLI {rss:.1f} MB "
          f"(largest child so far)")


def picker() -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from cherryconf.wizard.questions import Choice, Question
    from cherryconf.wizard.terminal import model_picker

    choices = [Choice(f"vendor-{i % 12}/model-{i:03d}", f"vendor-{i % 12}/model-{i:03d}", checked=i < 5,
                      group=f"vendor-{i % 12}") for i in range(CATALOGUE)]
    choices.sort(key=lambda c: (c.group or "", c.value))
    with create_pipe_input() as pipe:
        pipe.send_text("\r")
        started = time.perf_counter()
        question = model_picker(Question("models", "checkbox", "Models", choices), input=pipe, output=DummyOutput())
        ticked = question.unsafe_ask()
        wall = time.perf_counter() - started
    print(f"3. picker: {CATALOGUE} models opened and answered in {wall * 1000:.0f} ms ({len(ticked)} ticked; "
          f"target < 300 ms)")


def main() -> None:
    if "--picker" not in sys.argv:
        unlimited()
        print(f"2. rate limited: {CATALOGUE} models, R = {RATE:g} requests/s per key, burst {int(RATE)}, "
              "100-400 ms latency")
        rate_limited(both=False)
        if "--quick" not in sys.argv:
            rate_limited(both=True)
    picker()


if __name__ == "__main__":
    main()
