"""Running the real command line from a test, in an environment that cannot reach the real home.

`cli(*args, env=..., input=..., cwd=..., base_env=...)` runs `python -m cherryconf ARGS` in a subprocess, exactly
as a user would, and returns a CliResult(code, out, err); the `run_cli` fixture (conftest.py) is the same with the
test's tmp dir as the working directory. `isolated_environ(root, base)` is the environment every test runs in.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple, Protocol

import cherryconf
from testing import winlane

# The directory holding the `cherryconf` package this test run imports (the checkout, or site-packages when it
# is installed): the subprocess gets it first on PYTHONPATH, so it runs the very code the tests import.
PACKAGE_ROOT = Path(cherryconf.__file__).resolve().parent.parent

# What decides the language the CLI speaks (cherryconf.i18n): English unless a test asks for Chinese.
LANGUAGE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "CHERRYCONF_LANG")


def _english_locale() -> str:
    """en_US.UTF-8 where the machine has it; else C.UTF-8 (English too): tools the tests run, such as Ansible,
    refuse a locale the C library does not know."""
    import locale

    saved = locale.setlocale(locale.LC_ALL)
    try:
        locale.setlocale(locale.LC_ALL, "en_US.UTF-8")
    except locale.Error:
        return "C.UTF-8"
    finally:
        locale.setlocale(locale.LC_ALL, saved)
    return "en_US.UTF-8"


ENGLISH = _english_locale()


def isolated_environ(root: Path, base: Mapping[str, str]) -> dict[str, str]:
    """`base` with the home-like variables pointed under `root` and those naming real directories removed."""
    env = {k: v for k, v in base.items()
           if k != "CHERRYCONF_DATA_DIR" and not k.startswith("XDG_") and k not in LANGUAGE_VARIABLES}
    env["LANG"] = ENGLISH
    env["HOME"] = env["USERPROFILE"] = str(root / "_home")
    env["CHERRYCONF_HOME"] = str(root / "_cherryconf_home")
    # No keychain unless a test starts its own (tests/testing/secret_service.py): never the developer's.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/cherryconf-test-bus"
    (root / "_home").mkdir(parents=True, exist_ok=True)
    return env


def fingerprint(root: Path) -> dict[str, str]:
    """Every file under root with its SHA-256: equal fingerprints mean byte-identical trees."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


class CliResult(NamedTuple):
    code: int
    out: str
    err: str


def cli(
    *args: str,
    env: Mapping[str, str | None] | None = None,
    input: str = "",
    cwd: Path | None = None,
    timeout: float = 60,
    base_env: Mapping[str, str] | None = None,
) -> CliResult:
    """Run `python -m cherryconf ARGS` with `base_env` (default: this process's) plus `env`; None unsets."""
    child_env = dict(os.environ if base_env is None else base_env)
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), child_env.get("PYTHONPATH", "")) if p)
    child_env["PYTHONIOENCODING"] = "utf-8"
    for name, value in (env or {}).items():
        if value is None:
            child_env.pop(name, None)
        else:
            child_env[name] = value
    proc = winlane.run(
        [sys.executable, "-m", "cherryconf", *args],
        env=child_env,
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


class RunCli(Protocol):
    def __call__(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        input: str = "",
        cwd: Path | None = None,
        timeout: float = 60,
    ) -> CliResult: ...
