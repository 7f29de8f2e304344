"""`cherryconf providers` and `cherryconf apply --yes` on a 1.x store holding an ~8 MB state, against plyvel.

Run: python benchmarks/bench_store_v1.py [RUNS] (default 7; needs plyvel, a test dependency).

The store is what a long-lived install looks like (issue 3): `persist:cherry-studio` of about 8 MB (UTF-16,
CJK and emoji, ~4 M code units; Chromium caps an origin at 10 MiB; tests/v1state.py builds it) whose older
versions LevelDB has compacted into an `.ldb` table, and one newer version in the log on top, written with
plyvel (the real LevelDB) the way Chromium lays localStorage out. Each run copies it afresh, then runs as
subprocesses, the way a user does:

- `cherryconf providers` and `cherryconf apply --yes` (a profile adding one provider; it backs up the whole
  store into CHERRYCONF_HOME, writes, and reads back);
- the floor: the same read (open, get, close) and write (open, get, put of the whole new value with
  Chromium's META in one synced batch, close) through plyvel, in a `python` subprocess too, so that both
  sides pay an interpreter start. The in-process plyvel figures are printed for reference;
- the modules the apply child loaded, imported and nothing more: how much of apply is the interpreter
  loading click, pydantic, jsonschema, PyYAML and psutil, which the plyvel script does not need.

Peak memory is each child's own max RSS, from wait4(). Targets: apply under 1 s and within 3x of the plyvel
write floor; apply's peak RSS under 5x the value's size plus 60 MB. Exits 1 when a target is missed.
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
from dataclasses import dataclass
from pathlib import Path

# Runs from a checkout: the package from the repo, the state builder from the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import plyvel
from v1state import PERSIST_KEY, cherry_state

from cherryconf.stores.leveldb import put_varint
from cherryconf.stores.localstorage import encode

REPO = Path(__file__).resolve().parent.parent
RUNS = 7
VALUE_BYTES = 8_000_000  # the encoded persist value: 1 format byte + 2 per UTF-16 code unit
VERSIONS = 4  # older versions written before the compaction, then one more into the log
EXTRA_PROVIDERS = 40
ORIGIN_PREFIX = b"_file://\x00"
META_KEYS = (b"METAACCESS:file://", b"META:file://")
PROFILE = """\
version: 1
providers:
  - id: bench-gateway
    name: 基准网关 🚀
    apiHost: https://gw.bench.example/v1/chat/completions
    apiKey: sk-bench-0123456789abcdef0123456789abcdef
    models:
      - gpt-4.1
      - id: claude-sonnet-4-20250514
        name: Claude Sonnet 4
"""
# The provider the floor splices into the llm slice: about what apply adds, at the same nesting depth
# (the slice is a JSON string inside the blob, so its quotes are escaped).
FLOOR_PROVIDER = ('{\\"id\\":\\"bench-gateway\\",\\"name\\":\\"基准网关 🚀\\",\\"type\\":\\"openai\\",'
                  '\\"apiKey\\":\\"sk-bench-0123456789abcdef0123456789abcdef\\",'
                  '\\"apiHost\\":\\"https://gw.bench.example/v1\\",\\"models\\":[],\\"enabled\\":true},')
MARKER = '\\"providers\\":['
TARGET_SECONDS = 1.0
TARGET_FLOOR_RATIO = 3.0
RSS_FACTOR, RSS_EXTRA_MB = 5, 60




def meta(size: int) -> dict[bytes, bytes]:
    """Chromium's origin metadata (last access, last modified + size) as it writes it with every commit."""
    micros = int(time.time() * 1e6) + 11_644_473_600_000_000  # microseconds since 1601
    return {META_KEYS[0]: b"\x08" + put_varint(micros),
            META_KEYS[1]: b"\x08" + put_varint(micros) + b"\x10" + put_varint(size)}


def sized_state(target: int, version: int) -> dict[str, str]:
    """cherry_state() whose persist value encodes to about `target` bytes; `version` varies the content."""
    probe = cherry_state(padding=100_000, extra_providers=EXTRA_PROVIDERS)
    per_char = (len(encode(probe[PERSIST_KEY])) - len(encode(cherry_state(extra_providers=EXTRA_PROVIDERS)
                                                               [PERSIST_KEY]))) / 100_000
    base = len(encode(cherry_state(extra_providers=EXTRA_PROVIDERS)[PERSIST_KEY]))
    padding = int((target - base) / per_char) - version * 1000  # older versions a little shorter
    return cherry_state(padding=padding, extra_providers=EXTRA_PROVIDERS)


