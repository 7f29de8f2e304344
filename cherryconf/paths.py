"""Where Cherry Studio keeps its data, and where cherryconf keeps its own.

Everything that depends on the machine (home directory, environment, operating system) lives in one
`Context`, so tests build any layout in a temporary directory without touching the real home.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cherryconf.fsutil import open_regular
from cherryconf.i18n import _

__all__ = ["BOOT_CONFIG_NAME", "LEGACY_CONFIG_NAME", "Context", "System"]

System = Literal["linux", "darwin", "windows"]

# Electron names userData after package.json "name" (not electron-builder's productName "Cherry Studio");
# unpackaged development builds append "Dev".
_APP_DIR_NAMES = (("CherryStudio", _("default "
                                     "location")), ("CherryStudioDev", _("default location of development builds")))

# Both files live under ~/.cherrystudio, outside userData, because they decide where userData is.
LEGACY_CONFIG_NAME = "~/.cherrystudio/config/config.json"  # 1.x appDataPath
BOOT_CONFIG_NAME = "~/.cherrystudio/boot-config.json"  # 2.x app.user_data_path
_CONFIG_LIMIT = 1024 * 1024  # the app's config files are a few hundred bytes
_BOOT_CONFIG_KEY = "app.user_data_path"  # a flat dotted key, not nested objects

# The Windows portable build records this fixed name (not the real, versioned exe name) as its executable.
_PORTABLE_EXE_NAME = "cherry-studio-portable.exe"

_Found = list[tuple[Path, str]]


@dataclass(frozen=True)
class Context:
    """Everything environment-dependent, injectable in tests."""

    home: Path
    env: Mapping[str, str]
    system: System

    @classmethod
    def from_os(cls) -> Context:
        system: System
        if sys.platform == "win32":
            system = "windows"
        elif sys.platform == "darwin":
            system = "darwin"
        else:
            system = "linux"
        return cls(home=Path.home(), env=dict(os.environ), system=system)

    @property
    def cherryconf_home(self) -> Path:
        """cherryconf's own directory (backups live there): CHERRYCONF_HOME, else the platform's user data dir.

        The default follows platformdirs.user_data_dir("cherryconf"), computed here from this context
        rather than from the real process environment.
        """
        override = self.env.get("CHERRYCONF_HOME", "")
        if override:
            return self._expand(override)
        if self.system == "windows":
            local = self._env_dir("LOCALAPPDATA") or self.home / "AppData" / "Local"
            return local / "cherryconf" / "cherryconf"
        if self.system == "darwin":
            return self.home / "Library" / "Application Support" / "cherryconf"
        return (self._env_dir("XDG_DATA_HOME") or self.home / ".local" / "share") / "cherryconf"

    @property
    def backups_dir(self) -> Path:
        return self.cherryconf_home / "backups"

    @property
    def cherry_home(self) -> Path:
        """~/.cherrystudio, shared by every Cherry Studio install of this user."""
        return self.home / ".cherrystudio"

    def default_user_data_dirs(self) -> list[tuple[Path, str]]:
        """Electron's default userData for the release and the development build, with why each is a candidate."""
        if self.system == "windows":
            base = self._env_dir("APPDATA") or self.home / "AppData" / "Roaming"
        elif self.system == "darwin":
            base = self.home / "Library" / "Application Support"
        else:
            base = self._env_dir("XDG_CONFIG_HOME") or self.home / ".config"
        return [(base / name, why) for name, why in _APP_DIR_NAMES]

    def custom_user_data_dirs(self) -> list[tuple[Path, str]]:
        """Data directories named by the 2.x boot config and the 1.x config, plus portable builds' `<exe dir>/data`.

        Every configured directory is listed whether it exists or not; malformed files and entries are
        skipped (see `custom_dir_problems`).
        """
        return _scan_custom_dirs(self)[0]

    def custom_dir_problems(self) -> list[str]:
        """Why parts of the custom data directory files were skipped, one phrase each."""
        return _scan_custom_dirs(self)[1]

    def _env_dir(self, name: str) -> Path | None:
        # A relative directory in the environment would be resolved against our working directory, not the
        # app's: treat it as unset.
        value = self.env.get(name, "")
        return Path(value) if value and Path(value).is_absolute() else None

    def _expand(self, value: str) -> Path:
        if value == "~" or value.startswith(("~/", "~\\")):
            return self.home / value[2:]
        return Path(value)


