"""Several cherryconf runs on one install (issue 13): they take turns, and a failed run never undoes another's write.

Each run that writes holds a lock of cherryconf's own per install (cherryconf/stores/runlock.py) from planning to
read-back; the other waits for it, then plans on what it finds. These tests run real processes, since the locks
are per process: pairs of applies started together, a run that finds the lock held, a run whose write fails after
another's write landed, and a write that does not read back as written (it is undone from the backup).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from testing import store_fuzz as fz
from testing import v2db
from testing.cli import PACKAGE_ROOT, RunCli
from testing.plyvel_view import plyvel_view
from testing.runs import P1, make_install, one_line_error, run_py, write_profile

from cherryconf.stores.install import Install

CHILD_ENV_PATH = os.pathsep.join(p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")) if p)


def profile_for(directory: Path, provider_id: str) -> Path:
    # Two gateways of their own (another host each): the same gateway under two ids would be one provider (twins).
    text = fz.FUZZ_PROFILE.replace("fuzz-gw", provider_id).replace("fuzz.example", f"{provider_id}.example")
    return write_profile(directory, text, f"{provider_id}.yaml")


def spawn(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    child_env = {**os.environ, "PYTHONPATH": CHILD_ENV_PATH, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "cherryconf", "--data-dir", str(data_dir), *args], env=child_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def provider_ids(run_cli: RunCli, data_dir: Path) -> list[str]:
    result = run_cli("--data-dir", str(data_dir), "providers", "--json")
    assert result.code == 0, result.err
    return [p["id"] for p in json.loads(result.out)["providers"]]


def state(kind: str, data_dir: Path) -> Any:
    """Everything the store holds: every LevelDB entry (1.x), every row (2.x)."""
    if kind == "v1":
        return plyvel_view(data_dir / "Local Storage" / "leveldb")
    return v2db.dump(Install(data_dir, "v2", None, "test"))


@contextmanager
def holding(data_dir: Path, *, leveldb: bool) -> Iterator[int]:
    """Another process holding the install's lock (and, on 1.x, LevelDB's LOCK, as a writing cherryconf does)."""
    code = (
        "import sys\nfrom pathlib import Path\nfrom contextlib import ExitStack\n"
        "from cherryconf.stores import runlock\nfrom cherryconf.stores.install import inspect\n"
        "from cherryconf.paths import Context\nfrom cherryconf.stores.v1 import leveldb\n"
        f"inst = inspect(Path({str(data_dir)!r}), 'test')\n"
        "with ExitStack() as held:\n"
        "    held.enter_context(runlock.hold(Context.from_os(), inst))\n"
        f"    if {leveldb}:\n"
        "        held.enter_context(leveldb.locked(inst.leveldb_dir))\n"
        "    print('ready', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": CHILD_ENV_PATH})
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline() == "ready\n"
        yield proc.pid
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_applies_started_together_both_land(tmp_path: Path, run_cli: RunCli, kind: str) -> None:
    for round_ in range(4):
        data_dir = make_install(tmp_path / f"round{round_}", kind)
        profiles = [profile_for(tmp_path, f"pair-{side}") for side in "ab"]
        procs = [spawn(data_dir, "apply", str(p), "--yes") for p in profiles]
        results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
        assert [code for code, _, _ in results] == [0, 0], results
        assert {"pair-a", "pair-b"} <= set(provider_ids(run_cli, data_dir))


@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_a_run_that_finds_another_writing_waits_then_says_so(tmp_path: Path, run_cli: RunCli, kind: str) -> None:
    data_dir = make_install(tmp_path, kind)
    profile = write_profile(tmp_path, P1)
    before = state(kind, data_dir)
    with holding(data_dir, leveldb=kind == "v1") as pid:
        result = run_cli("--data-dir", str(data_dir), "apply", str(profile), "--yes",
                         env={"CHERRYCONF_LOCK_WAIT": "0.5"})
        # Not "Cherry Studio is running", though LevelDB's LOCK is held too: it is held by a cherryconf.
        message = one_line_error(result, 3)
        assert f"another cherryconf (process {pid}) is writing to {data_dir}" in message
        assert state(kind, data_dir) == before
        assert run_cli("--data-dir", str(data_dir), "apply", str(profile), "--dry-run").code == 0  # reads still work
    result = run_cli("--data-dir", str(data_dir), "apply", str(profile), "--yes")
    assert result.code == 0, result.err


def test_a_bad_lock_wait_is_bad_input(tmp_path: Path, run_cli: RunCli) -> None:
    data_dir = make_install(tmp_path, "v2")
    result = run_cli("--data-dir", str(data_dir), "apply", str(write_profile(tmp_path, P1)), "--yes",
                     env={"CHERRYCONF_LOCK_WAIT": "soon"})
    assert "CHERRYCONF_LOCK_WAIT must be a number of seconds" in one_line_error(result, 2)


def test_a_run_in_progress_is_not_taken_for_an_interrupted_one(tmp_path: Path, run_cli: RunCli) -> None:
    """What a restore in progress has made (its new directory) is left alone while that run holds the lock."""
    data_dir = make_install(tmp_path, "v1")
    in_progress = data_dir / "Local Storage" / "leveldb.cherryconf-new"
    in_progress.mkdir()
    with holding(data_dir, leveldb=False):
        result = run_cli("--data-dir", str(data_dir), "providers")
        assert result.code == 0, result.err
        assert in_progress.is_dir() and "interrupted" not in result.err
    result = run_cli("--data-dir", str(data_dir), "providers")
    assert "undid an interrupted restore" in result.err and not in_progress.exists()


# Another write lands while this run writes (under its lock, only a program other than cherryconf could do that),
# and this run's own write then fails the way a store reports its own failure: nothing of this run's reached the
# store, so its backup must not be put back over the other write.
OTHER_WRITE_THEN_FAIL = {
    "v1": """
