"""Cherry Studio 2.x: providers as rows of `user_provider` and `user_model` in `<userData>/Data/cherrystudio.sqlite`.

Every row maps to and from the 1.x Provider/Model format the way the app's own 1.x -> 2.x migration maps it
(`ProviderModelMappings.ts`). Writing touches only the rows of the providers a plan changed, and within those
only the columns whose 1.x field changed: the app keeps registry-owned and user-owned details in the same JSON
columns, and they must survive. Before anything is written, each changed provider is mapped to rows and back;
a field the 2.x database cannot hold as given (a capability 2.x has no name for, `owned_by`...) is refused
with BadInput instead of being lost or read back differently.
"""

from __future__ import annotations

import contextlib
import copy
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fractional_indexing

from cherryconf import faults
from cherryconf.domain.catalog import Catalog
from cherryconf.domain.spec import BUILT_IN_PROVIDER_IDS, RETIRED_PROVIDER_IDS
from cherryconf.errors import AppRunning, BadInput, ReadBackFailed, StoreError
from cherryconf.fsutil import copy_file, create_private, fsync_dir, fsync_file, real_path, rename
from cherryconf.i18n import _
from cherryconf.stores import StoreState
from cherryconf.stores.shape import RESTORE
from cherryconf.stores.v2.rows import (
    _check_round_trip,
    _model_row,
    _model_v1,
    _provider_row,
    _provider_v1,
    v1_capabilities,
)
from cherryconf.stores.v2.tables import (
    _MODEL_JSON,
    _PROVIDER_JSON,
    Row,
    _check_migrated,
    _check_schema,
    _columns,
    _json,
    _model_rows,
    _preferences,
    _provider_rows,
    _Schema,
    _surrogate_text,
)

if TYPE_CHECKING:
    from cherryconf.domain.plan import Plan
    from cherryconf.stores.install import Install


DB_NAME = "cherrystudio.sqlite"
NEW_SUFFIX = ".cherryconf-new"
BUSY_TIMEOUT_S = 5.0


# The 1.x llm settings that embed a Model -> the preference holding that model's "provider::model" id.
_MODEL_PREFERENCES = {
    "defaultModel": "chat.default_model_id",
    "topicNamingModel": "topic.naming.model_id",
    "quickModel": "feature.quick_assistant.model_id",
    "translateModel": "feature.translate.model_id",
}


def _now_ms() -> int:
    return int(time.time() * 1000)




def _keys_between(low: str | None, high: str | None, n: int) -> list[str]:
    try:
        return list(fractional_indexing.generate_n_keys_between(low, high, n))
    except (fractional_indexing.FIError, IndexError):
        raise StoreError(
            _("Cherry Studio's database holds an order key cherryconf cannot place a row beside ({low!r}, "
              "{high!r})").format(
                low=low, high=high)
        ) from None


def _encode(value: Any, is_json: bool) -> Any:
    if is_json and value is not None:
        return _json(value)
    return int(value) if isinstance(value, bool) else value


def _insert(conn: sqlite3.Connection, table: str, row: Row, json_columns: frozenset[str]) -> None:
    names = ",".join(f'"{c}"' for c in row)
    marks = ",".join("?" * len(row))
    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                 [_encode(v, c in json_columns) for c, v in row.items()])


def _update(conn: sqlite3.Connection, table: str, key: str, old: Row, new: Row, json_columns: frozenset[str],
            now: int) -> None:
    changed = [c for c in new if new[c] != old.get(c)]
    if not changed:
        return
    values = {c: new[c] for c in changed} | {"updated_at": now}
    sets = ",".join(f'"{c}" = ?' for c in values)
    conn.execute(f'UPDATE {table} SET {sets} WHERE "{key}" = ?',
                 [*(_encode(v, c in json_columns) for c, v in values.items()), old[key]])


def _delete_model(conn: sqlite3.Connection, uid: str) -> None:
    conn.execute("DELETE FROM user_model WHERE id = ?", (uid,))


