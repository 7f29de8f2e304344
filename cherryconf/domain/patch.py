"""What a profile asks of a store, once loaded: the input of a plan, whatever file format it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProviderPatch:
    """What a profile wants of one provider: the fields it names, its models, and the provider it creates."""

    id: str
    fields: dict[str, Any]
    models: list[dict[str, Any]]  # full Models, for models the store does not hold yet
    model_updates: list[dict[str, Any]]  # per model: its id and only the fields the profile names
    replace_models: bool
    new_provider: dict[str, Any]


@dataclass(frozen=True)
class LoadedProfile:
    source: str
    providers: list[ProviderPatch]
    default_model: tuple[str, str] | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False)  # the profile document, validated
    owner: str | None = None  # who manages these providers: their set becomes exactly the profile's
    # What the installed app cannot hold and was left out, one sentence each (shown with the plan).
    notes: tuple[str, ...] = ()
    # Providers whose key a keychain reference names (id -> `keyring:<service>/<name>`), and those whose keychain
    # could not be read (apply --check only: their key is still the reference).
    key_refs: dict[str, str] = field(default_factory=dict, compare=False)
    unread_keys: frozenset[str] = frozenset()
