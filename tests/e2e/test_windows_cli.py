"""The real CLI on a real Windows CPython (under Wine), on stores that Linux Chromium and SQLite built and read.

Run by scripts/test-windows, which sets CHERRYCONF_WINE_PYTHON once the lane's Windows Python is installed;
without it they are deselected (conftest), so a plain pytest run reports them as such. Each test drives
`python.exe -m cherryconf` exactly as a Windows user would, with Windows paths (`Z:\\...` is this machine's `/`),
and checks the result with the Linux side's own readers.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import pytest
from testing import v2db
from testing.chromium_harness import read_local_storage, write_local_storage
from testing.v1state import cherry_state, read_llm
from testing.winlane import WINE_START_FLAKE

pytestmark = pytest.mark.wine

KEY = "sk-windows-lane-0123456789"
PROFILE = """\
version: 1
providers:
  - id: relay
    name: 我的中转 🚀
    apiHost: https://relay.example.com/v1
    apiKey: ${RELAY_KEY}
    models: [gpt-4.1, deepseek-r1]
"""


class Result(NamedTuple):
    code: int
    out: bytes
    err: str


def win(path: Path) -> str:
    """The Windows path Wine gives a path of this machine (Z: is /)."""
    return "Z:" + str(path).replace("/", "\\")


def cherryconf(tmp_path: Path, *args: str, lang: str = "en_US.UTF-8",
               env: Mapping[str, str] | None = None) -> Result:
    """Run the CLI under the lane's Windows Python; its stdout is a pipe, as in `... | ConvertFrom-Json`.

    LANG chooses Wine's code pages (en_US: ANSI 1252, zh_CN: 936), as the system locale does on Windows.
    """
    python = os.environ["CHERRYCONF_WINE_PYTHON"]
    home = tmp_path / "cc-home"
    home.mkdir(exist_ok=True)
    child = {k: v for k, v in os.environ.items()
             if k in ("PATH", "WINEPREFIX", "WINEARCH", "WINEDEBUG", "WINEDLLOVERRIDES", "TMPDIR")}
    child.update({"LANG": lang, "LC_ALL": lang, "CHERRYCONF_HOME": win(home), "CHERRYCONF_LANG": "en",
                  "RELAY_KEY": KEY, **(env or {})})
    for _attempt in range(2):
        proc = subprocess.run(["wine", python, "-m", "cherryconf", *args], env=child, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=180, check=False)
        if proc.returncode != WINE_START_FLAKE & 0xFF:
            break
    return Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))


def write_profile(tmp_path: Path) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return path


def test_v2_apply_then_restore_gives_back_identical_rows(tmp_path: Path) -> None:
    install = v2db.build(tmp_path / "CherryStudio")
    before = v2db.dump(install)
    data_dir = win(install.data_dir)
    applied = cherryconf(tmp_path, "--data-dir", data_dir, "apply", win(write_profile(tmp_path)), "--yes")
    assert applied.code == 0, applied.err
    after = v2db.dump(install)
    assert [p for p in after["user_provider"] if p["provider_id"] == "relay"]
    assert after != before
    # --whole: the file as it was, so identical rows (an undo re-points and stamps the preference it touched).
    restored = cherryconf(tmp_path, "--data-dir", data_dir, "restore", "--whole", "--yes")
    assert restored.code == 0, restored.err
    assert v2db.dump(install) == before


@pytest.mark.parametrize("lang", ["en_US.UTF-8", "zh_CN.UTF-8"])  # ANSI code pages 1252 and 936
def test_json_piped_is_valid_under_the_ansi_code_pages(tmp_path: Path, lang: str) -> None:
    install = v2db.build(tmp_path / "CherryStudio")
    data_dir = win(install.data_dir)
    assert cherryconf(tmp_path, "--data-dir", data_dir, "apply", win(write_profile(tmp_path)), "--yes").code == 0
    listed = cherryconf(tmp_path, "--data-dir", data_dir, "--json", "providers", lang=lang)
    assert listed.code == 0, listed.err
    document = json.loads(listed.out)  # bytes: any JSON reader, whatever code page it assumes
    assert listed.out.isascii()
    names = [p["name"] for p in document["providers"]]
    assert "我的中转 🚀" in names
    assert KEY not in listed.out.decode("ascii")


def test_text_piped_names_chinese_in_the_code_page_readers_use(tmp_path: Path) -> None:
    install = v2db.build(tmp_path / "CherryStudio")
    data_dir = win(install.data_dir)
    assert cherryconf(tmp_path, "--data-dir", data_dir, "apply", win(write_profile(tmp_path)), "--yes").code == 0
    # No console is attached under the lane (GetConsoleOutputCP is 0): redirected text is then UTF-8.
    listed = cherryconf(tmp_path, "--data-dir", data_dir, "providers", lang="zh_CN.UTF-8")
    assert listed.code == 0, listed.err
    assert "我的中转 🚀" in listed.out.decode("utf-8")


@pytest.mark.chromium
def test_v1_apply_is_read_back_by_chromium(tmp_path: Path) -> None:
    profile = tmp_path / "chromium"
    state = cherry_state()
    write_local_storage(profile, state)
    before = read_local_storage(profile)
    result = cherryconf(tmp_path, "--data-dir", win(profile / "Default"), "apply", win(write_profile(tmp_path)),
                        "--yes")
    assert result.code == 0, result.err
    after = read_local_storage(profile)
    assert {k: v for k, v in after.items() if k != "persist:cherry-studio"} == {
        k: v for k, v in before.items() if k != "persist:cherry-studio"}
    relay = read_llm(after)["providers"][0]
    assert (relay["id"], relay["name"], relay["apiKey"]) == ("relay", "我的中转 🚀", KEY)
    assert read_llm(after)["providers"][1:] == read_llm(before)["providers"]


def test_a_data_directory_under_a_chinese_user_name_with_spaces(tmp_path: Path) -> None:
    # The profile of a user called "张三 Li": the app's data in its %APPDATA%, cherryconf's backups in its
    # %LOCALAPPDATA%. (Wine sets APPDATA itself from its prefix, so the directory is named the other documented
    # way, CHERRYCONF_DATA_DIR; paths.py's %APPDATA% rule is unit-tested with such names.)
    profile = tmp_path / "Users" / "张三 Li"
    install = v2db.build(profile / "AppData" / "Roaming" / "CherryStudio")
    before = v2db.dump(install)
    env = {"CHERRYCONF_DATA_DIR": win(install.data_dir),
           "CHERRYCONF_HOME": win(profile / "AppData" / "Local" / "cherryconf")}
    located = cherryconf(tmp_path, "--json", "locate", env=env)
    assert located.code == 0, located.err
    assert [i["data_dir"] for i in json.loads(located.out)["installs"]] == [win(install.data_dir)]
    applied = cherryconf(tmp_path, "--json", "apply", win(write_profile(tmp_path)), "--yes", env=env)
    assert applied.code == 0, applied.err
    backup = json.loads(applied.out)["backup"]
    assert backup.startswith(win(profile / "AppData" / "Local" / "cherryconf")), backup
    assert [p for p in v2db.dump(install)["user_provider"] if p["provider_id"] == "relay"]
    restored = cherryconf(tmp_path, "restore", "--whole", "--yes", env=env)
    assert restored.code == 0, restored.err
    assert v2db.dump(install) == before
