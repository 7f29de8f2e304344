"""Put a backup back: by default undo what cherryconf changed since it, and only that; `whole`: the whole store as
it was; `providers`: only the providers, compared with the store's (for backups made before records were kept).

Undoing reads the record beside each backup from the chosen one to the newest (stores/record.py), works out from
them and the store as it is now what undoes them (domain/undo.py), and writes that like any change: lock, app not
running, a pre-restore backup, one write, read-back. Everything else in the store stays as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from cherryconf import faults
from cherryconf.domain import plan, undo
from cherryconf.errors import BadInput, StoreError, WriteFailed
from cherryconf.i18n import _
from cherryconf.ops import apply
from cherryconf.ops.session import write_session
from cherryconf.stores import backup, open_store, owners, record

if TYPE_CHECKING:
    from cherryconf.paths import Context
    from cherryconf.stores import Store
    from cherryconf.stores.backup import Backup
    from cherryconf.stores.install import Install

Mode = Literal["undo", "whole", "providers"]
LOST_KINDS = ("topics", "messages", "settings")


@dataclass(frozen=True)
class RestorePlan:
    install: Install
    store: Store
    backup: backup.Backup
    mode: Mode
    changes: list[plan.ProviderChange]
    restored: list[dict[str, Any]]  # the providers after
    current_readable: bool
    warning: str | None  # set when --force overrode an install mismatch
    write: plan.Plan | None = None  # undo and providers: the change to write
    kept: list[undo.Kept] = field(default_factory=list)  # undo: values changed in the app since, left as they are
    undone: list[tuple[Backup, undo.Record]] = field(default_factory=list)  # undo: newest first
    owners_after: owners.Record | None = None  # undo: the owners' record, where the undo changes it
    lost: dict[str, int] = field(default_factory=dict)  # whole (and a backup without a record): changed since
    no_record: Backup | None = None  # undo asked for, but this backup has no record of its change
    # whole (and a backup without a record): the default model now and in the backup, where they differ
    default_model: tuple[dict[str, Any] | None, dict[str, Any]] | None = None

    @property
    def changed(self) -> bool:
        return self.mode == "whole" or self.owners_after is not None or (
            self.write is not None and self.write.changed)


@dataclass(frozen=True)
class Restored:
    plan: RestorePlan
    pre_restore: Backup | None  # None when there was nothing to write


def prepare(ctx: Context, install: Install, backup_id: str | None, force: bool = False,
            mode: Mode = "undo") -> RestorePlan:
    """Find and verify the backup and work out what restoring it changes; nothing is written."""
    chosen = backup.find(ctx, install, backup_id)
    backup.verify(chosen)
    why = backup.check_compatible(chosen, install)
    if why and chosen.manifest.store_kind != install.kind:
        raise BadInput(_("{why}, so it cannot be restored there, not even with --force").format(why=why))
    if why and not force:
        raise BadInput(_("{why}; add --force to restore it there anyway").format(why=why))
    store = open_store(install)
    saved = open_store(install, chosen.files_dir)
    saved_state = saved.read()
    restored = saved_state.providers
    try:
        state = store.read()
    except StoreError:
        if mode != "whole":
            raise StoreError(_("the store cannot be read, so nothing can be undone change by change; `cherryconf "
                               "restore --whole {id}` puts backup {id} back whole").format(id=chosen.id)) from None
        return RestorePlan(install, store, chosen, mode, plan.diff([], restored), restored, False, why)
    changes = plan.diff(state.providers, restored)
    default_change = _default_change(state.default_model, saved_state.default_model)
    if mode == "whole":
        return RestorePlan(install, store, chosen, "whole", changes, restored, True, why,
                           lost=_lost(store, saved, plan.diff(restored, state.providers)), default_model=default_change)
    if mode == "providers":
        after = _providers_as_in(restored, state.providers)
        # The default model goes back with the providers only where it would otherwise name a model none holds.
        held = {(p.get("id"), m.get("id")) for p in after for m in p.get("models", []) if isinstance(m, dict)}
        default = state.default_model
        if default is not None and (default.get("provider"), default.get("id")) not in held:
            default = saved_state.default_model
        p = plan.Plan(state.providers, after, changes, state.default_model, default)
        if p.changed:
            store.check(p)
        return RestorePlan(install, store, chosen, mode, p.changes, p.after, True, why, p)
    chain = [b for b in backup.list_backups(ctx, install) if b.manifest.created_at >= chosen.manifest.created_at]
    records = []
    for b in chain if chosen in chain else [chosen]:  # another install's backup (--force): nothing of ours to undo
        r = record.load(b) if chosen in chain else None
        if r is None or r.whole:
            return RestorePlan(install, store, chosen, "undo", changes, restored, True, why,
                               lost=_lost(store, saved, plan.diff(restored, state.providers)), no_record=b,
                               default_model=default_change)
        records.append((b, r))
    current_owners = owners.load(ctx, install)
    entries = {name: {"added": o.added, "adopted": o.adopted} for name, o in current_owners.owners.items()}
    u = undo.undo([r for _b, r in records], state.providers, state.default_model, entries, force=force)
    p = u.plan(state.providers, state.default_model)
    if p.changed:
        store.check(p)
    owners_after = None
    if u.owners != entries:
        owners_after = owners.Record(install=current_owners.install, owners={
            name: owners.Owned(added=list(e["added"]), adopted=list(e["adopted"]))
            for name, e in u.owners.items() if e is not undo.ABSENT})
    return RestorePlan(install, store, chosen, "undo", p.changes, p.after, True, why, p, u.kept, records,
                       owners_after)


def _default_change(now: dict[str, Any] | None, then: dict[str, Any] | None
                    ) -> tuple[dict[str, Any] | None, dict[str, Any]] | None:
    """(now, in the backup) when putting the backup back whole changes which model is the default."""
    def ref(m: dict[str, Any] | None) -> tuple[Any, Any] | None:
        return None if m is None else (m.get("provider"), m.get("id"))

    return None if then is None or ref(now) == ref(then) else (now, then)


def _providers_as_in(saved: list[dict[str, Any]], current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The backup's providers, in the store's present order; those only the backup holds go to the top."""
    by_id = {p.get("id"): p for p in saved}
    held = {p.get("id") for p in current}
    return [p for p in saved if p.get("id") not in held] + [by_id[p.get("id")] for p in current
                                                            if p.get("id") in by_id]


