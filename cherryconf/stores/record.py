"""The record of what a write changed, kept beside the backup taken before it: `<backup>/record.json` (private).

The write session writes it "pending" once the backup is in place and before the store is written, and marks it
"written" once the write has read back. A run killed in between leaves it pending: the store then holds the old
state or the new one, and undoing the record is right for both (the three-way rule in domain/undo.py finds every
value still "before" where the write never landed, and so changes nothing there).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from cherryconf.domain.undo import Record
from cherryconf.errors import StoreError, WriteFailed
from cherryconf.fsutil import atomic_write
from cherryconf.i18n import _

if TYPE_CHECKING:
    from cherryconf.stores.backup import Backup

RECORD = "record.json"


def save(snap: Backup, record: Record) -> None:
    try:
        atomic_write(snap.path / RECORD, (record.to_json() + "\n").encode("utf-8"))
    except OSError as e:
        raise WriteFailed(_("could not write the record of this change beside backup {id} ({strerror}); nothing "
                            "was changed").format(id=snap.id, strerror=e.strerror)) from None


def confirm(snap: Backup, record: Record) -> None:
    save(snap, dataclasses.replace(record, state="written"))


def load(snap: Backup) -> Record | None:
    """The backup's record; None for a backup made before cherryconf kept records. StoreError when damaged."""
    path = snap.path / RECORD
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StoreError(_("cannot read {path} ({e})").format(path=path, e=e)) from None
    record = Record.from_json(data)
    if record is None:
        raise StoreError(_("the record beside backup {id} is damaged ({path}); restore it whole with --whole, or "
                           "its providers only with --providers").format(id=snap.id, path=path))
    return record
