"""Read providers from where they already live (another install, a backup, a link, another tool's config).

Every reader turns its source into providers in the 1.x Provider format every store maps to, so the profile is
built the way `export` builds it. Sources are told apart by their content, never by their file name.
"""

from __future__ import annotations

import re
import sqlite3
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cherryconf.errors import BadInput
from cherryconf.i18n import _

SQLITE_MAGIC = b"SQLite format 3\x00"
_NOT_ID = re.compile(r"[^a-z0-9]+")


@dataclass
class Source:
    """What a source holds: its providers (1.x Provider format) and what its reader could not take, and why."""

    what: str
    providers: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


def provider_id(name: str, taken: set[str], tool: str) -> str:
    """A stable id for a provider another tool knows by name only, unused in `taken` (which it joins). Never a
    built-in provider's id: that would update the app's own provider (or be refused by 2.x)."""
    from cherryconf.domain.spec import BUILT_IN_PROVIDER_IDS

    base = _NOT_ID.sub("-", name.lower()).strip("-") or "imported"
    if base in BUILT_IN_PROVIDER_IDS:
        base = f"{base}-{tool}"
    pid, n = base, 2
    while pid in taken:
        pid, n = f"{base}-{n}", n + 1
    taken.add(pid)
    return pid


def read(source: str | None, data_dir: Path | None) -> Source:
    """The providers `source` (a path or an import link) or the data directory `data_dir` holds; BadInput when it
    is none of the sources cherryconf knows, or is damaged."""
    from cherryconf.formats.importers import datadir

    if data_dir is not None:
        if source is not None:
            raise BadInput(_("give either SOURCE or --from-data-dir, not both"))
        return datadir.read(data_dir)
    if source is None:
        raise BadInput(_("say what to import: a file, an import link, or --from-data-dir DIR"))
    if source.lstrip().lower().startswith("cherrystudio:"):
        return _link(source)
    path = Path(source)
    if path.is_dir():
        return datadir.read(path)
    if not path.is_file():
        raise BadInput(_("{path} does not exist").format(path=path))
    return _file(path)


def _link(text: str) -> Source:
    from cherryconf.formats.importers import link

    return link.read(text)


def _file(path: Path) -> Source:
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as e:
        raise BadInput(_("cannot read {path} ({error})").format(path=path, error=e.strerror)) from None
    if head == SQLITE_MAGIC:
        return _database(path)
    if zipfile.is_zipfile(path):
        from cherryconf.formats.importers import backup_zip

        return backup_zip.read(path)
    from cherryconf.formats.importers import limits

    try:
        text = limits.read_text(path, _("config or export")).strip()
    except UnicodeDecodeError:
        raise BadInput(_("{path} is neither a backup, a database nor a JSON file cherryconf can import")
                       .format(path=path)) from None
    if text.lower().startswith("cherrystudio:"):
        return _link(text)
    try:
        # JSON5 is what claude-code-router reads its config with (comments, trailing commas).
        document = limits.parse_json(text, str(path))
    except ValueError as e:
        raise BadInput(_("{path} is not valid JSON ({error}), nor anything else cherryconf can import")
                       .format(path=path, error=e)) from None
    return _json(path, document)


def _json(path: Path, document: Any) -> Source:
    from cherryconf.formats.importers import ccr, cherry_export

    if isinstance(document, dict) and "Providers" in document:
        return ccr.read(path, document)
    if isinstance(document, dict) and "providers" in document and "version" in document:
        return cherry_export.read(path, document)
    raise BadInput(_("{path} is JSON cherryconf does not know: neither a claude-code-router config (Providers) "
                     "nor a Cherry Studio provider export (version, providers)").format(path=path))


def _database(path: Path) -> Source:
    from cherryconf.formats.importers import ccswitch, limits

    try:
        with limits.sqlite_source(path) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as e:
        raise BadInput(_("{path} is a damaged SQLite database ({error})").format(path=path, error=e)) from None
    if tables >= ccswitch.TABLES:
        return ccswitch.read(path)
    if "user_provider" in tables:
        from cherryconf.formats.importers import datadir

        return datadir.read_database(path)
    raise BadInput(_("{path} is an SQLite database cherryconf does not know").format(path=path))
