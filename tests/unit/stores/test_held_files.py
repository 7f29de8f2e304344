"""A file another process holds open during a swap (Windows): an antivirus scan, the search indexer, a sync client.

Windows refuses to rename a file that another process has open without delete sharing (Python's own `open`
shares read and write only, as those programs do), so these run in the Windows lane; POSIX renames never wait.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from testing import v2db
from testing.cli import RunCli
from testing.stores import KEY, PROFILE

from cherryconf import fsutil
from cherryconf.errors import StoreError

pytestmark = pytest.mark.skipif(sys.platform != "win32",
                                reason="only Windows refuses to rename a file another process holds open")


def hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that opens `path` and holds it for `seconds`; returns once the file is open."""
    code = "import sys, time\nf = open(sys.argv[1], 'rb')\nprint('held', flush=True)\ntime.sleep(float(sys.argv[2]))"
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_briefly_held_file_is_replaced_once_let_go(tmp_path: Path) -> None:
    src, dst = tmp_path / "new", tmp_path / "store"
    src.write_bytes(b"new")
    dst.write_bytes(b"old")
    holder = hold(dst, 1.0)
    try:
        fsutil.rename(src, dst)
    finally:
        holder.wait(timeout=30)
    assert dst.read_bytes() == b"new" and not src.exists()


def test_a_file_held_too_long_is_one_sentence_and_nothing_is_lost(tmp_path: Path) -> None:
    src, dst = tmp_path / "new", tmp_path / "store"
    src.write_bytes(b"new")
    dst.write_bytes(b"old")
    holder = hold(dst, 60)
    started = time.monotonic()
    try:
        with pytest.raises(StoreError, match="held open by another program") as raised:
            fsutil.rename(src, dst)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert time.monotonic() - started < 15  # a bounded wait, not a hang
    assert "\n" not in raised.value.message
    assert (src.read_bytes(), dst.read_bytes()) == (b"new", b"old")


def test_a_v2_restore_waits_for_a_database_held_briefly(tmp_path: Path, run_cli: RunCli) -> None:
    install = v2db.build(tmp_path / "CherryStudio")
    before = v2db.dump(install)
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    data_dir = str(install.data_dir)
    assert run_cli("--data-dir", data_dir, "apply", str(profile), "--yes", env={"GW_KEY": KEY}).code == 0
    # Held for 4 s from before the CLI starts: the CLI usually reaches the swap within that, and its wait (about
    # 5 s at most) outlasts the hold, so this cannot fail by timing.
    holder = hold(install.sqlite_path, 4.0)
    try:
        # --whole: the swap of the database file (an undo writes rows in a transaction and renames nothing).
        restored = run_cli("--data-dir", data_dir, "restore", "--whole", "--yes")
    finally:
        holder.wait(timeout=30)
    assert restored.code == 0, restored.err
    assert v2db.dump(install) == before
