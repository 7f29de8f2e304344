"""apply --all-users: finding every user's install, applying as each user, one failure not stopping the rest.

Fake homes stand for the users (the real machine's homes are never searched); the users database itself is
read only to check that `users()` sees it. Applying as another user really switches to `nobody` in a child
process, which needs root (the machine the tests run on, and CI, are root).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from testing import v2db
from testing.cli import RunCli
from testing.stores import KEY, PROFILE
from testing.v1state import make_userdata

from cherryconf import render
from cherryconf.errors import BadInput
from cherryconf.ops import allusers
from cherryconf.paths import Context
from cherryconf.stores import open_store
from cherryconf.stores.install import inspect

if sys.platform != "win32":
    import pwd


def me(name: str, home: Path) -> allusers.User:
    """A user that is this process (so the install is applied in-process), with a home of its own."""
    home.mkdir(parents=True, exist_ok=True)
    return allusers.User(name, home, os.getuid(), os.getgid())


@pytest.fixture
def profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GW_KEY", KEY)
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return path


def provider_ids(data_dir: Path) -> list[str]:
    return [str(p["id"]) for p in open_store(inspect(data_dir, "test")).read().providers]


@pytest.mark.posix_only  # uids, pwd, SingletonLock symlinks, mode bits
def test_users_come_from_the_user_database() -> None:
    found = allusers.users(Context(home=Path("/nonexistent"), env={}, system="linux"))
    root = next(u for u in found if u.uid == 0)
    assert (root.name, root.home, root.gid) == (pwd.getpwuid(0).pw_name, Path(pwd.getpwuid(0).pw_dir), 0)
    assert all(u.home.is_absolute() and u.home != Path("/") for u in found)
    assert len({u.home for u in found}) == len(found)


def test_windows_users_are_the_folders_of_the_profiles_directory(tmp_path: Path) -> None:
    users_dir = tmp_path / "Users"
    for name in ("alice", "Bob", "Public", "Default", "Default User", "All Users"):
        (users_dir / name).mkdir(parents=True)
    (users_dir / "desktop.ini").write_text("")
    ctx = Context(home=users_dir / "admin", env={"PUBLIC": str(users_dir / "Public")}, system="windows")
    assert [(u.name, u.home, u.uid) for u in allusers.users(ctx)] == [
        ("alice", users_dir / "alice", None), ("Bob", users_dir / "Bob", None)]


@pytest.mark.posix_only  # uids, pwd, SingletonLock symlinks, mode bits
def test_every_users_installs_are_found_once(tmp_path: Path) -> None:
    alice, bob, carol, dave = (me(n, tmp_path / "homes" / n) for n in ("alice", "bob", "carol", "dave"))
    alice_data = make_userdata(alice.home / ".config")
    bob_data = v2db.build(tmp_path / "elsewhere" / "bob-data").data_dir
    (bob.home / ".cherrystudio").mkdir()
    (bob.home / ".cherrystudio" / "boot-config.json").write_text(
        json.dumps({"app.user_data_path": {"/opt/Cherry Studio/cherry-studio": str(bob_data)}}))
    # dave's settings name alice's data directory: it is applied once, for the first user whose it is.
    (dave.home / ".cherrystudio" / "config").mkdir(parents=True)
    (dave.home / ".cherrystudio" / "config" / "config.json").write_text(json.dumps({"appDataPath": str(alice_data)}))
    targets, problems = allusers.find([alice, bob, carol, dave], "linux")
    assert [(t.user.name, t.install.data_dir, t.install.kind) for t in targets] == [
        ("alice", alice_data, "v1"), ("bob", bob_data, "v2")]
    assert problems == []


@pytest.mark.posix_only  # uids, pwd, SingletonLock symlinks, mode bits
def test_one_users_failure_does_not_stop_the_others(tmp_path: Path, profile: Path) -> None:
    homes = tmp_path / "homes"
    users = [me(n, homes / n) for n in ("alice", "bob", "carol", "erin")]
    data = [make_userdata(users[0].home / ".config"), make_userdata(users[1].home / ".config"),
            make_userdata(users[2].home / ".config"), v2db.build(users[3].home / ".config" / "CherryStudio").data_dir]
    (data[1] / "SingletonLock").symlink_to(f"{socket.gethostname()}-{os.getpid()}")  # bob's app is running
    shutil.rmtree(data[2] / "Local Storage" / "leveldb")
    (data[2] / "Local Storage" / "leveldb").mkdir()  # carol's store is empty: nothing cherryconf can read
    targets, _ = allusers.find(users, "linux")
    assert [t.user.name for t in targets] == ["alice", "bob", "carol", "erin"]

    checked = allusers.run(targets, profile, None, "check", 20, "linux")
    assert [o.exit_code for o in checked] == [5, 5, 4, 5]  # a check does not need the app closed
    assert allusers.exit_code(checked) == 4
    assert not list(homes.glob("*/.local/share/cherryconf"))

    outcomes = allusers.run(targets, profile, "it-dept", "apply", 20, "linux")
    assert [(o.user, o.exit_code) for o in outcomes] == [("alice", 0), ("bob", 3), ("carol", 4), ("erin", 0)]
    assert outcomes[1].error is not None and "Cherry Studio is running" in outcomes[1].error
    assert allusers.exit_code(outcomes) == 3
    for o, d in ((outcomes[0], data[0]), (outcomes[3], data[3])):
        assert o.document is not None and o.document["owner"] == "it-dept"
        assert provider_ids(d)[0] == "gw"
        # The backup and the record of owners are the user's own, in that user's cherryconf directory.
        own = Path(o.home) / ".local" / "share" / "cherryconf"
        assert Path(o.document["backup"]).is_relative_to(own / "backups")
        assert next((own / "owners").iterdir()).stat().st_mode & 0o777 == 0o600
    assert provider_ids(data[1])[0] != "gw"

    again = allusers.run([targets[0], targets[3]], profile, "it-dept", "apply", 20, "linux")
    assert [o.document and o.document["changed"] for o in again] == [False, False]
    text = render.all_users_text(outcomes, "apply")
    assert text.splitlines()[0].startswith(f"alice: {data[0]}: changed +gw; backup: ")
    assert text.splitlines()[1].startswith(f"bob: {data[1]}: failed: Cherry Studio is running")
    assert KEY not in text + json.dumps(render.all_users_json(outcomes, "apply"))


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A directory under /tmp that another user can reach (pytest's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="cherryconf-allusers-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.mark.posix_only
@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() != 0, reason="switching to another user needs root")
def test_each_install_is_applied_as_its_user(reachable_dir: Path, profile: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    home = reachable_dir / "nobody"
    data = make_userdata(home / ".config")
    v2_data = v2db.build(home / "v2" / "CherryStudio").data_dir
    for path in [home, *home.rglob("*")]:
        os.chown(path, nobody.pw_uid, nobody.pw_gid, follow_symlinks=False)
    user = allusers.User("nobody", home, nobody.pw_uid, nobody.pw_gid)
    targets = [*allusers.find([user], "linux")[0], allusers.Target(user, inspect(v2_data, "test"))]
    assert [t.install.data_dir for t in targets] == [data, v2_data]
    outcomes = allusers.run(targets, profile, None, "apply", 20, "linux")
    assert [o.exit_code for o in outcomes] == [0, 0], [o.error for o in outcomes]
    assert provider_ids(data)[0] == "gw" and provider_ids(v2_data)[0] == "gw"
    own = home / ".local" / "share" / "cherryconf"
    written = [p for p in [*own.rglob("*"), *data.rglob("*"), *v2_data.rglob("*")] if not p.is_symlink()]
    assert written and {p.stat().st_uid for p in written} == {nobody.pw_uid}  # nothing of root's left behind
    assert {Path(o.document["backup"]).parent.parent for o in outcomes if o.document} == {own / "backups"}

    # A directory the user may not write is refused as it would be for that user, not written as root.
    locked = reachable_dir / "root-owned"
    locked_data = make_userdata(locked)
    before = provider_ids(locked_data)
    refused = allusers.run([allusers.Target(user, inspect(locked_data, "test"))], profile, None, "apply", 20, "linux")
    assert refused[0].exit_code != 0 and refused[0].error
    assert provider_ids(locked_data) == before


@pytest.mark.posix_only
@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() != 0,
                    reason="giving up root to test the refusal needs root")
def test_all_users_needs_root() -> None:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.seteuid(pwd.getpwnam("nobody").pw_uid)
            try:
                allusers.ensure_admin("linux")
            except BadInput as e:
                code = 0 if "must run as root (sudo) or as Administrator" in e.message else 2
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    allusers.ensure_admin("linux")  # root: no refusal


def test_all_users_and_a_data_dir_do_not_go_together(run_cli: RunCli, tmp_path: Path, profile: Path) -> None:
    result = run_cli("--data-dir", str(tmp_path), "apply", str(profile), "--all-users", "--yes")
    assert result.code == 2 and result.err == (
        "cherryconf: --all-users finds every user's install itself: leave out --data-dir\n")
