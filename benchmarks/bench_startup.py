"""Start-up time of `cherryconf --version` and `--help` against the venv's `python -c "import click"`, and what
they import.

Run: python benchmarks/bench_startup.py [RUNS]. The target (issue 17) is a median within 1.3x that of
`python -c "import click"` in the same interpreter: cherryconf is a click program, so that is the floor of any
start-up; only click may load, questionary, httpx, jsonschema, pydantic, yaml and the store code load in the
commands that need them. `python -I -c pass` (isolated: no site-packages, no `.pth` hooks that other packages
install, no environment) is shown too, as the interpreter's own start. Exits 1 when a target is missed.

Every command runs as a subprocess, the way a user starts it, interleaved round-robin so that a change in the
machine's load during the run hits every command alike. Bytecode goes to a private cache warmed once, as an
installed wheel's does (pip compiles it), whatever PYTHONDONTWRITEBYTECODE says.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _runs(argv: list[str], default: int) -> int:
    """The one optional argument, a run count; anything else gets the usage line (and --help the docstring)."""
    if argv[:1] in (["-h"], ["--help"]):
        sys.exit(__doc__)
    if len(argv) > 1 or (argv and not (argv[0].isdigit() and int(argv[0]) > 0)):
        sys.exit(f"usage: python {Path(__file__).name} [RUNS] (a positive number; default {default})")
    return int(argv[0]) if argv else default


RUNS = _runs(sys.argv[1:], 30)
TARGET_RATIO = 1.3
BASELINE = "python -c 'import click'"
# What must not load for --version / --help: each costs tens of milliseconds or more.
HEAVY = ("questionary", "prompt_toolkit", "httpx", "httpcore", "anyio", "jsonschema", "pydantic", "yaml",
         "psutil", "cramjam", "google_crc32c", "platformdirs",
         # cherryconf's own layers below the command line: a command module imports them when it runs
         "cherryconf.domain", "cherryconf.stores", "cherryconf.formats", "cherryconf.ops", "cherryconf.render",
         "cherryconf.wizard")


def environ(pycache: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The checkout's package first, whatever the working directory.
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time, and the child's CPU time (user + system), which other load on the machine disturbs less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True,
                   cwd=tempfile.gettempdir())
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(commands: dict[str, list[str]], env: dict[str, str], runs: int
            ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    for argv in commands.values():  # warm the OS file cache and the bytecode cache
        run_once(argv, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            wall, used = run_once(argv, env)
            times[name].append(wall)
            cpu[name].append(used)
    return times, cpu


def import_times(argv_tail: list[str], env: dict[str, str]) -> list[tuple[str, int, int]]:
    """(module, self us, cumulative us) for every module `python -X importtime ARGV_TAIL` imports."""
    out = subprocess.run([sys.executable, "-X", "importtime", *argv_tail], capture_output=True, text=True,
                         env=env, check=True, cwd=tempfile.gettempdir()).stderr
    rows = []
    for line in out.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((m[4], int(m[1]), int(m[2]), len(m[3])))
    return [(name, self_us, cum_us) for name, self_us, cum_us, _indent in rows]


def heavy_modules(flag: str, env: dict[str, str]) -> list[str]:
    """The HEAVY modules (and submodules) in sys.modules once `cherryconf FLAG` has run."""
    code = ("import runpy, sys\n"
            f"sys.argv = ['cherryconf', {flag!r}]\n"
            "try:\n    runpy.run_module('cherryconf', run_name='__main__', alter_sys=True)\n"
            "except SystemExit:\n    pass\n"
            "print(' '.join(sys.modules), file=sys.stderr)\n")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                            cwd=tempfile.gettempdir()).stderr.split()
    return sorted({m for m in loaded for h in HEAVY if m == h or m.startswith(h + ".")})


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cherryconf-bench-pyc-") as pyc:
        env = environ(Path(pyc))
        py = [sys.executable]
        commands = {
            "python -I -c pass": [*py, "-I", "-c", "pass"],
            BASELINE: [*py, "-c", "import click"],
            "python -m cherryconf --version": [*py, "-m", "cherryconf", "--version"],
            "python -m cherryconf --help": [*py, "-m", "cherryconf", "--help"],
        }
        script = shutil.which("cherryconf")
        if script:
            commands["cherryconf --version (script)"] = [script, "--version"]
            commands["cherryconf --help (script)"] = [script, "--help"]
        times, cpu = measure(commands, env, RUNS)

        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{RUNS} runs each, interleaved; {os.cpu_count()} CPUs, load average {load:.1f}")
        if not script:
            print("(no `cherryconf` console script on PATH: only `python -m cherryconf` measured)")
        base = statistics.median(times[BASELINE])
        base_cpu = statistics.median(cpu[BASELINE])
        print(f"{'command':<34} {'median ms':>9} {'min ms':>7} {'max ms':>7} {'ratio':>6}  {'CPU ms':>6} {'ratio':>6}")
        failed = False
        for name, ts in times.items():
            med = statistics.median(ts)
            ratio = med / base
            verdict = ""
            if name not in ("python -I -c pass", BASELINE):
                ok = ratio < TARGET_RATIO
                failed |= not ok
                verdict = "PASS" if ok else "FAIL"
            used = statistics.median(cpu[name])
            print(f"{name:<34} {med * 1000:>9.1f} {min(ts) * 1000:>7.1f} {max(ts) * 1000:>7.1f} "
                  f"{ratio:>5.2f}x  {used * 1000:>6.1f} {used / base_cpu:>5.2f}x {verdict}")

        baseline = {name for name, _, _ in import_times(["-c", "import click"], env)}
        ours = import_times(["-m", "cherryconf", "--version"], env)
        added = sorted(((n, s, c) for n, s, c in ours if n not in baseline), key=lambda r: -r[2])
        print("\nslowest imports of `--version` beyond `import click` (cumulative us, nested ones included):")
        for name, _self_us, cum_us in added[:12]:
            print(f"  {cum_us:>7}  {name}")
        for flag in ("--version", "--help"):
            leaked = heavy_modules(flag, env)
            print(f"heavy modules loaded by {flag}: {', '.join(leaked) if leaked else 'none'}")
            failed |= bool(leaked)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
