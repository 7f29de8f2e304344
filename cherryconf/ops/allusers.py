"""`apply --all-users`: a profile applied to every user's Cherry Studio on this machine, each as that user.

Whose homes: on POSIX every account the user database knows (`pwd`, which reads /etc/passwd and whatever
directory service NSS is set up for), with an absolute home other than `/`; on Windows the folders of the
profiles directory (the parent of %PUBLIC%, normally C:\\Users) other than the system's own. Each home is
searched the way cherryconf searches its own (the app's default userData, the custom data directories the
app's config files there name), with that user's defaults, not the administrator's environment.

On POSIX each install is applied by a child process that has become its user (uid, gid and groups): what
cherryconf creates (the store's new files, the backup and the record of owners, in the user's own cherryconf
directory) belongs to that user, who can list and restore those backups, and a data directory a user names
reaches nothing that user could not write anyway. Windows has no such switch: there the administrator writes
into the user's profile folder, whose permissions new files inherit.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cherryconf.errors import BadInput, CherryconfError, ExitCode
from cherryconf.formats import profile
from cherryconf.i18n import _
from cherryconf.ops import apply
from cherryconf.ops.result import apply_json
from cherryconf.paths import Context, System
from cherryconf.stores import backup, install

if TYPE_CHECKING:
    from cherryconf.domain.patch import LoadedProfile

Mode = Literal["apply", "check", "dry-run"]

# Folders of C:\Users that are no one's: the templates for new accounts, the shared folder, their old aliases.
_WINDOWS_NOT_USERS = frozenset({"all users", "default", "default user", "defaultuser0", "public",
                                "wdagutilityaccount"})


@dataclass(frozen=True)
class User:
    name: str
    home: Path
    uid: int | None = None  # POSIX only
    gid: int | None = None


@dataclass(frozen=True)
class Target:
    user: User
    install: install.Install


@dataclass(frozen=True)
class Outcome:
    """What happened to one user's install; plain values, so that a child process can send it back as JSON."""

    user: str
    home: str
    data_dir: str | None
    exit_code: int
    document: dict[str, Any] | None = None  # apply's --json document when it went through
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def ensure_admin(system: System) -> None:
    if sys.platform == "win32":  # the process's own rights, whatever system the paths are for
        import ctypes

        admin = bool(ctypes.windll.shell32.IsUserAnAdmin())
    else:
        admin = os.geteuid() == 0
    if not admin:
        raise BadInput(_("--all-users changes every user's settings, so it must run as root (sudo) or as "
                         "Administrator"))


def users(ctx: Context) -> list[User]:
    """Every account of this machine that has a home of its own, in the order of their ids (POSIX) or names."""
    if ctx.system == "windows" or sys.platform == "win32":
        return _windows_users(ctx)
    import pwd

    found: list[User] = []
    seen: set[str] = set()
    for entry in sorted(pwd.getpwall(), key=lambda e: e.pw_uid):
        home = Path(entry.pw_dir)
        if not home.is_absolute() or home == Path(home.anchor) or str(home) in seen:
            continue
        seen.add(str(home))
        found.append(User(entry.pw_name, home, entry.pw_uid, entry.pw_gid))
    return found


def _windows_users(ctx: Context) -> list[User]:
    public = ctx.env.get("PUBLIC", "")
    root = Path(public).parent if public and Path(public).is_absolute() else (
        Path(ctx.env.get("SystemDrive", "C:") + "\\") / "Users")
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name.casefold())  # as Explorer lists them, anywhere
    except OSError:
        return []
    return [User(p.name, p) for p in entries
            if p.name.lower() not in _WINDOWS_NOT_USERS and p.is_dir() and not p.is_symlink()]


def user_context(user: User, system: System) -> Context:
    # The user's own defaults: the administrator's XDG_*, APPDATA or CHERRYCONF_HOME say nothing about them.
    return Context(home=user.home, env={}, system=system)


def find(found_users: list[User], system: System) -> tuple[list[Target], list[Outcome]]:
    """Each user's installs (an install two users' settings name goes to the first), and the homes that failed."""
    targets: list[Target] = []
    problems: list[Outcome] = []
    seen: set[str] = set()
    for user in found_users:
        try:
            installs = install.find_installs(user_context(user, system))
        except CherryconfError as e:
            problems.append(Outcome(user.name, str(user.home), None, e.exit_code, error=e.message))
            continue
        except OSError as e:
            problems.append(Outcome(user.name, str(user.home), None, ExitCode.STORE,
                                    error=_("cannot look for Cherry Studio data in {home} ({strerror})").format(
                                              home=user.home, strerror=e.strerror)))
            continue
        for inst in installs:
            identity = os.path.normcase(str(inst.data_dir.resolve()))
            if identity not in seen:
                seen.add(identity)
                targets.append(Target(user, inst))
    return targets, problems