def _move_references(conn: sqlite3.Connection, moves: dict[str, str], now: int) -> None:
    """Re-point everything that names a moved model (`old uid -> new uid`) before the old row goes.

    Every column with a foreign key to `user_model` (an assistant's `model_id`, and whatever a later release
    adds: the keys would otherwise set it NULL or cascade on delete), the preferences whose value is the model's
    id (default, topic-naming, quick-assistant and translate models), and the pins that name it (no foreign key).
    """
    def stamped(table: str) -> tuple[str, list[int]]:
        return (', "updated_at" = ?', [now]) if "updated_at" in _columns(conn, table) else ("", [])

    # The statements, read off the schema once: (sql, extra parameters, whether the ids are JSON text).
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    statements: list[tuple[str, list[int], bool]] = []
    for table in tables:
        for fk in conn.execute(f'PRAGMA foreign_key_list("{table}")').fetchall():
            if fk["table"] == "user_model":
                stamp, extra = stamped(table)
                column = str(fk["from"])
                statements.append((f'UPDATE "{table}" SET "{column}" = ?{stamp} WHERE "{column}" = ?', extra, False))
    if {"key", "value"} <= _columns(conn, "preference").keys():
        stamp, extra = stamped("preference")
        statements.append((f"UPDATE preference SET value = ?{stamp} WHERE value = ?", extra, True))
    if {"entity_type", "entity_id"} <= _columns(conn, "pin").keys():
        statements.append(("UPDATE pin SET entity_id = ? WHERE entity_type = 'model' AND entity_id = ?", [], False))
    for old, new in moves.items():
        for sql, extra, as_json in statements:
            conn.execute(sql, [_json(new) if as_json else new, *extra, _json(old) if as_json else old])


def _delete_provider(conn: sqlite3.Connection, provider_id: str, model_uids: list[str]) -> None:
    """Remove a provider the way the app's own ProviderService.delete does (src/main/data/services/, read on the
    2.x line after 2.1.4; PinService.ts at 6105bb3c).

    Its models and logo reference go with it (foreign keys ON DELETE CASCADE, on in every write transaction);
    a pin names a model without a foreign key, so the app deletes those itself, and so does this. Databases
    without a `pin` table (the 2.0 releases) have nothing to clean.
    """
    if model_uids and {"entity_type", "entity_id"} <= _columns(conn, "pin").keys():
        marks = ",".join("?" * len(model_uids))
        conn.execute(f"DELETE FROM pin WHERE entity_type = 'model' AND entity_id IN ({marks})", model_uids)
    conn.execute("DELETE FROM user_provider WHERE provider_id = ?", (provider_id,))


def _default_uid(plan: Plan) -> str | None:
    """The "provider::model" id the plan makes the default model, if it changes it."""
    default = plan.default_model_after
    if default is None or default == plan.default_model_before:
        return None
    return f"{default.get('provider')}::{default.get('id')}"