from cherryconf.errors import StoreError
from cherryconf.stores.v1 import localstorage
from cherryconf.stores.v1 import V1Store
def write(self, plan):
    localstorage.write_items(self.root, {"written-by-another": "yes"})
    raise StoreError("the store changed while cherryconf was planning; run the command again")
V1Store.write = write
""",
    "v2": """
import sqlite3
from cherryconf.errors import StoreError
from cherryconf.stores.v2 import V2Store
def write(self, plan):
    conn = sqlite3.connect(self._db, isolation_level=None)
    conn.execute("UPDATE user_provider SET name = 'written by another' WHERE provider_id = 'relay'")
    conn.close()
    raise StoreError("the store changed while cherryconf was planning; run the command again")
V2Store.write = write
""",
}


@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_a_failed_write_never_puts_its_backup_over_another_write(tmp_path: Path, run_cli: RunCli, kind: str) -> None:
    data_dir = make_install(tmp_path, kind)
    result = run_py(OTHER_WRITE_THEN_FAIL[kind], "--data-dir", str(data_dir), "apply",
                    str(write_profile(tmp_path, P1)), "--yes")
    assert "the store changed while cherryconf was planning" in one_line_error(result, 4)
    if kind == "v1":
        assert plyvel_view(data_dir / "Local Storage" / "leveldb")[b"_file://\x00\x01written-by-another"] == b"\x01yes"
    else:
        rows = state(kind, data_dir)["user_provider"]
        assert next(r for r in rows if r["provider_id"] == "relay")["name"] == "written by another"


# The write lands, and then the store does not read back as written: another key changed (1.x), another table
# (2.x). The read-back covers every key and table, and the write is undone from the backup.
READ_BACK_DIFFERS = {
    "v1": """
from cherryconf.stores.v1 import leveldb, localstorage
_append = leveldb.append_batch
def append_batch(path, puts, deletes=()):
    _append(path, puts, deletes)
    _append(path, {b"_file://\\x00\\x01i18nextLng": b"\\x01garbled"})
localstorage.append_batch = append_batch
""",
    "v2": """
import sqlite3
from cherryconf.stores import v2
_check = v2._ReadBack.check
def check(self, conn, db):
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("UPDATE assistant SET name = 'garbled'")
    other.close()
    _check(self, conn, db)
v2._ReadBack.check = check
""",
}


@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_a_write_that_reads_back_differently_is_undone(tmp_path: Path, run_cli: RunCli, kind: str) -> None:
    data_dir = make_install(tmp_path, kind)
    before = state(kind, data_dir)
    result = run_py(READ_BACK_DIFFERS[kind], "--data-dir", str(data_dir), "apply", str(write_profile(tmp_path, P1)),
                    "--yes")
    message = one_line_error(result, 4)
    assert "does not read back as written" in message
    assert ("'i18nextLng' of origin file://" if kind == "v1" else "its table assistant") in message
    assert state(kind, data_dir) == before
