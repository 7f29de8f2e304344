"""Make a store hold a profile's providers: plan, then back up, write and read back as one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cherryconf import backup, faults, plan
from cherryconf.errors import StoreError, WriteFailed
from cherryconf.install import ensure_not_running

if TYPE_CHECKING:
    from cherryconf.install import Install
    from cherryconf.paths import Context
    from cherryconf.profile import LoadedProfile
    from cherryconf.stores import Store


@dataclass(frozen=True)
class Prepared:
    install: Install
    store: Store
    plan: plan.Plan


@dataclass(frozen=True)
class Written:
    install: Install
    plan: plan.Plan
    backup: backup.Backup | None  # None when there was nothing to write
    notes: list[str] = field(default_factory=list)


def prepare(install: Install, loaded: LoadedProfile) -> Prepared:
    """Read the store and plan the change; nothing is written."""
    from cherryconf.stores import open_store

    store = open_store(install)
    state = store.read()
    p = plan.make(state.providers, loaded.providers, loaded.default_model, state.default_model, state.model_refs)
    if p.changed:
        store.check(p)
    return Prepared(install, store, p)


def write(ctx: Context, prepared: Prepared, reason: str, keep: int = backup.DEFAULT_KEEP) -> Written:
    """Back up the store, write the plan, read it back; on any failure put the backup back."""
    install, store, p = prepared.install, prepared.store, prepared.plan
    if not p.changed:
        return Written(install, p, None)
    ensure_not_running(install)
    with store.exclusive():
        if store.read().providers != p.before:
            raise StoreError("the store changed while cherryconf was planning; run the command again")
        snap = backup.create(ctx, install, store, reason, keep)
        faults.step("backup done")
        try:
            store.write(p)
            faults.step("store written")
            after = store.read()
            if after.providers != p.after or (
                p.default_model_after is not None and _ref(after.default_model) != _ref(p.default_model_after)
            ):
                raise StoreError("what cherryconf wrote did not read back the same")
        except BaseException as e:
            _put_back(store, snap, e)
            raise
    return Written(install, p, snap)


def _ref(model: dict[str, Any] | None) -> tuple[Any, Any] | None:
    # 2.x keeps only "provider::model" for the default model, so which model it is is what can be compared.
    return None if model is None else (model.get("provider"), model.get("id"))


def _put_back(store: Store, snap: backup.Backup, cause: BaseException) -> None:
    """Undo a failed write from the backup just taken; if even that fails, say where the backup is."""
    try:
        store.replace_with(snap.files_dir)
    except OSError as e:
        raise StoreError(
            f"writing failed and so did putting the backup back ({e.strerror}); "
            f"run `cherryconf restore {snap.id}` once the problem is fixed"
        ) from cause
    if isinstance(cause, OSError):
        raise WriteFailed(
            f"could not write {store.root} ({cause.strerror}); the store was left as it was"
        ) from cause

