"""Every store kind a suite runs on (a 1.x LevelDB written by plyvel, both 2.x database shapes), the shared
profile, and the real CLI's view of a store: its providers, its files' fingerprint."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from testing import v2db
from testing.v1state import make_userdata

KEY = "sk-shared-suite-0123456789"
STORES = ["v1", "v2-release", "v2-later"]
PROFILE = """\
version: 1
providers:
  - id: gw
    name: 网关 Gateway
    apiHost: https://gw.example.com/v1/chat/completions
    apiKey: ${GW_KEY}
    models:
      - gpt-4.1
      - id: deepseek-r1
        name: DeepSeek R1
defaultModel: gw/deepseek-r1
"""


@pytest.fixture(params=STORES)
def data_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    kind: str = request.param
    if kind == "v1":
        return make_userdata(tmp_path)
    shape = "release" if kind == "v2-release" else "later"
    return v2db.build(tmp_path / "CherryStudio", shape).data_dir


def store_bytes(data_dir: Path) -> dict[str, str]:
    """A fingerprint of every store file (LOCK excluded: opening the store may create it)."""
    root = data_dir / "Data" if (data_dir / "Data").is_dir() else data_dir / "Local Storage" / "leveldb"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())
            if p.is_file() and p.name != "LOCK"}


def providers(run_cli: Any, data_dir: Path) -> list[dict[str, Any]]:
    result = run_cli("--data-dir", str(data_dir), "providers", "--json")
    assert result.code == 0, result.err
    listed: list[dict[str, Any]] = json.loads(result.out)["providers"]
    return listed


def write_profile(tmp_path: Path, text: str = PROFILE, name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def apply(run_cli: Any, data_dir: Path, profile: Path, *args: str) -> Any:
    return run_cli("--data-dir", str(data_dir), "apply", str(profile), *args, env={"GW_KEY": KEY})


# An owner's profile (see tests/unit/stores/test_owners.py).
IT = """\
version: 1
owner: it-dept
providers:
  - id: corp-a
    apiHost: https://a.example.com
    apiKey: ${GW_KEY}
    models: [gpt-4.1]
  - id: corp-b
    apiHost: https://b.example.com
    apiKey: ${GW_KEY}
    models: [o3]
"""