def _lost(store: Store, saved: Store, providers: list[plan.ProviderChange]) -> dict[str, int]:
    """What a whole restore would lose: items now in the store that the backup lacks or holds otherwise."""
    now, then = store.inventory(), saved.inventory()
    lost = {kind: sum(1 for k, v in now.get(kind, {}).items() if then.get(kind, {}).get(k) != v)
            for kind in LOST_KINDS if kind in now}
    return lost | {"providers": len(providers)}


def execute(ctx: Context, rp: RestorePlan, keep: int = backup.DEFAULT_KEEP) -> Restored:
    """Write what prepare() worked out, after backing up the present state (reason pre-restore).

    Call it inside session.held() taken before prepare(); its write session takes the lock itself too, for callers
    that did not.
    """
    if rp.no_record is not None:
        raise BadInput(no_record_text(rp))
    if rp.mode != "whole":
        if not rp.changed or rp.write is None:
            return Restored(rp, None)
        claim = None if rp.owners_after is None else owners.Claim("", [], rp.owners_after, True)
        written = apply.write(ctx, apply.Prepared(rp.install, rp.store, rp.write, claim), "pre-restore", keep)
        return Restored(rp, written.backup)
    # The backup being restored is protected: pruning it now would pull the files from under the swap. A store
    # that cannot be read may be too damaged to lock; putting it back is what a restore is for.
    with write_session(ctx, rp.install, rp.store, "pre-restore", keep, protect=(rp.backup.id,),
                       damaged=not rp.current_readable,
                       changes=undo.Record("pre-restore", "pending", whole=True)) as pre:
        try:
            rp.store.replace_with(rp.backup.files_dir)
        except OSError as e:
            # replace_with leaves the store as it was when it fails (a full disk, a read-only directory).
            raise WriteFailed(_("could not write {root} ({strerror}); the store was left as it was, and its state is "
                                "also in backup {id}").format(root=rp.store.root, strerror=e.strerror,
                                                              id=pre.id)) from None
        bad = backup.matches(rp.backup, rp.store.root)
        if bad is not None:
            raise StoreError(
                _("after restoring, {bad} does not match backup {id}; the state from before is in backup "
                  "{before}").format(bad=bad, id=rp.backup.id, before=pre.id)
            )
        faults.step("restore checked")
    return Restored(rp, pre)


def no_record_text(rp: RestorePlan) -> str:
    assert rp.no_record is not None
    return _("backup {id} has no record of what cherryconf changed (it was made before records were kept, or by a "
             "whole restore), so restoring {chosen} cannot undo cherryconf's changes alone: `--whole` puts the whole "
             "store back as it was, `--providers` puts back only its providers").format(
                 id=rp.no_record.id, chosen=rp.backup.id)
