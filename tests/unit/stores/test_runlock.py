"""cherryconf's own lock per install (cherryconf/stores/runlock.py): one writer at a time, waited for, gone with it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testing.cli import PACKAGE_ROOT
from testing.privacy import assert_private
from testing.v1state import make_userdata

from cherryconf.errors import Busy, ExitCode, one_line
from cherryconf.paths import Context
from cherryconf.stores import runlock
from cherryconf.stores.install import Install, inspect


def context(**env: str) -> Context:
    return Context(home=Path.home(), env={**os.environ, **env}, system="linux")


def holder(install: Install, seconds: float) -> subprocess.Popen[str]:
    """Another process that holds the install's lock for `seconds` (or until killed)."""
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom cherryconf.stores import runlock\n"
        "from cherryconf.stores.install import inspect\nfrom cherryconf.paths import Context\n"
        f"with runlock.hold(Context.from_os(), inspect(Path({str(install.data_dir)!r}), 'test')):\n"
        f"    print('held', flush=True)\n    time.sleep({seconds})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)})
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


@pytest.fixture
def install(tmp_path: Path) -> Install:
    return inspect(make_userdata(tmp_path), "test")


def test_nested_holds_share_one_lock_and_release_it_at_the_end(install: Install) -> None:
    ctx = context()
    with runlock.hold(ctx, install), runlock.hold(ctx, install), runlock.try_hold(ctx, install) as alone:
        assert alone
    # Released: another process can take it now.
    holder(install, 0).wait(timeout=10)


def test_the_lock_file_is_private(install: Install) -> None:
    with runlock.hold(context(), install):
        pass
    lock = Path(os.environ["CHERRYCONF_HOME"]) / "locks" / f"{install.key}.lock"
    assert_private(lock.parent)
    if sys.platform != "win32":  # on Windows the lock file holds only a pid, private by its folder's inheritance
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600


def test_a_held_lock_is_waited_for(install: Install) -> None:
    proc = holder(install, 0.5)
    started = time.monotonic()
    with runlock.hold(context(CHERRYCONF_LOCK_WAIT="10"), install):
        assert time.monotonic() - started >= 0.3
    proc.wait(timeout=10)


def test_a_lock_held_too_long_is_refused_naming_the_holder(install: Install) -> None:
    proc = holder(install, 30)
    try:
        with runlock.try_hold(context(), install) as alone:
            assert not alone
        with pytest.raises(Busy) as caught, runlock.hold(context(CHERRYCONF_LOCK_WAIT="0.2"), install):
            pass
        assert caught.value.exit_code == ExitCode.APP_RUNNING
        assert f"another cherryconf (process {proc.pid}) is writing to {install.data_dir}" in caught.value.message
    finally:
        proc.kill()  # SIGKILL; TerminateProcess on Windows
        proc.wait(timeout=10)
    # The kernel let go of the killed holder's lock.
    with runlock.hold(context(CHERRYCONF_LOCK_WAIT="0"), install):
        pass


def test_every_message_is_one_line() -> None:
    assert one_line("bad\nname\r\x07\x1b[31m\u2028end é 中") == "bad\\nname\\r\\x07\\x1b[31m\\u2028end é 中"
    assert Busy("a\nb").message == "a\\nb"
