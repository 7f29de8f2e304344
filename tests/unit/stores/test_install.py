"""Installs: finding them, telling their store kind and app version, and knowing when the app runs."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from testing.running_app import app_running

from cherryconf.errors import AppRunning, BadInput, ExitCode, StoreError
from cherryconf.paths import Context, System
from cherryconf.stores.install import Install, ensure_not_running, find_installs, inspect, resolve, running_reason

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX locks and SingletonLock")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process names from exec'd symlinks")


def ctx_for(home: Path, system: System = "linux", **env: str) -> Context:
    return Context(home=home, env=env, system=system)


def make_v1(data_dir: Path) -> Path:
    (data_dir / "Local Storage" / "leveldb").mkdir(parents=True)
    return data_dir


def make_v2(data_dir: Path) -> Path:
    (data_dir / "Data").mkdir(parents=True)
    (data_dir / "Data" / "cherrystudio.sqlite").write_bytes(b"SQLite format 3\x00")
    return data_dir


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def version_line(version: str, when: str = "2025-01-15T08:30:00.000Z") -> str:
    return f"{version}|linux|prod|packaged|install|{when}\n"


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for child in started:
        child.kill()
        child.wait()


def spawn(children: list[subprocess.Popen[str]], argv: list[str]) -> subprocess.Popen[str]:
    """Start a helper that prints 'ready' once it is in the state the test needs."""
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    children.append(child)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    return child


# -- inspect ------------------------------------------------------------------------------------------------


def test_inspect_v1(tmp_path: Path) -> None:
    install = inspect(make_v1(tmp_path / "CherryStudio"), "--data-dir")
    assert install.kind == "v1"
    assert install.leveldb_dir == tmp_path / "CherryStudio" / "Local Storage" / "leveldb"
    assert install.sqlite_path == tmp_path / "CherryStudio" / "Data" / "cherrystudio.sqlite"
    assert install.app_version is None
    assert install.found_by == "--data-dir"


def test_inspect_v2_wins_over_leftover_local_storage(tmp_path: Path) -> None:
    data_dir = make_v2(make_v1(tmp_path / "d"))
    assert inspect(data_dir, "x").kind == "v2"


def test_root_level_sqlite_is_not_a_v2_store(tmp_path: Path) -> None:
    # 1.x kept an agents database at <userData>/cherrystudio.sqlite; the 2.x store is Data/cherrystudio.sqlite.
    data_dir = make_v1(tmp_path / "d")
    (data_dir / "cherrystudio.sqlite").write_bytes(b"")
    assert inspect(data_dir, "x").kind == "v1"


def test_inspect_relative_path_becomes_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_v1(tmp_path / "d")
    monkeypatch.chdir(tmp_path)
    assert inspect(Path("d"), "--data-dir").data_dir == tmp_path / "d"


def test_inspect_empty_dir(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        inspect(tmp_path, "--data-dir")
    assert "holds no Cherry Studio data (no Local Storage/leveldb, no Data/cherrystudio.sqlite)" in info.value.message
    assert info.value.exit_code == ExitCode.STORE


def test_inspect_missing_or_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        inspect(tmp_path / "nope", "--data-dir")
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is not a directory"):
        inspect(tmp_path / "file", "--data-dir")


# -- app version ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("log", "version"),
    [
        (version_line("1.7.0-beta.3") + version_line("1.7.2") + version_line("1.9.3"), "1.9.3"),
        (version_line("2.0.14"), "2.0.14"),
        (version_line("1.8.0").replace("\n", "\r\n"), "1.8.0"),
        (version_line("1.8.0") + "garbage|line\n\n", "1.8.0"),
        (version_line("1.8.0") + "1.9.0|beos|prod|packaged|install|2025-01-01T00:00:00Z\n", "1.8.0"),
        ("1.9.0|win|dev|unpackaged|portable|2025-01-01T00:00:00.000Z\n", "1.9.0"),
        ("not a version log\n", None),
        ("", None),
    ],
)
def test_app_version_from_version_log(tmp_path: Path, log: str, version: str | None) -> None:
    data_dir = make_v1(tmp_path / "d")
    (data_dir / "version.log").write_text(log, encoding="utf-8", newline="")
    assert inspect(data_dir, "x").app_version == version


def test_app_version_from_a_long_log(tmp_path: Path) -> None:
    data_dir = make_v2(tmp_path / "d")
    (data_dir / "version.log").write_text(version_line("1.0.0") * 5000 + version_line("2.0.1"), encoding="utf-8")
    assert inspect(data_dir, "x").app_version == "2.0.1"


# -- key ------------------------------------------------------------------------------------------------


def test_key_is_stable_safe_and_distinct(tmp_path: Path) -> None:
    a = inspect(make_v1(tmp_path / "Cherry Studio (a)"), "x")
    b = inspect(make_v1(tmp_path / "other" / "Cherry Studio (a)"), "x")
    # Windows paths are case-insensitive: the key is made from the normcase'd path, lower-case there.
    assert re.fullmatch(os.path.normcase("Cherry_Studio_a") + "-[0-9a-f]{8}", a.key)
    assert a.key == inspect(tmp_path / "Cherry Studio (a)", "y").key
    assert a.key != b.key


@posix_only
def test_key_follows_symlinks(tmp_path: Path) -> None:
    real = make_v1(tmp_path / "CherryStudio")
    (tmp_path / "link").symlink_to(real)
    assert inspect(tmp_path / "link", "x").key == inspect(real, "y").key
    assert inspect(real, "y").key.startswith("CherryStudio-")


def test_key_of_an_unnamed_dir() -> None:
    install = Install(data_dir=Path(Path.cwd().anchor), kind="v1", app_version=None, found_by="x")
    assert re.fullmatch(r"install-[0-9a-f]{8}", install.key)


# -- find_installs -------------------------------------------------------------------------------------------


def test_find_linux_default(tmp_path: Path) -> None:
    make_v1(tmp_path / ".config" / "CherryStudio")
    [install] = find_installs(ctx_for(tmp_path))
    assert install.data_dir == tmp_path / ".config" / "CherryStudio"
    assert install.found_by == "default location"


def test_find_xdg_config_home(tmp_path: Path) -> None:
    make_v2(tmp_path / "xdg" / "CherryStudio")
    make_v1(tmp_path / ".config" / "CherryStudio")  # not where the app looks when XDG_CONFIG_HOME is set
    [install] = find_installs(ctx_for(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "xdg")))
    assert install.data_dir == tmp_path / "xdg" / "CherryStudio"
    assert install.kind == "v2"


def test_find_macos_and_windows_defaults(tmp_path: Path) -> None:
    make_v1(tmp_path / "Library" / "Application Support" / "CherryStudio")
    assert [i.data_dir.name for i in find_installs(ctx_for(tmp_path, "darwin"))] == ["CherryStudio"]
    make_v2(tmp_path / "Roaming" / "CherryStudio")
    [install] = find_installs(ctx_for(tmp_path, "windows", APPDATA=str(tmp_path / "Roaming")))
    assert install.data_dir == tmp_path / "Roaming" / "CherryStudio"


def test_find_dev_build(tmp_path: Path) -> None:
    make_v1(tmp_path / ".config" / "CherryStudioDev")
    [install] = find_installs(ctx_for(tmp_path))
    assert install.found_by == "default location of development builds"


def test_find_skips_dirs_without_a_store(tmp_path: Path) -> None:
    (tmp_path / ".config" / "CherryStudio" / "logs").mkdir(parents=True)
    assert find_installs(ctx_for(tmp_path)) == []


def test_find_custom_string_form(tmp_path: Path) -> None:
    make_v1(tmp_path / "custom")
    write_json(tmp_path / ".cherrystudio" / "config" / "config.json", {"appDataPath": str(tmp_path / "custom")})
    [install] = find_installs(ctx_for(tmp_path))
    assert install.found_by == "custom data directory in ~/.cherrystudio/config/config.json"


def test_find_custom_list_form_and_portable(tmp_path: Path) -> None:
    exe = tmp_path / "Portable" / "cherry-studio-portable.exe"
    make_v1(exe.parent / "data")
    make_v1(tmp_path / "listed")
    entries = [
        {"executablePath": "/opt/cherry/cherrystudio", "dataPath": str(tmp_path / "listed")},
        {"executablePath": str(exe), "dataPath": str(tmp_path / "gone")},
    ]
    write_json(tmp_path / ".cherrystudio" / "config" / "config.json", {"appDataPath": entries})
    installs = find_installs(ctx_for(tmp_path, "windows", APPDATA=str(tmp_path / "Roaming")))
    assert [i.data_dir for i in installs] == [tmp_path / "listed", exe.parent / "data"]
    assert installs[1].found_by.startswith("portable build ")


def test_find_boot_config(tmp_path: Path) -> None:
    make_v2(tmp_path / "v2data")
    write_json(
        tmp_path / ".cherrystudio" / "boot-config.json", {"app.user_data_path": {"/e": str(tmp_path / "v2data")}}
    )
    [install] = find_installs(ctx_for(tmp_path))
    assert install.found_by == "custom data directory in ~/.cherrystudio/boot-config.json for /e"


def test_find_deduplicates_keeping_the_first_reason(tmp_path: Path) -> None:
    default = make_v2(tmp_path / ".config" / "CherryStudio")
    write_json(tmp_path / ".cherrystudio" / "boot-config.json", {"app.user_data_path": {"/e": str(default)}})
    write_json(tmp_path / ".cherrystudio" / "config" / "config.json", {"appDataPath": str(default) + "/."})
    [install] = find_installs(ctx_for(tmp_path))
    assert "boot-config.json" in install.found_by


def test_find_several(tmp_path: Path) -> None:
    make_v1(tmp_path / ".config" / "CherryStudio")
    make_v2(tmp_path / "custom")
    write_json(tmp_path / ".cherrystudio" / "config" / "config.json", {"appDataPath": str(tmp_path / "custom")})
    assert [i.data_dir for i in find_installs(ctx_for(tmp_path))] == [
        tmp_path / "custom",
        tmp_path / ".config" / "CherryStudio",
    ]


def test_find_survives_malformed_config(tmp_path: Path) -> None:
    make_v1(tmp_path / ".config" / "CherryStudio")
    path = tmp_path / ".cherrystudio" / "config" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text("{oops")
    assert len(find_installs(ctx_for(tmp_path))) == 1


# -- resolve ----------------------------------------------------------------------------------------------


def test_resolve_data_dir_wins(tmp_path: Path) -> None:
    make_v1(tmp_path / ".config" / "CherryStudio")
    make_v2(tmp_path / "from-env")
    explicit = make_v1(tmp_path / "explicit")
    install = resolve(ctx_for(tmp_path, CHERRYCONF_DATA_DIR=str(tmp_path / "from-env")), explicit)
    assert (install.data_dir, install.found_by) == (explicit, "--data-dir")


def test_resolve_env_var(tmp_path: Path) -> None:
    make_v1(tmp_path / ".config" / "CherryStudio")
    make_v2(tmp_path / "from-env")
    install = resolve(ctx_for(tmp_path, CHERRYCONF_DATA_DIR=str(tmp_path / "from-env")), None)
    assert (install.data_dir, install.found_by) == (tmp_path / "from-env", "CHERRYCONF_DATA_DIR")


def test_resolve_explicit_dir_without_data(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="holds no Cherry Studio data"):
        resolve(ctx_for(tmp_path), tmp_path)


def test_resolve_single_found(tmp_path: Path) -> None:
    make_v1(tmp_path / ".config" / "CherryStudio")
    assert resolve(ctx_for(tmp_path), None).found_by == "default location"


def test_resolve_several_asks_for_data_dir(tmp_path: Path) -> None:
    make_v1(tmp_path / ".config" / "CherryStudio")
    make_v1(tmp_path / ".config" / "CherryStudioDev")
    with pytest.raises(BadInput) as info:
        resolve(ctx_for(tmp_path), None)
    assert "Found 2 Cherry Studio installs" in info.value.message
    assert str(tmp_path / ".config" / "CherryStudioDev") in info.value.message
    assert "--data-dir" in info.value.message
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_resolve_none_says_where_it_looked(tmp_path: Path) -> None:
    path = tmp_path / ".cherrystudio" / "boot-config.json"
    path.parent.mkdir(parents=True)
    path.write_text("{")
    write_json(tmp_path / ".cherrystudio" / "config" / "config.json", {"appDataPath": str(tmp_path / "custom")})
    with pytest.raises(StoreError) as info:
        resolve(ctx_for(tmp_path), None)
    message = info.value.message
    assert message.startswith("No Cherry Studio data found (looked in ")
    assert str(tmp_path / "custom") in message
    assert str(tmp_path / ".config" / "CherryStudio") in message
    assert "~/.cherrystudio/boot-config.json is not valid JSON, skipped" in message
    assert message.endswith("--data-dir.")


# -- is the app running? ------------------------------------------------------------------------------------


def test_not_running(tmp_path: Path) -> None:
    install = inspect(make_v1(tmp_path / "d"), "x")
    (install.leveldb_dir / "LOCK").write_bytes(b"")
    assert running_reason(install) is None
    ensure_not_running(install)


@posix_only
def test_singleton_lock_of_a_live_process_on_this_host(tmp_path: Path) -> None:
    install = inspect(make_v2(tmp_path / "d"), "x")
    (install.data_dir / "SingletonLock").symlink_to(f"{socket.gethostname()}-{os.getpid()}")
    reason = running_reason(install)
    assert reason == f"SingletonLock names process {os.getpid()}, which is alive"
    with pytest.raises(AppRunning) as info:
        ensure_not_running(install)
    assert info.value.exit_code == ExitCode.APP_RUNNING
    assert info.value.message == (
        f"Cherry Studio is running ({reason}): quit it, including from the tray icon, then run this again."
    )


@posix_only
def test_stale_singleton_lock_of_a_dead_process(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert not psutil.pid_exists(dead.pid)
    install = inspect(make_v2(tmp_path / "d"), "x")
    (install.data_dir / "SingletonLock").symlink_to(f"{socket.gethostname()}-{dead.pid}")
    assert running_reason(install) is None


@posix_only
def test_singleton_lock_of_another_host(tmp_path: Path) -> None:
    install = inspect(make_v2(tmp_path / "d"), "x")
    (install.data_dir / "SingletonLock").symlink_to(f"some-other-host.example-{os.getpid()}")
    assert running_reason(install) is None


@posix_only
def test_singleton_lock_older_than_the_process_with_its_pid(
    tmp_path: Path, children: list[subprocess.Popen[str]]
) -> None:
    # After a crash the pid may belong to a newer, unrelated process.
    child = spawn(children, [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"])
    install = inspect(make_v2(tmp_path / "d"), "x")
    link = install.data_dir / "SingletonLock"
    link.symlink_to(f"{socket.gethostname()}-{child.pid}")
    assert running_reason(install) is not None
    an_hour_ago = time.time() - 3600
    os.utime(link, (an_hour_ago, an_hour_ago), follow_symlinks=False)
    assert running_reason(install) is None


@posix_only
def test_leveldb_lock_held_by_another_process(tmp_path: Path, children: list[subprocess.Popen[str]]) -> None:
    install = inspect(make_v1(tmp_path / "d"), "x")
    lock = install.leveldb_dir / "LOCK"
    lock.write_bytes(b"")
    holder = (
        "import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "fcntl.lockf(fd, fcntl.LOCK_EX)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = spawn(children, [sys.executable, "-c", holder, str(lock)])
    assert running_reason(install) == "Local Storage/leveldb/LOCK is held"
    with pytest.raises(AppRunning, match="LOCK is held"):
        ensure_not_running(install)
    child.kill()
    child.wait()
    assert running_reason(install) is None


@pytest.mark.skipif(sys.platform != "win32", reason="Windows share modes (POSIX: the tests above)")
@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_windows_app_holding_its_lockfile_and_leveldb_lock(tmp_path: Path, kind: str) -> None:
    install = inspect((make_v1 if kind == "v1" else make_v2)(tmp_path / "d"), "x")
    assert running_reason(install) is None
    with app_running(install.data_dir):
        # 1.x: LevelDB's LOCK is checked first; 2.x has only the lockfile.
        reason = "Local Storage/leveldb/LOCK is held" if kind == "v1" else "its lockfile is open in another process"
        assert running_reason(install) == reason
        with pytest.raises(AppRunning, match="LOCK is held" if kind == "v1" else "lockfile"):
            ensure_not_running(install)
    assert running_reason(install) is None  # closed: the lockfile is still there, but no one holds it


@posix_only
def test_probe_leaves_no_lock_behind(tmp_path: Path) -> None:
    install = inspect(make_v1(tmp_path / "d"), "x")
    lock = install.leveldb_dir / "LOCK"
    lock.write_bytes(b"")
    assert running_reason(install) is None
    taker = (
        "import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_RDWR)\nfcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
    )
    subprocess.run([sys.executable, "-c", taker, str(lock)], check=True)


def _named_python(tmp_path: Path, name: str) -> str:
    exe = tmp_path / "bin" / name
    if not exe.exists():
        exe.parent.mkdir(exist_ok=True)
        exe.symlink_to(sys.executable)
    return str(exe)


_SLEEPER = "import sys, time\nprint('ready', flush=True)\ntime.sleep(60)\n"
_FILE_HOLDER = "import sys, time\nf = open(sys.argv[1], 'rb')\nprint('ready', flush=True)\ntime.sleep(60)\n"


@linux_only
def test_cherry_process_with_this_user_data_dir(tmp_path: Path, children: list[subprocess.Popen[str]]) -> None:
    install = inspect(make_v2(tmp_path / "d"), "x")
    child = spawn(
        children, [_named_python(tmp_path, "CherryStudio"), "-c", _SLEEPER, f"--user-data-dir={install.data_dir}"]
    )
    assert running_reason(install) == f"process {child.pid} (CherryStudio) uses this data directory"


@linux_only
def test_cherry_process_holding_a_file_of_this_dir(tmp_path: Path, children: list[subprocess.Popen[str]]) -> None:
    install = inspect(make_v2(tmp_path / "d"), "x")
    child = spawn(children, [_named_python(tmp_path, "CherryStudio"), "-c", _FILE_HOLDER, str(install.sqlite_path)])
    assert running_reason(install) == f"process {child.pid} (CherryStudio) uses this data directory"


@linux_only
def test_cherry_process_of_another_install(tmp_path: Path, children: list[subprocess.Popen[str]]) -> None:
    install = inspect(make_v2(tmp_path / "d"), "x")
    other = make_v2(tmp_path / "other")
    spawn(children, [_named_python(tmp_path, "CherryStudio"), "-c", _SLEEPER, f"--user-data-dir={other}"])
    spawn(
        children,
        [_named_python(tmp_path, "CherryStudio"), "-c", _FILE_HOLDER, str(other / "Data" / "cherrystudio.sqlite")],
    )
    assert running_reason(install) is None


@linux_only
def test_other_browsers_on_this_dir_are_not_the_app(tmp_path: Path, children: list[subprocess.Popen[str]]) -> None:
    install = inspect(make_v2(tmp_path / "d"), "x")
    spawn(children, [_named_python(tmp_path, "chromium"), "-c", _SLEEPER, f"--user-data-dir={install.data_dir}"])
    spawn(children, [_named_python(tmp_path, "chromium2"), "-c", _FILE_HOLDER, str(install.sqlite_path)])
    assert running_reason(install) is None