def build_store(root: Path) -> tuple[Path, int, int]:
    """A 1.x userData dir; returns it, the encoded size of the newest persist value and its UTF-16 length."""
    ud = root / "CherryStudio"
    leveldb_dir = ud / "Local Storage" / "leveldb"
    leveldb_dir.parent.mkdir(parents=True)
    # Chromium's options for localStorage: a 64 KiB memtable (so big values are flushed to tables early).
    db = plyvel.DB(str(leveldb_dir), create_if_missing=True, write_buffer_size=64 * 1024)
    value = b""
    try:
        db.put(b"VERSION", b"1")
        for version in range(VERSIONS, -1, -1):  # oldest first; version 0 is the newest
            items = {ORIGIN_PREFIX + encode(k): encode(v) for k, v in sized_state(VALUE_BYTES, version).items()}
            size = sum(len(k) - len(ORIGIN_PREFIX) + len(v) for k, v in items.items())
            with db.write_batch(sync=True) as wb:
                for k, v in {**items, **meta(size)}.items():
                    wb.put(k, v)
            if version == 1:
                # Everything so far merged into one table, older versions dropped; the newest goes into the log.
                # (compact_range() with no bounds leaves the level-0 tables as they are: the bounds are needed.)
                db.compact_range(start=b"\x00", stop=b"\xff")
            value = items[ORIGIN_PREFIX + encode(PERSIST_KEY)]
    finally:
        db.close()
    (ud / "config.json").write_text('{"language": "zh-CN"}')
    (ud / "version.log").write_text("1.6.5|linux|prod|packaged|install|2026-10-01T08:00:00.000Z\n")
    return ud, len(value), (len(value) - 1) // 2


@dataclass
class Run:
    seconds: float
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
    json.dump({"seconds": seconds, "max_rss_kb": usage.ru_maxrss, "code": os.waitstatus_to_exitcode(status)}, f)
