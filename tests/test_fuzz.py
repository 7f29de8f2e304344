"""Fuzzing in the suite (issue 13), bounded so CI stays fast: damaged stores built by the tests' Chromium, damaged
2.x databases and damaged profiles, through cherryconf's real entry point.

The promise checked on every example (tests/testing/store_fuzz.py says how each is judged): a refusal with exit 2 or 4
and one line, or a read equal to plyvel's with paranoid checks; never exit 1, a traceback or a hang; after `apply`,
plyvel still reads the store and every key and slice but the provider applied is byte for byte as before (2.x:
SQLite's integrity check passes and every other row is as before). Chromium reads back one store written after
damage. The long campaign, scripts/fuzz_campaign.py, runs the same judges thousands of times, plus concurrent and
killed applies.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testing import store_fuzz as fz
from testing import v2db
from testing.chromium_harness import chromium_available, compact_history, read_local_storage, write_local_storage
from testing.plyvel_view import plyvel_items
from testing.v1state import PERSIST_KEY, cherry_state


def fuzz(examples: int) -> settings:
    # Derandomized: CI runs the same examples every time, and a failure names the draws that made it.
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class DataChooser:
    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def below(self, n: int) -> int:
        return self.data.draw(st.integers(0, n - 1)) if n > 1 else 0


@pytest.fixture(scope="module")
def chromium_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Chromium profile whose older states Chromium compacted into `.ldb` tables, with a newer one in the log."""
    if not chromium_available():
        pytest.skip("needs Debian's chromium (scripts/test installs it)")
    profile = tmp_path_factory.mktemp("fuzz") / "chromium"
    versions = [cherry_state(padding=70_000 + n * 1000, extra_providers=3) for n in range(2)]
    compact_history(profile, PERSIST_KEY, [v[PERSIST_KEY] for v in versions])
    write_local_storage(profile, cherry_state(padding=500, extra_providers=3))
    assert list((profile / "Default" / "Local Storage" / "leveldb").glob("*.ldb"))
    return profile


@pytest.fixture(scope="module")
def v2_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ud = tmp_path_factory.mktemp("fuzz-v2") / "ud"
    v2db.build(ud)
    return ud


def profile_file(directory: Path, text: str = fz.FUZZ_PROFILE) -> Path:
    path = directory / "profile.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


@pytest.mark.chromium
@fuzz(300)
@given(data=st.data())
def test_damaged_1x_stores(chromium_store: Path, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        case = Path(tmp)
        ud = case / "ud"
        shutil.copytree(chromium_store / "Default" / "Local Storage" / "leveldb", ud / "Local Storage" / "leveldb")
        damage, detail = fz.mutate_v1(ud / "Local Storage" / "leveldb", DataChooser(data))
        outcome, problem = fz.judge_v1(ud, profile_file(case))
        assert problem is None, f"{damage} ({detail}) -> {outcome}: {problem}"


@pytest.mark.chromium
def test_chromium_reads_what_apply_wrote_after_a_crafted_batch(chromium_store: Path, tmp_path: Path) -> None:
    """A well-formed batch another writer appended (an empty one, then a new key): apply writes, Chromium reads."""
    shutil.copytree(chromium_store, tmp_path / "chromium", symlinks=True)
    ud = tmp_path / "chromium" / "Default"
    leveldb = ud / "Local Storage" / "leveldb"
    fz.append_batch_record(leveldb, [])
    fz.append_batch_record(leveldb, [(1, b"_file://\x00\x01crafted", b"\x00" + "值".encode("utf-16-le"))])
    assert plyvel_items(leveldb)["crafted"] == "值"
    outcome, problem = fz.judge_v1(ud, profile_file(tmp_path))
    assert (outcome, problem) == ("read; applied", None)
    seen = read_local_storage(tmp_path / "chromium")
    assert seen == plyvel_items(leveldb) and seen["crafted"] == "值"


@fuzz(200)
@given(data=st.data())
def test_damaged_2x_stores(v2_store: Path, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        case = Path(tmp)
        ud = case / "ud"
        shutil.copytree(v2_store, ud)
        damage, detail = fz.mutate_v2(ud, DataChooser(data))
        outcome, problem = fz.judge_v2(ud, profile_file(case))
        assert problem is None, f"{damage} ({detail}) -> {outcome}: {problem}"


@fuzz(250)
@given(data=st.data())
def test_damaged_profiles(v2_store: Path, data: st.DataObject) -> None:
    kind, text = fz.mutate_profile(DataChooser(data))
    with tempfile.TemporaryDirectory() as tmp:
        path = profile_file(Path(tmp), text)
        code, _, err = fz.run_main("--data-dir", str(v2_store), "apply", str(path), "--dry-run")
    problem = fz.message_problem(code, err, (2,) if kind in fz.MUST_REFUSE else (0, 2))
    assert problem is None, f"{kind} {text[:300]!r}: {problem}"
