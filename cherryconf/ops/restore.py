"""Put a backup back: verify it, show what changes, back up the present, swap the files in, check them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cherryconf import faults
from cherryconf.domain import plan
from cherryconf.errors import BadInput, StoreError, WriteFailed
from cherryconf.i18n import _
from cherryconf.ops.session import write_session
from cherryconf.stores import backup, open_store

if TYPE_CHECKING:
    from cherryconf.paths import Context
    from cherryconf.stores import Store
    from cherryconf.stores.install import Install


@dataclass(frozen=True)
class RestorePlan:
    install: Install
    store: Store
    backup: backup.Backup
    changes: list[plan.ProviderChange]
    restored: list[dict[str, Any]]
    current_readable: bool
    warning: str | None  # set when --force overrode an install mismatch


@dataclass(frozen=True)
class Restored:
    plan: RestorePlan
    pre_restore: backup.Backup


def prepare(ctx: Context, install: Install, backup_id: str | None, force: bool = False) -> RestorePlan:
    """Find and verify the backup and work out what restoring it changes; nothing is written."""
    chosen = backup.find(ctx, install, backup_id)
    backup.verify(chosen)
    why = backup.check_compatible(chosen, install)
    if why and chosen.manifest.store_kind != install.kind:
        raise BadInput(_("{why}, so it cannot be restored there, not even with --force").format(why=why))
    if why and not force:
        raise BadInput(_("{why}; add --force to restore it there anyway").format(why=why))
    store = open_store(install)
    restored = open_store(install, chosen.files_dir).read().providers
    try:
        current = store.read().providers
        readable = True
    except StoreError:
        current, readable = [], False
    return RestorePlan(install, store, chosen, plan.diff(current, restored), restored, readable, why)


def execute(ctx: Context, rp: RestorePlan, keep: int = backup.DEFAULT_KEEP) -> Restored:
    """Back up the present state (reason pre-restore), swap the backup in, and check it against its manifest.

    Call it inside session.held() taken before prepare(); its write session takes the lock itself too, for callers
    that did not.
    """
    # The backup being restored is protected: pruning it now would pull the files from under the swap. A store
    # that cannot be read may be too damaged to lock; putting it back is what a restore is for.
    with write_session(ctx, rp.install, rp.store, "pre-restore", keep, protect=(rp.backup.id,),
                       damaged=not rp.current_readable) as pre:
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
