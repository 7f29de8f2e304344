"""Cherry Studio on macOS, tested on any system: where its data and bundle are, and how a running app shows.

The facts, from Cherry Studio's source (CherryHQ/cherry-studio):
- userData is `~/Library/Application Support/CherryStudio`: Electron names it after package.json "name", which is
  "CherryStudio" with no "productName" (package.json at 0038359e); the China edition shares it
  (scripts/__tests__/edition-packaging.test.ts at 22f67fd4, "shares the global Electron application name").
- The bundle is `/Applications/<productName>.app`: "Cherry Studio" (electron-builder.yml at 00250f03), the China
  edition's "Cherry Studio 中国版" (electron-builder.cn.config.cjs at 22f67fd4); resources are in Contents/Resources.
- The app holds Electron's single-instance lock on every system (src/main/index.ts at 0983461d,
  `app.requestSingleInstanceLock()`): on macOS, as on Linux, Chromium's `SingletonLock` symlink
  (`<hostname>-<pid>`) in userData; the LevelDB `LOCK` is a POSIX lock there too.
- Its processes are named after the executable: "Cherry Studio", "Cherry Studio Helper (Renderer)", ... and
  "Cherry Studio 中国版"; on macOS cherryconf lists them with psutil (there is no /proc).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cherryconf.domain import catalog
from cherryconf.paths import Context
from cherryconf.stores import install
from cherryconf.stores.install import find_installs, inspect, resolve, running_reason

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process names from exec'd symlinks")
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="SingletonLock is a symlink")


def mac(home: Path) -> Context:
    return Context(home=home, env={}, system="darwin")


def support(home: Path) -> Path:
    return home / "Library" / "Application Support"


def make_v2(data_dir: Path, version_log: str | None = None) -> Path:
    (data_dir / "Data").mkdir(parents=True)
    (data_dir / "Data" / "cherrystudio.sqlite").write_bytes(b"SQLite format 3\x00")
    if version_log:
        (data_dir / "version.log").write_text(version_log, encoding="utf-8")
    return data_dir


def test_the_install_is_found_under_application_support_with_its_version(tmp_path: Path) -> None:
    data_dir = make_v2(support(tmp_path) / "CherryStudio",
                       "1.6.5|mac|prod|packaged|install|2026-01-10T08:00:00.000Z\n"
                       "2.0.14|mac|prod|packaged|install|2026-10-01T08:00:00.000Z\n")
    make_v2(tmp_path / ".config" / "CherryStudio")  # Linux's place means nothing on macOS
    (found,) = find_installs(mac(tmp_path))
    assert (found.data_dir, found.kind, found.app_version) == (data_dir, "v2", "2.0.14")
    assert resolve(mac(tmp_path), None).data_dir == data_dir


def test_a_development_build_and_a_custom_data_directory_are_found_too(tmp_path: Path) -> None:
    custom = make_v2(tmp_path / "Volumes" / "Data" / "Cherry")
    boot = tmp_path / ".cherrystudio" / "boot-config.json"
    boot.parent.mkdir(parents=True)
    exe = "/Applications/Cherry Studio.app/Contents/MacOS/Cherry Studio"
    boot.write_text(f'{{"app.user_data_path": {{"{exe}": "{custom.as_posix()}"}}}}', encoding="utf-8")
    dev = make_v2(support(tmp_path) / "CherryStudioDev")
    assert [i.data_dir for i in find_installs(mac(tmp_path))] == [custom, dev]


def test_cherryconf_keeps_its_own_files_under_application_support(tmp_path: Path) -> None:
    ctx = Context(home=tmp_path, env={"XDG_DATA_HOME": "/elsewhere"}, system="darwin")
    assert ctx.cherryconf_home == support(tmp_path) / "cherryconf"
    assert ctx.backups_dir == support(tmp_path) / "cherryconf" / "backups"


def test_the_apps_resources_are_looked_for_in_both_editions_bundles(isolated_home: Path) -> None:
    dirs = catalog.resource_dirs({}, "darwin")
    bundles = [Path(apps) / f"{product}.app" / "Contents" / "Resources"
               for apps in ("/Applications", isolated_home / "Applications")
               for product in ("Cherry Studio", "Cherry Studio 中国版")]
    assert dirs == bundles
    assert catalog.resource_dirs({catalog.RESOURCES_ENV: "/x/Resources"}, "darwin")[0] == Path("/x/Resources")


@pytest.mark.parametrize("name", ["Cherry Studio", "Cherry Studio Helper", "Cherry Studio Helper (Renderer)",
                                  "Cherry Studio Helper (GPU)", "Cherry Studio 中国版"])
def test_the_apps_macos_process_names_are_recognised(name: str) -> None:
    assert install._is_cherry_executable(name)


@pytest.mark.parametrize("name", ["Google Chrome Helper (Renderer)", "Electron", "Chromium", "cherryconf"])
def test_other_macos_processes_are_not_the_app(name: str) -> None:
    assert not install._is_cherry_executable(name)


@posix_only
def test_a_singleton_lock_naming_a_macs_hyphenated_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # macOS host names look like "Marys-MacBook-Pro.local": the pid is after the last hyphen.
    monkeypatch.setattr(socket, "gethostname", lambda: "Marys-MacBook-Pro.local")
    data_dir = make_v2(support(tmp_path) / "CherryStudio")
    (data_dir / "SingletonLock").symlink_to(f"Marys-MacBook-Pro.local-{os.getpid()}")
    assert running_reason(inspect(data_dir, "x")) == f"SingletonLock names process {os.getpid()}, which is alive"
    monkeypatch.setattr(socket, "gethostname", lambda: "Marys-iMac.local")
    assert running_reason(inspect(data_dir, "x")) is None


@pytest.fixture
def no_proc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make cherryconf list processes as it does on macOS: with psutil, for want of /proc."""
    monkeypatch.setattr(install, "_PROC", tmp_path / "no-proc")


@pytest.fixture
def app() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for child in started:
        child.kill()
        child.wait()


def start_as(app: list[subprocess.Popen[str]], tmp_path: Path, name: str, *args: str) -> subprocess.Popen[str]:
    """A process named `name` (a Python reached through a symlink of that name) that sleeps once started."""
    exe = tmp_path / "MacOS" / name
    exe.parent.mkdir(exist_ok=True)
    exe.symlink_to(sys.executable)
    child = subprocess.Popen([str(exe), "-c", "import time; print('ready', flush=True); time.sleep(60)", *args],
                             stdout=subprocess.PIPE, text=True)
    app.append(child)
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    return child


@linux_only
@pytest.mark.usefixtures("no_proc")
@pytest.mark.parametrize("name", ["Cherry Studio", "Cherry Studio Helper (Renderer)"])
def test_a_running_app_is_found_by_its_macos_process_name(app: list[subprocess.Popen[str]], tmp_path: Path,
                                                          name: str) -> None:
    data_dir = make_v2(support(tmp_path) / "CherryStudio")
    child = start_as(app, tmp_path, name, f"--user-data-dir={data_dir}")
    assert running_reason(inspect(data_dir, "x")) == f"process {child.pid} ({name}) uses this data directory"


@linux_only
@pytest.mark.usefixtures("no_proc")
def test_the_app_running_on_another_data_directory_is_not_this_one(app: list[subprocess.Popen[str]],
                                                                    tmp_path: Path) -> None:
    data_dir = make_v2(support(tmp_path) / "CherryStudio")
    start_as(app, tmp_path, "Cherry Studio", f"--user-data-dir={tmp_path / 'elsewhere'}")
    assert running_reason(inspect(data_dir, "x")) is None
