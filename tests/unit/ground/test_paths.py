"""Where Cherry Studio and cherryconf keep their data, on every system, from a fake home only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import platformdirs
import pytest

from cherryconf.paths import Context, System


def ctx_for(home: Path, system: System = "linux", **env: str) -> Context:
    return Context(home=home, env=env, system=system)


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def legacy_config(home: Path) -> Path:
    return home / ".cherrystudio" / "config" / "config.json"


def boot_config(home: Path) -> Path:
    return home / ".cherrystudio" / "boot-config.json"


# -- default userData -------------------------------------------------------------------------------


def test_linux_defaults_under_dot_config(tmp_path: Path) -> None:
    dirs = ctx_for(tmp_path).default_user_data_dirs()
    assert dirs == [
        (tmp_path / ".config" / "CherryStudio", "default location"),
        (tmp_path / ".config" / "CherryStudioDev", "default location of development builds"),
    ]


def test_linux_defaults_follow_xdg_config_home(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    dirs = [d for d, _ in ctx_for(tmp_path, XDG_CONFIG_HOME=str(xdg)).default_user_data_dirs()]
    assert dirs == [xdg / "CherryStudio", xdg / "CherryStudioDev"]


def test_relative_xdg_config_home_is_ignored(tmp_path: Path) -> None:
    dirs = [d for d, _ in ctx_for(tmp_path, XDG_CONFIG_HOME="relative").default_user_data_dirs()]
    assert dirs[0] == tmp_path / ".config" / "CherryStudio"


def test_macos_defaults_under_application_support(tmp_path: Path) -> None:
    dirs = [d for d, _ in ctx_for(tmp_path, "darwin", XDG_CONFIG_HOME="/elsewhere").default_user_data_dirs()]
    support = tmp_path / "Library" / "Application Support"
    assert dirs == [support / "CherryStudio", support / "CherryStudioDev"]


def test_windows_defaults_under_appdata(tmp_path: Path) -> None:
    roaming = tmp_path / "Roaming"
    dirs = [d for d, _ in ctx_for(tmp_path, "windows", APPDATA=str(roaming)).default_user_data_dirs()]
    assert dirs == [roaming / "CherryStudio", roaming / "CherryStudioDev"]


def test_windows_defaults_without_appdata_use_the_profile(tmp_path: Path) -> None:
    dirs = [d for d, _ in ctx_for(tmp_path, "windows").default_user_data_dirs()]
    assert dirs[0] == tmp_path / "AppData" / "Roaming" / "CherryStudio"


# -- cherryconf's own directory -------------------------------------------------------------------------


def test_cherryconf_home_override(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, CHERRYCONF_HOME=str(tmp_path / "cc"))
    assert ctx.cherryconf_home == tmp_path / "cc"
    assert ctx.backups_dir == tmp_path / "cc" / "backups"


def test_cherryconf_home_override_expands_tilde_against_the_context_home(tmp_path: Path) -> None:
    assert ctx_for(tmp_path, CHERRYCONF_HOME="~/cc").cherryconf_home == tmp_path / "cc"


def test_cherryconf_home_linux_default(tmp_path: Path) -> None:
    assert ctx_for(tmp_path).cherryconf_home == tmp_path / ".local" / "share" / "cherryconf"
    xdg = tmp_path / "data"
    assert ctx_for(tmp_path, XDG_DATA_HOME=str(xdg)).cherryconf_home == xdg / "cherryconf"


def test_cherryconf_home_macos_default(tmp_path: Path) -> None:
    expected = tmp_path / "Library" / "Application Support" / "cherryconf"
    assert ctx_for(tmp_path, "darwin").cherryconf_home == expected


def test_cherryconf_home_windows_default(tmp_path: Path) -> None:
    local = tmp_path / "Local"
    ctx = ctx_for(tmp_path, "windows", LOCALAPPDATA=str(local))
    assert ctx.cherryconf_home == local / "cherryconf" / "cherryconf"
    assert ctx_for(tmp_path, "windows").cherryconf_home == tmp_path / "AppData" / "Local" / "cherryconf" / "cherryconf"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="compares with platformdirs on this system")
def test_cherryconf_home_matches_platformdirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert ctx_for(tmp_path).cherryconf_home == Path(platformdirs.user_data_dir("cherryconf"))


def test_from_os_reads_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    monkeypatch.setenv("CHERRYCONF_TEST_MARK", "1")
    ctx = Context.from_os()
    assert ctx.home == tmp_path
    assert ctx.env["CHERRYCONF_TEST_MARK"] == "1"
    assert ctx.system == {"win32": "windows", "darwin": "darwin"}.get(sys.platform, "linux")


# -- custom data directories ----------------------------------------------------------------------------


def test_no_config_files_no_custom_dirs(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path)
    assert ctx.custom_user_data_dirs() == []
    assert ctx.custom_dir_problems() == []


def test_legacy_string_form(tmp_path: Path) -> None:
    data = tmp_path / "mydata"
    write_json(legacy_config(tmp_path), {"appDataPath": str(data)})
    assert ctx_for(tmp_path).custom_user_data_dirs() == [
        (data, "custom data directory in ~/.cherrystudio/config/config.json")
    ]


def test_legacy_list_form(tmp_path: Path) -> None:
    entries = [
        {"executablePath": "/opt/Cherry/cherrystudio", "dataPath": str(tmp_path / "a")},
        {"executablePath": "/home/u/Apps/cherry-studio.appimage", "dataPath": str(tmp_path / "b")},
    ]
    write_json(legacy_config(tmp_path), {"appDataPath": entries, "other": 1})
    found = ctx_for(tmp_path).custom_user_data_dirs()
    assert [d for d, _ in found] == [tmp_path / "a", tmp_path / "b"]
    assert (
        found[1][1]
        == "custom data directory in ~/.cherrystudio/config/config.json for /home/u/Apps/cherry-studio.appimage"
    )


def test_legacy_portable_entry_adds_exe_dir_data(tmp_path: Path) -> None:
    exe = tmp_path / "Portable" / "cherry-studio-portable.exe"
    write_json(
        legacy_config(tmp_path), {"appDataPath": [{"executablePath": str(exe), "dataPath": str(tmp_path / "d")}]}
    )
    found = ctx_for(tmp_path, "windows").custom_user_data_dirs()
    assert [d for d, _ in found] == [tmp_path / "d", exe.parent / "data"]
    assert found[1][1].startswith("portable build ")


def test_boot_config_map(tmp_path: Path) -> None:
    write_json(
        boot_config(tmp_path),
        {"app.disable_hardware_acceleration": True, "app.user_data_path": {"/usr/bin/cherry": str(tmp_path / "v2")}},
    )
    assert ctx_for(tmp_path).custom_user_data_dirs() == [
        (tmp_path / "v2", "custom data directory in ~/.cherrystudio/boot-config.json for /usr/bin/cherry")
    ]


def test_boot_config_portable_key(tmp_path: Path) -> None:
    exe = tmp_path / "P" / "cherry-studio-portable.exe"
    write_json(boot_config(tmp_path), {"app.user_data_path": {str(exe): str(tmp_path / "x")}})
    assert [d for d, _ in ctx_for(tmp_path).custom_user_data_dirs()] == [tmp_path / "x", exe.parent / "data"]


def test_boot_config_before_legacy_config(tmp_path: Path) -> None:
    write_json(legacy_config(tmp_path), {"appDataPath": str(tmp_path / "old")})
    write_json(boot_config(tmp_path), {"app.user_data_path": {"/e": str(tmp_path / "new")}})
    assert [d for d, _ in ctx_for(tmp_path).custom_user_data_dirs()] == [tmp_path / "new", tmp_path / "old"]


def test_nested_boot_config_is_not_what_the_app_reads(tmp_path: Path) -> None:
    write_json(boot_config(tmp_path), {"app": {"user_data_path": {"/e": str(tmp_path / "x")}}})
    assert ctx_for(tmp_path).custom_user_data_dirs() == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "~/.cherrystudio/config/config.json is not valid JSON"),
        ("[1, 2]", "~/.cherrystudio/config/config.json does not hold a JSON object"),
        ('{"appDataPath": 5}', "~/.cherrystudio/config/config.json appDataPath is neither a path nor a list"),
        ('{"appDataPath": "relative/dir"}', "not an absolute path"),
        ('{"appDataPath": [{"executablePath": "/e"}, "x"]}', "appDataPath entry 0 lacks executablePath or dataPath"),
    ],
)
def test_malformed_legacy_config_is_skipped_with_a_reason(tmp_path: Path, content: str, problem: str) -> None:
    path = legacy_config(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    ctx = ctx_for(tmp_path)
    assert ctx.custom_user_data_dirs() == []
    assert any(problem in p for p in ctx.custom_dir_problems()), ctx.custom_dir_problems()


def test_malformed_list_entries_do_not_hide_good_ones(tmp_path: Path) -> None:
    good = {"executablePath": "/e", "dataPath": str(tmp_path / "good")}
    write_json(legacy_config(tmp_path), {"appDataPath": [None, good, {"dataPath": 3}]})
    ctx = ctx_for(tmp_path)
    assert [d for d, _ in ctx.custom_user_data_dirs()] == [tmp_path / "good"]
    assert len(ctx.custom_dir_problems()) == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "~/.cherrystudio/boot-config.json is not valid JSON"),
        ('{"app.user_data_path": ["/x"]}', "is not a map of executable to directory"),
        ('{"app.user_data_path": {"/e": 7}}', "entry for /e is not a directory path"),
    ],
)
def test_malformed_boot_config_is_skipped_with_a_reason(tmp_path: Path, content: str, problem: str) -> None:
    path = boot_config(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    ctx = ctx_for(tmp_path)
    assert ctx.custom_user_data_dirs() == []
    assert any(problem in p for p in ctx.custom_dir_problems()), ctx.custom_dir_problems()


def test_unreadable_config_is_skipped_with_a_reason(tmp_path: Path) -> None:
    path = legacy_config(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe{")
    ctx = ctx_for(tmp_path)
    assert ctx.custom_user_data_dirs() == []
    assert "could not be read" in ctx.custom_dir_problems()[0]


def test_empty_app_data_path_is_ignored_like_the_app_does(tmp_path: Path) -> None:
    write_json(legacy_config(tmp_path), {"appDataPath": ""})
    write_json(boot_config(tmp_path), {"app.user_data_path": None})
    ctx = ctx_for(tmp_path)
    assert ctx.custom_user_data_dirs() == []
    assert ctx.custom_dir_problems() == []