def _preference_columns(conn: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    """The preference table's columns; StoreError when there is none to hold the default model."""
    cols = _columns(conn, "preference")
    if not {"key", "value"} <= cols.keys():
        raise StoreError(_("Cherry Studio's database has no preference table to hold the default model"))
    return cols


def _check_integrity(conn: sqlite3.Connection) -> None:
    """Refuse to write a database SQLite itself finds damaged: a write could only spread the damage."""
    found = conn.execute("PRAGMA integrity_check(1)").fetchone()[0]
    if found != "ok":
        raise StoreError(_("SQLite finds Cherry Studio's database damaged ({found}), so cherryconf changes nothing; "
                           "{restore}").format(found=found, restore=RESTORE))


def _tables(conn: sqlite3.Connection) -> list[str]:
    """The database's own tables: not SQLite's, and not virtual ones (their module may not be loadable here)."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                        "ESCAPE '\\'")
    return [r["name"] for r in rows if not str(r["sql"] or "").upper().startswith("CREATE VIRTUAL")]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _digest(conn: sqlite3.Connection, table: str) -> tuple[int, int]:
    """Row count and an order-free digest of every row of `table`: the sum of the rows' hashes.

    Python's own hash is seeded per process, which is fine for comparing two reads of one run, and is several
    times faster than a cryptographic one over the app's messages: fetching the rows is then most of the cost.
    """
    cur = conn.cursor()
    cur.row_factory = None
    total = count = 0
    for row in cur.execute(f"SELECT * FROM {_quoted(table)}"):
        total += hash(row)
        count += 1
    return count, total & ((1 << 64) - 1)


def _rows_of(conn: sqlite3.Connection, table: str, providers: set[str]) -> list[tuple[Any, ...]]:
    """Every row of `table` (user_provider or user_model) of a provider not in `providers`, as stored."""
    cur = conn.cursor()
    cur.row_factory = None
    key = "provider_id" if table == "user_provider" else "id"
    rows = cur.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
    column = [d[0] for d in cur.description].index("provider_id")
    return [r for r in rows if r[column] not in providers]


class _ReadBack:
    """After a write, read the database again from disk: every table must hold what it held, except the tables the
    write touched, which must hold what the write transaction left; rows of the providers the plan did not change
    must be byte for byte as before.

    Which tables the write touched, cascades included, is recorded by temporary triggers on the write's own
    connection, so that an untouched table (the app's topics and messages) is read twice, not three times.
    """

    def __init__(self, conn: sqlite3.Connection, changed: set[str]) -> None:
        self._changed = changed
        self._tables = _tables(conn)
        self._before = {t: _digest(conn, t) for t in self._tables}
        self._kept = {t: _rows_of(conn, t, changed) for t in ("user_provider", "user_model")}
        conn.execute("CREATE TEMP TABLE cherryconf_touched (name TEXT)")
        self._watched: set[str] = set()
        for table in self._tables:
            try:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    conn.execute(f"CREATE TEMP TRIGGER {_quoted(f'cherryconf_{event}_{table}')} AFTER {event} "
                                 f"ON main.{_quoted(table)} BEGIN INSERT INTO cherryconf_touched VALUES "
                                 f"({_literal(table)}); END")
                self._watched.add(table)
            except sqlite3.OperationalError:
                pass  # a table that takes no trigger counts as touched: it is compared with the transaction's view
        self._after: dict[str, tuple[int, int]] = {}

    def written(self, conn: sqlite3.Connection) -> None:
        """Called in the write transaction once every change is made: note what the touched tables now hold."""
        touched = {r["name"] for r in conn.execute("SELECT DISTINCT name FROM cherryconf_touched")}
        touched |= set(self._tables) - self._watched
        self._after = {t: self._before[t] for t in self._tables} | {t: _digest(conn, t) for t in touched}
        for table in self._watched:
            for event in ("INSERT", "UPDATE", "DELETE"):
                conn.execute(f"DROP TRIGGER temp.{_quoted(f'cherryconf_{event}_{table}')}")
        conn.execute("DROP TABLE temp.cherryconf_touched")

    def check(self, conn: sqlite3.Connection, db: Path) -> None:
        """ReadBackFailed unless a fresh read of the committed database is what the write meant it to be."""
        tables = _tables(conn)
        wrong = sorted(set(tables) ^ set(self._tables))
        wrong += [t for t in tables if t in self._after and _digest(conn, t) != self._after[t]]
        wrong += [t for t, rows in self._kept.items() if _rows_of(conn, t, self._changed) != rows]
        if wrong:
            raise ReadBackFailed(_("after writing {db}, its table {table} does not read back as written").format(
                                     db=db, table=wrong[0]))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# One row change, run inside the write transaction.
Operation = Callable[[sqlite3.Connection], Any]


class V2Store:
    def __init__(self, install: Install, root: Path | None = None) -> None:
        self.install = install
        self._root = root or install.sqlite_path.parent
        # A snapshot elsewhere is read as an immutable file: opening it must not create -wal/-shm beside it.
        self._live = real_path(self._root) == real_path(install.sqlite_path.parent)
        self._models: Catalog | None = None
        self._presets: dict[tuple[str, str], str | None] = {}  # (provider, model) -> preset_model_id, as last read

    @property
    def models(self) -> Catalog:
        """The app's model catalog, which decides which new models are preset-backed rows."""
        if self._models is None:
            from cherryconf.domain import catalog

            self._models = catalog.load()
        return self._models

    @property
    def root(self) -> Path:
        return self._root

    def catalog_capabilities(self, provider_id: str, model_id: str) -> list[str] | None:
        """The 1.x capabilities the app gives this model from its catalog, before any the profile adds: for a row
        the store holds, its preset model's; for a new one, the catalog model the app would back it with (the
        store's last read decides which rows exist). None: a custom row, whose stored list is all there is."""
        key = (provider_id, model_id)
        preset = self._presets[key] if key in self._presets else self.models.find(model_id)
        caps = self.models.capabilities(preset)
        return None if caps is None else v1_capabilities(caps)

    @property
    def _db(self) -> Path:
        return self._root / DB_NAME

    @property
    def _new(self) -> Path:
        return self._root / (DB_NAME + NEW_SUFFIX)

    def _connect(self) -> sqlite3.Connection:
        if not self._db.is_file():
            raise StoreError(_("{db} does not exist: there is no Cherry Studio 2.x database to work on").format(
                                 db=self._db))
        mode = "mode=rw" if self._live else "mode=ro&immutable=1"
        try:
            conn = sqlite3.connect(f"{self._db.absolute().as_uri()}?{mode}", uri=True, isolation_level=None,
                                   timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as e:
            raise StoreError(_("cannot open {db} ({e})").format(db=self._db, e=e)) from None
        conn.row_factory = sqlite3.Row
        conn.text_factory = _surrogate_text
        return conn

    @contextlib.contextmanager
    def _transaction(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            if write:
                conn.execute("PRAGMA foreign_keys = ON")  # has no effect once a transaction is open
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as e:
                if "locked" in str(e) or "busy" in str(e):
                    raise AppRunning(_("{db} is locked by another program (is Cherry Studio running?); quit it, "
                                       "including from the tray icon, then run this again").format(
                        db=self._db)) from None
                raise
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            raise StoreError(_("Cherry Studio's database {db} failed ({e}); nothing was changed").format(
                                 db=self._db, e=e)) from None
        finally:
            conn.close()

    # --- reading ----------------------------------------------------------------------------------------------

    def read(self) -> StoreState:
        with self._transaction() as conn:
            _check_schema(conn)
            _check_migrated(conn)
            rows = _provider_rows(conn)
            models = _model_rows(conn)
            prefs = _preferences(conn, list(_MODEL_PREFERENCES.values()))
        providers = [_provider_v1(r, [_model_v1(m, self.models) for m in models.get(r["provider_id"], [])])
                     for r in rows]
        self._presets = {(m["provider_id"], m["model_id"]): m["preset_model_id"] for ms in models.values() for m in ms}
        by_uid = {f"{m['provider']}::{m['id']}": m for p in providers for m in p["models"]}
        refs = {name: copy.deepcopy(by_uid[prefs[key]]) for name, key in _MODEL_PREFERENCES.items()
                if isinstance(prefs.get(key), str) and prefs[key] in by_uid}
        return StoreState(providers, copy.deepcopy(refs.get("defaultModel")), refs)

    def inventory(self) -> dict[str, dict[str, int]]:
        # The app's topic and message tables (release migration 0000, `topic` and `message`; ousugo/cherry-studio
        # migrations/sqlite-drizzle/0000_orange_jasper_sitwell.sql at 564c9eac) and its preferences, by primary key.
        found: dict[str, dict[str, int]] = {}
        with self._transaction() as conn:
            for kind, table in (("topics", "topic"), ("messages", "message"), ("settings", "preference")):
                cols = _columns(conn, table)
                keys = [name for name, c in sorted(cols.items(), key=lambda kv: kv[1]["pk"]) if c["pk"]]
                if not keys:
                    continue
                cur = conn.cursor()
                cur.row_factory = None
                names = ",".join(_quoted(k) for k in keys)
                found[kind] = {"/".join(str(v) for v in row[: len(keys)]): hash(row)
                               for row in cur.execute(f"SELECT {names}, * FROM {_quoted(table)}")}
        return found

    # --- writing ----------------------------------------------------------------------------------------------

    def exclusive(self) -> AbstractContextManager[None]:
        return self._exclusive()

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        # 2.x holds no lock on its idle database; a write lock we can take and give back says nobody is writing.
        with self._transaction(write=True):
            pass
        yield

    def check(self, plan: Plan) -> None:
        """Refuse, before any backup or write, a plan this database cannot hold exactly (BadInput, StoreError): the
        same refusals write() would meet, so that apply --check and --dry-run report them too."""
        with self._transaction() as conn:
            self._operations(conn, plan, _now_ms())
            if _default_uid(plan) is not None:
                _preference_columns(conn)

    def write(self, plan: Plan) -> None:
        now = _now_ms()
        with self._transaction(write=True) as conn:
            _check_integrity(conn)
            guard = _ReadBack(conn, set(plan.changed_ids))
            for operation in self._operations(conn, plan, now):
                operation(conn)
            default = _default_uid(plan)
            if default is not None:
                self._write_default(conn, default, now)
            guard.written(conn)
        with self._transaction() as conn:
            guard.check(conn, self._db)

    def _operations(self, conn: sqlite3.Connection, plan: Plan, now: int) -> list[Operation]:
        """Every row change the plan needs, checked (presets, round trip) but not yet executed."""
        after = {p["id"]: p for p in plan.after}
        planned = {p.get("id") for p in plan.before}
        schema = _check_schema(conn)
        _check_migrated(conn)
        rows = {r["provider_id"]: r for r in _provider_rows(conn)}
        models = _model_rows(conn)
        held = {r["preset_provider_id"] for r in rows.values() if r["preset_provider_id"]}
        for pid in plan.changed_ids:
            if pid not in planned and pid in held:
                raise BadInput(_("provider id {pid!r} is Cherry Studio's built-in provider of that name; choose "
                                 "another id for your own provider").format(pid=pid))
            if pid not in planned and pid in RETIRED_PROVIDER_IDS:
                raise BadInput(_("provider id {id!r} is one Cherry Studio 2.x retired: it hides such a provider and "
                                 "its models; choose another id for your own provider").format(id=pid))
            if pid not in planned and pid in BUILT_IN_PROVIDER_IDS | self.models.provider_ids:
                raise BadInput(_("provider id {id!r} is the id of a provider Cherry Studio ships, which a later "
                                 "release would merge into yours: choose another id for your own provider").format(
                                     id=pid))
            if (pid in planned) != (pid in rows):
                raise StoreError(_("the store changed while cherryconf was planning; run the command again"))
        added = [p for p in plan.after if p["id"] not in rows and p["id"] in plan.changed_ids]
        on = [p["id"] for p in added if p.get("enabled", True)]
        off = [p["id"] for p in added if not p.get("enabled", True)]
        first = min((r["order_key"] for r in rows.values()), default=None)
        last = max((r["order_key"] for r in rows.values()), default=None)
        # New providers keep the plan's order. The app creates a provider disabled at the end of the list and
        # moves it to the top once it is enabled (Cherry Studio 2.x, ProviderService.ts create/update at
        # 046ee505; orderKey.ts insertWithOrderKey defaults to 'last').
        on_keys = _keys_between(None, first, len(on))
        after_all = last if last is not None else (on_keys[-1] if on_keys else None)
        off_keys = _keys_between(after_all, None, len(off))
        new_keys = dict(zip(on, on_keys, strict=True)) | dict(zip(off, off_keys, strict=True))
        # A moved model keeps what its row was (catalog-backed or custom) under its new provider.
        carried = {(new, mid): m for (old, mid), new in plan.moved.items() for m in models.get(old, [])
                   if m["model_id"] == mid}
        operations: list[Operation] = []
        for pid in plan.changed_ids:
            if pid not in after:  # removed from the store: only ever a provider cherryconf added (owners)
                if rows[pid]["preset_provider_id"] is not None:
                    raise BadInput(_("provider {pid!r} is one of Cherry Studio's built-in providers, which the app "
                                     "itself never deletes, so cherryconf leaves it").format(pid=pid))
                operations.append(partial(_delete_provider, provider_id=pid,
                                          model_uids=[m["id"] for m in models.get(pid, [])]))
                continue
            operations += self._provider_operations(schema, rows.get(pid), models.get(pid, []), after[pid],
                                                    new_keys.get(pid), now, carried)
        if not plan.moved:
            return operations
        # A move (doctor's gateway out of a built-in provider) inserts the models under their new provider, then
        # re-points every reference, and only then deletes the old rows, which would otherwise null them.
        moves = {f"{old}::{mid}": f"{new}::{mid}" for (old, mid), new in plan.moved.items()}
        deletes = [op for op in operations if isinstance(op, partial) and op.func in (_delete_model, _delete_provider)]
        return ([op for op in operations if op not in deletes]
                + [partial(_move_references, moves=moves, now=now)] + deletes)

    def _provider_operations(self, schema: _Schema, old: Row | None, old_models: list[Row],
                             want: dict[str, Any], order_key: str | None, now: int,
                             carried: dict[tuple[str, str], Row]) -> list[Operation]:
        pid = str(want["id"])
        dialects = "api_features" not in schema.provider
        new = {c: v for c, v in _provider_row(old, want, order_key, now, dialects).items() if c in schema.provider}
        by_id = {m["model_id"]: m for m in old_models}
        wanted = want.get("models") or []
        wanted_ids = {w.get("id") for w in wanted}
        kept = [m for m in old_models if m["model_id"] in wanted_ids]
        fresh = [w for w in wanted if w.get("id") not in by_id]
        # New models go after the ones kept, in the plan's order, as the app appends a model it adds.
        keys = iter(_keys_between(kept[-1]["order_key"] if kept else None, None, len(fresh)))
        pairs: list[tuple[Row | None, Row]] = []
        for w in wanted:
            old_model = by_id.get(w.get("id"))
            row = _model_row(old_model, w, pid, None if old_model else next(keys), now, self.models,
                             carried.get((pid, str(w.get("id")))))
            pairs.append((old_model, {c: v for c, v in row.items() if c in schema.model}))
        _check_round_trip(want, new, [row for _want, row in pairs], self.models)
        ops: list[Operation] = []
        if old is None:
            ops.append(partial(_insert, table="user_provider", row=new, json_columns=_PROVIDER_JSON))
        else:
            ops.append(partial(_update, table="user_provider", key="provider_id", old=old, new=new,
                               json_columns=_PROVIDER_JSON, now=now))
        for m in old_models:
            if m["model_id"] not in wanted_ids:  # replaceModels dropped it
                ops.append(partial(_delete_model, uid=m["id"]))
        for old_model, row in pairs:
            if old_model is None:
                ops.append(partial(_insert, table="user_model", row=row, json_columns=_MODEL_JSON))
            else:
                ops.append(partial(_update, table="user_model", key="id", old=old_model, new=row,
                                   json_columns=_MODEL_JSON, now=now))
        return ops

    def _write_default(self, conn: sqlite3.Connection, uid: str, now: int) -> None:
        if conn.execute("SELECT 1 FROM user_model WHERE id = ?", (uid,)).fetchone() is None:
            raise BadInput(_("the default model {uid!r} is not among the models cherryconf wrote").format(uid=uid))
        cols = _preference_columns(conn)
        scope = {"scope": "default"} if "scope" in cols else {}
        where = " AND ".join(f'"{c}" = ?' for c in ["key", *scope])
        values = {"value": _json(uid)} | ({"updated_at": now} if "updated_at" in cols else {})
        sets = ",".join(f'"{c}" = ?' for c in values)
        cur = conn.execute(f"UPDATE preference SET {sets} WHERE {where}",
                           [*values.values(), "chat.default_model_id", *scope.values()])
        if cur.rowcount == 0:
            stamps: Row = {c: now for c in ("created_at", "updated_at") if c in cols}
            _insert(conn, "preference", {"key": "chat.default_model_id", **scope, **values, **stamps}, frozenset())

    # --- backup and restore -----------------------------------------------------------------------------------

    def snapshot(self, dest: Path) -> None:
        target = dest / DB_NAME
        try:
            source = self._connect()
        except StoreError:
            self._raw_copy(dest)
            return
        try:
            create_private(target)
            copy_to = sqlite3.connect(target)
            try:
                # The backup API copies a consistent state, WAL content included, while the app may read on.
                source.backup(copy_to)
            finally:
                copy_to.close()
        except sqlite3.OperationalError as e:
            raise StoreError(_("could not copy {db} ({e})").format(db=self._db, e=e)) from None
        except sqlite3.DatabaseError:
            # A damaged database cannot be read page by page; keep its files exactly as they are instead,
            # so restoring a good backup over it still leaves a copy of what was there.
            target.unlink(missing_ok=True)
            self._raw_copy(dest)
            return
        finally:
            source.close()
        fsync_file(target)

    def _raw_copy(self, dest: Path) -> None:
        for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
            if (self._root / name).is_file():
                copy_file(self._root / name, dest / name)

    def replace_with(self, source: Path) -> None:
        new = self._new
        new.unlink(missing_ok=True)
        try:
            # A failed copy (a full disk) must not leave a half file for the next run to find.
            copy_file(source / DB_NAME, new)
            fsync_dir(self._root)
            faults.step("new database copied")
            self._retire_wal()
            rename(new, self._db)
        except BaseException:
            new.unlink(missing_ok=True)
            raise
        fsync_dir(self._root)
        faults.step("new database in place")

    def _retire_wal(self) -> None:
        """Fold the live WAL into the old file and remove it, so no old WAL can ever meet the new file."""
        if self._db.exists():
            conn = self._connect()
            try:
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except sqlite3.OperationalError as e:
                raise StoreError(_("cannot fold the log into {db} ({e}); nothing was replaced").format(
                                     db=self._db, e=e)) from None
            except sqlite3.DatabaseError:
                # Damaged: nothing to fold in. Its files are in the pre-restore backup, byte for byte.
                busy = None
            finally:
                conn.close()
            if busy is None:
                self._drop_wal()
                return
            if busy:
                raise AppRunning(_("{db} is in use by another program (is Cherry Studio running?); quit it, "
                                   "including from the tray icon, then run this again").format(db=self._db))
        faults.step("old database checkpointed")
        wal = self._db.with_name(DB_NAME + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise AppRunning(_("another program wrote to {db} while cherryconf was replacing it; quit Cherry Studio, "
                               "including from the tray icon, then run this again").format(db=self._db))
        self._drop_wal()

    def _drop_wal(self) -> None:
        for suffix in ("-wal", "-shm"):
            self._db.with_name(DB_NAME + suffix).unlink(missing_ok=True)
        fsync_dir(self._root)
        faults.step("old WAL removed")

    def interrupted(self) -> bool:
        return self._new.exists()

    def recover(self) -> str | None:
        if not self._new.exists():
            return None
        # The copy is only renamed into place whole: while it is still here, the database was not replaced.
        self._new.unlink()
        fsync_dir(self._root)
        return _("removed {name}, left by an interrupted restore; {db} was not replaced").format(
                   name=self._new.name, db=self._db)
