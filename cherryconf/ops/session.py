"""The write sequence, written once: every command that writes a store (apply, restore, doctor --fix, the wizard,
apply --all-users) writes inside a write session.

    lock (cherryconf's own, per install) -> the app is not running -> the store held exclusively -> the caller's
    last look -> a backup -> [kill point] -> the record of the change beside it, pending -> [kill point] -> the
    caller writes, reads back, puts back on failure -> the record marked written -> [kill point]

The kill points (`faults.step`) keep their names, so the crash tests reach every step: `backup done` (or
`pre-restore backup done`), `record written` and `record confirmed` here, the rest at the caller's own steps.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from cherryconf import faults
from cherryconf.errors import StoreError
from cherryconf.stores import backup, record, runlock
from cherryconf.stores.install import ensure_not_running

if TYPE_CHECKING:
    from cherryconf.domain.undo import Record
    from cherryconf.paths import Context
    from cherryconf.stores import Store
    from cherryconf.stores.install import Install


@contextlib.contextmanager
def held(ctx: Context, install: Install) -> Iterator[list[str]]:
    """cherryconf's lock on the install, taken before planning and kept to the read-back, so that no other cherryconf
    writes in between; yields what a killed run had left and was finished first, one note each."""
    with runlock.hold(ctx, install):
        yield backup.finish_interrupted(ctx, install)


@contextlib.contextmanager
def write_session(ctx: Context, install: Install, store: Store, reason: str, keep: int, *,
                  last_look: Callable[[], None] | None = None, protect: tuple[str, ...] = (),
                  damaged: bool = False, changes: Record | None = None) -> Iterator[backup.Backup]:
    """Everything before a write, in order, yielding the backup just taken; the lock and the store are let go after
    the caller's block.

    `last_look` runs once the store is held and before the backup (apply checks that the store still holds what
    it planned from). `damaged`: the store may be too damaged to lock (a LevelDB that lost its CURRENT file), which
    is what a restore is for; the running-app check still stands guard. The lock is re-entrant, so callers that
    planned inside held() take it here again at no cost.
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(runlock.hold(ctx, install))
        ensure_not_running(install)
        try:
            stack.enter_context(store.exclusive())
        except StoreError:
            if not damaged:
                raise
        if last_look is not None:
            last_look()
        snap = backup.create(ctx, install, store, reason, keep, protect=protect)
        faults.step("pre-restore backup done" if reason == "pre-restore" else "backup done")
        if changes is not None:
            record.save(snap, changes)
            faults.step("record written")
        yield snap
        if changes is not None:
            record.confirm(snap, changes)
            faults.step("record confirmed")
