"""Shared test set-up: every test runs in a fake home, and `run_cli` runs the real command line.

Isolation (autouse, nothing to ask for): `HOME` (and Windows' `USERPROFILE`) and `CHERRYCONF_HOME` point into the
test's own tmp dir; `CHERRYCONF_DATA_DIR` and every `XDG_*` variable are unset. The CLI speaks English, in this
process and in every CLI it starts: `LANG=en_US.UTF-8` (C.UTF-8 where the machine lacks it), and no `LANGUAGE`,
`LC_ALL`, `LC_MESSAGES` or `CHERRYCONF_LANG` (a test that wants Chinese passes `env={"LANG": "zh_CN.UTF-8"}`).
A subprocess started by `run_cli` inherits this environment, so neither the test nor the CLI it runs can reach the
real home, the real Cherry Studio or the real backups.

`run_cli` runs `python -m cherryconf ARGS...` in a subprocess, exactly as a user would:

    def test_version(run_cli):
        code, out, err = run_cli("--version")
        assert code == 0

    result = run_cli("link", str(profile), env={"APIYI_API_KEY": "sk-test", "HTTP_PROXY": None})
    result.code, result.out, result.err   # a CliResult also unpacks as (code, out, err)

`env` adds variables to the (isolated) environment; a value of None removes one. `input` is fed to stdin
(default: empty, so the CLI sees no terminal). `cwd` defaults to the test's tmp dir.

Outside a test function (a module-scoped fixture running many commands at once), use the plain functions of
tests/testing/cli.py: `cli(*args, base_env=isolated_environ(root, os.environ), cwd=root)`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from testing import winlane
from testing.cli import ENGLISH, LANGUAGE_VARIABLES, CliResult, RunCli, cli, isolated_environ

# Set before any test module imports cherryconf.i18n, which chooses the language once, on import.
for _name in LANGUAGE_VARIABLES:
    os.environ.pop(_name, None)
os.environ["LANG"] = ENGLISH
winlane.install()  # on Windows: every subprocess.run starts its child once more after Wine's start-up flake


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `wine` need the lane's Windows Python (scripts/test-windows names it): deselected without it.
    On Windows, skip (with the reason) what cannot run there: POSIX-only tests and real Chromium (the lane has no
    Windows Chromium; the `wine` tests drive the Windows CLI against Linux Chromium instead)."""
    if not os.environ.get("CHERRYCONF_WINE_PYTHON"):
        wine = [item for item in items if item.get_closest_marker("wine")]
        if wine:
            config.hook.pytest_deselected(items=wine)
            items[:] = [item for item in items if not item.get_closest_marker("wine")]
    if sys.platform != "win32":
        return
    reasons = {"posix_only": "POSIX only by nature", "chromium": "no Chromium in the Windows lane"}
    for item in items:
        for name, reason in reasons.items():
            if item.get_closest_marker(name):
                item.add_marker(pytest.mark.skip(reason=reason))
                break


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Apply `isolated_environ(tmp_path)` to this process for the length of the test; returns the fake HOME."""
    wanted = isolated_environ(tmp_path, os.environ)
    for name in set(os.environ) - set(wanted):
        monkeypatch.delenv(name)
    for name, value in wanted.items():
        if os.environ.get(name) != value:
            monkeypatch.setenv(name, value)
    return tmp_path / "_home"


@pytest.fixture(scope="session")
def _session_keychain() -> Iterator[dict[str, str] | str]:
    """A real keychain for the whole run (tests/testing/secret_service.py), or why there is none here."""
    from testing import secret_service

    start = secret_service.windows_keychain if sys.platform == "win32" else secret_service.linux_keychain
    try:
        with start() as env:
            yield env
    except secret_service.Unavailable as e:
        yield str(e)


@pytest.fixture
def keychain(_session_keychain: dict[str, str] | str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """This test (and every CLI it runs) talks to the test keychain: the variables that lead to it."""
    import keyring.core
    from keyring.backends import fail

    if isinstance(_session_keychain, str):
        pytest.skip(f"no test keychain: {_session_keychain}")
    for name, value in _session_keychain.items():
        monkeypatch.setenv(name, value)
    keyring.core.init_backend()  # keyring keeps the backend it chose first: choose again, from these variables
    yield _session_keychain
    keyring.set_keyring(fail.Keyring())  # as the isolation has it for the next test


@pytest.fixture
def run_cli(tmp_path: Path) -> RunCli:
    """`run_cli(*args, env=None, input="", cwd=None, timeout=60) -> CliResult(code, out, err)`."""

    def run(
        *args: str,
        env: Mapping[str, str | None] | None = None,
        input: str = "",
        cwd: Path | None = None,
        timeout: float = 60,
    ) -> CliResult:
        return cli(*args, env=env, input=input, cwd=cwd or tmp_path, timeout=timeout)

    return run
