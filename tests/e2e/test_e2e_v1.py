"""End to end on the 1.x store: real Chromium writes the state, the real CLI changes it, real Chromium reads it.

The Chromium profile's `Default` directory has the layout of a Cherry Studio userData directory
(`Local Storage/leveldb`, origin file://), so the CLI runs with `--data-dir <profile>/Default` on exactly the
files Chromium wrote and reads again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from testing.chromium_harness import (
    chromium_available,
    compact_history,
    profile_leveldb,
    read_local_storage,
    running_chromium,
    write_local_storage,
)
from testing.v1state import PERSIST_KEY, cherry_state, read_llm

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(not chromium_available(), reason="needs Debian's chromium (scripts/test installs it)"),
]

KEY = "sk-gateway-0123456789abcdef"
PROFILE = """\
version: 1
providers:
  - id: apiyi
    name: API易 🚀
    apiHost: https://vip.apiyi.com/v1/chat/completions
    apiKey: ${APIYI_API_KEY}
    models:
      - gpt-4.1
      - id: claude-sonnet-4-20250514
        name: Claude Sonnet 4
        capabilities: [vision, function_calling]
defaultModel: apiyi/gpt-4.1
"""
EXPECTED_PROVIDER = {
    "id": "apiyi",
    "name": "API易 🚀",
    "type": "openai",
    "apiKey": KEY,
    "apiHost": "https://vip.apiyi.com",
    "models": [
        {"id": "gpt-4.1", "provider": "apiyi", "name": "gpt-4.1", "group": "gpt-4.1", "supported_text_delta": True},
        {
            "id": "claude-sonnet-4-20250514",
            "provider": "apiyi",
            "name": "Claude Sonnet 4",
            "group": "claude-sonnet",
            "supported_text_delta": True,
            "capabilities": [
                {"type": "vision", "isUserSelected": True},
                {"type": "function_calling", "isUserSelected": True},
            ],
        },
    ],
    "enabled": True,
    "isSystem": False,
}


def slices(items: dict[str, str]) -> dict[str, str]:
    result: dict[str, str] = json.loads(items[PERSIST_KEY])
    return result


def assert_only_llm_changed(before: dict[str, str], after: dict[str, str]) -> None:
    """Every other key byte for byte, every other slice string byte for byte, `_persist` untouched."""
    assert set(after) == set(before)
    assert {k: v for k, v in after.items() if k != PERSIST_KEY} == {k: v for k, v in before.items() if k != PERSIST_KEY}
    old, new = slices(before), slices(after)
    assert list(new) == list(old)  # slice order too
    assert {k: v for k, v in new.items() if k != "llm"} == {k: v for k, v in old.items() if k != "llm"}


def apply(run_cli: Any, tmp_path: Path, profile_dir: Path, text: str = PROFILE) -> Any:
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    return run_cli("--data-dir", str(profile_dir / "Default"), "apply", str(path), "--yes", env={"APIYI_API_KEY": KEY})


def test_small_state(tmp_path: Path, run_cli: Any) -> None:
    profile = tmp_path / "chromium"
    state = cherry_state()
    write_local_storage(profile, state)
    seen_before = read_local_storage(profile)
    assert seen_before == state

    result = apply(run_cli, tmp_path, profile)
    assert result.code == 0, result.err
    assert "backup:" in result.out and KEY not in result.out + result.err

    after = read_local_storage(profile)
    assert_only_llm_changed(seen_before, after)
    llm_before, llm_after = read_llm(seen_before), read_llm(after)
    assert llm_after["providers"][0] == EXPECTED_PROVIDER
    assert llm_after["providers"][1:] == llm_before["providers"]
    assert llm_after["defaultModel"] == EXPECTED_PROVIDER["models"][0]
    assert {k: v for k, v in llm_after.items() if k not in ("providers", "defaultModel")} == {
        k: v for k, v in llm_before.items() if k not in ("providers", "defaultModel")
    }

    # Applying again changes nothing and writes nothing.
    files = {p.name: p.read_bytes() for p in profile_leveldb(profile).iterdir() if p.is_file()}
    again = apply(run_cli, tmp_path, profile)
    assert again.code == 0 and "no changes" in again.out
    assert {p.name: p.read_bytes() for p in profile_leveldb(profile).iterdir() if p.is_file()} == files


@pytest.fixture(scope="module")
def big_profile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A Chromium profile holding an ~8 MB state whose older versions Chromium compacted into .ldb tables."""
    root = tmp_path_factory.mktemp("big")
    profile = root / "chromium"
    # 3.9 M UTF-16 code units = 7.8 MB on disk; Chromium's quota is 10 MiB per origin, 2 bytes per code unit.
    versions = [cherry_state(padding=3_900_000 - n * 1000, extra_providers=40) for n in range(3)]
    compact_history(profile, PERSIST_KEY, [v[PERSIST_KEY] for v in versions])
    final = versions[-1]
    write_local_storage(profile, {k: v for k, v in final.items() if k != PERSIST_KEY})
    # Each older version sits in its own table (snappy shrinks the repetitive padding, so count, not size).
    assert len(list(profile_leveldb(profile).glob("*.ldb"))) >= 2
    return profile, read_local_storage(profile)


def test_eight_megabyte_state_with_compacted_tables_and_a_second_apply(
    tmp_path: Path, run_cli: Any, big_profile: tuple[Path, dict[str, str]]
) -> None:
    source, before = big_profile
    profile = tmp_path / "chromium"
    shutil.copytree(source, profile, symlinks=True)
    assert len(before[PERSIST_KEY]) > 3_900_000

    first = apply(run_cli, tmp_path, profile)
    assert first.code == 0, first.err
    after_first = read_local_storage(profile)  # Chromium reopens the store (and may compact it)
    assert_only_llm_changed(before, after_first)
    assert read_llm(after_first)["providers"][0] == EXPECTED_PROVIDER

    second_profile = PROFILE.replace("- gpt-4.1\n", "- gpt-4.1\n      - deepseek-r1\n").replace(
        "https://vip.apiyi.com/v1/chat/completions", "https://api.apiyi.com/"
    )
    second = apply(run_cli, tmp_path, profile, second_profile)
    assert second.code == 0, second.err
    assert "apiHost" in second.out
    after_second = read_local_storage(profile)
    assert_only_llm_changed(after_first, after_second)
    provider = read_llm(after_second)["providers"][0]
    assert provider["apiHost"] == "https://api.apiyi.com"
    assert [m["id"] for m in provider["models"]] == ["gpt-4.1", "claude-sonnet-4-20250514", "deepseek-r1"]
    assert read_llm(after_second)["providers"][1:] == read_llm(before)["providers"]


def test_refused_while_chromium_runs(tmp_path: Path, run_cli: Any) -> None:
    profile = tmp_path / "chromium"
    write_local_storage(profile, cherry_state())
    def store_files() -> dict[str, bytes]:
        # LevelDB's text LOG is Chromium's own diary, written while it runs; the data files are what matter.
        return {p.name: p.read_bytes() for p in profile_leveldb(profile).iterdir()
                if p.is_file() and not p.name.startswith("LOG")}

    with running_chromium(profile):
        files = store_files()
        result = apply(run_cli, tmp_path, profile)
        assert result.code == 3, result.err
        assert result.err.count("\n") == 1 and "quit" in result.err
        assert store_files() == files
    assert read_local_storage(profile) == cherry_state()
    assert not list((tmp_path / "_cherryconf_home").glob("backups/*/*"))
