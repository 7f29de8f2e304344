"""Which providers each owner applied to an install: cherryconf's own record, never kept in the app's store.

One file per install, `<CHERRYCONF_HOME>/owners/<install key>.json` (0600, in a 0700 directory: it names what an
administrator manages). It is replaced atomically, and only once the store write it describes has been read
back, so it never claims a provider the store does not hold.

An owner's providers are of two kinds. Those its applies created are its own: when its profile stops listing
one, the provider is removed. Those that were already in the store when the owner first applied them (the
user's own, the app's built-in ones) are only managed: when the profile stops listing one, it is let go and
stays as it is. A provider belongs to one owner at most.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from cherryconf.errors import BadInput, StoreError, WriteFailed
from cherryconf.fsutil import atomic_write, private_dir
from cherryconf.i18n import _

if TYPE_CHECKING:
    from pathlib import Path

    from cherryconf.paths import Context
    from cherryconf.stores.install import Install


# Plain dataclasses read and written with json: pydantic alone would cost an apply more than the rest of its run.
@dataclass(frozen=True)
class Owned:
    added: list[str] = field(default_factory=list)  # created by this owner's applies: removed when dropped
    adopted: list[str] = field(default_factory=list)  # in the store before the owner's first apply: let go

    @property
    def ids(self) -> list[str]:
        return [*self.added, *self.adopted]


@dataclass(frozen=True)
class Record:
    install: str
    owners: dict[str, Owned] = field(default_factory=dict)
    format: Literal[1] = 1

    def to_json(self) -> str:
        return json.dumps({"format": self.format, **dataclasses.asdict(self)}, indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Record | None:
        """The record in `text`, or None when it is not one."""
        try:
            doc = json.loads(text)
            owners = {name: Owned(added=o.get("added", []), adopted=o.get("adopted", []))
                      for name, o in doc.get("owners", {}).items()}
            record = cls(install=doc["install"], owners=owners, format=doc.get("format", 1))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        ok = (_is_one(record.format) and isinstance(record.install, str)
              and all(isinstance(name, str) and _strings(o.added) and _strings(o.adopted)
                      for name, o in owners.items()))
        return record if ok else None

    def owner_of(self, provider_id: str) -> str | None:
        return next((name for name, owned in self.owners.items() if provider_id in owned.ids), None)


@dataclass(frozen=True)
class Claim:
    """What applying one owner's profile means: providers to remove from the store, and the record after."""

    owner: str
    remove: list[str]
    record: Record
    changed: bool  # whether the record differs from the one on disk


def _is_one(value: Any) -> bool:
    return value == 1 and not isinstance(value, bool)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def path(ctx: Context, install: Install) -> Path:
    return ctx.cherryconf_home / "owners" / f"{install.key}.json"


def load(ctx: Context, install: Install) -> Record:
    """The install's record; an empty one when no owner ever applied a profile to it."""
    file = path(ctx, install)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Record(install=str(install.data_dir))
    except (OSError, UnicodeDecodeError) as e:
        raise StoreError(_("cannot read cherryconf's record of owners {file} ({e})").format(file=file, e=e)) from None
    record = Record.from_json(text)
    if record is None:
        raise StoreError(_("cherryconf's record of owners {file} is damaged: move it aside to start afresh "
                           "(providers then count as the user's own)").format(file=file))
    return record


def claim(record: Record, owner: str, wanted: list[str], in_store: Collection[str]) -> Claim:
    """Make `owner`'s providers exactly `wanted`; refuses (BadInput) a provider another owner manages."""
    for pid in wanted:
        other = record.owner_of(pid)
        if other is not None and other != owner:
            raise BadInput(_("provider {pid!r} is managed by owner {other!r}, so owner {owner!r} cannot apply it; "
                             "remove it from one of the two profiles").format(pid=pid, other=other, owner=owner))
    before = record.owners.get(owner, Owned())
    remove = [pid for pid in before.added if pid not in wanted and pid in in_store]
    after = Owned(
        added=[pid for pid in wanted if pid in before.added or (pid not in before.adopted and pid not in in_store)],
        adopted=[pid for pid in wanted if pid in before.adopted or (pid not in before.added and pid in in_store)],
    )
    owners = {name: owned for name, owned in record.owners.items() if name != owner}
    if after.ids:
        owners[owner] = after
    new = Record(install=record.install, owners=owners)
    return Claim(owner, remove, new, new != record)


def save(ctx: Context, install: Install, record: Record) -> None:
    file = path(ctx, install)
    try:
        private_dir(file.parent)
        atomic_write(file, (record.to_json() + "\n").encode("utf-8"))
    except OSError as e:
        raise WriteFailed(_("could not record which providers each owner applied in {file} ({strerror})").format(
                              file=file, strerror=e.strerror)) from None
