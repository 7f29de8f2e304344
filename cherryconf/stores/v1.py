"""Cherry Studio 1.x: providers in localStorage["persist:cherry-studio"] -> llm slice, in Chromium's LevelDB."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cherryconf import swap
from cherryconf.errors import StoreError
from cherryconf.fsutil import copy_file
from cherryconf.stores import StoreState, leveldb, localstorage, persist

if TYPE_CHECKING:
    from cherryconf.install import Install
    from cherryconf.plan import Plan

PERSIST_KEY = "persist:cherry-studio"
# llm-slice fields that embed a whole Model; the provider they name must keep existing.
MODEL_REFS = ("defaultModel", "topicNamingModel", "quickModel", "translateModel")


class V1Store:
    def __init__(self, install: Install, root: Path | None = None) -> None:
        self.install = install
        self._root = root or install.leveldb_dir

    @property
    def root(self) -> Path:
        return self._root

    def _files(self, root: Path) -> list[Path]:
        # LevelDB keeps everything flat in one directory; LOCK is recreated by whoever opens it.
        return sorted(p.relative_to(root) for p in root.iterdir() if p.is_file() and p.name != "LOCK")

    def snapshot(self, dest: Path) -> None:
        for rel in self._files(self.root):
            copy_file(self.root / rel, dest / rel)

    def replace_with(self, source: Path) -> None:
        swap.replace_dir(self.root, source, self._files(source))

    def recover(self) -> str | None:
        return swap.recover(self.root)

    def _blob(self) -> str:
        db = leveldb.LevelDB.open(self.root)
        items = localstorage.read_origin(db)
        blob = items.get(PERSIST_KEY)
        if blob is None:
            raise StoreError(
                f"{self.root} holds no Cherry Studio settings yet (no {PERSIST_KEY}); start the app once, then retry"
            )
        return blob

    def read(self) -> StoreState:
        llm = persist.read_slice(self._blob(), "llm")
        if llm is None:
            raise StoreError("Cherry Studio's saved state has no 'llm' settings; start the app once, then retry")
        providers = llm.get("providers")
        if not isinstance(providers, list) or not all(isinstance(p, dict) for p in providers):
            raise StoreError("Cherry Studio's saved llm.providers is not a list of providers")
        refs = {name: llm[name] for name in MODEL_REFS if isinstance(llm.get(name), dict)}
        default = llm.get("defaultModel")
        return StoreState(providers, default if isinstance(default, dict) else None, refs)

    def exclusive(self) -> AbstractContextManager[None]:
        return leveldb.locked(self.root)

    def check(self, plan: Plan) -> None:
        # Any 1.x Provider round-trips through the JSON blob: nothing to refuse.
        pass

    def write(self, plan: Plan) -> None:
        blob = self._blob()
        llm: dict[str, Any] | None = persist.read_slice(blob, "llm")
        assert llm is not None  # read() refused a blob without it
        llm["providers"] = plan.after
        if plan.default_model_after is not None:
            llm["defaultModel"] = plan.default_model_after
        localstorage.write_items(self.root, {PERSIST_KEY: persist.replace_slice(blob, "llm", llm)})
