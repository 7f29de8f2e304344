"""The real CLI run in a subprocess after a patch (a crash, a failing write), and what a failing run must print."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from testing import v2db
from testing.cli import PACKAGE_ROOT, CliResult
from testing.v1state import make_userdata

P1 = """\
version: 1
providers:
  - id: gw
    name: Gateway 🚀
    apiHost: https://gw.example/v1
    apiKey: sk-gw-0123456789abcdef
    models:
      - gpt-4.1
      - id: claude-sonnet-4
        name: Claude Sonnet 4
        capabilities: [vision, function_calling]
defaultModel: gw/gpt-4.1
"""


def run_py(prelude: str, *args: str, env: Mapping[str, str] | None = None) -> CliResult:
    """The real CLI in a subprocess, after `prelude` (Python) has patched something in that process."""
    script = f"import sys\n{prelude}\nfrom cherryconf.cli import main\nmain(sys.argv[1:])\n"
    child_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=child_env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def one_line_error(result: CliResult, code: int) -> str:
    """The one sentence a failing command prints: exit `code`, one stderr line starting `cherryconf: `."""
    assert result.code == code, result
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cherryconf: "), result.err
    return lines[0]


def write_profile(directory: Path, text: str, name: str = "profile.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def make_install(tmp_path: Path, kind: str, name: str = "a") -> Path:
    if kind == "v1":
        return make_userdata(tmp_path / name)
    return v2db.build(tmp_path / name / "CherryStudio").data_dir