"""


def run(argv: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run a child to completion: its wall time and its own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run([sys.executable, "-c", RUNNER, json.dumps(argv), report.name], stdin=subprocess.DEVNULL,
                       stdout=out, stderr=err, env=env, cwd=cwd, check=True)
        figures = json.loads(Path(report.name).read_text())
        out.seek(0)
        err.seek(0)
        result = Run(figures["seconds"], figures["max_rss_kb"] / 1024, out.read().decode(), err.read().decode())
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


# The modules the apply child had loaded, imported and nothing else: the part of apply's time that is the
# interpreter loading click, pydantic, jsonschema, PyYAML, psutil and cherryconf, which the plyvel floor skips.
MODULES_AFTER = """
import runpy, sys
out, sys.argv = sys.argv[1], ["cherryconf", *sys.argv[2:]]
try:
    runpy.run_module("cherryconf", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
with open(out, "w") as f:
    f.write(" ".join(m for m in sys.modules if m != "__main__" and not m.endswith(".__main__")))
"""
IMPORT_ONLY = """
import importlib, sys
for name in open(sys.argv[1]).read().split():
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""


def floor_in_process(leveldb_dir: Path, key: bytes, write: bool) -> float:
    started = time.perf_counter()
    db = plyvel.DB(str(leveldb_dir))
    value = db.get(key)
    assert value is not None
    if write:
        marker = MARKER.encode("utf-16-le")
        at = value.index(marker) + len(marker)
        with db.write_batch(sync=True) as wb:
            wb.put(key, value[:at] + FLOOR_PROVIDER.encode("utf-16-le") + value[at:])
            for k, v in meta(len(value)).items():
                wb.put(k, v)
    db.close()
    return time.perf_counter() - started


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    with tempfile.TemporaryDirectory(prefix="cherryconf-bench-v1-") as tmp_name:
        tmp = Path(tmp_name)
        source, value_size, code_units = build_store(tmp / "source")
        leveldb_files = sorted((source / "Local Storage" / "leveldb").iterdir())
        tables = [p.stat().st_size for p in leveldb_files if p.suffix == ".ldb"]
        logs = [p.stat().st_size for p in leveldb_files if p.suffix == ".log"]
        assert len(tables) == 1 and max(logs) > value_size, "expected one compacted table and the newest in the log"
        profile = tmp / "profile.yaml"
        profile.write_text(PROFILE, encoding="utf-8")
        key = ORIGIN_PREFIX + encode(PERSIST_KEY)
        modules = tmp / "modules.txt"

        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
        env.pop("CHERRYCONF_DATA_DIR", None)
        env["HOME"] = str(tmp / "home")
        (tmp / "home").mkdir()
        # Bytecode cached as in an installed wheel; warmed by the first (untimed) round below.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        py = sys.executable
        cli = [py, "-m", "cherryconf"]

        results: dict[str, list[Run]] = {}
        in_process: dict[str, list[float]] = {"plyvel read (in-process)": [], "plyvel write (in-process)": []}
        for round_no in range(runs + 1):  # round 0 warms the caches and is not counted
            def fresh(name: str, round_no: int = round_no) -> tuple[Path, dict[str, str]]:
                work = tmp / f"run-{round_no}-{name}"
                shutil.copytree(source, work / "CherryStudio")
                return work / "CherryStudio", {**env, "CHERRYCONF_HOME": str(work / "cherryconf-home")}

            timed: dict[str, Run] = {}
            ud, e = fresh("providers")
            timed["cherryconf providers"] = run([*cli, "--data-dir", str(ud), "providers"], e, tmp)
            ud, e = fresh("apply")
            timed["cherryconf apply --yes"] = run([*cli, "--data-dir", str(ud), "apply", str(profile), "--yes"], e, tmp)
            if round_no == 0:
                assert "bench-gateway" in run([*cli, "--data-dir", str(ud), "providers"], e, tmp).stdout
                assert "backup:" in timed["cherryconf apply --yes"].stdout
                assert any((Path(e["CHERRYCONF_HOME"]) / "backups").rglob("manifest.json"))
                ud, e = fresh("modules")
                run([py, "-c", MODULES_AFTER, str(modules), "--data-dir", str(ud), "apply", str(profile), "--yes"],
                    e, tmp)
            timed["imports of apply only"] = run([py, "-c", IMPORT_ONLY, str(modules)], env, tmp)
            timed["python -c pass"] = run([py, "-c", "pass"], env, tmp)
            ud, e = fresh("plyvel-read")
            timed["plyvel read"] = run([py, "-c", FLOOR_READ, str(ud / "Local Storage" / "leveldb"),
                                        key.hex()], e, tmp)
            ud, e = fresh("plyvel-write")
            timed["plyvel write"] = run([py, "-c", FLOOR_WRITE, str(ud / "Local Storage" / "leveldb"),
                                         key.hex(), MARKER, FLOOR_PROVIDER], e, tmp)
            ud, e = fresh("inproc-read")
            read_s = floor_in_process(ud / "Local Storage" / "leveldb", key, write=False)
            ud, e = fresh("inproc-write")
            write_s = floor_in_process(ud / "Local Storage" / "leveldb", key, write=True)
            for work in tmp.glob(f"run-{round_no}-*"):
                shutil.rmtree(work)
            if round_no == 0:
                continue
            for name, r in timed.items():
                results.setdefault(name, []).append(r)
            in_process["plyvel read (in-process)"].append(read_s)
            in_process["plyvel write (in-process)"].append(write_s)

        base_rss = max(r.max_rss_mb for r in results["python -c pass"])
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"persist:cherry-studio: {value_size / 1e6:.2f} MB encoded ({code_units / 1e6:.2f} M UTF-16 code "
              f"units, CJK + emoji), {EXTRA_PROVIDERS + 3} providers")
        print(f"store: {len(tables)} .ldb table {sum(tables) / 1e6:.2f} MB (the {VERSIONS} older versions compacted, "
              f"snappy) + {len(logs)} log {sum(logs) / 1e6:.1f} MB (the newest version)")
        print(f"{runs} runs each on a fresh copy; {os.cpu_count()} CPUs, load average {load:.1f}; "
              f"`python -c pass` peak RSS {base_rss:.0f} MB")
        print(f"{'':<28} {'median s':>8} {'min s':>7} {'max s':>7} {'peak RSS MB':>11}")
        for name, done in results.items():
            secs = [r.seconds for r in done]
            print(f"{name:<28} {statistics.median(secs):>8.3f} {min(secs):>7.3f} {max(secs):>7.3f} "
                  f"{max(r.max_rss_mb for r in done):>11.0f}")
        for name, secs in in_process.items():
            print(f"{name:<28} {statistics.median(secs):>8.3f} {min(secs):>7.3f} {max(secs):>7.3f} {'-':>11}")

        apply_s = statistics.median(r.seconds for r in results["cherryconf apply --yes"])
        floor_s = statistics.median(r.seconds for r in results["plyvel write"])
        imports_s = statistics.median(r.seconds for r in results["imports of apply only"])
        python_s = statistics.median(r.seconds for r in results["python -c pass"])
        print(f"\napply's own work (apply - its imports alone) {apply_s - imports_s:.3f} s; plyvel's (write - "
              f"python -c pass) {floor_s - python_s:.3f} s: {(apply_s - imports_s) / (floor_s - python_s):.2f}x "
              "(informative)")
        apply_rss = max(r.max_rss_mb for r in results["cherryconf apply --yes"])
        rss_limit = RSS_FACTOR * value_size / 2**20 + RSS_EXTRA_MB
        checks = [
            (f"apply under {TARGET_SECONDS:g} s", f"{apply_s:.3f} s", apply_s < TARGET_SECONDS),
            (f"apply within {TARGET_FLOOR_RATIO:g}x of the plyvel write", f"{apply_s / floor_s:.2f}x",
             apply_s <= TARGET_FLOOR_RATIO * floor_s),
            (f"apply peak RSS under {rss_limit:.0f} MB (5x value + 60 MB)", f"{apply_rss:.0f} MB",
             apply_rss < rss_limit),
        ]
        print()
        for what, figure, ok in checks:
            print(f"{what:<52} {figure:>10}  {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if all(ok for _, _, ok in checks) else 1)


if __name__ == "__main__":
    main()
