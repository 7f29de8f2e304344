"""Backups and restore, and the claim that no write can leave a broken store, proven through the real CLI.

Fault injection: `apply` and `restore` run in a subprocess with `CHERRYCONF_KILL_AT=N` (cherryconf SIGKILLs itself
at its N-th step boundary, see cherryconf/faults.py) for every N until a run finishes on its own. After each kill
the next cherryconf run (`providers --json`) must say what it repaired and leave no `.cherryconf-*` directory,
`.partial` backup or temporary file behind, and the store must read back as exactly the old or exactly the new
state: for 1.x every localStorage key and value (read by plyvel, the real LevelDB, and by real Chromium), for 2.x
every row of every table. The 1.x stores are Chromium profiles: `<profile>/Default` has the layout of a 1.x
userData directory, so cherryconf works on exactly the files Chromium wrote and Chromium reads what it left.

Kill points covered (the step lists are asserted below, so a change to them shows here): apply on 1.x and on 2.x
6 each; restore on 1.x 9 + one per LevelDB file (14 with the five files of Chromium's profile); restore on 2.x 9;
an apply whose write fails after reaching the store, killed while it puts the backup back: 1.x 8 + one per file
(13), 2.x 8. Chromium reads every distinct 1.x store the kills leave (identical files are read once).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from testing import v2db
from testing.chromium_harness import chromium_available, read_local_storage, write_local_storage
from testing.cli import CliResult, RunCli
from testing.plyvel_view import plyvel_items
from testing.privacy import assert_private
from testing.runs import P1, make_install, one_line_error, run_py, write_profile
from testing.v1state import cherry_state, make_userdata
from testing.winlane import KILLED

from cherryconf.stores.install import Install

needs_chromium = pytest.mark.skipif(not chromium_available(), reason="needs Debian's chromium")

P2 = """\
version: 1
providers:
  - id: deepseek
    name: {name}
    apiHost: https://api.deepseek.com
    apiKey: sk-deepseek-new-9999999999
  - id: gw2
    name: Second
    apiHost: https://second.example
    apiKey: sk-second-5555555555555555
    models: [second-model]
"""
# Every whole key the stores and profiles hold: none may ever be printed.
KEYS = (
    "sk-gw-0123456789abcdef",
    "sk-deepseek-new-9999999999",
    "sk-second-5555555555555555",
    "sk-deepseek-000000000000",
    "sk-mine-1111111111111111",
    "sk-mine-2222222222222222",
)

APPLY_STEPS = [
    "backup files copied",
    "backup written",
    "backup in place",
    "backup done",
    "record written",
    "store written",
    "store checked",
    "record confirmed",
]
PRE_RESTORE_STEPS = ["backup files copied", "backup written", "backup in place", "pre-restore backup done",
                     "record written"]
V1_SWAP_STEPS = [
    "new directory complete",
    "old directory moved aside",
    "new directory in place",
    "old directory removed",
]
V2_SWAP_STEPS = ["new database copied", "old database checkpointed", "old WAL removed", "new database in place"]

_STEP = re.compile(r"^step \d+: (.*)$", re.MULTILINE)


# --- running cherryconf -------------------------------------------------------------------------------------------


def p2(name: str = "DeepSeek Renamed") -> str:
    return P2.format(name=name)


# --- reading stores independently ---------------------------------------------------------------------------------


def chromium_items(profile: Path, expected: dict[str, str]) -> dict[str, str]:
    """What Chromium sees; a second session only when the first disagrees.

    Under load a Chromium session now and then starts while a helper of the previous one still holds the
    LevelDB LOCK and then shows an empty in-memory store; a store that is really wrong reads wrong twice.
    """
    got = read_local_storage(profile)
    return got if got == expected else read_local_storage(profile)


def file_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def normalized(dump: dict[str, list[dict[str, Any]]], known_key_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    """A 2.x table dump with what differs between two identical writes (time stamps, new key uuids) blanked."""
    out: dict[str, list[dict[str, Any]]] = {}
    for table, rows in dump.items():
        fixed = []
        for row in rows:
            row = dict(row)
            for col in ("created_at", "updated_at"):
                if col in row and row[col] != v2db.NOW:
                    row[col] = "written"
            if table == "user_provider" and row.get("api_keys"):
                keys = json.loads(row["api_keys"])
                row["api_keys"] = [{**k, "id": k["id"] if k["id"] in known_key_ids else "new"} for k in keys]
            fixed.append(row)
        out[table] = sorted(fixed, key=repr)
    return out


def key_ids(dump: dict[str, list[dict[str, Any]]]) -> set[str]:
    return {k["id"] for row in dump["user_provider"] if row.get("api_keys") for k in json.loads(row["api_keys"])}


def backup_ids(run_cli: RunCli, data_dir: Path) -> list[str]:
    """This install's backups, newest first, as `backups --json` lists them."""
    result = run_cli("--data-dir", str(data_dir), "backups", "--json")
    assert result.code == 0, result.err
    return [b["id"] for b in json.loads(result.out)["backups"]]