def _scan_custom_dirs(ctx: Context) -> tuple[_Found, list[str]]:
    found: _Found = []
    problems: list[str] = []
    _scan_boot_config(ctx.cherry_home / "boot-config.json", found, problems)
    _scan_legacy_config(ctx.cherry_home / "config" / "config.json", found, problems)
    return found, problems


def _read_json_object(path: Path, name: str, problems: list[str]) -> dict[str, object] | None:
    try:
        with open_regular(path, _CONFIG_LIMIT) as f:
            text = f.read(_CONFIG_LIMIT + 1).decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(_("{name} could not be read ({exc})").format(name=name, exc=exc))
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        problems.append(_("{name} is not valid JSON").format(name=name))
        return None
    if not isinstance(data, dict):
        problems.append(_("{name} does not hold a JSON object").format(name=name))
        return None
    return data


def _add_dir(value: str, why: str, where: str, found: _Found, problems: list[str]) -> None:
    path = Path(value)
    if path.is_absolute():
        found.append((path, why))
    else:
        problems.append(_("{where} names {path!r}, which is not an absolute path").format(where=where, path=value))


def _add_portable(exe: str, where: str, found: _Found) -> None:
    # Without a usable configured directory the portable build keeps its data in <exe dir>/data.
    exe_path = Path(exe)
    if exe_path.name.lower() == _PORTABLE_EXE_NAME and exe_path.is_absolute():
        found.append((exe_path.parent / "data", _("portable build {exe} (from {where})").format(exe=exe, where=where)))


def _scan_boot_config(path: Path, found: _Found, problems: list[str]) -> None:
    config = _read_json_object(path, BOOT_CONFIG_NAME, problems)
    if config is None or _BOOT_CONFIG_KEY not in config:
        return
    mapping = config[_BOOT_CONFIG_KEY]
    if mapping is None:
        return
    if not isinstance(mapping, dict):
        problems.append(_("{boot_config_name} key {boot_config_key} is not a map of executable to directory").format(
                            boot_config_name=BOOT_CONFIG_NAME, boot_config_key=_BOOT_CONFIG_KEY))
        return
    for exe, data_dir in mapping.items():
        if not isinstance(data_dir, str) or not data_dir:
            problems.append(_("{boot_config_name} entry for {exe} is not a directory path").format(
                                boot_config_name=BOOT_CONFIG_NAME, exe=exe))
            continue
        why = _("custom data directory in {boot_config_name} for {exe}").format(
                  boot_config_name=BOOT_CONFIG_NAME, exe=exe)
        _add_dir(data_dir, why, BOOT_CONFIG_NAME, found, problems)
        _add_portable(exe, BOOT_CONFIG_NAME, found)


def _scan_legacy_config(path: Path, found: _Found, problems: list[str]) -> None:
    config = _read_json_object(path, LEGACY_CONFIG_NAME, problems)
    if config is None:
        return
    value = config.get("appDataPath")
    if not value:  # the app ignores a missing or empty appDataPath
        return
    if isinstance(value, str):
        # The old form, applied to every executable.
        _add_dir(value, _("custom data directory in {legacy_config_name}").format(
                            legacy_config_name=LEGACY_CONFIG_NAME), LEGACY_CONFIG_NAME, found, problems)
        return
    if not isinstance(value, list):
        problems.append(_("{legacy_config_name} appDataPath is neither a path nor a list").format(
                            legacy_config_name=LEGACY_CONFIG_NAME))
        return
    for index, entry in enumerate(value):
        exe = entry.get("executablePath") if isinstance(entry, dict) else None
        data_dir = entry.get("dataPath") if isinstance(entry, dict) else None
        if not isinstance(exe, str) or not isinstance(data_dir, str) or not data_dir:
            problems.append(_("{legacy_config_name} appDataPath entry {index} lacks executablePath or dataPath").format(
                                legacy_config_name=LEGACY_CONFIG_NAME, index=index))
            continue
        why = _("custom data directory in {legacy_config_name} for {exe}").format(
                  legacy_config_name=LEGACY_CONFIG_NAME, exe=exe)
        _add_dir(data_dir, why, LEGACY_CONFIG_NAME, found, problems)
        _add_portable(exe, LEGACY_CONFIG_NAME, found)
