"""A Cherry Studio data directory of another machine or user, 1.x or 2.x, read from a private copy.

The store's files are copied first and the copy is read, so nothing is ever written beside the original (no
LevelDB LOCK, no SQLite -shm or journal) and no lock of the other install is taken, even while its app runs.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from cherryconf.errors import BadInput, CherryconfError
from cherryconf.formats.importers import Source, limits
from cherryconf.i18n import _
from cherryconf.stores import StoreState, open_store, sealed
from cherryconf.stores import install as install_mod
from cherryconf.stores.install import Install

# 2.x keeps recent writes in the write-ahead log until a checkpoint: the copy needs it to be current.
_SQLITE_COMPANIONS = ("-wal",)
# The tables the 2.x store reads (stores/v2/tables.py).
_V2_TABLES = ("user_provider", "user_model", "app_state", "preference")


def read(data_dir: Path, found_by: str = "--from-data-dir") -> Source:
    if (data_dir / "CURRENT").is_file():
        return _read_leveldb(data_dir)
    try:
        inst = install_mod.inspect(data_dir, found_by)
    except CherryconfError as e:
        raise BadInput(e.message) from None
    era = "2.x" if inst.kind == "v2" else "1.x"
    what = _("the Cherry Studio {era} data directory {path}").format(era=era, path=inst.data_dir)
    # Keys the app sealed are read with the install's own secret (or left out): never imported as ciphertext.
    providers, notes = sealed.opened(read_state(inst).providers, inst.data_dir)
    return Source(what, providers, notes)


def _read_leveldb(root: Path) -> Source:
    """A 1.x store on its own: the `Local Storage/leveldb` directory of some install, or a copy of it."""
    state = _copied(lambda copy: _copy_v1(root, copy), root)
    return Source(_("the Cherry Studio 1.x store {path}").format(path=root), state.providers)


def read_database(path: Path) -> Source:
    """A Cherry Studio 2.x database file on its own (an install's `Data/cherrystudio.sqlite`, copied)."""
    state = _copied(lambda copy: _read_v2(path, copy), path)
    return Source(_("the Cherry Studio 2.x database {path}").format(path=path), state.providers)


def read_state(inst: Install) -> StoreState:
    """What the install's store holds, read from a copy in a private temporary directory."""
    if inst.kind == "v2":
        return _copied(lambda copy: _read_v2(inst.sqlite_path, copy), inst.data_dir)
    return _copied(lambda copy: _read_v1(inst, copy), inst.data_dir)


def _copied(reader: Callable[[Path], StoreState], where: Path) -> StoreState:
    with limits.private_temp() as tmp:
        try:
            return reader(tmp / "userData")
        except OSError as e:
            raise BadInput(_("cannot read {path} ({error})").format(path=where, error=e.strerror)) from None
        except BadInput:
            raise  # already says which source, and why
        except sqlite3.DatabaseError as e:
            raise BadInput(_("{path} is a damaged SQLite database ({error})").format(path=where, error=e)) from None
        except CherryconfError as e:
            raise BadInput(_("cannot import from {path}: {reason}").format(path=where, reason=e.message)) \
                from None


def _read_v1(inst: Install, copy: Path) -> StoreState:
    return _copy_v1(inst.leveldb_dir, copy)


def _copy_v1(leveldb_dir: Path, copy: Path) -> StoreState:
    mine = Install(copy, "v1", None, "import")
    mine.leveldb_dir.mkdir(parents=True)
    for f in leveldb_dir.iterdir():
        if f.is_file() and f.name != "LOCK":
            shutil.copyfile(f, mine.leveldb_dir / f.name)
    return open_store(mine).read()  # stores.open_store: the one dispatch on the store kind


def _read_v2(database: Path, copy: Path) -> StoreState:
    mine = Install(copy, "v2", None, "import")
    mine.sqlite_path.parent.mkdir(parents=True)
    shutil.copyfile(database, mine.sqlite_path)
    for suffix in _SQLITE_COMPANIONS:
        companion = database.with_name(database.name + suffix)
        if companion.is_file():
            shutil.copyfile(companion, mine.sqlite_path.with_name(mine.sqlite_path.name + suffix))
    # Someone else's file: checked on a bounded connection before the store's reader, which trusts its tables,
    # touches it (a recursive view named user_model would never finish).
    with limits.sqlite_source(mine.sqlite_path, immutable=False) as conn:
        limits.check_plain_tables(conn, _V2_TABLES, database)
    # The copy is this install's own live database: opened normally, SQLite replays the copied log into it.
    return open_store(mine).read()