def apply_ok(run_cli: RunCli, data_dir: Path, profile: Path, *extra: str) -> str:
    """Apply `profile` (it must change something); returns the id of the backup taken first."""
    result = run_cli("--data-dir", str(data_dir), "apply", str(profile), "--yes", *extra)
    assert result.code == 0, result.err
    return Path(re.search(r"^backup: (.*)$", result.out, re.MULTILINE)[1]).name  # type: ignore[index]


# --- one install at a fixed path (its backups are keyed by that path), reset between runs --------------------------


@dataclass
class Rig:
    kind: str  # "v1" or "v2"
    root: Path  # what is saved and reset: the Chromium profile (1.x) or the userData directory (2.x)
    data_dir: Path
    home: Path  # CHERRYCONF_HOME, where the backups live
    saved: Path
    key_ids: set[str]

    @classmethod
    def make(cls, tmp_path: Path, kind: str) -> Rig:
        home = Path(os.environ["CHERRYCONF_HOME"])
        if kind == "v1":
            root = tmp_path / "chromium"
            return cls(kind, root, root / "Default", home, tmp_path / "saved", set())
        root = tmp_path / "userdata"
        v2db.build(root)
        rig = cls(kind, root, root, home, tmp_path / "saved", set())
        rig.key_ids = key_ids(rig.dump())
        return rig

    @property
    def install(self) -> Install:
        return Install(self.data_dir, "v2", None, "test")

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        return v2db.dump(self.install)

    def save(self) -> None:
        shutil.rmtree(self.saved, ignore_errors=True)
        shutil.copytree(self.root, self.saved / "root", symlinks=True)
        if self.home.exists():
            shutil.copytree(self.home, self.saved / "home", symlinks=True)

    def reset(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.copytree(self.saved / "root", self.root, symlinks=True)
        if (self.saved / "home").exists():
            shutil.copytree(self.saved / "home", self.home, symlinks=True)

    def logical(self) -> Any:
        if self.kind == "v1":
            return plyvel_items(self.data_dir / "Local Storage" / "leveldb")
        return normalized(self.dump(), self.key_ids)

    def fingerprint(self) -> tuple[tuple[str, str], ...]:
        """The 1.x store's files by name and content (LOCK aside: it is empty, and created by whoever opens)."""
        leveldb = self.data_dir / "Local Storage" / "leveldb"
        return tuple(
            (name, hashlib.sha256(data).hexdigest()) for name, data in file_bytes(leveldb).items() if name != "LOCK"
        )

    def leftovers(self) -> list[str]:
        found = [p for p in self.data_dir.rglob("*") if ".cherryconf-" in p.name]
        found += [p for p in self.home.rglob("*") if p.name.endswith((".partial", ".tmp"))]
        return sorted(str(p) for p in found)


@dataclass
class State:
    logical: Any  # every localStorage item (1.x) or every row (2.x)
    providers: list[dict[str, Any]]  # what our reader, `cherryconf providers --json`, shows


def observe(run_cli: RunCli, rig: Rig) -> tuple[CliResult, State]:
    """Run cherryconf once more (which repairs what a kill left) and read the store."""
    result = run_cli("--data-dir", str(rig.data_dir), "providers", "--json")
    assert result.code == 0, result.err
    assert all(line.startswith("cherryconf: ") for line in result.err.splitlines()), result.err
    return result, State(rig.logical(), json.loads(result.out)["providers"])


Runner = Callable[..., CliResult]


def drill(
    run_cli: RunCli,
    rig: Rig,
    args: list[str],
    expect: Callable[[list[str], int], str],
    *,
    runner: Runner | None = None,
    new: State | None = None,
    final_code: int = 0,
    chromium: bool = False,
) -> list[str]:
    """Kill `args` at every step boundary in turn; after each kill the store must be the old or the new state.

    `expect(steps, i)` says which ("old" or "new") a kill at steps[i] must leave. `new` defaults to the state an
    uninterrupted run leaves. Returns the step names, one per kill point covered.
    """
    run = runner or run_cli
    cmd = ["--data-dir", str(rig.data_dir), *args]
    rig.reset()
    _, old = observe(run_cli, rig)
    rig.reset()
    reference = run(*cmd, env={"CHERRYCONF_TRACE_STEPS": "1"})
    assert reference.code == final_code, reference.err
    steps = _STEP.findall(reference.err)
    if new is None:
        _, new = observe(run_cli, rig)
    assert new != old
    states = {"old": old, "new": new}
    seen_by_chromium: dict[tuple[tuple[str, str], ...], Any] = {}
    n = 0
    while True:
        n += 1
        rig.reset()
        result = run(*cmd, env={"CHERRYCONF_KILL_AT": str(n), "CHERRYCONF_TRACE_STEPS": "1"})
        if result.code != KILLED:
            # Past the last boundary the run finishes as the uninterrupted one did.
            assert (result.code, n) == (final_code, len(steps) + 1), result.err
            return steps
        where = f"killed at step {n} ({steps[n - 1]})"
        assert _STEP.findall(result.err)[-1] == steps[n - 1], where
        swapping = [p for p in rig.data_dir.rglob("*") if ".cherryconf-" in p.name]
        partial = list(rig.home.glob("backups/*/*.partial"))
        repaired, state = observe(run_cli, rig)
        want = expect(steps, n - 1)
        assert state == states[want], f"{where}: not the {want} state"
        if swapping:
            assert "interrupted restore" in repaired.err, where
        if partial:
            assert "unfinished backup" in repaired.err, where
        assert rig.leftovers() == [], where
        if not swapping and not partial:
            assert repaired.err == "", where
        if chromium:
            # Chromium reads every distinct store a kill leaves; byte-identical files read the same, so a store
            # already read is not read again (most kill points leave the very files of the old or the new state).
            files = rig.fingerprint()
            if files not in seen_by_chromium:
                seen_by_chromium[files] = chromium_items(rig.root, state.logical)
            assert seen_by_chromium[files] == state.logical, where


def new_from(step: str) -> Callable[[list[str], int], str]:
    return lambda steps, i: "new" if i >= steps.index(step) else "old"


@pytest.fixture(scope="module")
def chromium_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Chromium profile whose file:// localStorage Chromium itself filled with a 1.x app's state."""
    if not chromium_available():
        pytest.skip("needs Debian's chromium")
    profile = tmp_path_factory.mktemp("chromium") / "profile"
    write_local_storage(profile, cherry_state())
    return profile


def v1_rig(tmp_path: Path, chromium_profile: Path) -> Rig:
    rig = Rig.make(tmp_path, "v1")
    shutil.copytree(chromium_profile, rig.root, symlinks=True)
    return rig


# --- fault injection ----------------------------------------------------------------------------------------------


@needs_chromium
def test_apply_killed_at_every_step_on_1x(tmp_path: Path, run_cli: RunCli, chromium_profile: Path) -> None:
    rig = v1_rig(tmp_path, chromium_profile)
    rig.save()
    profile = write_profile(tmp_path, P1)
    steps = drill(run_cli, rig, ["apply", str(profile), "--yes"], new_from("store written"), chromium=True)
    assert steps == APPLY_STEPS


@needs_chromium
def test_restore_killed_at_every_step_on_1x(tmp_path: Path, run_cli: RunCli, chromium_profile: Path) -> None:
    rig = v1_rig(tmp_path, chromium_profile)
    backup = apply_ok(run_cli, rig.data_dir, write_profile(tmp_path, P1))
    rig.save()
    steps = drill(run_cli, rig, ["restore", backup, "--whole", "--yes"], new_from("old directory moved aside"),
                  chromium=True)
    copied = steps[len(PRE_RESTORE_STEPS) : -len(V1_SWAP_STEPS) - 2]
    assert steps == [*PRE_RESTORE_STEPS, *copied, *V1_SWAP_STEPS, "restore checked", "record confirmed"]
    assert copied and all(s.startswith("copied ") for s in copied)
    assert "copied CURRENT" in copied and any(s.startswith("copied MANIFEST-") for s in copied)


def test_apply_killed_at_every_step_on_2x(tmp_path: Path, run_cli: RunCli) -> None:
    rig = Rig.make(tmp_path, "v2")
    rig.save()
    profile = write_profile(tmp_path, P1)
    steps = drill(run_cli, rig, ["apply", str(profile), "--yes"], new_from("store written"))
    assert steps == APPLY_STEPS


def test_restore_killed_at_every_step_on_2x(tmp_path: Path, run_cli: RunCli) -> None:
    rig = Rig.make(tmp_path, "v2")
    original = rig.dump()
    backup = apply_ok(run_cli, rig.data_dir, write_profile(tmp_path, P1))
    # The app leaves part of its state in the log: the restore must fold it in before the new file meets it.
    conn = v2db.connect(rig.install)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE user_provider SET name = 'Only in the log' WHERE provider_id = 'relay'")
    rig.save()  # with the log, not with the open connection's index (SQLite rebuilds that from the log)
    (rig.saved / "root" / "Data" / "cherrystudio.sqlite-shm").unlink()
    conn.close()
    assert (rig.saved / "root" / "Data" / "cherrystudio.sqlite-wal").stat().st_size > 0
    steps = drill(run_cli, rig, ["restore", backup, "--whole", "--yes"], new_from("new database in place"))
    assert steps == [*PRE_RESTORE_STEPS, *V2_SWAP_STEPS, "restore checked", "record confirmed"]
    assert rig.dump() == original  # the last, uninterrupted run: every row as before the apply


UNDO_STEPS = [*PRE_RESTORE_STEPS, "store written", "store checked", "record confirmed"]


@needs_chromium
def test_undo_killed_at_every_step_on_1x(tmp_path: Path, run_cli: RunCli, chromium_profile: Path) -> None:
    rig = v1_rig(tmp_path, chromium_profile)
    backup = apply_ok(run_cli, rig.data_dir, write_profile(tmp_path, P1))
    rig.save()
    steps = drill(run_cli, rig, ["restore", backup, "--yes"], new_from("store written"), chromium=True)
    assert steps == UNDO_STEPS


def test_undo_killed_at_every_step_on_2x(tmp_path: Path, run_cli: RunCli) -> None:
    rig = Rig.make(tmp_path, "v2")
    backup = apply_ok(run_cli, rig.data_dir, write_profile(tmp_path, P1))
    rig.save()
    steps = drill(run_cli, rig, ["restore", backup, "--yes"], new_from("store written"))
    assert steps == UNDO_STEPS


def test_an_apply_killed_before_its_write_undoes_to_nothing(tmp_path: Path, run_cli: RunCli) -> None:
    """Killed after its record, before its write: the record stays pending, and undoing it changes nothing."""
    install = v2db.build(tmp_path / "userdata")
    data_dir = ["--data-dir", str(install.data_dir)]
    profile = write_profile(tmp_path, P1)
    killed = run_cli(*data_dir, "apply", str(profile), "--yes",
                     env={"CHERRYCONF_KILL_AT": str(APPLY_STEPS.index("record written") + 1)})
    assert killed.code == KILLED
    listed = json.loads(run_cli(*data_dir, "backups", "--json").out)["backups"]
    assert listed[0]["changed"].endswith("(interrupted: may not have been written)")
    before = v2db.dump(install)
    undone = run_cli(*data_dir, "restore", "--yes")
    assert undone.code == 0 and "nothing to write" in undone.out, undone.err
    assert v2db.dump(install) == before


# A write that reaches the store and then fails, so that apply puts its backup back (and is killed doing so).
FAIL_AFTER_WRITE = """
import errno
from cherryconf.stores.{module} import {cls} as _Store
_write = _Store.write
def write(self, plan):
    _write(self, plan)
    raise OSError(errno.EIO, "Input/output error")
_Store.write = write
"""


@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_put_back_after_a_failed_write_killed_at_every_step(
    tmp_path: Path, run_cli: RunCli, kind: str, request: pytest.FixtureRequest
) -> None:
    rig = v1_rig(tmp_path, request.getfixturevalue("chromium_profile")) if kind == "v1" else Rig.make(tmp_path, kind)
    rig.save()
    profile = write_profile(tmp_path, P1)
    args = ["apply", str(profile), "--yes"]
    # The state the write reaches before it fails is the one an ordinary apply writes.
    rig.reset()
    assert run_cli("--data-dir", str(rig.data_dir), *args).code == 0
    _, written = observe(run_cli, rig)
    prelude = FAIL_AFTER_WRITE.format(module=kind, cls=f"{kind.upper()}Store")

    def runner(*cmd: str, env: Mapping[str, str]) -> CliResult:
        return run_py(prelude, *cmd, env=env)

    swapped = "old directory moved aside" if kind == "v1" else "new database in place"

    def expect(steps: list[str], i: int) -> str:
        return "new" if steps.index("record written") < i < steps.index(swapped) else "old"

    steps = drill(run_cli, rig, args, expect, runner=runner, new=written, final_code=1, chromium=kind == "v1")
    assert steps[:5] == APPLY_STEPS[:5]
    if kind == "v1":
        assert steps[-len(V1_SWAP_STEPS) :] == V1_SWAP_STEPS and all(s.startswith("copied ") for s in steps[5:-4])
    else:
        assert steps[5:] == V2_SWAP_STEPS
    rig.reset()
    failed = runner("--data-dir", str(rig.data_dir), *args, env={})
    assert "Input/output error" in one_line_error(failed, 1)


@needs_chromium
def test_app_started_while_a_swap_was_half_done(tmp_path: Path, run_cli: RunCli, chromium_profile: Path) -> None:
    """Killed with the store moved aside, then the app starts (making an empty store): the next run finishes the
    swap and keeps what the app made instead of deleting anything."""
    rig = v1_rig(tmp_path, chromium_profile)
    backup = apply_ok(run_cli, rig.data_dir, write_profile(tmp_path, P1))
    copied = list(Path(os.environ["CHERRYCONF_HOME"]).glob(f"backups/*/{backup}/files/*"))
    kill_at = len(PRE_RESTORE_STEPS) + len(copied) + 2  # "old directory moved aside"
    killed = run_cli(
        "--data-dir",
        str(rig.data_dir),
        "restore",
        backup,
        "--whole",
        "--yes",
        env={"CHERRYCONF_KILL_AT": str(kill_at), "CHERRYCONF_TRACE_STEPS": "1"},
    )
    assert killed.code == KILLED and killed.err.splitlines()[-1].endswith("old directory moved aside")
    assert read_local_storage(rig.root) == {}  # the app, finding no store, starts a fresh one
    repaired, state = observe(run_cli, rig)
    assert "finished an interrupted restore" in repaired.err and "cherryconf-displaced" in repaired.err
    assert state.logical == cherry_state()
    assert chromium_items(rig.root, state.logical) == cherry_state()
    assert (rig.data_dir / "Local Storage" / "leveldb.cherryconf-displaced").is_dir()


# --- round trip ---------------------------------------------------------------------------------------------------


@needs_chromium
def test_round_trip_on_1x_checked_by_chromium(tmp_path: Path, run_cli: RunCli, chromium_profile: Path) -> None:
    rig = v1_rig(tmp_path, chromium_profile)
    leveldb = rig.data_dir / "Local Storage" / "leveldb"
    original = plyvel_items(leveldb)
    assert original == cherry_state()
    first = apply_ok(run_cli, rig.data_dir, write_profile(tmp_path, P1))
    after_first = plyvel_items(leveldb)
    second = apply_ok(run_cli, rig.data_dir, write_profile(tmp_path, p2(), "p2.yaml"))
    assert plyvel_items(leveldb) not in (original, after_first)

    back = run_cli("--data-dir", str(rig.data_dir), "restore", "--yes")  # the newest: from before the 2nd apply
    assert back.code == 0, back.err
    assert f"restored {second}" in back.out
    assert plyvel_items(leveldb) == after_first
    back = run_cli("--data-dir", str(rig.data_dir), "restore", first, "--yes")
    assert back.code == 0, back.err
    assert plyvel_items(leveldb) == original
    assert read_local_storage(rig.root) == original  # every key and value, as the browser reads them


def test_round_trip_on_2x(tmp_path: Path, run_cli: RunCli) -> None:
    install = v2db.build(tmp_path / "userdata")
    original = v2db.dump(install)
    first = apply_ok(run_cli, install.data_dir, write_profile(tmp_path, P1))
    after_first = v2db.dump(install)
    second = apply_ok(run_cli, install.data_dir, write_profile(tmp_path, p2(), "p2.yaml"))
    assert v2db.dump(install) not in (original, after_first)

    back = run_cli("--data-dir", str(install.data_dir), "restore", "--whole", "--yes")
    assert back.code == 0 and f"restored {second}" in back.out, back.err
    assert v2db.dump(install) == after_first
    back = run_cli("--data-dir", str(install.data_dir), "restore", first, "--whole", "--yes")
    assert back.code == 0, back.err
    assert v2db.dump(install) == original  # every row of every table


# --- permissions, retention ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_backups_are_private_whatever_the_umask(tmp_path: Path, run_cli: RunCli, kind: str) -> None:
    data_dir = make_install(tmp_path, kind)
    profile = write_profile(tmp_path, P1)
    # umask 0: every mode checked below is one cherryconf set itself, not one the umask happened to give.
    loose = "import os\nos.umask(0)"
    assert run_py(loose, "--data-dir", str(data_dir), "apply", str(profile), "--yes").code == 0
    result = run_py(loose, "--data-dir", str(data_dir), "restore", "--whole", "--yes")
    assert result.code == 0, result.err
    root = Path(os.environ["CHERRYCONF_HOME"]) / "backups"
    dirs = [root, *root.rglob("*")]
    assert len([d for d in dirs if (d / "manifest.json").is_file()]) == 2  # apply, pre-restore
    for path in dirs:
        assert_private(path)
    store = data_dir / ("Local Storage/leveldb" if kind == "v1" else "Data")
    for path in store.iterdir():
        if path.is_file() and path.name != "LOCK":
            assert_private(path)  # restored files too: they hold the API keys


def test_retention_keeps_the_newest_per_install_and_never_the_one_just_made(tmp_path: Path, run_cli: RunCli) -> None:
    a, b = make_install(tmp_path, "v1", "a"), make_install(tmp_path, "v1", "b")
    profiles = [write_profile(tmp_path, p2(f"DeepSeek {n}"), f"p{n}.yaml") for n in range(7)]
    b_ids = [apply_ok(run_cli, b, profiles[n]) for n in range(2)]
    a_ids = [apply_ok(run_cli, a, profiles[n]) for n in range(4)]
    assert backup_ids(run_cli, a) == a_ids[::-1]

    newest = apply_ok(run_cli, a, profiles[4], "--keep", "2")
    assert backup_ids(run_cli, a) == [newest, a_ids[-1]]
    assert backup_ids(run_cli, b) == b_ids[::-1]  # another install's backups are not counted nor touched

    # A backup dated in the future (a clock set wrong) sorts as the newest: --keep 1 must still keep the new one.
    home = Path(os.environ["CHERRYCONF_HOME"]) / "backups"
    source = next(home.glob(f"*/{newest}"))
    future = "20991231T000000.000000Z-apply"
    shutil.copytree(source, source.with_name(future))
    manifest = json.loads((source.with_name(future) / "manifest.json").read_text())
    manifest["created_at"] = "2099-12-31T00:00:00Z"
    (source.with_name(future) / "manifest.json").write_text(json.dumps(manifest))
    made = apply_ok(run_cli, a, profiles[5], "--keep", "1")
    assert backup_ids(run_cli, a) == [future, made]

    # Restoring with --keep 1 keeps the backup it restores (pruning it would pull the files from under the swap).
    before_made = plyvel_items(Path(source.with_name(made) / "files"))
    result = run_cli("--data-dir", str(a), "restore", made, "--whole", "--keep", "1", "--yes")
    assert result.code == 0, result.err
    ids = backup_ids(run_cli, a)
    assert ids[0] == future and made in ids and len(ids) == 3 and "pre-restore" in ids[1]
    assert plyvel_items(a / "Local Storage" / "leveldb") == before_made
    assert backup_ids(run_cli, b) == b_ids[::-1]


# --- damaged backups, other installs, previews --------------------------------------------------------------------


def _flip_a_byte(files: Path) -> None:
    victim = max((p for p in files.iterdir() if p.is_file()), key=lambda p: p.stat().st_size)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "flipped byte": lambda b: _flip_a_byte(b / "files"),
    "missing file": lambda b: (b / "files" / "CURRENT").unlink(),
    "extra file": lambda b: (b / "files" / "000099.log").write_bytes(b"extra"),
    "missing manifest": lambda b: (b / "manifest.json").unlink(),
    "garbled manifest": lambda b: (b / "manifest.json").write_text('{"format": 1, "files": [', encoding="utf-8"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_backup_is_refused_and_the_store_left_alone(tmp_path: Path, run_cli: RunCli, damage: str) -> None:
    data_dir = make_install(tmp_path, "v1")
    backup = apply_ok(run_cli, data_dir, write_profile(tmp_path, P1))
    backup_dir = next(Path(os.environ["CHERRYCONF_HOME"]).glob(f"backups/*/{backup}"))
    DAMAGE[damage](backup_dir)
    leveldb = data_dir / "Local Storage" / "leveldb"
    before = file_bytes(leveldb)
    backups_before = sorted(p.name for p in backup_dir.parent.iterdir())

    for args in (["restore", backup, "--yes"], ["restore", backup, "--dry-run"], ["restore", "--yes"]):
        message = one_line_error(run_cli("--data-dir", str(data_dir), *args), 4)
        assert f"{backup} is damaged" in message or f"{backup}, is damaged" in message, message
    assert file_bytes(leveldb) == before
    assert sorted(p.name for p in backup_dir.parent.iterdir()) == backups_before  # no pre-restore backup either


def test_a_damaged_1x_store_is_what_restore_repairs(tmp_path: Path, run_cli: RunCli) -> None:
    data_dir = make_install(tmp_path, "v1")
    apply_ok(run_cli, data_dir, write_profile(tmp_path, P1))
    leveldb = data_dir / "Local Storage" / "leveldb"
    (leveldb / "CURRENT").unlink()  # unreadable, and not even lockable as a LevelDB
    damaged = file_bytes(leveldb)
    message = one_line_error(run_cli("--data-dir", str(data_dir), "restore", "--yes"), 4)
    assert "cannot be read, so nothing can be undone change by change" in message and "--whole" in message
    result = run_cli("--data-dir", str(data_dir), "restore", "--whole", "--yes")
    assert result.code == 0, result.err
    assert "the current store cannot be read" in result.out
    assert plyvel_items(leveldb) == cherry_state()
    pre = json.loads(run_cli("--data-dir", str(data_dir), "backups", "--json").out)["backups"][0]
    assert pre["reason"] == "pre-restore" and pre["providers"] == 0  # the damaged files are kept, as they were
    assert file_bytes(Path(pre["path"]) / "files") == {k: v for k, v in damaged.items() if k != "LOCK"}


def test_a_damaged_2x_backup_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    install = v2db.build(tmp_path / "userdata")
    backup = apply_ok(run_cli, install.data_dir, write_profile(tmp_path, P1))
    _flip_a_byte(next(Path(os.environ["CHERRYCONF_HOME"]).glob(f"backups/*/{backup}/files")))
    before = v2db.dump(install)
    message = one_line_error(run_cli("--data-dir", str(install.data_dir), "restore", backup, "--yes"), 4)
    assert "cherrystudio.sqlite does not match its checksum" in message
    assert v2db.dump(install) == before


def test_backups_of_another_install_or_store_kind(tmp_path: Path, run_cli: RunCli) -> None:
    a = make_install(tmp_path, "v1", "a")
    b = make_userdata(tmp_path / "b", {**cherry_state(), "i18nextLng": "en"})
    c = make_install(tmp_path, "v2", "c")
    from_a = apply_ok(run_cli, a, write_profile(tmp_path, p2()))
    from_c = apply_ok(run_cli, c, write_profile(tmp_path, P1, "p1.yaml"))
    leveldb_b = b / "Local Storage" / "leveldb"
    untouched = file_bytes(leveldb_b)

    message = one_line_error(run_cli("--data-dir", str(b), "restore", from_a, "--yes"), 2)
    assert f"was taken from {a}, not from {b}" in message and "--force" in message
    assert file_bytes(leveldb_b) == untouched

    message = one_line_error(run_cli("--data-dir", str(b), "restore", from_c, "--yes", "--force"), 2)
    assert "holds a v2 store" in message and "has a v1 store" in message and "not even with --force" in message
    message = one_line_error(run_cli("--data-dir", str(c), "restore", from_a, "--yes", "--force"), 2)
    assert "holds a v1 store" in message and "has a v2 store" in message
    assert file_bytes(leveldb_b) == untouched

    refused = run_cli("--data-dir", str(b), "restore", from_a, "--yes", "--force")
    assert refused.code == 2 and "--whole" in refused.err  # a's record says nothing about b
    forced = run_cli("--data-dir", str(b), "restore", from_a, "--whole", "--yes", "--force")
    assert forced.code == 0, forced.err
    assert f"warning: backup {from_a} was taken from {a}" in forced.err
    assert plyvel_items(leveldb_b) == cherry_state()  # a's state before its apply


def test_dry_run_shows_provider_changes_with_keys_masked_and_writes_nothing(tmp_path: Path, run_cli: RunCli) -> None:
    data_dir = make_install(tmp_path, "v1")
    backup = apply_ok(run_cli, data_dir, write_profile(tmp_path, p2()))
    leveldb = data_dir / "Local Storage" / "leveldb"
    before = file_bytes(leveldb)
    home = Path(os.environ["CHERRYCONF_HOME"])
    backups_before = sorted(p.name for p in home.glob("backups/*/*"))

    text = run_cli("--data-dir", str(data_dir), "restore", "--dry-run")
    assert text.code == 0, text.err
    assert f"restoring {backup} would change:" in text.out and "(dry run: nothing written)" in text.out
    assert "- gw2 (Second): provider will be deleted" in text.out
    assert "~ deepseek (深度求索): update" in text.out
    assert 'name: "DeepSeek Renamed" -> "深度求索"' in text.out
    assert "apiKey: sk-de…9999 -> sk-de…0000" in text.out

    js = run_cli("--data-dir", str(data_dir), "restore", "--dry-run", "--json")
    assert js.code == 0, js.err
    doc = json.loads(js.out)
    assert doc["dry_run"] is True and doc["backup"] == backup and doc["pre_restore_backup"] is None
    changes = {c["id"]: c for c in doc["changes"]}
    assert changes["gw2"]["action"] == "remove"
    assert changes["deepseek"]["fields"] == {
        "name": {"before": "DeepSeek Renamed", "after": "深度求索"},
        "apiKey": {"before": "sk-de…9999", "after": "sk-de…0000"},
    }
    for output in (text.out + text.err, js.out + js.err):
        assert not [k for k in KEYS if k in output]
    assert file_bytes(leveldb) == before
    assert sorted(p.name for p in home.glob("backups/*/*")) == backups_before


def test_backups_lists_id_time_install_reason_size_and_providers(tmp_path: Path, run_cli: RunCli) -> None:
    a, c = make_install(tmp_path, "v1", "a"), make_install(tmp_path, "v2", "c")
    from_a = apply_ok(run_cli, a, write_profile(tmp_path, P1))
    from_c = apply_ok(run_cli, c, write_profile(tmp_path, P1, "p1.yaml"))

    listed = run_cli("backups", "--json")
    assert listed.code == 0, listed.err
    doc = json.loads(listed.out)
    assert [b["id"] for b in doc["backups"]] == [from_c, from_a]
    by_id = {b["id"]: b for b in doc["backups"]}
    for backup_id, data_dir, kind, providers in ((from_a, a, "v1", 3), (from_c, c, "v2", 8)):
        item = by_id[backup_id]
        files = Path(item["path"]) / "files"
        assert item["install"] == str(data_dir) and item["store"] == kind and item["reason"] == "apply"
        assert item["providers"] == providers  # what the store held when it was taken
        assert item["size"] == sum(p.stat().st_size for p in files.rglob("*") if p.is_file())
        assert datetime.fromisoformat(item["time"]).tzinfo is not None

    text = run_cli("backups")
    assert text.code == 0, text.err
    header, *rows = text.out.splitlines()
    assert header.split() == ["ID", "TIME", "INSTALL", "REASON", "SIZE", "PROVIDERS", "CHANGED", "AFTER"]
    row = next(r for r in rows if r.startswith(from_a))
    assert str(a) in row and " apply " in row and re.search(r"\d\.\d kB", row)
    assert re.search(r" 3 +apply: \+gw, default model$", row)  # providers, then what the apply changed
    assert backup_ids(run_cli, a) == [from_a]  # --data-dir: that install's only


# --- a write that fails: full disk, permission denied --------------------------------------------------------------

# Takes every free byte of the store's filesystem at one step, as a disk that fills up while cherryconf runs.
FILL_AT = """
import errno, os
from cherryconf import faults
_step = faults.step
def step(name):
    _step(name)
    if name == os.environ["TEST_FILL_AT"]:
        with open(os.environ["TEST_FILLER"], "wb", buffering=0) as f:
            for size in (1 << 16, 4096, 512, 1):
                try:
                    while True:
                        f.write(b"\\0" * size)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
faults.step = step
"""

# Without root (no tmpfs to fill): the store's files fail to open or to take bytes once the backup is done.
FAIL_STORE_IO = """
import errno, os
from cherryconf import faults
_step, _open, _write, _armed, _fds = faults.step, os.open, os.write, [], set()
def step(name):
    _step(name)
    if name == "backup done":
        _armed.append(True)
def store_path(path):
    return _armed and "Local Storage" in os.fspath(path)
def open_(path, flags, mode=0o777, *, dir_fd=None):
    if store_path(path) and os.environ["TEST_FAIL"] == "EACCES":
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
    fd = _open(path, flags, mode, dir_fd=dir_fd)
    if store_path(path):
        _fds.add(fd)
    return fd
def write(fd, data):
    if fd in _fds and os.environ["TEST_FAIL"] == "ENOSPC":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return _write(fd, data)
faults.step, os.open, os.write = step, open_, write
"""


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs for the store (the backups stay outside); skipped where mounting is not allowed."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "cherryconf-test", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _v1_snapshot(data_dir: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    leveldb = data_dir / "Local Storage" / "leveldb"
    return file_bytes(leveldb), plyvel_items(leveldb)


def _v2_snapshot(data_dir: Path) -> dict[str, list[dict[str, Any]]]:
    return v2db.dump(Install(data_dir, "v2", None, "test"))


@pytest.mark.parametrize(("kind", "command"), [("v1", "apply"), ("v2", "apply"), ("v1", "restore"), ("v2", "restore")])
def test_a_full_disk_fails_with_one_sentence_and_leaves_the_store(
    tmp_path: Path, run_cli: RunCli, tiny_fs: Path, kind: str, command: str
) -> None:
    data_dir = make_install(tiny_fs, kind)
    profile = write_profile(tmp_path, P1)
    if command == "restore":
        args, fill_at = ["restore", apply_ok(run_cli, data_dir, profile), "--yes"], "pre-restore backup done"
    else:
        args, fill_at = ["apply", str(profile), "--yes"], "backup done"
    snapshot = _v1_snapshot if kind == "v1" else _v2_snapshot
    before = snapshot(data_dir)
    filler = tiny_fs / "filler"
    env = {"TEST_FILL_AT": fill_at, "TEST_FILLER": str(filler)}

    result = run_py(FILL_AT, "--data-dir", str(data_dir), *args, env=env)
    assert filler.stat().st_size > 0  # the disk really was full
    if kind == "v2":
        # SQLite's own words for it (its log index cannot grow), from a transaction it rolled back (a restore
        # undoes the apply with a write like it).
        message = one_line_error(result, 4)
        assert re.search(r"failed \((disk I/O error|database or disk is full)\); nothing was changed", message)
    else:
        assert "No space left on device" in one_line_error(result, 1)
    filler.unlink()  # SQLite needs room for its log index even to read
    assert snapshot(data_dir) == before  # 1.x: every file byte for byte, and every item
    assert not [p for p in data_dir.rglob("*") if ".cherryconf-" in p.name]
    home = Path(os.environ["CHERRYCONF_HOME"])
    assert not [p for p in home.rglob("*") if p.name.endswith((".partial", ".tmp"))]

    # With room again, the same command goes through.
    again = run_cli("--data-dir", str(data_dir), *args)
    assert again.code == 0, again.err
    assert again.err == ""


@pytest.mark.parametrize("failure", ["ENOSPC", "EACCES"])
def test_a_failing_write_is_one_sentence_and_changes_nothing(tmp_path: Path, run_cli: RunCli, failure: str) -> None:
    data_dir = make_install(tmp_path, "v1")
    before = _v1_snapshot(data_dir)
    profile = write_profile(tmp_path, P1)
    result = run_py(
        FAIL_STORE_IO, "--data-dir", str(data_dir), "apply", str(profile), "--yes", env={"TEST_FAIL": failure}
    )
    message = one_line_error(result, 1)
    assert ("No space left on device" if failure == "ENOSPC" else "Permission denied") in message
    assert _v1_snapshot(data_dir) == before
    assert not [p for p in data_dir.rglob("*") if ".cherryconf-" in p.name]
    assert len(backup_ids(run_cli, data_dir)) == 1  # the backup taken before the write stays
