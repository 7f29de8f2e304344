"""A real keychain for the tests, never the developer's own.

Linux: a private D-Bus session bus (`dbus-daemon`) and Debian's `gnome-keyring-daemon` on it, its keyrings in a
temporary XDG_DATA_HOME, the login collection created and unlocked with a password fed on stdin (what a desktop
login does). The tests point DBUS_SESSION_BUS_ADDRESS at that bus; every other test points it at no bus at all
(tests/testing/cli.isolated_environ), so nothing reaches the Secret Service of the session the tests run in.

Windows (the Wine lane): the `keyring` library's Credential Manager backend, if Wine's CredWrite/CredRead work;
the fixture skips, saying so, when they do not.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PASSWORD = "cherryconf-test-login"
SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
WINDOWS = "keyring.backends.Windows.WinVaultKeyring"
NO_KEYCHAIN = "keyring.backends.fail.Keyring"
NO_BUS = "unix:path=/nonexistent/cherryconf-test-bus"


class Unavailable(Exception):
    """This machine cannot run a test keychain (the reason says why)."""


def _wait_for_secret_service(env: dict[str, str]) -> None:
    probe = ("import secretstorage; c = secretstorage.dbus_init(); "
             "assert secretstorage.check_service_availability(c); "
             "assert not secretstorage.get_default_collection(c).is_locked()")
    deadline = time.monotonic() + 15
    while True:
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise Unavailable(f"gnome-keyring did not answer on the test bus: {done.stderr.strip()[-300:]}")
        time.sleep(0.2)


@contextlib.contextmanager
def linux_keychain() -> Iterator[dict[str, str]]:
    """Start the bus and the daemon; yield the variables that lead to them; stop both (by their own pids)."""
    for tool in ("dbus-daemon", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            raise Unavailable(f"{tool} is not installed (scripts/test installs dbus and gnome-keyring)")
    root = Path(tempfile.mkdtemp(prefix="cherryconf-keychain-"))
    (root / "run").mkdir(mode=0o700)
    (root / "data").mkdir()
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                            f"--address=unix:path={root / 'run' / 'bus'}"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    keyring_daemon: subprocess.Popen[str] | None = None
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        if not address:
            raise Unavailable("dbus-daemon printed no address")
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}  # no unlock prompt
        env.update({"DBUS_SESSION_BUS_ADDRESS": address, "XDG_DATA_HOME": str(root / "data"),
                    "XDG_RUNTIME_DIR": str(root / "run"), "PYTHON_KEYRING_BACKEND": SECRET_SERVICE})
        keyring_daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, env=env)
        assert keyring_daemon.stdin is not None
        keyring_daemon.stdin.write(PASSWORD)
        keyring_daemon.stdin.close()
        _wait_for_secret_service(env)
        yield {k: env[k] for k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "PYTHON_KEYRING_BACKEND")}
    finally:
        for proc in (keyring_daemon, bus):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if bus.stdout is not None:
            bus.stdout.close()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def windows_keychain() -> Iterator[dict[str, str]]:
    """The Credential Manager, when it keeps and gives back a credential here (under Wine it may not)."""
    from keyring.backends import Windows

    backend = Windows.WinVaultKeyring()
    try:
        backend.set_password("cherryconf-test-probe", "probe", "probe-secret")
        works = backend.get_password("cherryconf-test-probe", "probe") == "probe-secret"
        backend.delete_password("cherryconf-test-probe", "probe")
    except Exception as e:
        raise Unavailable(f"the Credential Manager refused a test credential ({type(e).__name__}: {e})") from None
    if not works:
        raise Unavailable("the Credential Manager did not give back a test credential")
    yield {"PYTHON_KEYRING_BACKEND": WINDOWS}


def lock_default_collection(env: dict[str, str]) -> None:
    """Lock the test login keyring (what a screen lock or a fresh boot leaves)."""
    code = "import secretstorage; c = secretstorage.dbus_init(); secretstorage.get_default_collection(c).lock()"
    subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, check=True, timeout=30)