def run(targets: list[Target], profile_path: Path, owner: str | None, mode: Mode, keep: int,
        system: System) -> list[Outcome]:
    """Apply (or check) the profile on every target in turn; a failure is reported and the next one goes on."""
    outcomes = []
    for t in targets:
        try:
            # Loaded per install: the app version decides the form of a `#` apiHost.
            loaded = profile.with_owner(profile.load(profile_path, app_version=t.install.version),
                                        owner)
        except CherryconfError as e:
            outcomes.append(_failed(t, e.message, e.exit_code))
            continue
        if (sys.platform != "win32" and system != "windows" and t.user.uid is not None and t.user.gid is not None
                and t.user.uid != os.geteuid()):
            outcomes.append(_as_user(t, loaded, mode, keep, system))
        else:
            outcomes.append(_apply_one(t, loaded, mode, keep, system))
    return outcomes


def exit_code(outcomes: list[Outcome]) -> int:
    """The first failure's exit code; else 5 when a check found drift; else 0."""
    failed = next((o.exit_code for o in outcomes if o.error is not None), None)
    if failed is not None:
        return failed
    return ExitCode.PROBLEMS_FOUND if any(o.exit_code == ExitCode.PROBLEMS_FOUND for o in outcomes) else ExitCode.OK


def _failed(t: Target, message: str, code: int) -> Outcome:
    return Outcome(t.user.name, str(t.user.home), str(t.install.data_dir), code, error=message)


def _apply_one(t: Target, loaded: LoadedProfile, mode: Mode, keep: int, system: System) -> Outcome:
    ctx = user_context(t.user, system)
    try:
        notes = backup.finish_interrupted(ctx, t.install)
        prepared = apply.prepare(t.install, loaded, ctx)
        p = prepared.plan
        if mode != "apply":
            document = apply_json(t.install, p, None, loaded.owner, dry_run=mode == "dry-run",
                                         check=mode == "check")
            code = ExitCode.PROBLEMS_FOUND if mode == "check" and p.changed else ExitCode.OK
        else:
            written = apply.write(ctx, prepared, "apply", keep)
            document, code = apply_json(t.install, p, written.backup, loaded.owner), ExitCode.OK
    except CherryconfError as e:
        return _failed(t, e.message, e.exit_code)
    except Exception as e:
        # One user's unexpected failure must not stop the others; it is reported like any other.
        return _failed(t, _("unexpected error: {type}: {error}").format(type=type(e).__name__, error=e),
                       ExitCode.UNEXPECTED)
    return Outcome(t.user.name, str(t.user.home), str(t.install.data_dir), code, document, notes=notes)


# POSIX only: Windows has no user switch (see the module's docstring), and mypy checks these for POSIX alone.
if sys.platform != "win32":

    def _as_user(t: Target, loaded: LoadedProfile, mode: Mode, keep: int, system: System) -> Outcome:
        """Run `_apply_one` in a child process that has become the install's user; its outcome comes back as JSON."""
        from cherryconf.domain import catalog

        catalog.load()  # read while still root: the user may not be able to read cherryconf's own files
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            try:
                _become(t.user.name, t.user.uid, t.user.gid)
                outcome = _apply_one(t, loaded, mode, keep, system)
            except BaseException as e:
                outcome = _failed(t, _("could not run as user {name} ({error})").format(name=t.user.name, error=e),
                                  ExitCode.UNEXPECTED)
            try:
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(json.dumps(asdict(outcome), default=str).encode("utf-8"))
            finally:
                os._exit(0)  # never the parent's clean-up (click's, pytest's) in the child
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _pid, status = os.waitpid(pid, 0)
        try:
            return Outcome(**json.loads(data))
        except (ValueError, TypeError):
            code = os.waitstatus_to_exitcode(status)
            why = _("signal {number}").format(number=-code) if code < 0 else _("exit status {code}").format(code=code)
            return _failed(t, _("the run as user {name} stopped before it reported ({why})").format(
                                  name=t.user.name, why=why), ExitCode.UNEXPECTED)


    def _become(name: str, uid: int | None, gid: int | None) -> None:
        """Give up root for the user's rights: groups first, then the group, then the user (no way back)."""
        if uid is None or gid is None:
            raise ValueError("a POSIX user has a uid and a gid")
        os.initgroups(name, gid)
        os.setgid(gid)
        os.setuid(uid)
