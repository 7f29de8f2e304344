"""Snapshots of a store taken before every write; listing, verifying, pruning and restoring them.

Layout: `<CHERRYCONF_HOME>/backups/<install key>/<UTC time>-<reason>/` holding `manifest.json` and `files/`
(the store's files as they were). Directories 0700, files 0600: the store holds the user's API keys.
A backup is built under a `.partial` name and renamed when complete, so a crash never leaves a half backup
that looks whole; the next run removes what a killed run left (`discard_partial`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cherryconf import __version__, faults
from cherryconf.errors import BadInput, StoreError
from cherryconf.fsutil import atomic_write, fsync_dir, private_dir, private_file, rename
from cherryconf.i18n import _

if TYPE_CHECKING:
    from cherryconf.paths import Context
    from cherryconf.stores import Store
    from cherryconf.stores.install import Install

DEFAULT_KEEP = 20
MANIFEST = "manifest.json"
FILES = "files"
_PARTIAL = ".partial"
_REASON = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


# Plain dataclasses read and written with json: every write backs up, and pydantic alone would cost it more
# import time than the rest of the run.
@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ProviderEntry:
    id: str
    name: str


@dataclass(frozen=True)
class Manifest:
    cherryconf_version: str
    created_at: datetime
    install: str
    install_key: str
    store_kind: Literal["v1", "v2"]
    app_version: str | None
    reason: str
    store_root: str  # the store's directory relative to the install's data dir
    providers: list[ProviderEntry]
    files: list[FileEntry]
    format: Literal[1] = 1

    def to_json(self) -> str:
        doc = {"format": self.format, **dataclasses.asdict(self)}
        doc["created_at"] = self.created_at.isoformat().replace("+00:00", "Z")
        return json.dumps(doc, indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: bytes) -> Manifest | None:
        """The manifest in `data`, or None when it is not one (damaged, or of a format this version cannot read)."""
        try:
            doc = json.loads(data)
            created = datetime.fromisoformat(doc["created_at"])
            store_kind = doc["store_kind"]
            manifest = cls(
                cherryconf_version=doc["cherryconf_version"], created_at=created, install=doc["install"],
                install_key=doc["install_key"], store_kind=store_kind, app_version=doc["app_version"],
                reason=doc["reason"], store_root=doc["store_root"],
                providers=[ProviderEntry(id=p["id"], name=p["name"]) for p in doc["providers"]],
                files=[FileEntry(path=f["path"], size=f["size"], sha256=f["sha256"]) for f in doc["files"]],
                format=doc.get("format", 1),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        strings = [manifest.cherryconf_version, manifest.install, manifest.install_key, manifest.reason,
                   manifest.store_root, *(x for p in manifest.providers for x in (p.id, p.name)),
                   *(x for f in manifest.files for x in (f.path, f.sha256))]
        ok = (manifest.format == 1 and not isinstance(manifest.format, bool) and store_kind in ("v1", "v2")
              and created.tzinfo is not None and all(isinstance(x, str) for x in strings)
              and isinstance(manifest.app_version, str | None)
              and all(_is_int(f.size) for f in manifest.files)
              and all(_inside(f.path) for f in manifest.files) and _inside(manifest.store_root, root=True))
        return manifest if ok else None


def _inside(path: str, root: bool = False) -> bool:
    """True for a plain relative path that stays inside the directory it is joined to (`.` only for a root).

    An edited manifest naming `../x`, `/etc/x` or `C:\\x` would otherwise have restore hash, and swap in, files
    outside the backup: such a manifest is damaged, and refused before anything is read or written.
    """
    if root and path == ".":
        return True
    parts = path.split("/")
    return (bool(path) and "\\" not in path and ":" not in path and "\x00" not in path
            and all(part not in ("", ".", "..") for part in parts))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Backup:
    id: str
    path: Path
    manifest: Manifest

    @property
    def size(self) -> int:
        return sum(f.size for f in self.manifest.files)

    @property
    def files_dir(self) -> Path:
        return self.path / FILES


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


def install_dir(ctx: Context, install: Install) -> Path:
    return ctx.backups_dir / install.key


def create(ctx: Context, install: Install, store: Store, reason: str, keep: int = DEFAULT_KEEP,
           protect: tuple[str, ...] = ()) -> Backup:
    """Copy the whole store into a new backup; the caller holds the store exclusively.

    Pruning afterwards never deletes the new backup nor those in `protect` (the one a restore is about to use).
    """
    if not _REASON.match(reason):
        raise ValueError(f"bad backup reason {reason!r}")
    now = datetime.now(UTC)
    backup_id = f"{now:%Y%m%dT%H%M%S.%fZ}-{reason}"
    parent = private_dir(install_dir(ctx, install))
    private_dir(ctx.backups_dir)
    # The pid in the name tells discard_partial() whether the run building it is still alive.
    work = parent / f"{backup_id}.{os.getpid()}{_PARTIAL}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        private_dir(work)
        private_dir(work / FILES)
        store.snapshot(work / FILES)
        entries = []
        for rel in sorted(p.relative_to(work / FILES) for p in (work / FILES).rglob("*") if p.is_file()):
            full = work / FILES / rel
            private_file(full)
            entries.append(FileEntry(path=rel.as_posix(), size=full.stat().st_size, sha256=_sha256(full)))
        faults.step("backup files copied")
        providers = _providers(store)
        manifest = Manifest(
            cherryconf_version=__version__,
            created_at=now,
            install=str(install.data_dir),
            install_key=install.key,
            store_kind=install.kind,
            app_version=install.app_version,
            reason=reason,
            store_root=store.root.relative_to(install.data_dir).as_posix(),
            providers=providers,
            files=entries,
        )
        atomic_write(work / MANIFEST, (manifest.to_json() + "\n").encode())
        faults.step("backup written")
        final = parent / backup_id
        rename(work, final)
        fsync_dir(parent)
        faults.step("backup in place")
    except BaseException as e:
        # Whatever stopped it (a full disk, a store the snapshot could not read, Ctrl-C), no half backup stays.
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(e, OSError):
            raise StoreError(
                _("could not write a backup to {parent} ({strerror}); nothing was changed").format(
                    parent=parent, strerror=e.strerror)) from None
        raise
    prune(ctx, install, keep, protect=(backup_id, *protect))
    return Backup(id=backup_id, path=final, manifest=manifest)


def discard_partial(ctx: Context, install: Install) -> list[str]:
    """Remove the unfinished backups of this install that runs killed mid-way left; returns their names."""
    parent = install_dir(ctx, install)
    if not parent.is_dir():
        return []
    removed = []
    for d in sorted(parent.glob(f"*{_PARTIAL}")):
        pid = d.name[: -len(_PARTIAL)].rpartition(".")[2]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another cherryconf is still building it
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d.name)
    return removed


def _alive(pid: int) -> bool:
    import psutil  # only when a run left an unfinished backup: psutil is slow to import

    return psutil.pid_exists(pid)


def finish_interrupted(ctx: Context, install: Install) -> list[str]:
    """What a killed run left, finished or undone: a half-done swap of the store, unfinished backups.

    Not while another cherryconf holds the install's lock: what looks interrupted is then its run in progress.
    """
    from cherryconf.stores import open_store, runlock

    store = open_store(install)
    parent = install_dir(ctx, install)
    if not store.interrupted() and not (parent.is_dir() and any(parent.glob(f"*{_PARTIAL}"))):
        return []  # nothing to finish: a command that only reads writes nothing, not even a lock file
    with runlock.try_hold(ctx, install) as alone:
        if not alone:
            return []
        swap_note = store.recover()
        notes = [swap_note] if swap_note else []
        notes += [_("removed the unfinished backup {name} that an interrupted run left").format(name=name)
                  for name in discard_partial(ctx, install)]
    return notes


def _providers(store: Store) -> list[ProviderEntry]:
    """The providers a store holds, for the manifest; a damaged store is still backed up, with none listed."""
    try:
        held = store.read().providers
    except StoreError:
        return []
    return [ProviderEntry(id=_utf8(str(p.get("id", ""))), name=_utf8(str(p.get("name", "")))) for p in held]


def _utf8(text: str) -> str:
    # A JavaScript string may hold lone surrogates, which the UTF-8 manifest cannot: they are kept escaped.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _load(path: Path) -> Backup | None:
    try:
        manifest = Manifest.from_json((path / MANIFEST).read_bytes())
    except OSError:
        return None
    if manifest is None:
        return None
    return Backup(id=path.name, path=path, manifest=manifest)


def list_backups(ctx: Context, install: Install | None = None) -> list[Backup]:
    """Complete backups, newest first; for one install or for all."""
    root = ctx.backups_dir
    if not root.is_dir():
        return []
    parents = [install_dir(ctx, install)] if install else [p for p in root.iterdir() if p.is_dir()]
    found = []
    for parent in parents:
        if not parent.is_dir():
            continue
        for d in parent.iterdir():
            if d.is_dir() and not d.name.endswith(_PARTIAL):
                b = _load(d)
                if b is not None:
                    found.append(b)
    return sorted(found, key=lambda b: b.manifest.created_at, reverse=True)


def find(ctx: Context, install: Install, backup_id: str | None) -> Backup:
    """The named backup of this install (a unique prefix will do), or the newest; any install's with an id."""
    candidates = list_backups(ctx, install)
    if backup_id is None:
        # Ids start with the UTC time, so names sort by age; a damaged newest one must not be skipped silently.
        parent = install_dir(ctx, install)
        newest_damaged = max((d.name for d in parent.iterdir() if d.is_dir() and not d.name.endswith(_PARTIAL)
                              and _load(d) is None), default=None) if parent.is_dir() else None
        if newest_damaged is not None and (not candidates or newest_damaged > candidates[0].id):
            raise StoreError(_("the newest backup of {data_dir}, {newest_damaged}, is damaged: its manifest.json is "
                               "missing or unreadable; name another one (`cherryconf backups` lists them)").format(
                                 data_dir=install.data_dir, newest_damaged=newest_damaged))
        if not candidates:
            raise BadInput(_("there is no backup of {data_dir} in {backups_dir}").format(
                               data_dir=install.data_dir, backups_dir=ctx.backups_dir))
        return candidates[0]
    everything = list_backups(ctx)
    exact = [b for b in everything if b.id == backup_id]
    matches = exact or [b for b in everything if b.id.startswith(backup_id)]
    if not matches:
        damaged = [d for d in ctx.backups_dir.glob(f"*/{backup_id}*") if d.is_dir() and not d.name.endswith(_PARTIAL)]
        if damaged:
            raise StoreError(_("backup {name} is damaged: its manifest.json is missing or unreadable").format(
                                 name=damaged[0].name))
        raise BadInput(_("no backup with id {backup_id!r}; `cherryconf backups` lists them").format(
                           backup_id=backup_id))
    if len(matches) > 1:
        raise BadInput(_("{backup_id!r} matches {n} backups; give more of the id").format(
                           backup_id=backup_id, n=len(matches)))
    return matches[0]


