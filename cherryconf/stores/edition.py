"""Which edition of Cherry Studio is installed here: the global one, or the China edition ("Cherry Studio 中国版").

The edition is a property of the installed app, not of its data: both editions keep their data in the same
userData folder (inferred, facts file section 9). The app itself reads it from its packaged package.json, key
`cherryEdition` (`cn`, else global) (src/main/utils/appEdition.ts, CherryHQ/cherry-studio, read at the commit of
PR #19776; the China build sets it as `extraMetadata`: electron-builder.cn.config.cjs at 22f67fd4, which also
names the product "Cherry Studio 中国版", the link scheme `cherrystudio-cn` and the app id
`com.cherryai.cherrystudio.cn`). cherryconf reads the same key in the installed app's resources: the unpacked
`app/package.json`, or `package.json` inside `app.asar`.
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cherryconf.domain.catalog import resource_dirs

Edition = Literal["global", "cn"]
SCHEME: dict[Edition, str] = {"global": "cherrystudio", "cn": "cherrystudio-cn"}
PRODUCT: dict[Edition, str] = {"global": "Cherry Studio", "cn": "Cherry Studio 中国版"}
# Presets the China edition hides from its provider API (PR #19776, merged): a provider written under one of these
# ids is not shown there.
GLOBAL_ONLY_PRESETS = frozenset({"openai", "anthropic", "gemini"})

_MAX_ASAR_HEADER = 64 * 1024 * 1024  # an app's asar index is a few MB; more is not one
_MAX_PACKAGE_JSON = 1024 * 1024


@dataclass(frozen=True)
class Found:
    edition: Edition
    resources: Path  # where it was read


def _china_dirs(env: Mapping[str, str], platform: str) -> list[Path]:
    """Where the China edition's installers put its resources (electron-builder's defaults for its product and
    executable names; inferred, not seen on a machine). macOS is already among catalog.resource_dirs."""
    if platform == "win32":
        return [Path(env[var]) / sub / name / "resources"
                for var, sub in (("LOCALAPPDATA", "Programs"), ("PROGRAMFILES", "")) if env.get(var)
                for name in ("Cherry Studio 中国版", "Cherry Studio CN")]
    if platform == "darwin":
        return []
    return [Path("/opt") / name / "resources" for name in ("Cherry Studio 中国版", "CherryStudioCN")]


def _asar_file(asar: Path, name: str) -> bytes | None:
    """One top-level file of an asar archive: a pickled header size, a JSON index, then the files' bytes."""
    try:
        with asar.open("rb") as f:
            head = f.read(16)
            if len(head) < 16:
                return None
            _four, header_size, _payload, json_size = struct.unpack("<4I", head)
            if json_size > _MAX_ASAR_HEADER or header_size < json_size:
                return None
            index = json.loads(f.read(json_size).decode("utf-8"))
            entry = index["files"][name]
            size, offset = int(entry["size"]), int(entry["offset"])
            if size > _MAX_PACKAGE_JSON:
                return None
            f.seek(8 + header_size + offset)
            data = f.read(size)
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, struct.error):
        return None
    return data if len(data) == size else None


def _read(resources: Path) -> Edition | None:
    """The edition the app in `resources` was built as, or None when no app is there."""
    unpacked = resources / "app" / "package.json"
    try:
        data: bytes | None = unpacked.read_bytes() if unpacked.is_file() else None
    except OSError:
        data = None
    if data is None:
        data = _asar_file(resources / "app.asar", "package.json")
    if data is None:
        return None
    try:
        value = json.loads(data.decode("utf-8")).get("cherryEdition")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    return "cn" if value == "cn" else "global"


def detect(env: Mapping[str, str] | None = None, platform: str = sys.platform) -> Found | None:
    """The installed edition (the first app found in the installers' places; CHERRYCONF_CHERRY_RESOURCES first), or
    None when no installed app is found: then the global edition's rules apply."""
    import os

    env = os.environ if env is None else env
    for d in [*resource_dirs(env, platform), *_china_dirs(env, platform)]:
        edition = _read(d)
        if edition is not None:
            return Found(edition, d)
    return None
