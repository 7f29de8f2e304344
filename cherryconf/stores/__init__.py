"""One interface over Cherry Studio's stores: read providers, write a plan, name the files to back up."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cherryconf.domain.plan import Plan
    from cherryconf.stores.install import Install


@dataclass(frozen=True)
class StoreState:
    """What a store holds, in the 1.x Provider/Model format every store maps to."""

    providers: list[dict[str, Any]]
    default_model: dict[str, Any] | None
    # Settings that embed a whole Model (default, quick, translate...): name -> that Model.
    model_refs: dict[str, dict[str, Any]] = field(default_factory=dict)


class Store(Protocol):
    install: Install

    @property
    def root(self) -> Path:
        """The directory whose files make up the store (what a backup copies and a restore replaces)."""
        ...

    def snapshot(self, dest: Path) -> None:
        """Copy the store, consistent, into the empty directory `dest` (the caller holds it exclusively)."""
        ...

    def replace_with(self, source: Path) -> None:
        """Make the store hold the snapshot in `source`; a crash at any moment leaves the old or the new."""
        ...

    def recover(self) -> str | None:
        """Finish or undo a replacement a crash interrupted; what was done, or None."""
        ...

    def interrupted(self) -> bool:
        """Whether a replacement a crash interrupted left something for recover() (a look, nothing changed)."""
        ...

    def read(self) -> StoreState: ...

    def inventory(self) -> dict[str, dict[str, int]]:
        """What the user keeps in the store besides providers, for a whole restore's preview: "topics", "messages"
        (2.x), "settings" -> item -> a digest of it (this process's hash: compared within one run only)."""
        ...

    def catalog_capabilities(self, provider_id: str, model_id: str) -> list[str] | None:
        """The 1.x capabilities the app gives this model of its own accord (2.x: its catalog's), to which a
        profile's capabilities add; None when the model has only those it is given (every 1.x model)."""
        ...

    def exclusive(self) -> AbstractContextManager[None]:
        """Held around every write: refuses (AppRunning) while the app has the store open."""
        ...

    def check(self, plan: Plan) -> None:
        """Refuse (BadInput) a plan the store cannot hold exactly, before anything is backed up or written."""
        ...

    def write(self, plan: Plan) -> None:
        """Make the store hold plan.after and plan.default_model_after; called inside exclusive().

        Then read the store back from disk: ReadBackFailed if it does not hold exactly what was written, every other
        key or table as it was (the caller undoes the write from its backup). Any other error means the write did
        not reach the store, or was undone by the store itself.
        """
        ...


def open_store(install: Install, root: Path | None = None) -> Store:
    """The install's store; `root` reads a copy of its files elsewhere instead (a backup's snapshot)."""
    if install.kind == "v2":
        from cherryconf.stores.v2 import V2Store

        return V2Store(install, root)
    from cherryconf.stores.v1 import V1Store

    return V1Store(install, root)
