"""The long fuzz campaign (issue 13): damaged stores and profiles against the real CLI, and concurrent and killed
applies on both store kinds. Not part of CI (tests/test_fuzz.py is its bounded sibling); run it before a release
or after touching the stores:

    .venv/bin/python scripts/fuzz_campaign.py [--v1 3000] [--v2 1500] [--profiles 600] [--pairs 32] [--kills 40]
                                               [--imports 300] [--gateways 80] [--steps NAME,...]
                                               [--seed 1] [--chromium-every 50] [--report FILE]

1.x stores are Chromium profiles written by the real Chromium (built once into --bases, default
/tmp/cherryconf-fuzz-bases): a small state in the log only, and one whose older versions Chromium compacted
into `.ldb` tables with a newer one in the log. Each mutated copy is read by cherryconf and by plyvel (paranoid
checks) and then applied to; every --chromium-every-th store cherryconf wrote is read back by Chromium too.
2.x stores are the app's DDL, seeded (tests/testing/v2db.py), plus a table of messages. Every outcome is counted per
damage class; a broken promise (exit 1, a traceback, a message of two lines, a read plyvel disagrees with, a
write that changed anything but the provider applied, a lost update, a store neither old nor new after a kill)
is listed, and makes the exit status 1.

Hostile input (issue 25): import sources built to cost without bound (zip and data.json bombs, recursive views,
generated columns, deep or big JSON and JSON5, traversal names, huge numbers, junk) and loopback gateways sending
bodies no API sends (gzip bombs, endless bodies and event lines, a 4 MB error quoting the key, random junk with
wrong codings). Each runs the real CLI in a process of its own, measured: a run over 200 MB of memory or 60 s, a
source refused with anything but exit 2, a key in the output, or a file left behind is a broken promise.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from testing import hostile, v2db  # noqa: E402
from testing import store_fuzz as fz  # noqa: E402
from testing.bounded import run_measured  # noqa: E402
from testing.chromium_harness import compact_history, read_local_storage, write_local_storage  # noqa: E402
from testing.plyvel_view import plyvel_items  # noqa: E402
from testing.v1state import PERSIST_KEY, cherry_state  # noqa: E402

from cherryconf.stores.v1 import leveldb  # noqa: E402

CHILD_ENV: dict[str, str] = {}


def build_v1_bases(root: Path) -> list[Path]:
    """Chromium profiles (cached): a state in the log only, and one with compacted tables under a newer log."""
    root.mkdir(parents=True, exist_ok=True)
    log_only, tables = root / "log-only", root / "tables"
    if not (log_only / "done").exists():
        shutil.rmtree(log_only, ignore_errors=True)
        write_local_storage(log_only, cherry_state())
        (log_only / "done").touch()
    if not (tables / "done").exists():
        shutil.rmtree(tables, ignore_errors=True)
        versions = [cherry_state(padding=70_000 + n * 1000, extra_providers=3) for n in range(2)]
        compact_history(tables, PERSIST_KEY, [v[PERSIST_KEY] for v in versions])
        write_local_storage(tables, cherry_state(padding=500, extra_providers=3))
        (tables / "done").touch()
    return [log_only, tables]


def build_v2_base(root: Path) -> Path:
    ud = root / "v2"
    if not (ud / "done").exists():
        shutil.rmtree(ud, ignore_errors=True)
        v2db.build(ud)
        conn = sqlite3.connect(ud / "Data" / "cherrystudio.sqlite")
        conn.execute("CREATE TABLE message (id TEXT PRIMARY KEY, topic TEXT, content TEXT)")
        conn.executemany("INSERT INTO message VALUES (?, ?, ?)",
                         ((f"m{i}", f"t{i % 7}", "你好 hello 👋 " * 20) for i in range(3000)))
        conn.commit()
        conn.close()
        (ud / "done").touch()
    return ud


def build_bombs(root: Path) -> dict[str, Path]:
    """The two big bombs (2 GiB inflated each), built once: a 2.x backup zip and a 1.x data.json."""
    root.mkdir(parents=True, exist_ok=True)
    bombs = {"zip bomb": root / "zip-bomb.zip", "data.json bomb": root / "data-json-bomb.zip"}
    if not bombs["zip bomb"].exists():
        hostile.zip_bomb(root / "zip-bomb.tmp").rename(bombs["zip bomb"])
    if not bombs["data.json bomb"].exists():
        hostile.data_json_bomb(root / "data-json-bomb.tmp").rename(bombs["data.json bomb"])
    return bombs


def copy_profile(base: Path, into: Path) -> Path:
    shutil.copytree(base, into, symlinks=True, ignore=shutil.ignore_patterns("done", "Singleton*"))
    return into


def profile_file(directory: Path, text: str = fz.FUZZ_PROFILE, name: str = "profile.yaml") -> Path:
    path = directory / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


class Campaign:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.chooser = fz.RandomChooser(self.rng)
        self.counts: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self.failures: list[dict[str, Any]] = []
        self.work = Path(tempfile.mkdtemp(prefix="cherryconf-fuzz-"))

    def count(self, area: str, damage: str, outcome: str, problem: str | None, detail: str) -> None:
        self.counts[(area, damage, outcome)] += 1
        if problem:
            self.failures.append({"area": area, "damage": damage, "outcome": outcome, "problem": problem,
                                  "detail": detail})
            print(f"  BROKEN [{area}/{damage}] {outcome}: {problem} ({detail})", flush=True)

    def case_dir(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.work))

    # --- damaged stores -----------------------------------------------------------------------------------

    def v1(self, bases: list[Path]) -> None:
        for i in range(self.args.v1):
            case = self.case_dir()
            prof = copy_profile(self.rng.choice(bases), case / "chromium")
            ud = prof / "Default"
            damage, detail = fz.mutate_v1(ud / "Local Storage" / "leveldb", self.chooser)
            outcome, problem = fz.judge_v1(ud, profile_file(case))
            if problem is None and outcome == "read; applied" and i % self.args.chromium_every == 0:
                outcome += " (Chromium checked)"
                seen = read_local_storage(prof)
                if seen != plyvel_items(ud / "Local Storage" / "leveldb"):
                    problem = "Chromium does not read what plyvel reads after apply"
            self.count("1.x", damage, outcome, problem, detail)
            self.cleanup(case, i)

    def v2(self, base: Path) -> None:
        for i in range(self.args.v2):
            case = self.case_dir()
            ud = case / "ud"
            shutil.copytree(base, ud, ignore=shutil.ignore_patterns("done"))
            damage, detail = fz.mutate_v2(ud, self.chooser)
            outcome, problem = fz.judge_v2(ud, profile_file(case))
            self.count("2.x", damage, outcome, problem, detail)
            self.cleanup(case, i)

    def profiles(self, bases: list[Path], v2_base: Path) -> None:
        targets = {"1.x": copy_profile(bases[0], self.work / "profile-target-v1") / "Default",
                   "2.x": self.work / "profile-target-v2"}
        shutil.copytree(v2_base, targets["2.x"], ignore=shutil.ignore_patterns("done"))
        for i in range(self.args.profiles):
            kind, text = fz.mutate_profile(self.chooser)
            store = "1.x" if i % 2 else "2.x"
            case = self.case_dir()
            path = profile_file(case, text)
            code, _, err = fz.run_main("--data-dir", str(targets[store]), "apply", str(path), "--dry-run")
            problem = fz.message_problem(code, err, (2,) if kind in fz.MUST_REFUSE else (0, 2))
            self.count("profile", kind, f"exit {code}", problem, repr(text[:200]))
            self.cleanup(case, i)

    def cleanup(self, case: Path, i: int) -> None:
        shutil.rmtree(case, ignore_errors=True)
        if i % 100 == 99:
            leveldb._snapshots.clear()  # each case is a new directory: let the old snapshots go
            shutil.rmtree(Path(os.environ["CHERRYCONF_HOME"]) / "backups", ignore_errors=True)
            print(f"  ... {i + 1}", flush=True)

    # --- hostile input (issue 25) -------------------------------------------------------------------------

    def measured_problem(self, m: Any, allowed: tuple[int, ...], seconds: float) -> str | None:
        problem = fz.message_problem(m.code, m.err, allowed)
        if problem is None and m.peak_mb > 200:
            problem = f"{m.peak_mb:.0f} MB of memory"
        if problem is None and m.seconds > seconds:
            problem = f"{m.seconds:.0f} s"
        return problem

    def imports(self, bombs: dict[str, Path]) -> None:
        classes = {**hostile.IMPORT_CLASSES,
                   **{name: ((lambda p, r, path=path: path), True) for name, path in bombs.items()},
                   "damaged backup": (self.damaged_backup, False)}
        names = sorted(classes)
        for i in range(self.args.imports):
            case = self.case_dir()
            name = names[i % len(names)]
            make, must_refuse = classes[name]
            source = make(case, self.rng)
            tmp = case / "tmp"  # the run's own temporary folder: what it leaves there is its own
            tmp.mkdir()
            m = run_measured("import", str(source), "-o", str(case / "out.yaml"), cwd=case, timeout=300,
                             env={"TMPDIR": str(tmp)})
            problem = self.measured_problem(m, (2,) if must_refuse else (0, 2), 60)
            if problem is None and m.code != 0 and (case / "out.yaml").exists():
                problem = "a refused import wrote its output"
            if problem is None and any(tmp.iterdir()):
                problem = "a temporary copy was left behind"
            self.count("import", name, f"exit {m.code}", problem, m.err.strip()[:300])
            self.cleanup(case, i)

    def damaged_backup(self, case: Path, rng: random.Random) -> Path:
        path = hostile.backup_zip(case / "backup.zip", cherry_state(extra_providers=rng.randint(0, 3)))
        hostile.flip_bytes(path, rng, rng.randint(1, 40))
        return path

    def gateways(self) -> None:
        kinds = [*sorted(hostile.BODIES.keys() - {"raw"}), "random"]
        for i in range(self.args.gateways):
            case = self.case_dir()
            kind = kinds[i % len(kinds)]
            server = (hostile.gateway(kind) if kind != "random" else
                      hostile.raw_gateway(*hostile.random_body(self.rng)))
            with server as url:
                profile = profile_file(case, hostile.profile_for(url))
                endpoint = self.rng.choice(["chat", "responses", "both"])
                m = run_measured("verify", str(profile), "--endpoint", endpoint, "--timeout", "5", "--json",
                                 cwd=case, timeout=300)
            problem = self.measured_problem(m, (0, 2, 5), 40)
            if problem is None and (hostile.KEY[:12] in m.out + m.err or hostile.KEY[-8:] in m.out + m.err):
                problem = "the key is in the output"
            self.count("gateway", kind, f"exit {m.code}", problem, m.err.strip()[:300])
            self.cleanup(case, i)

    # --- concurrency and kills (real processes: the locks are per process) ------------------------------

    def spawn(self, ud: Path, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "cherryconf", "--data-dir", str(ud), *args],
                                env=CHILD_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def providers(self, ud: Path) -> tuple[int, list[dict[str, Any]], str]:
        proc = self.spawn(ud, "providers", "--json")
        out, err = proc.communicate(timeout=120)
        return proc.returncode, json.loads(out)["providers"] if proc.returncode == 0 else [], err

    def pairs(self, kind: str, make: Any) -> None:
        for i in range(self.args.pairs):
            case = self.case_dir()
            ud = make(case)
            a = profile_file(case, fz.FUZZ_PROFILE.replace("fuzz-gw", "pair-a"), "a.yaml")
            b = profile_file(case, fz.FUZZ_PROFILE.replace("fuzz-gw", "pair-b"), "b.yaml")
            procs = [self.spawn(ud, "apply", str(p), "--yes") for p in (a, b)]
            results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
            for p in procs:
                p.communicate()
            problem = next((fz.message_problem(code, err, (0,)) for code, err in results
                            if fz.message_problem(code, err, (0,))), None)
            _, held, _ = self.providers(ud)
            ids = {p["id"] for p in held}
            if problem is None and not {"pair-a", "pair-b"} <= ids:
                problem = f"lost update: the store holds {sorted(ids & {'pair-a', 'pair-b'})} of pair-a and pair-b"
            outcome = "both applied" if all(c == 0 for c, _ in results) else "one refused"
            self.count(f"{kind} pairs", "two applies at once", outcome, problem, str(results))
            self.cleanup(case, i)

    def kills(self, kind: str, make: Any) -> None:
        for i in range(self.args.kills):
            case = self.case_dir()
            ud = make(case)
            profile = profile_file(case)
            _, old, _ = self.providers(ud)
            reference = case / "reference"
            shutil.copytree(ud, reference, symlinks=True)
            done = self.spawn(reference, "apply", str(profile), "--yes")
            done.communicate(timeout=120)
            _, new, _ = self.providers(reference)
            proc = self.spawn(ud, "apply", str(profile), "--yes")
            delay = self.rng.uniform(0.05, 1.2)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            code, now, err = self.providers(ud)
            problem = fz.message_problem(code, err, (0,)) if code != 0 else None
            if problem is None and now not in (old, new):
                problem = "the store is neither the old nor the new state"
            state = "old" if now == old else "new" if now == new else "other"
            again = self.spawn(ud, "apply", str(profile), "--yes")
            _, again_err = again.communicate(timeout=120)
            if problem is None and again.returncode != 0:
                problem = f"apply after the kill failed: {again_err.strip()}"
            outcome = f"killed ({'finished first' if proc.returncode == 0 else 'mid-way'}), {state} state"
            self.count(f"{kind} kills", "SIGKILL at a random time", outcome, problem, f"after {delay:.2f} s")
            self.cleanup(case, i)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--v1", type=int, default=3000)
    parser.add_argument("--v2", type=int, default=1500)
    parser.add_argument("--profiles", type=int, default=600)
    parser.add_argument("--pairs", type=int, default=32)
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--imports", type=int, default=300)
    parser.add_argument("--gateways", type=int, default=80)
    parser.add_argument("--steps", default="", help="comma-separated step names to run (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chromium-every", type=int, default=50)
    parser.add_argument("--bases", type=Path, default=Path(tempfile.gettempdir()) / "cherryconf-fuzz-bases")
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()

    campaign = Campaign(args)
    home = campaign.work / "_home"
    home.mkdir()
    os.environ.update({"HOME": str(home), "CHERRYCONF_HOME": str(campaign.work / "_cherryconf_home")})
    for name in [n for n in os.environ if n.startswith("XDG_") or n == "CHERRYCONF_DATA_DIR"]:
        del os.environ[name]
    CHILD_ENV.update(os.environ, PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8")

    started = time.monotonic()
    bases = build_v1_bases(args.bases)
    v2_base = build_v2_base(args.bases)
    print(f"bases ready in {time.monotonic() - started:.0f} s; work in {campaign.work}", flush=True)

    def v1_store(case: Path) -> Path:
        return copy_profile(bases[1], case / "chromium") / "Default"

    def v2_store(case: Path) -> Path:
        shutil.copytree(v2_base, case / "ud", ignore=shutil.ignore_patterns("done"))
        return case / "ud"

    steps = [("1.x stores", lambda: campaign.v1(bases)), ("2.x stores", lambda: campaign.v2(v2_base)),
             ("profiles", lambda: campaign.profiles(bases, v2_base)),
             ("1.x pairs", lambda: campaign.pairs("1.x", v1_store)),
             ("2.x pairs", lambda: campaign.pairs("2.x", v2_store)),
             ("1.x kills", lambda: campaign.kills("1.x", v1_store)),
             ("2.x kills", lambda: campaign.kills("2.x", v2_store)),
             ("imports", lambda: campaign.imports(build_bombs(args.bases))),
             ("gateways", campaign.gateways)]
    chosen = {s.strip() for s in args.steps.split(",") if s.strip()}
    for name, step in steps:
        if chosen and name not in chosen:
            continue
        t = time.monotonic()
        print(f"{name}...", flush=True)
        step()
        print(f"{name}: {time.monotonic() - t:.0f} s", flush=True)

    by_area: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for (area, damage, outcome), n in sorted(campaign.counts.items()):
        by_area[area][f"{damage} -> {outcome}"] += n
    for area, counter in by_area.items():
        print(f"\n{area}: {sum(counter.values())} runs")
        for line, n in sorted(counter.items()):
            print(f"  {n:6d}  {line}")
    print(f"\nbroken promises: {len(campaign.failures)}; {time.monotonic() - started:.0f} s in all")
    if args.report:
        args.report.write_text(json.dumps({"counts": [[*k, n] for k, n in sorted(campaign.counts.items())],
                                           "failures": campaign.failures}, ensure_ascii=False, indent=1))
    shutil.rmtree(campaign.work, ignore_errors=True)
    return 1 if campaign.failures else 0


if __name__ == "__main__":
    sys.exit(main())
