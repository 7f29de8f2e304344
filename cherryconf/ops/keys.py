"""Keys kept in the OS keychain: `cherryconf key`, and what apply remembers of the keys its references gave.

Two records in cherryconf's own directory, neither holding a secret (0600 files in a 0700 directory):
- `keys.json`: the references `cherryconf key set` made, so `key list` can name them (keychains cannot be
  listed the same way on every OS);
- `keyrefs/<install key>.json`: per provider applied from a reference, the reference and a salted SHA-256 of
  the key it gave. `apply --check` with the keychain locked compares the store's key with that digest, and
  `export` writes the reference back for a provider whose key still has it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any

from cherryconf.errors import StoreError, WriteFailed
from cherryconf.formats import keyref
from cherryconf.fsutil import atomic_write, private_dir
from cherryconf.i18n import _

if TYPE_CHECKING:
    from pathlib import Path

    from cherryconf.domain.patch import LoadedProfile
    from cherryconf.paths import Context
    from cherryconf.stores.install import Install


def _load(file: Path) -> dict[str, Any]:
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise StoreError(_("cannot read cherryconf's record {file} ({e}): move it aside to start afresh").format(
            file=file, e=e)) from None
    return doc if isinstance(doc, dict) else {}


def _save(file: Path, doc: dict[str, Any]) -> None:
    try:
        private_dir(file.parent)
        atomic_write(file, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    except OSError as e:
        raise WriteFailed(_("could not write cherryconf's record {file} ({strerror})").format(
            file=file, strerror=e.strerror)) from None


# --- cherryconf key ------------------------------------------------------------------------------------


def _index(ctx: Context) -> Path:
    return ctx.cherryconf_home / "keys.json"


def _refs(ctx: Context) -> list[str]:
    refs = _load(_index(ctx)).get("refs")
    return [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []


def set_key(ctx: Context, ref: keyref.KeyRef, secret: str) -> None:
    keyref.write(ref, secret)
    refs = _refs(ctx)
    if str(ref) not in refs:
        _save(_index(ctx), {"format": 1, "refs": sorted([*refs, str(ref)])})


def delete_key(ctx: Context, ref: keyref.KeyRef) -> None:
    keyref.delete(ref)
    refs = _refs(ctx)
    if str(ref) in refs:
        _save(_index(ctx), {"format": 1, "refs": [r for r in refs if r != str(ref)]})


def list_keys(ctx: Context, service: str | None) -> list[dict[str, Any]]:
    """The references `key set` made (in `service`), each with whether the keychain holds it now."""
    out = []
    for text in _refs(ctx):
        ref = keyref.parse(text)
        if ref is None or (service is not None and ref.service != service):
            continue
        try:
            keyref.read(ref)
            state = "present"
        except keyref.KeychainUnavailable:
            state = "unreadable"
        except keyref.KeychainError:
            state = "missing"
        out.append({"ref": text, "state": state})
    return out


# --- what apply remembers ------------------------------------------------------------------------------


def _record_path(ctx: Context, install: Install) -> Path:
    return ctx.cherryconf_home / "keyrefs" / f"{install.key}.json"


def _digest(salt: str, key: str) -> str:
    return hmac.new(bytes.fromhex(salt), key.encode("utf-8"), hashlib.sha256).hexdigest()


def _record(ctx: Context, install: Install) -> tuple[str, dict[str, dict[str, str]]]:
    doc = _load(_record_path(ctx, install))
    salt, providers = doc.get("salt"), doc.get("providers")
    if not isinstance(salt, str) or not isinstance(providers, dict):
        return secrets.token_hex(16), {}
    try:
        bytes.fromhex(salt)
    except ValueError:
        return secrets.token_hex(16), {}
    return salt, {k: v for k, v in providers.items()
                  if isinstance(v, dict) and isinstance(v.get("ref"), str) and isinstance(v.get("digest"), str)}


def remember(ctx: Context, install: Install, loaded: LoadedProfile) -> None:
    """After an apply was read back: the digest of each key a reference gave, under its provider."""
    if not loaded.key_refs:
        return
    salt, providers = _record(ctx, install)
    keys = {p.id: str(p.fields.get("apiKey", "")) for p in loaded.providers}
    for pid, ref in loaded.key_refs.items():
        if pid not in loaded.unread_keys and keys.get(pid):
            providers[pid] = {"ref": ref, "digest": _digest(salt, keys[pid])}
    _save(_record_path(ctx, install), {"format": 1, "install": str(install.data_dir), "salt": salt,
                                       "providers": providers})


def settle_unread(ctx: Context, install: Install, loaded: LoadedProfile) -> tuple[LoadedProfile, list[str]]:
    """apply --check with the keychain locked: for each key it could not read, the store's key when that has the
    digest the entry's key had at the last apply (no drift), else the reference itself (which differs: drift).
    With no digest recorded, the store's key stands in and a note says that key was not checked."""
    if not loaded.unread_keys:
        return loaded, []
    from cherryconf.stores import open_store

    stored = open_store(install).read().providers
    salt, record = _record(ctx, install)
    in_store = {str(p.get("id")): str(p.get("apiKey") or "") for p in stored}
    notes = []
    patches = []
    for patch in loaded.providers:
        ref = loaded.key_refs.get(patch.id)
        if patch.id not in loaded.unread_keys or ref is None:
            patches.append(patch)
            continue
        seen = record.get(patch.id)
        current = in_store.get(patch.id, "")
        if seen is None or seen["ref"] != ref:
            notes.append(_("{pid}: the key was not checked: the keychain could not be read and no apply from {ref} "
                           "was recorded").format(pid=patch.id, ref=ref))
            key = current or ref
        elif current and hmac.compare_digest(seen["digest"], _digest(salt, current)):
            key = current
        else:
            notes.append(_("{pid}: the store's key is not the one {ref} held when it was applied").format(
                pid=patch.id, ref=ref))
            key = ref
        patches.append(dataclasses.replace(patch, fields={**patch.fields, "apiKey": key},
                                           new_provider={**patch.new_provider, "apiKey": key}))
    return dataclasses.replace(loaded, providers=patches), notes


def refs_in_store(ctx: Context, install: Install, stored: list[dict[str, Any]]) -> dict[str, str]:
    """Provider id -> the reference its key came from, for keys the store still holds as applied (export)."""
    salt, record = _record(ctx, install)
    out = {}
    for p in stored:
        seen = record.get(str(p.get("id")))
        key = str(p.get("apiKey") or "")
        if seen is not None and key and hmac.compare_digest(seen["digest"], _digest(salt, key)):
            out[str(p.get("id"))] = seen["ref"]
    return out