def matches(backup: Backup, root: Path) -> str | None:
    """Which listed file of `root` differs from the backup's manifest, or None when all match."""
    for entry in backup.manifest.files:
        path = root / entry.path
        if not path.is_file() or path.stat().st_size != entry.size or _sha256(path) != entry.sha256:
            return entry.path
    return None


def verify(backup: Backup) -> None:
    """StoreError unless every file the manifest lists is there with its size and sha256, and no other."""
    listed = {f.path for f in backup.manifest.files}
    bad = matches(backup, backup.files_dir)
    if bad is not None:
        state = _("is missing") if not (backup.files_dir / bad).is_file() else _("does not match its checksum")
        raise StoreError(_("backup {id} is damaged: {bad} {state}").format(id=backup.id, bad=bad, state=state))
    extra = [p for p in backup.files_dir.rglob("*") if p.is_file()
             and p.relative_to(backup.files_dir).as_posix() not in listed]
    if extra:
        raise StoreError(_("backup {id} is damaged: {name} is not in its manifest").format(
                             id=backup.id, name=extra[0].name))


def prune(ctx: Context, install: Install, keep: int, protect: tuple[str, ...] = ()) -> list[str]:
    """Delete all but the newest `keep` backups of this install, never those in `protect`; returns the ids removed."""
    if keep < 1:
        raise BadInput(_("--keep must be at least 1"))
    removed = []
    for b in list_backups(ctx, install)[keep:]:
        if b.id not in protect:
            shutil.rmtree(b.path)
            removed.append(b.id)
    return removed


def check_compatible(backup: Backup, install: Install) -> str | None:
    """Why this backup does not belong to this install, or None when it does."""
    m = backup.manifest
    if m.store_kind != install.kind:
        return _("backup {id} holds a {store_kind} store but {data_dir} has a {kind} store").format(
                   id=backup.id, store_kind=m.store_kind, data_dir=install.data_dir, kind=install.kind)
    if m.install_key != install.key:
        return _("backup {id} was taken from {install}, not from {data_dir}").format(
                   id=backup.id, install=m.install, data_dir=install.data_dir)
    return None

