"""A new user's first ten minutes (issue 27): each paper cut, through the real CLI on real 1.x and 2.x stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from testing import v2db
from testing.cli import fingerprint

PROFILE = """\
version: 1
providers:
  - id: gw
    name: GW
    apiHost: https://gw.example
    apiKey: sk-test-0123456789abcdef
    models: [gpt-4.1]
defaultModel: gw/gpt-4.1
"""


def write(tmp_path: Path, text: str, name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", ["--check", "--dry-run", "--yes"])
def test_a_2_0_8_database_without_a_preference_table_is_refused_alike_by_check_and_apply(
        tmp_path: Path, run_cli: Any, mode: str) -> None:
    install = v2db.build(tmp_path / "userData", "release")
    (install.data_dir / "version.log").write_text("2.0.8|linux|prod|packaged|install|2026-08-22T10:00:00.000Z\n",
                                                  encoding="utf-8")
    conn = sqlite3.connect(install.sqlite_path)
    conn.execute("DROP TABLE preference")
    conn.commit()
    conn.close()
    profile = write(tmp_path, PROFILE)
    before = fingerprint(install.data_dir)
    result = run_cli("--data-dir", str(install.data_dir), "apply", str(profile), mode)
    # The refusal apply meets when it writes, met while planning: --check predicts no change apply cannot make.
    assert (result.code, result.out) == (4, "")
    assert result.err == ("cherryconf: Cherry Studio's database has no preference table to hold the default "
                          "model\n")
    assert fingerprint(install.data_dir) == before
    assert not list((tmp_path / "_cherryconf_home").glob("backups/*/*"))
