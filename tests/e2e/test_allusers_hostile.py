"""`apply --all-users` run by root trusts no user (issue 25), with real accounts made by `useradd` (removed after).

Each test drives `allusers.find` and `allusers.run` for the accounts it made, never the machine's other users, so
no real home is touched. Root is needed (to make accounts and to switch to them): the test machine and CI are.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from testing.stores import KEY, PROFILE
from testing.v1state import make_userdata

from cherryconf import render
from cherryconf.ops import allusers
from cherryconf.stores import open_store
from cherryconf.stores.install import inspect

pytestmark = [
    pytest.mark.posix_only,
    pytest.mark.skipif(sys.platform == "win32" or os.geteuid() != 0 or shutil.which("useradd") is None,
                       reason="making accounts and switching to them needs root and useradd"),
]

if sys.platform != "win32":
    import pwd


@pytest.fixture
def base() -> Iterator[Path]:
    """A directory every account can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="cherryconf-allusers-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_user(base: Path) -> Iterator[Callable[[str], allusers.User]]:
    made: list[str] = []

    def make(tag: str) -> allusers.User:
        name = f"cc25{tag}{os.getpid() % 100000}"
        home = base / name
        subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin",
                        name], check=True)
        made.append(name)
        entry = pwd.getpwnam(name)
        home.mkdir(mode=0o700)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        return allusers.User(name, home, entry.pw_uid, entry.pw_gid)

    yield make
    for name in made:
        subprocess.run(["userdel", name], check=False)


def give(user: allusers.User, *paths: Path) -> None:
    """Everything under `paths` belongs to the user, as it would had the user's app made it."""
    for top in paths:
        for p in [top, *top.rglob("*")]:
            os.chown(p, user.uid, user.gid, follow_symlinks=False)  # type: ignore[arg-type]


@pytest.fixture
def profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GW_KEY", KEY)
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return path


def ids(data_dir: Path) -> list[str]:
    return [str(p["id"]) for p in open_store(inspect(data_dir, "test")).read().providers]


