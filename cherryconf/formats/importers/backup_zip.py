"""Cherry Studio's own backup archives (facts section 6).

1.x (Cherry Studio 1.x, src/main/services/BackupManager.ts at 00a36a60): a zip of `data.json` and `Data/`, where
`data.json` is `{"time", "version": 5, "localStorage": {key: string}, "indexedDB": {...}}` and localStorage's
`persist:cherry-studio` is the redux-persist blob the 1.x store holds. Archives that copy the stores themselves
(later 1.x, and 2.x's `Data/`, `IndexedDB`, `Local Storage`, `metadata.json`) are read as a data directory.
"""

from __future__ import annotations

import shutil
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cherryconf.errors import BadInput, CherryconfError
from cherryconf.formats.importers import Source, datadir, limits
from cherryconf.i18n import _
from cherryconf.stores import install as install_mod
from cherryconf.stores import shape
from cherryconf.stores.v1 import persist

PERSIST_KEY = "persist:cherry-studio"
# What a store needs of an archive: the 1.x LevelDB, the 2.x database and its log. Nothing else is extracted.
_LEVELDB = "Local Storage/leveldb/"
_DATABASE = ("Data/cherrystudio.sqlite", "Data/cherrystudio.sqlite-wal")
_STORE_DIRS = ("Local Storage/", "Data/")
MAX_ENTRIES = 100_000  # a real backup's Data/ holds the user's files too, but not this many
MAX_EXTRACTED = 2 * 1024 * 1024 * 1024  # the stores, with a big 2.x history of messages
MAX_RATIO = 200  # deflate can reach 1,000:1 on zeros; a real store compresses less than 20:1
# data.json is `{"time", "version", "localStorage", "indexedDB"}` in that order (the app's getBackupData,
# src/renderer/src/services/BackupService.ts at 9e9c0ed1): localStorage comes before the messages of indexedDB,
# so it is read as a stream up to the end of localStorage, never further, and never past this.
MAX_DATA_JSON_READ = 32 * 1024 * 1024


def read(path: Path) -> Source:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES:
                raise _damaged(path, _("it holds more than {n} entries").format(n=MAX_ENTRIES))
            names = [i.filename for i in infos]
            if "data.json" in names:
                with archive.open("data.json") as member:
                    return _data_json(path, member)
            if any(n.startswith(_STORE_DIRS) for n in names):
                return _stores(path, archive, infos)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as e:
        # zlib.error: a damaged deflate stream; NotImplementedError: a compression method zipfile lacks;
        # RuntimeError: an encrypted entry.
        raise BadInput(_("{path} is a damaged zip archive ({error})").format(path=path, error=e)) from None
    raise BadInput(_("{path} is a zip archive but no Cherry Studio backup (it has no data.json, no Data/ and no "
                     "Local Storage/)").format(path=path))


def _damaged(path: Path, why: str) -> BadInput:
    return BadInput(_("{path} is a damaged Cherry Studio backup: {why}").format(path=path, why=why))


class _Capped:
    """A read-only stream that refuses to give more than `limit` bytes (what ijson reads from)."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw, self.left = raw, limit

    def read(self, n: int = -1) -> bytes:
        want = self.left + 1 if n < 0 else min(n, self.left + 1)
        data = self.raw.read(want)
        self.left -= len(data)
        if self.left < 0:
            raise _TooMuch
        return data


class _TooMuch(Exception):
    pass


def _data_json(path: Path, member: IO[bytes]) -> Source:
    import ijson

    version: Any = None
    blob: Any = None
    seen_local = False
    try:
        for prefix, event, value in ijson.parse(_Capped(member, MAX_DATA_JSON_READ)):
            if prefix == "version" and event == "number":
                version = value
            elif prefix == "localStorage" and event == "start_map":
                seen_local = True
            elif prefix == f"localStorage.{PERSIST_KEY}":
                blob = value
                break
            elif prefix == "localStorage" and event == "end_map":
                break
    except _TooMuch:
        raise _damaged(path, _("its data.json holds no Cherry Studio settings in its first {size} MB").format(
                                 size=MAX_DATA_JSON_READ // (1024 * 1024))) from None
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as e:
        raise _damaged(path, _("its data.json is not JSON ({error})").format(error=str(e)[:200])) from None
    if not seen_local:
        raise _damaged(path, _("its data.json has no localStorage"))
    if not isinstance(blob, str):
        raise _damaged(path, _("its localStorage holds no {key}").format(key=PERSIST_KEY))
    try:
        span = persist.slice_spans(blob).get("llm")
        if span is None:
            raise _damaged(path, _("its saved state has no 'llm' settings"))
        llm = persist.parse_slice(blob[span[0]:span[1]], "llm")
        providers = shape.check_providers(llm.get("providers"), str(path))
    except CherryconfError as e:
        raise _damaged(path, e.message) from None
    return Source(_("the Cherry Studio backup {path} (format {version})").format(path=path, version=version),
                  providers)


def _wanted(name: str) -> bool:
    """A store file, and nothing that could land outside the temporary directory."""
    parts = PurePosixPath(name).parts
    if ".." in parts or name.startswith("/") or "\\" in name or ":" in name:
        return False
    return name in _DATABASE or (name.startswith(_LEVELDB) and len(parts) == 3 and not name.endswith("/"))


def _stores(path: Path, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> Source:
    wanted = [i for i in infos if _wanted(i.filename)]
    if sum(i.file_size for i in wanted) > MAX_EXTRACTED:
        raise _damaged(path, _("its stores would take more than {size} GB").format(
                                 size=MAX_EXTRACTED // (1024 ** 3)))
    bomb = next((i for i in wanted if i.file_size > 1024 * 1024 and i.file_size > MAX_RATIO * max(i.compress_size, 1)),
                None)
    if bomb is not None:
        raise _damaged(path, _("{name} would grow more than {ratio} times when extracted, which no store does")
                             .format(name=bomb.filename, ratio=MAX_RATIO))
    with limits.private_temp() as root:
        for info in wanted:
            target = root.joinpath(*PurePosixPath(info.filename).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            # zipfile stops at the size the entry declares (and checks its CRC), so what is written is what was
            # counted above.
            with archive.open(info) as src, target.open("xb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
        try:
            inst = install_mod.inspect(root, str(path))
        except CherryconfError:
            raise _damaged(path, _("it holds neither a 1.x nor a 2.x store")) from None
        state = datadir.read_state(inst)
        era = "2.x" if inst.kind == "v2" else "1.x"
        return Source(_("the Cherry Studio {era} backup {path}").format(era=era, path=path), state.providers)
