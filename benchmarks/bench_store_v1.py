"""`cherryconf providers` and `cherryconf apply --yes` on 1.x stores of several MB, against plyvel floors.

Run: python benchmarks/bench_store_v1.py [RUNS] (default 7; needs plyvel, a test dependency; nothing else).

Two stores of a long-lived install (issue 3, issue 17), `persist:cherry-studio` UTF-16 with CJK and emoji and an
assistants slice of chat-like JSON (so the state holds as many escaped quotes as a real one):

- "compacted": ~7.6 MB, every version merged into one `.ldb` table and the log empty, as Chromium leaves a
  store it has compacted (built with plyvel, the real LevelDB: write, compact the whole range, reopen);
- "in the log": ~8 MB, older versions compacted and the newest in the log (plyvel must replay it on open).

Each command runs as a whole process on a fresh copy of the store, interleaved round-robin with the others so
that a change in the machine's load hits all alike; figures are medians. Against:

- the bare floor: a `python` process that opens the store with plyvel and reads the value (`plyvel read`), or
  also splices one provider into it and puts it with Chromium's META in one synced batch (`plyvel write`);
- the fair floor: what `apply` does, with plyvel: copies the store's files into a backup directory (each
  fsynced, with its sha256), splices one provider into the `llm` slice, one synced write, reopens the store and
  reads the value back.

Then a scaling table: `apply` CPU time and peak RSS for values of 1-8 MB and for 10/100/1,000 providers in the
store and in the profile. Peak memory is each child's own max RSS, CPU its user + system time, from wait4().
Targets (issue 17): apply <= 2x the fair floor and <= 3x the bare write floor on the compacted store; providers
<= 2x the bare read floor; <= 12 ms CPU per MB of value; peak RSS <= 5x the value + 60 MB; a 1,000-provider
profile applied in under 1 s. Exits 1 when one is missed.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Runs from a checkout: the package from the repo, the state builder from the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import plyvel
from testing.v1state import PERSIST_KEY, cherry_state, stringify

from cherryconf.stores.v1.leveldb import put_varint
from cherryconf.stores.v1.localstorage import encode

REPO = Path(__file__).resolve().parent.parent
RUNS = 7
VERSIONS = 4  # versions of the value written before the newest
EXTRA_PROVIDERS = 40
ORIGIN_PREFIX = b"_file://\x00"
META_KEYS = (b"METAACCESS:file://", b"META:file://")
PROFILE_HEAD = "version: 1\nproviders:\n"
PROFILE_PROVIDER = """\
  - id: bench-gateway{n}
    name: 基准网关 {n} 🚀
    apiHost: https://gw{n}.bench.example/v1/chat/completions
    apiKey: sk-bench-0123456789abcdef0123456789abcdef
    models:
      - gpt-4.1
      - id: claude-sonnet-4-20250514
        name: Claude Sonnet 4
"""
# The provider the floors splice into the llm slice: about what apply adds, at the same nesting depth
# (the slice is a JSON string inside the blob, so its quotes are escaped).
FLOOR_PROVIDER = ('{\\"id\\":\\"bench-gateway\\",\\"name\\":\\"基准网关 🚀\\",\\"type\\":\\"openai\\",'
                  '\\"apiKey\\":\\"sk-bench-0123456789abcdef0123456789abcdef\\",'
                  '\\"apiHost\\":\\"https://gw.bench.example/v1\\",\\"models\\":[],\\"enabled\\":true},')
MARKER = '\\"providers\\":['
TARGET_FAIR, TARGET_BARE_WRITE, TARGET_BARE_READ = 2.0, 3.0, 2.0
TARGET_MS_PER_MB = 12.0
RSS_FACTOR, RSS_EXTRA_MB = 5, 60
TARGET_BIG_PROFILE_S = 1.0
SUPERLINEAR_SLACK_S = 0.25e-3  # per provider


def profile_text(providers: int) -> str:
    return PROFILE_HEAD + "".join(PROFILE_PROVIDER.format(n="" if i == 0 else f"-{i}") for i in range(providers))


def meta(size: int) -> dict[bytes, bytes]:
    """Chromium's origin metadata (last access, last modified + size) as it writes it with every commit."""
    micros = int(time.time() * 1e6) + 11_644_473_600_000_000  # microseconds since 1601
    return {META_KEYS[0]: b"\x08" + put_varint(micros),
            META_KEYS[1]: b"\x08" + put_varint(micros) + b"\x10" + put_varint(size)}


