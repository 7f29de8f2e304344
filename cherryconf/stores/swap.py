"""Replace a directory's contents with other files so that a crash at any moment leaves the old or the new.

Steps: build `<dir>.cherryconf-new` complete and fsynced; rename `<dir>` to `<dir>.cherryconf-old`; rename the new
one into place; delete the old one. `recover()` finishes whatever a crash interrupted, judging only by which
of the three directories exist: the new one is renamed into place only once it is complete. A store that
appeared in the gap after a crash (the app started on a missing store) is moved to `<dir>.cherryconf-displaced`,
never deleted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cherryconf import faults
from cherryconf.fsutil import copy_file, fsync_dir, rename
from cherryconf.i18n import _

NEW_SUFFIX = ".cherryconf-new"
OLD_SUFFIX = ".cherryconf-old"
DISPLACED_SUFFIX = ".cherryconf-displaced"


def _sibling(target: Path, suffix: str) -> Path:
    return target.with_name(target.name + suffix)


def replace_dir(target: Path, source: Path, files: list[Path]) -> None:
    """Make `target` hold exactly `files` (paths relative to `source`).

    An error (a full disk, a file that cannot be read) leaves `target` as it was and no sibling behind.
    """
    new, old = _sibling(target, NEW_SUFFIX), _sibling(target, OLD_SUFFIX)
    shutil.rmtree(new, ignore_errors=True)
    try:
        new.mkdir(mode=target.stat().st_mode & 0o777)
        for rel in files:
            (new / rel).parent.mkdir(parents=True, exist_ok=True)
            copy_file(source / rel, new / rel)
            faults.step(f"copied {rel}")
        fsync_dir(new)
        faults.step("new directory complete")
        rename(target, old)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    fsync_dir(target.parent)
    faults.step("old directory moved aside")
    try:
        rename(new, target)
    except BaseException:
        # Without this the store would be missing until the next run's recover(): put the old one back now.
        rename(old, target)
        shutil.rmtree(new, ignore_errors=True)
        raise
    fsync_dir(target.parent)
    faults.step("new directory in place")
    # The new state is in place: a failure to delete the old copy is only clutter, which recover() clears.
    shutil.rmtree(old, ignore_errors=True)
    faults.step("old directory removed")


def pending(target: Path) -> bool:
    """Whether a swap of `target` was interrupted: recover() has something to do."""
    return _sibling(target, NEW_SUFFIX).exists() or _sibling(target, OLD_SUFFIX).exists()


def recover(target: Path) -> str | None:
    """Finish or undo a swap a crash interrupted; returns what was done, or None when there was nothing."""
    if not pending(target):
        return None
    new, old = _sibling(target, NEW_SUFFIX), _sibling(target, OLD_SUFFIX)
    if target.exists() and old.exists() and new.exists():
        # The crash came while the store was missing, and something (the app, started meanwhile) made a fresh
        # one: finish the swap as planned, but keep what it made rather than delete it.
        displaced = _sibling(target, DISPLACED_SUFFIX)
        n = 1
        while displaced.exists():  # one from an earlier incident is kept too
            n += 1
            displaced = _sibling(target, f"{DISPLACED_SUFFIX}-{n}")
        rename(target, displaced)
        rename(new, target)
        fsync_dir(target.parent)
        shutil.rmtree(old)
        return (_("finished an interrupted restore of {target}; the store created there after the interruption was "
                  "moved to {displaced}").format(target=target, displaced=displaced))
    if target.exists():
        if old.exists():
            # The new directory was already in place: only the clean-up was missing.
            shutil.rmtree(old)
            return _("finished an interrupted restore of {target} (removed the old copy)").format(target=target)
        # The crash came before the old directory moved: the target still holds the old state.
        shutil.rmtree(new)
        return _("undid an interrupted restore of {target} (it still holds the state from before)").format(
                   target=target)
    if new.exists():
        # Old moved aside, new complete (it is only renamed once complete): put it in place.
        rename(new, target)
        fsync_dir(target.parent)
        if old.exists():
            shutil.rmtree(old)
        return _("finished an interrupted restore of {target}").format(target=target)
    rename(old, target)
    fsync_dir(target.parent)
    return _("undid an interrupted restore of {target} (put the previous state back)").format(target=target)
