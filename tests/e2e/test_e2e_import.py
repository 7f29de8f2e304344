"""import from a 1.x store real Chromium wrote (and still holds open), applied to a 2.x install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from testing import v2db
from testing.chromium_harness import chromium_available, profile_leveldb, running_chromium, write_local_storage
from testing.cli import fingerprint
from testing.v1state import cherry_state

from cherryconf.stores import open_store
from cherryconf.stores.install import inspect

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(not chromium_available(), reason="needs Debian's chromium (scripts/test installs it)"),
]

MINE = "8c2a0e5e-4d7b-4f3c-9a1e-5b6c7d8e9f00"


def test_a_store_chromium_wrote_is_imported_even_while_chromium_holds_it(tmp_path: Path, run_cli: Any) -> None:
    profile = tmp_path / "chromium"
    write_local_storage(profile, cherry_state())
    source = profile / "Default"
    store_before = fingerprint(profile_leveldb(profile))
    out = tmp_path / "p.yaml"
    result = run_cli("import", "--from-data-dir", str(source), "--with-keys", "-o", str(out))
    assert result.code == 0, result.err
    assert fingerprint(profile_leveldb(profile)) == store_before
    document = yaml.safe_load(out.read_text("utf-8"))
    assert {p["id"] for p in document["providers"]} == {"deepseek", MINE}

    # The app running on it holds the LevelDB lock: a read from a copy neither needs nor takes it.
    with running_chromium(profile):
        held = run_cli("import", "--from-data-dir", str(source))
    assert held.code == 0, held.err
    assert {p["id"] for p in yaml.safe_load(held.out)["providers"]} == {"deepseek", MINE}

    target = v2db.build(tmp_path / "v2", migrated_provider=False)
    applied = run_cli("--data-dir", str(target.data_dir), "apply", str(out), "--yes")
    assert applied.code == 0, applied.err
    got = {p["id"]: p for p in open_store(inspect(target.data_dir, "test")).read().providers}
    assert got[MINE]["apiHost"] == "https://gw.example.cn" and got[MINE]["name"] == "我的网关 🚀"
    assert sorted(got[MINE]["apiKey"].split(",")) == ["sk-mine-1111111111111111", "sk-mine-2222222222222222"]
    assert [m["id"] for m in got[MINE]["models"]] == ["qwen3:32b"]
    assert got["deepseek"]["apiKey"] == "sk-deepseek-000000000000"
