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

Nothing of a user is trusted by root (POSIX): the search of a user's home runs in such a child too, which opens
only regular files of bounded size that the user owns (`fsutil.open_regular`); each child has a deadline, after
which it is killed (a FIFO, a stopped process or a slow disk cannot hold up the run); a data directory counts only
for the user who owns it; what a child sends back is read up to a cap and checked; and every string of it is
escaped before it reaches a terminal (render). Everything a child needs of cherryconf and of Python is imported
before it gives up root, so an install that only root can read (a venv in /root) works for every user.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import pkgutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cherryconf import fsutil
from cherryconf.errors import BadInput, CherryconfError, ExitCode, StoreError
from cherryconf.formats import profile
from cherryconf.fsutil import real_path
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
USER_DEADLINE = 300.0  # seconds for one user's search or apply: a big store takes a few seconds
SEARCH_DEADLINE = 30.0
_REPLY_LIMIT = 16 * 1024 * 1024  # bytes of JSON a child may send back
_CHILD_MEMORY = 4 * 1024 * 1024 * 1024  # address space of a child: a user's store must not exhaust root's machine


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
            installs = _installs_of(user, system)
        except CherryconfError as e:
            problems.append(Outcome(user.name, str(user.home), None, e.exit_code, error=e.message))
            continue
        except OSError as e:
            problems.append(Outcome(user.name, str(user.home), None, ExitCode.STORE,
                                    error=_("cannot look for Cherry Studio data in {home} ({strerror})").format(
                                              home=user.home, strerror=e.strerror)))
            continue
        for inst in installs:
            identity = os.path.normcase(str(real_path(inst.data_dir)))
            if not _owned_by(inst.data_dir, user):
                continue  # another user's directory, named in this user's settings: it counts for its owner
            if identity not in seen:
                seen.add(identity)
                targets.append(Target(user, inst))
    return targets, problems


def _owned_by(data_dir: Path, user: User) -> bool:
    if user.uid is None or sys.platform == "win32":
        return True
    try:
        return data_dir.lstat().st_uid == user.uid
    except OSError:
        return False


def _installs_of(user: User, system: System) -> list[install.Install]:
    """The user's installs, searched as that user where that means another process (POSIX, another uid)."""
    if sys.platform != "win32" and _switches(user, system):
        return _installs_as(user, system)
    return install.find_installs(user_context(user, system))


def _switches(user: User, system: System) -> bool:
    """True when this user's work is done by a child process that has become the user (POSIX, another uid)."""
    return (sys.platform != "win32" and system != "windows" and user.uid is not None and user.gid is not None
            and user.uid != os.geteuid())


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
        if sys.platform != "win32" and _switches(t.user, system):
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


# Modules of cherryconf a run for a user never needs (the command line, prompts).
_NOT_PRELOADED = ("cherryconf.cli", "cherryconf.wizard", "cherryconf.__main__", "cherryconf.winacl")
# Codecs that the stores' bytes are decoded with: Python imports a codec's module on its first use.
_CODECS = ("utf-8", "utf-16-le", "utf-16", "latin-1", "ascii", "unicode_escape", "idna")
_preloaded = False


def _preload() -> None:
    """Import, while still root, every module of cherryconf a user's run can reach, the modules they import inside
    functions, and the codecs: after giving up root the user may be unable to read any of them (a venv in /root).
    BadInput, saying how to install for all users, when one cannot be imported."""
    global _preloaded
    if _preloaded:
        return
    import cherryconf
    from cherryconf.domain import catalog

    names = [m.name for m in pkgutil.walk_packages(cherryconf.__path__, "cherryconf.")
             if not m.name.startswith(_NOT_PRELOADED)]
    try:
        for name in names:
            module = importlib.import_module(name)
            for inner in _inner_imports(module):
                # One that root cannot find either is another platform's (winreg, msvcrt): never reached here.
                if inner.split(".")[0] not in _WINDOWS_ONLY and _is_module(inner.split(".")[0]):
                    importlib.import_module(inner)
        for codec in _CODECS:
            "".encode(codec)
        catalog.load()
    except ImportError as e:
        raise BadInput(_("--all-users cannot load {module} before it switches to each user; install cherryconf "
                         "where every user can read it (for example `pipx install --global cherryconf`, or a venv "
                         "in /opt)").format(module=e.name or e)) from None
    _preloaded = True


_WINDOWS_ONLY = frozenset({"winreg", "msvcrt", "_winapi", "winacl", "ctypes.wintypes"})


def _inner_imports(module: Any) -> list[str]:
    """The absolute imports written inside the functions of `module` (its top-level ones are loaded already)."""
    source = getattr(module, "__file__", None)
    if not source or not source.endswith(".py"):
        return []
    tree = ast.parse(Path(source).read_bytes())
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            # `from cherryconf.formats import importers`: the name may be a module of its own
            found += [f"{node.module}.{a.name}" for a in node.names if _is_module(f"{node.module}.{a.name}")]
    return [n for n in dict.fromkeys(found) if not n.startswith(_NOT_PRELOADED)]


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


