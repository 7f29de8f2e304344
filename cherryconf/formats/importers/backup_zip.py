"""Cherry Studio's own backup archives (facts section 6).

1.x (Cherry Studio 1.x, src/main/services/BackupManager.ts at 00a36a60): a zip of `data.json` and `Data/`, where
`data.json` is `{"time", "version": 5, "localStorage": {key: string}, "indexedDB": {...}}` and localStorage's
`persist:cherry-studio` is the redux-persist blob the 1.x store holds. Archives that copy the stores themselves
(later 1.x, and 2.x's `Data/`, `IndexedDB`, `Local Storage`, `metadata.json`) are read as a data directory.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from cherryconf.errors import BadInput, CherryconfError
from cherryconf.formats.importers import Source, datadir
from cherryconf.i18n import _
from cherryconf.stores import install as install_mod
from cherryconf.stores import shape
from cherryconf.stores.v1 import persist

PERSIST_KEY = "persist:cherry-studio"
_STORE_DIRS = ("Local Storage/", "Data/")


def read(path: Path) -> Source:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "data.json" in names:
                return _data_json(path, archive.read("data.json"))
            if any(n.startswith(_STORE_DIRS) for n in names):
                return _stores(path, archive, names)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise BadInput(_("{path} is a damaged zip archive ({error})").format(path=path, error=e)) from None
    raise BadInput(_("{path} is a zip archive but no Cherry Studio backup (it has no data.json, no Data/ and no "
                     "Local Storage/)").format(path=path))


def _damaged(path: Path, why: str) -> BadInput:
    return BadInput(_("{path} is a damaged Cherry Studio backup: {why}").format(path=path, why=why))


def _data_json(path: Path, raw: bytes) -> Source:
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _damaged(path, _("its data.json is not JSON ({error})").format(error=e)) from None
    local = data.get("localStorage") if isinstance(data, dict) else None
    if not isinstance(local, dict):
        raise _damaged(path, _("its data.json has no localStorage"))
    blob = local.get(PERSIST_KEY)
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
    version = data.get("version")
    return Source(_("the Cherry Studio backup {path} (format {version})").format(path=path, version=version),
                  providers)


def _stores(path: Path, archive: zipfile.ZipFile, names: list[str]) -> Source:
    with tempfile.TemporaryDirectory(prefix="cherryconf-import-") as tmp:
        root = Path(tmp)
        for name in names:
            parts = PurePosixPath(name).parts
            # Only the stores, and nothing that could land outside the temporary directory.
            if name.startswith(_STORE_DIRS) and not name.endswith("/") and ".." not in parts:
                archive.extract(name, root)
        try:
            inst = install_mod.inspect(root, str(path))
        except CherryconfError:
            raise _damaged(path, _("it holds neither a 1.x nor a 2.x store")) from None
        state = datadir.read_state(inst)
        era = "2.x" if inst.kind == "v2" else "1.x"
        return Source(_("the Cherry Studio {era} backup {path}").format(era=era, path=path), state.providers)