def test_an_install_only_root_can_read_works_for_every_user(base: Path, make_user: Callable[[str], allusers.User],
                                                             tmp_path: Path) -> None:
    """cherryconf under a 0700 directory (a venv in /root): the children had it all loaded before giving up root."""
    alice = make_user("a")
    data = make_userdata(alice.home / ".config")
    give(alice, alice.home)
    private = tmp_path / "root-only"
    private.mkdir(mode=0o700)
    shutil.copytree(Path(allusers.__file__).resolve().parents[1], private / "cherryconf")
    for top in ("schemas", "templates"):
        shutil.copytree(Path(allusers.__file__).resolve().parents[2] / top, private / top)
    (tmp_path / "profile.yaml").write_text(PROFILE, "utf-8")
    script = f"""
import json, sys
sys.path.insert(0, {str(private)!r})
from pathlib import Path
from cherryconf.ops import allusers
assert allusers.__file__.startswith({str(private)!r})
user = allusers.User({alice.name!r}, Path({str(alice.home)!r}), {alice.uid}, {alice.gid})
targets, problems = allusers.find([user], "linux")
outcomes = allusers.run(targets, Path({str(tmp_path / 'profile.yaml')!r}), None, "apply", 20, "linux")
print(json.dumps([[o.exit_code, o.error] for o in problems + outcomes]))
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"GW_KEY": KEY}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [[0, None]]
    assert ids(data)[0] == "gw"


def test_a_fifo_or_a_device_in_place_of_a_users_files_does_not_hold_up_the_run(
        make_user: Callable[[str], allusers.User], profile: Path) -> None:
    bob = make_user("b")
    data = make_userdata(bob.home / ".config")
    (bob.home / ".cherrystudio" / "config").mkdir(parents=True)
    os.mkfifo(bob.home / ".cherrystudio" / "config" / "config.json")
    os.mkfifo(bob.home / ".cherrystudio" / "boot-config.json")
    (data / "version.log").unlink(missing_ok=True)
    (data / "version.log").symlink_to("/dev/zero")
    give(bob, bob.home)
    start = time.monotonic()
    targets, problems = allusers.find([bob], "linux")
    assert [t.install.data_dir for t in targets] == [data] and problems == []
    assert targets[0].install.app_version is None  # /dev/zero is no version.log
    outcomes = allusers.run(targets, profile, None, "apply", 20, "linux")
    assert [o.exit_code for o in outcomes] == [0], outcomes
    assert time.monotonic() - start < 60


def test_a_stopped_or_hanging_child_is_killed_at_its_deadline(make_user: Callable[[str], allusers.User],
                                                                profile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    carol = make_user("c")
    data = make_userdata(carol.home / ".config")
    give(carol, carol.home)
    targets, _problems = allusers.find([carol], "linux")
    monkeypatch.setattr(allusers, "USER_DEADLINE", 3.0)
    # Carol stops her own child (she may signal a process that runs as her): root must not wait for it.
    stopper = threading.Thread(target=_stop_children_of, args=(os.getpid(), carol.uid), daemon=True)
    stopper.start()
    start = time.monotonic()
    (outcome,) = allusers.run(targets, profile, None, "apply", 20, "linux")
    assert time.monotonic() - start < 15
    assert outcome.exit_code == 1 and outcome.error is not None
    assert "took longer than 3 s and was stopped" in outcome.error and "\n" not in outcome.error
    assert ids(data)[0] != "gw"  # nothing written

    # A FIFO in place of the store's CURRENT blocks the open: the deadline ends that too.
    leveldb = data / "Local Storage" / "leveldb"
    (leveldb / "CURRENT").unlink()
    os.mkfifo(leveldb / "CURRENT")
    give(carol, leveldb)
    start = time.monotonic()
    (outcome,) = allusers.run(targets, profile, None, "apply", 20, "linux")
    assert time.monotonic() - start < 15 and outcome.exit_code != 0


def _stop_children_of(parent: int, uid: int) -> None:
    import psutil

    until = time.monotonic() + 20
    while time.monotonic() < until:
        for child in psutil.Process(parent).children():
            try:
                if child.uids().real == uid:
                    child.send_signal(signal.SIGSTOP)
                    return
            except psutil.Error:
                pass
        time.sleep(0.01)


def test_a_data_directory_counts_for_the_user_who_owns_it(make_user: Callable[[str], allusers.User]) -> None:
    """Erin names dave's data directory in her own settings (and comes first): it is still dave's."""
    erin, dave = make_user("e"), make_user("d")
    dave_data = make_userdata(dave.home / "data")
    (erin.home / ".cherrystudio" / "config").mkdir(parents=True)
    (erin.home / ".cherrystudio" / "config" / "config.json").write_text(json.dumps({"appDataPath": str(dave_data)}))
    give(erin, erin.home)
    give(dave, dave.home)
    dave.home.chmod(0o755)  # erin can even read it: reading is not owning
    (dave.home / ".cherrystudio" / "config").mkdir(parents=True)
    (dave.home / ".cherrystudio" / "config" / "config.json").write_text(json.dumps({"appDataPath": str(dave_data)}))
    give(dave, dave.home)
    targets, problems = allusers.find([erin, dave], "linux")
    assert [(t.user.name, t.install.data_dir) for t in targets] == [(dave.name, dave_data)] and problems == []


def test_control_characters_from_a_user_never_reach_the_terminal(make_user: Callable[[str], allusers.User],
                                                                  profile: Path) -> None:
    frank = make_user("f")
    evil = make_userdata(frank.home / "data\x1b]0;owned\x07\x1b[2K\rroot: everything fine\u202e")
    (frank.home / ".cherrystudio" / "config").mkdir(parents=True)
    (frank.home / ".cherrystudio" / "config" / "config.json").write_text(json.dumps({"appDataPath": str(evil)}))
    give(frank, frank.home)
    targets, problems = allusers.find([frank], "linux")
    assert [t.install.data_dir for t in targets] == [evil]
    outcomes = allusers.run(targets, profile, None, "dry-run", 20, "linux")
    text = render.all_users_text(problems + outcomes, "dry-run")
    assert not any(c in text for c in "\x1b\x07\r\u202e") and text.count("\n") == len(outcomes) - 1
    assert "\\x1b]0;owned\\x07" in text