# POSIX only: Windows has no user switch (see the module's docstring), and mypy checks these for POSIX alone.
if sys.platform != "win32":
    import resource
    import select
    import signal

    def _installs_as(user: User, system: System) -> list[install.Install]:
        def search() -> list[dict[str, Any]]:
            return [{"data_dir": str(i.data_dir), "kind": i.kind, "app_version": i.app_version,
                     "found_by": i.found_by} for i in install.find_installs(user_context(user, system))]

        reply = _in_child(user, search, SEARCH_DEADLINE)
        if isinstance(reply, str):
            raise StoreError(reply)
        try:
            return [install.Install(Path(str(d["data_dir"])), d["kind"], d["app_version"], str(d["found_by"]))
                    for d in reply if d["kind"] in ("v1", "v2") and isinstance(d["app_version"], str | None)]
        except (TypeError, KeyError):
            raise StoreError(_("the search as user {name} sent back something else than installs").format(
                                      name=user.name)) from None

    def _as_user(t: Target, loaded: LoadedProfile, mode: Mode, keep: int, system: System) -> Outcome:
        """Run `_apply_one` in a child process that has become the install's user; its outcome comes back as JSON."""
        reply = _in_child(t.user, lambda: asdict(_apply_one(t, loaded, mode, keep, system)), USER_DEADLINE)
        if isinstance(reply, str):
            return _failed(t, reply, ExitCode.UNEXPECTED)
        try:
            outcome = Outcome(**reply)
        except TypeError:
            outcome = None
        if outcome is None or not _well_formed(outcome):
            return _failed(t, _("the run as user {name} sent back something else than an outcome").format(
                                  name=t.user.name), ExitCode.UNEXPECTED)
        return outcome

    def _well_formed(o: Outcome) -> bool:
        strings = [o.user, o.home, *(x for x in (o.data_dir, o.error) if x is not None), *o.notes]
        return (all(isinstance(x, str) for x in strings) and isinstance(o.exit_code, int)
                and isinstance(o.document, dict | None) and isinstance(o.notes, list))

    def _in_child(user: User, work: Callable[[], Any], deadline: float) -> Any:
        """`work()`'s JSON-able result, computed by a child process that has become `user`; else a sentence
        saying why not (it failed, it was killed, it ran past `deadline` seconds and was stopped)."""
        _preload()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            try:
                hard = resource.getrlimit(resource.RLIMIT_AS)[1]
                cap = _CHILD_MEMORY if hard == resource.RLIM_INFINITY else min(_CHILD_MEMORY, hard)
                resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
                _become(user.name, user.uid, user.gid)
                fsutil.only_files_of(os.getuid())
                reply: Any = {"ok": work()}
            except CherryconfError as e:
                reply = {"error": e.message}
            except BaseException as e:
                reply = {"error": _("could not run as user {name} ({error})").format(name=user.name, error=e)}
            try:
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(json.dumps(reply, default=str).encode("utf-8"))
            finally:
                os._exit(0)  # never the parent's clean-up (click's, pytest's) in the child
        os.close(write_end)
        try:
            data, why = _read_reply(read_end, deadline)
        finally:
            os.close(read_end)
        if why is not None:
            os.kill(pid, signal.SIGKILL)  # also ends a stopped child
        _pid, status = os.waitpid(pid, 0)
        if why is None:
            try:
                reply = json.loads(data)
                if isinstance(reply, dict) and "ok" in reply:
                    return reply["ok"]
                if isinstance(reply, dict) and isinstance(reply.get("error"), str):
                    return reply["error"]
            except ValueError:
                pass
            code = os.waitstatus_to_exitcode(status)
            why = _("signal {number}").format(number=-code) if code < 0 else _("exit status {code}").format(
                code=code)
        return _("the run as user {name} stopped before it reported ({why})").format(name=user.name, why=why)

    def _read_reply(fd: int, deadline: float) -> tuple[bytes, str | None]:
        """What the child wrote until it closed the pipe; with why it was cut short (deadline, too much)."""
        chunks: list[bytes] = []
        size = 0
        until = time.monotonic() + deadline
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return b"", _("it took longer than {seconds:g} s and was stopped").format(seconds=deadline)
            ready, _w, _x = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                return b"".join(chunks), None
            chunks.append(chunk)
            size += len(chunk)
            if size > _REPLY_LIMIT:
                return b"", _("it sent back more than {size} MB").format(size=_REPLY_LIMIT // (1024 * 1024))

    def _become(name: str, uid: int | None, gid: int | None) -> None:
        """Give up root for the user's rights: groups first, then the group, then the user (no way back)."""
        if uid is None or gid is None:
            raise ValueError("a POSIX user has a uid and a gid")
        os.initgroups(name, gid)
        os.setgid(gid)
        os.setuid(uid)