def _topic(i: int) -> dict[str, object]:
    """A chat topic as the assistants slice holds it: JSON with many keys, so many escaped quotes once nested."""
    return {"id": f"topic-{i}", "name": f"话题 {i} 💬", "createdAt": "2026-10-01T08:00:00.000Z", "pinned": False,
            "messages": [{"id": f"m-{i}-{j}", "role": "user" if j % 2 else "assistant", "topicId": f"topic-{i}",
                          "content": "你好，世界！Hello 👋 \"quoted\" こんにちは " * 3, "status": "success",
                          "model": {"id": "gpt-4.1", "provider": "openai"}} for j in range(6)]}


def sized_state(target: int, version: int, providers: int = EXTRA_PROVIDERS) -> dict[str, str]:
    """cherry_state() whose persist value encodes to about `target` bytes; `version` varies the content."""
    items = cherry_state(extra_providers=providers)
    outer = json.loads(items[PERSIST_KEY])
    assistants = json.loads(outer["assistants"])
    per_topic = 2 * len(stringify(stringify(_topic(0))))  # UTF-16 bytes, once escaped twice
    count = max(0, (target - len(encode(items[PERSIST_KEY]))) // per_topic - version)
    assistants["defaultAssistant"]["topics"] = [_topic(i) for i in range(count)]
    outer["assistants"] = stringify(assistants)
    items[PERSIST_KEY] = stringify(outer)
    return items


def build_store(root: Path, value_bytes: int, compacted: bool, providers: int = EXTRA_PROVIDERS) -> tuple[Path, int]:
    """A 1.x userData dir; returns it and the encoded size of the newest persist value."""
    ud = root / "CherryStudio"
    leveldb_dir = ud / "Local Storage" / "leveldb"
    leveldb_dir.parent.mkdir(parents=True)
    # Chromium's options for localStorage: a 64 KiB memtable (so big values are flushed to tables early).
    db = plyvel.DB(str(leveldb_dir), create_if_missing=True, write_buffer_size=64 * 1024)
    value = b""
    try:
        db.put(b"VERSION", b"1")
        for version in range(VERSIONS, -1, -1):  # oldest first; version 0 is the newest
            items = {ORIGIN_PREFIX + encode(k): encode(v)
                     for k, v in sized_state(value_bytes, version, providers).items()}
            size = sum(len(k) - len(ORIGIN_PREFIX) + len(v) for k, v in items.items())
            with db.write_batch(sync=True) as wb:
                for k, v in {**items, **meta(size)}.items():
                    wb.put(k, v)
            if version == (0 if compacted else 1):
                # Merged into one table, older versions dropped. (compact_range() with no bounds leaves the
                # level-0 tables as they are: the bounds are needed.)
                db.compact_range(start=b"\x00", stop=b"\xff")
            value = items[ORIGIN_PREFIX + encode(PERSIST_KEY)]
    finally:
        db.close()
    if compacted:  # reopened, as Chromium does at its next start: what the log still held goes into a table
        plyvel.DB(str(leveldb_dir)).close()
    (ud / "config.json").write_text('{"language": "zh-CN"}')
    (ud / "version.log").write_text("1.6.5|linux|prod|packaged|install|2026-10-01T08:00:00.000Z\n")
    return ud, len(value)


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    max_rss_mb: float
    stdout: str
    stderr: str


# The child's max RSS must be its own. Linux carries the high-water mark of the memory a process replaces at
# exec() into the new program's ru_maxrss, and subprocess spawns with vfork, so a child of this (large) process
# would report at least our own RSS. A small interpreter in between forks the child from ~10 MB instead, and
# times it and reads its wait4() usage itself.
RUNNER = """
import json, os, sys, time
argv, report = json.loads(sys.argv[1]), sys.argv[2]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(report, "w") as f:
    json.dump({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "max_rss_kb": usage.ru_maxrss,
               "code": os.waitstatus_to_exitcode(status)}, f)
"""


def run(argv: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run a child to completion: its wall time, CPU time and its own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run([sys.executable, "-c", RUNNER, json.dumps(argv), report.name], stdin=subprocess.DEVNULL,
                       stdout=out, stderr=err, env=env, cwd=cwd, check=True)
        figures = json.loads(Path(report.name).read_text())
        out.seek(0)
        err.seek(0)
        result = Run(figures["seconds"], figures["cpu"], figures["max_rss_kb"] / 1024, out.read().decode(),
                     err.read().decode())
    if figures["code"] != 0:
        raise SystemExit(f"{' '.join(argv)} exited {figures['code']}:\n{result.stderr}")
    return result


FLOOR_READ = """
import sys, plyvel
db = plyvel.DB(sys.argv[1])
value = db.get(bytes.fromhex(sys.argv[2]))
db.close()
assert value
"""

FLOOR_WRITE = """
import sys, time, plyvel
db = plyvel.DB(sys.argv[1])
key = bytes.fromhex(sys.argv[2])
marker, provider = (s.encode("utf-16-le") for s in sys.argv[3:5])
value = db.get(key)
at = value.index(marker) + len(marker)
assert at % 2 == 1  # on a code unit boundary, after the format byte
micros = str(int(time.time() * 1e6)).encode()
with db.write_batch(sync=True) as wb:
    wb.put(key, value[:at] + provider + value[at:])
    wb.put(b"METAACCESS:file://", micros)
    wb.put(b"META:file://", micros)
db.close()
"""

# What apply does, and no more: a backup of the store's files (each fsynced, with its sha256, the directory
# too), the splice, one synced batch, and the value read back from a reopened store.
FLOOR_FAIR = """
import hashlib, os, sys, time, plyvel
store, backup, key_hex = sys.argv[1:4]
marker, provider = (s.encode("utf-16-le") for s in sys.argv[4:6])
os.makedirs(backup)
for name in sorted(os.listdir(store)):
    if name == "LOCK":
        continue
    digest = hashlib.sha256()
    with open(os.path.join(store, name), "rb") as src, open(os.path.join(backup, name), "wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    digest.hexdigest()
fd = os.open(backup, os.O_RDONLY)
os.fsync(fd)
os.close(fd)
db = plyvel.DB(store)
key = bytes.fromhex(key_hex)
value = db.get(key)
at = value.index(marker) + len(marker)
new = value[:at] + provider + value[at:]
micros = str(int(time.time() * 1e6)).encode()
with db.write_batch(sync=True) as wb:
    wb.put(key, new)
    wb.put(b"METAACCESS:file://", micros)
    wb.put(b"META:file://", micros)
db.close()
db = plyvel.DB(store)
assert db.get(key) == new
db.close()
"""


class Bench:
    """Fresh copies of built stores and whole-process runs against them."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.key = ORIGIN_PREFIX + encode(PERSIST_KEY)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
        env.pop("CHERRYCONF_DATA_DIR", None)
        env["HOME"] = str(tmp / "home")
        (tmp / "home").mkdir()
        # Bytecode cached as in an installed wheel (pip compiles it); warmed by the first, untimed round.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        self.env = env
        self.py = sys.executable
        self.copies = 0

    def fresh(self, source: Path) -> tuple[Path, dict[str, str]]:
        self.copies += 1
        work = self.tmp / f"run-{self.copies}"
        shutil.copytree(source, work / "CherryStudio")
        return work / "CherryStudio", {**self.env, "CHERRYCONF_HOME": str(work / "cherryconf-home")}

    def cleanup(self) -> None:
        for work in self.tmp.glob("run-*"):
            shutil.rmtree(work)

    def commands(self, source: Path, profile: Path) -> dict[str, Callable[[], Run]]:
        cli = [self.py, "-m", "cherryconf"]

        def cherryconf(*args: str) -> Callable[[], Run]:
            def go() -> Run:
                ud, e = self.fresh(source)
                return run([*cli, "--data-dir", str(ud), *args], e, self.tmp)
            return go

        def floor(script: str, *args: str, backup: bool = False) -> Callable[[], Run]:
            def go() -> Run:
                ud, e = self.fresh(source)
                leveldb_dir = ud / "Local Storage" / "leveldb"
                extra = [str(ud.parent / "backup")] if backup else []
                return run([self.py, "-c", script, str(leveldb_dir), *extra, self.key.hex(), *args], e, self.tmp)
            return go

        return {
            "cherryconf providers": cherryconf("providers"),
            "cherryconf apply --yes": cherryconf("apply", str(profile), "--yes"),
            "plyvel read (bare floor)": floor(FLOOR_READ),
            "plyvel write (bare floor)": floor(FLOOR_WRITE, MARKER, FLOOR_PROVIDER),
            "plyvel fair floor": floor(FLOOR_FAIR, MARKER, FLOOR_PROVIDER, backup=True),
        }

    def interleaved(self, commands: dict[str, Callable[[], Run]], runs: int) -> dict[str, list[Run]]:
        results: dict[str, list[Run]] = {name: [] for name in commands}
        for round_no in range(runs + 1):  # round 0 warms the caches and is not counted
            for name, go in commands.items():
                r = go()
                if round_no:
                    results[name].append(r)
            self.cleanup()
        return results


def median(done: list[Run], field: str = "seconds") -> float:
    return statistics.median(getattr(r, field) for r in done)


def main() -> None:
    if sys.argv[1:2] in (["-h"], ["--help"]):
        sys.exit(__doc__)
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and not (sys.argv[1].isdigit() and int(sys.argv[1]) > 0)):
        sys.exit(f"usage: python {Path(__file__).name} [RUNS] (a positive number; default {RUNS})")
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    checks: list[tuple[str, str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="cherryconf-bench-v1-") as tmp_name:
        tmp = Path(tmp_name)
        bench = Bench(tmp)
        profile = tmp / "profile.yaml"
        profile.write_text(profile_text(1), encoding="utf-8")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{runs} runs each, interleaved, each on a fresh copy; {os.cpu_count()} CPUs, load average {load:.1f}")

        for label, value_bytes, compacted in (("compacted", 7_600_000, True), ("in the log", 8_000_000, False)):
            source, value_size = build_store(tmp / f"source-{len(label)}", value_bytes, compacted)
            files = sorted((source / "Local Storage" / "leveldb").iterdir())
            tables = [p.stat().st_size for p in files if p.suffix == ".ldb"]
            logs = [p.stat().st_size for p in files if p.suffix == ".log"]
            where = "the value in a table, the log empty" if compacted else "the newest value in the log"
            assert (max(logs, default=0) < value_size) if compacted else (max(logs) > value_size), where
            if label == "compacted":  # the first round's apply must have worked
                ud, e = bench.fresh(source)
                out = run([bench.py, "-m", "cherryconf", "--data-dir", str(ud), "apply", str(profile), "--yes"],
                          e, tmp).stdout
                assert "backup:" in out, out
                assert "bench-gateway" in run([bench.py, "-m", "cherryconf", "--data-dir", str(ud), "providers"],
                                              e, tmp).stdout
                bench.cleanup()
            results = bench.interleaved(bench.commands(source, profile), runs)
            print(f"\n{label}: persist:cherry-studio {value_size / 1e6:.2f} MB encoded (UTF-16, CJK + emoji, chat "
                  f"JSON), {EXTRA_PROVIDERS + 3} providers; {len(tables)} .ldb {sum(tables) / 1e6:.2f} MB + "
                  f"{len(logs)} log {sum(logs) / 1e6:.2f} MB ({where})")
            print(f"{'':<28} {'median s':>8} {'min s':>7} {'max s':>7} {'CPU s':>6} {'peak RSS MB':>11}")
            for name, done in results.items():
                secs = [r.seconds for r in done]
                print(f"{name:<28} {statistics.median(secs):>8.3f} {min(secs):>7.3f} {max(secs):>7.3f} "
                      f"{median(done, 'cpu_seconds'):>6.3f} {max(r.max_rss_mb for r in done):>11.0f}")
            apply_s = median(results["cherryconf apply --yes"])
            providers_s = median(results["cherryconf providers"])
            fair = apply_s / median(results["plyvel fair floor"])
            bare_write = apply_s / median(results["plyvel write (bare floor)"])
            bare_read = providers_s / median(results["plyvel read (bare floor)"])
            print(f"apply / fair floor {fair:.2f}x; apply / bare write floor {bare_write:.2f}x; "
                  f"providers / bare read floor {bare_read:.2f}x")
            if compacted:
                checks += [
                    (f"apply <= {TARGET_FAIR:g}x the fair floor", f"{fair:.2f}x", fair <= TARGET_FAIR),
                    (f"apply <= {TARGET_BARE_WRITE:g}x the bare write floor", f"{bare_write:.2f}x",
                     bare_write <= TARGET_BARE_WRITE),
                    (f"providers <= {TARGET_BARE_READ:g}x the bare read floor", f"{bare_read:.2f}x",
                     bare_read <= TARGET_BARE_READ),
                ]
            shutil.rmtree(source.parent)

        checks += scaling(bench, tmp, max(3, runs // 2))
    print()
    for what, figure, ok in checks:
        print(f"{what:<52} {figure:>10}  {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if all(ok for _, _, ok in checks) else 1)


def scaling(bench: Bench, tmp: Path, runs: int) -> list[tuple[str, str, bool]]:
    """apply's CPU time and peak RSS as the value grows, and as the providers in store and profile do."""
    cases: list[tuple[str, int, int, int]] = [  # label, value bytes, providers in the store, in the profile
        *((f"value {mb} MB", mb * 1_000_000, EXTRA_PROVIDERS, 1) for mb in (1, 2, 4, 8)),
        # 4 MB: a store of 1,000 providers (20 models each) holds nearly 3 MB of them, and the value stays put.
        *((f"{n} providers in the store", 4_000_000, n, 1) for n in (10, 100, 1000)),
        *((f"{n} providers in the profile", 1_000_000, EXTRA_PROVIDERS, n) for n in (10, 100, 1000)),
    ]
    commands: dict[str, Callable[[], Run]] = {}
    sizes: dict[str, int] = {}
    for i, (label, value_bytes, in_store, in_profile) in enumerate(cases):
        source, sizes[label] = build_store(tmp / f"scale-{i}", value_bytes, True, in_store)
        profile = tmp / f"scale-{i}.yaml"
        profile.write_text(profile_text(in_profile), encoding="utf-8")
        commands[label] = bench.commands(source, profile)["cherryconf apply --yes"]
    results = bench.interleaved(commands, runs)
    print(f"\nscaling: cherryconf apply --yes on compacted stores, {runs} runs each, interleaved")
    print(f"{'':<28} {'value MB':>8} {'median s':>8} {'CPU s':>6} {'peak RSS MB':>11} {'RSS limit':>9}")
    checks = []
    for label, done in results.items():
        value_mb = sizes[label] / 2**20
        rss = max(r.max_rss_mb for r in done)
        limit = RSS_FACTOR * value_mb + RSS_EXTRA_MB
        print(f"{label:<28} {sizes[label] / 1e6:>8.2f} {median(done):>8.3f} {median(done, 'cpu_seconds'):>6.3f} "
              f"{rss:>11.0f} {limit:>9.0f}")
        checks.append((f"peak RSS <= 5x value + 60 MB: {label}", f"{rss:.0f} MB", rss <= limit))
    one, eight = results["value 1 MB"], results["value 8 MB"]
    per_mb = (median(eight, "cpu_seconds") - median(one, "cpu_seconds")) / ((sizes["value 8 MB"] -
                                                                            sizes["value 1 MB"]) / 1e6) * 1000
    print(f"CPU per MB of value (1 -> 8 MB): {per_mb:.1f} ms")
    big_runs = results["1000 providers in the profile"]
    big = median(big_runs)
    print(f"1,000-provider profile: {big:.3f} s wall, {median(big_runs, 'cpu_seconds'):.3f} s CPU")
    checks += [(f"<= {TARGET_MS_PER_MB:g} ms CPU per MB of value", f"{per_mb:.1f} ms", per_mb <= TARGET_MS_PER_MB),
               (f"1,000-provider profile applied in < {TARGET_BIG_PROFILE_S:g} s", f"{big:.3f} s",
                big < TARGET_BIG_PROFILE_S)]
    # Superlinear growth shows as a cost per provider that rises with their number (beyond the noise of the
    # 10 -> 100 difference, a few ms: a quadratic step of a microsecond per pair would add ~1 ms per provider).
    for where in ("store", "profile"):
        base = median(results[f"10 providers in the {where}"], "cpu_seconds")
        per = [(median(results[f"{n} providers in the {where}"], "cpu_seconds") - base) / (n - 10)
               for n in (100, 1000)]
        print(f"CPU per provider in the {where}: {per[0] * 1000:.2f} ms (10 -> 100), {per[1] * 1000:.2f} ms "
              "(10 -> 1,000)")
        checks.append((f"nothing superlinear in providers ({where})", f"{per[1] * 1000:.2f} ms",
                       per[1] <= 2 * max(per[0], 0) + SUPERLINEAR_SLACK_S))
    return checks


if __name__ == "__main__":
    main()
