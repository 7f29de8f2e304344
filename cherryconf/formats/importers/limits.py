"""Bounds for what `import` reads: a source is someone else's file, so none of it may cost more than a cap.

- Text (JSON, JSON5, an import link): at most MAX_TEXT bytes, nested at most MAX_DEPTH levels; JSON5's parser is
  pure Python (about 40 KB a second), so it is used only for a text JSON refuses that is under MAX_JSON5.
- SQLite sources: opened read-only and immutable, with `trusted_schema` off (no function of the schema runs),
  every value capped at MAX_SQL_VALUE bytes, and a progress-handler budget; a table read must be a plain table
  without generated columns (a view or a computed column can make a small file cost without bound).
- Temporary copies: in a private directory, removed on return, on an error, on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from cherryconf.errors import BadInput
from cherryconf.fsutil import private_dir
from cherryconf.i18n import _

MAX_TEXT = 8 * 1024 * 1024  # a claude-code-router config or an app export is kilobytes
MAX_JSON5 = 64 * 1024
MAX_DEPTH = 64  # a provider export is about six levels deep
MAX_SQL_VALUE = 16 * 1024 * 1024  # one provider row is kilobytes
# Progress-handler calls of 10,000 virtual-machine steps each: reading thousands of providers and models takes a
# few hundred steps a row; a query that needs more than 200 million is no read of a settings table.
_PROGRESS_STEPS = 10_000
_PROGRESS_CALLS = 20_000

_TOKENS = re.compile(r'"(?:[^"\\\n]|\\[\s\S])*"?|\'(?:[^\'\\\n]|\\[\s\S])*\'?|//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)|[\[\]{}]')


def read_text(path: Path, what: str) -> str:
    """The file's text (UTF-8, a byte order mark allowed), refused past MAX_TEXT bytes; UnicodeDecodeError as is."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_TEXT + 1)
    except OSError as e:
        raise BadInput(_("cannot read {path} ({error})").format(path=path, error=e.strerror)) from None
    if len(data) > MAX_TEXT:
        raise BadInput(_("{path} is larger than {size} MB, more than any {what} is").format(
                           path=path, size=MAX_TEXT // (1024 * 1024), what=what))
    return data.decode("utf-8-sig")


def check_depth(text: str, where: str) -> None:
    """BadInput when brackets outside strings and comments nest deeper than MAX_DEPTH (before any parser
    recurses into them)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise BadInput(_("{where} is nested more than {max} levels deep, which no config or export is")
                               .format(where=where, max=MAX_DEPTH))
        elif token in ("]", "}"):
            depth -= 1


def parse_json(text: str, where: str) -> Any:
    """JSON, or JSON5 (comments, trailing commas: what claude-code-router reads) for a small text; ValueError when
    it is neither."""
    import json

    check_depth(text, where)
    try:
        return json.loads(text)
    except ValueError as e:
        if len(text.encode("utf-8")) > MAX_JSON5:
            raise ValueError(str(e)) from None
    import json5

    return json5.loads(text)


@contextlib.contextmanager
def sqlite_source(path: Path, *, immutable: bool = True) -> Iterator[sqlite3.Connection]:
    """A bounded, read-only connection to an SQLite source; its refusals become BadInput naming `path`.

    `immutable` for someone else's file (nothing is written beside it, no lock is taken); a private copy that
    may carry a write-ahead log is opened read-only without it, so that the log is read.
    """
    mode = "mode=ro&immutable=1" if immutable else "mode=ro"
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?{mode}", uri=True)
    except sqlite3.Error as e:
        raise BadInput(_("{path} is a damaged SQLite database ({error})").format(path=path, error=e)) from None
    calls = 0

    def progress() -> int:
        nonlocal calls
        calls += 1
        return 1 if calls > _PROGRESS_CALLS else 0

    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_SQL_VALUE)
        conn.set_progress_handler(progress, _PROGRESS_STEPS)
        yield conn
    except sqlite3.DatabaseError as e:
        if calls > _PROGRESS_CALLS:
            raise BadInput(_("{path} needs far more work to read than any settings database: not read").format(
                               path=path)) from None
        if "too big" in str(e):
            raise BadInput(_("{path} holds a value larger than {size} MB, which no settings row is: not read")
                           .format(path=path, size=MAX_SQL_VALUE // (1024 * 1024))) from None
        raise
    finally:
        conn.close()


def check_plain_tables(conn: sqlite3.Connection, tables: Iterable[str], path: Path) -> None:
    """BadInput unless each of `tables` that exists is a plain table without generated columns: what a view or a
    computed column returns is not bounded by the file's size."""
    for table in sorted(tables):
        row = conn.execute("SELECT type FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        if row is None:
            continue
        if row[0] != "table":
            raise BadInput(_("{path}: {table} is a view, not a table, which no database cherryconf imports has: "
                             "not read").format(path=path, table=table))
        # table_xinfo's `hidden`: 2 a virtual generated column, 3 a stored one.
        if any(r[6] in (2, 3) for r in conn.execute(f'PRAGMA table_xinfo("{table}")')):
            raise BadInput(_("{path}: {table} has generated columns, which no database cherryconf imports has: "
                             "not read").format(path=path, table=table))


@contextlib.contextmanager
def private_temp() -> Iterator[Path]:
    """A private temporary directory (it will hold copies of stores, keys included), removed however the block
    ends: SIGTERM is turned into KeyboardInterrupt meanwhile, so a killed import unwinds and cleans up too."""
    main = threading.current_thread() is threading.main_thread()
    previous: Any = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        path = Path(tempfile.mkdtemp(prefix="cherryconf-import-"))  # 0700 on POSIX
        try:
            private_dir(path)  # and a private DACL on Windows
            yield path
        finally:
            if main:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the removal itself is not cut short
            shutil.rmtree(path, ignore_errors=True)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
