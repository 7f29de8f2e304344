"""Which one provider a command works on: one named in the store, or one from a profile."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cherryconf import profile
from cherryconf.endpoints import AppVersion
from cherryconf.errors import BadInput

if TYPE_CHECKING:
    from cherryconf.install import Install


def from_store(install: Install, provider_id: str) -> dict[str, Any]:
    from cherryconf.stores import open_store

    found = next((p for p in open_store(install).read().providers if p.get("id") == provider_id), None)
    if found is None:
        raise BadInput(f"the store has no provider {provider_id!r}: `cherryconf providers` lists them")
    return found


def from_profile(path: Path, provider_id: str | None, app_version: AppVersion | None) -> dict[str, Any]:
    loaded = profile.load(path, app_version=app_version)
    patches = loaded.providers
    if provider_id is not None:
        patches = [p for p in patches if p.id == provider_id]
        if not patches:
            raise BadInput(f"{loaded.source}: no provider {provider_id!r} in this profile")
    if len(patches) > 1:
        ids = ", ".join(p.id for p in patches)
        raise BadInput(f"{loaded.source} has several providers ({ids}): choose one with --provider ID")
    return patches[0].new_provider
