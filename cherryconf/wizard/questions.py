"""What the wizard asks and answers with: questions as data, the flags that answer them, the outcome, and the
checks an answer must pass (pure: no prompt, no store)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cherryconf.domain.endpoints import AppVersion, normalise_api_host
from cherryconf.domain.spec import setting_name
from cherryconf.errors import BadInput
from cherryconf.formats import presets
from cherryconf.i18n import _
from cherryconf.ops import apply
from cherryconf.stores import StoreState, install

Kind = Literal["select", "text", "password", "checkbox", "confirm"]


@dataclass(frozen=True)
class Choice:
    title: str
    value: Any
    checked: bool = False
    group: str | None = None  # choices with a group are shown under that heading


@dataclass(frozen=True)
class Question:
    name: str  # stable key: scripted answers and flags refer to it
    kind: Kind
    message: str
    choices: list[Choice] = field(default_factory=list)
    default: Any = None
    validate: Callable[[Any], str | None] | None = None  # the reason an answer is refused, or None


Ask = Callable[[Question], Any]
Say = Callable[[str], None]


@dataclass(frozen=True)
class Flags:
    """Answers given on the command line; None means "ask"."""

    preset: str | None = None
    name: str | None = None
    provider_id: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    models: tuple[str, ...] = ()
    default_model: str | None = None
    check: bool | None = None
    save_profile: Path | None = None
    yes: bool = False


@dataclass(frozen=True)
class Outcome:
    """What the wizard did: wrote the store (written), printed import links (links), or nothing."""

    written: apply.Written | None = None
    links: list[str] = field(default_factory=list)
    saved_profile: Path | None = None


def _check_name(value: Any) -> str | None:
    text = str(value or "").strip()
    if not text:
        return _("the name is empty")
    if len(text) > 32:
        return _("the name is longer than 32 characters (Cherry Studio's limit)")
    return None


def _check_id(value: Any) -> str | None:
    text = str(value or "")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", text):
        return _("use letters, digits, '-', '_' or '.', starting with a letter or digit")
    return None


def _check_new_file(path: Path) -> str | None:
    if not str(path).strip() or str(path) == ".":
        return _("give a file name")
    if path.is_dir():
        return _("{path} is a directory").format(path=path)
    if not path.parent.exists():
        return _("{parent} does not exist").format(parent=path.parent)
    return None


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    # Not "gateway": that is a built-in provider's id. "my-gateway" is what the custom template uses.
    return slug or "my-gateway"


def _link_chars(what: str, value: str) -> str | None:
    bad = sorted({c for c in value if c in "'()"})
    if not bad:
        return None
    return _("the {what} contains {bad}, which Cherry Studio deletes from import links").format(
               what=what, bad=' '.join(bad))


def _cannot_ask(q: Question) -> BadInput:
    # Name the flag that answers this very question: "give it by flag" alone leaves the user guessing.
    how = _FLAG_FOR.get(q.name, _("the matching flag (see `cherryconf wizard --help`)"))
    return BadInput(_("not a terminal, so the wizard cannot ask {question!r}: give {how}, or use `cherryconf apply "
                      "PROFILE`").format(question=q.message.rstrip("?？"), how=how))


# Which flag answers each question, for the errors of a run without a terminal.
_FLAG_FOR = {
    "install": "--data-dir", "use_link": _("--data-dir (no install was found)"),
    "preset": "--preset",
    "name": "--name", "provider_id": "--id", "update_existing": _("--yes to update it, or --id for another id"),
    "base_url": "--base-url", "api_key_source": "--api-key-env", "api_key": "--api-key-env",
    "api_key_env": "--api-key-env", "models": _("--model (repeated)"), "extra_models": _("--model (repeated)"),
    "model_ids": _("--model (repeated)"), "confirm": "--yes", "save_path": "--save-profile",
}


def _same_family(pid: str, base: str) -> bool:
    """`base` itself or one of the ids the wizard derives from it for a second gateway (`base-2`, `base-3`)."""
    return pid == base or re.fullmatch(re.escape(base) + r"-\d+", pid) is not None


def _models_problem(models: list[str], in_use: Mapping[str, str], allow_empty: bool = False) -> str | None:
    """Why this model list cannot be written: none given, or it drops a model a Cherry Studio setting uses."""
    if not models and not allow_empty:
        return _("give at least one model id")
    dropped = [m for m in in_use if m not in models]
    if dropped:
        return (_("{model} is Cherry Studio's {setting}: keep it, or choose another model for that setting in the "
                  "app first").format(model=dropped[0], setting=setting_name(in_use[dropped[0]])))
    return None


def _next_free(base: str, taken: Collection[str]) -> str:
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _split_ids(text: str) -> list[str]:
    """Model ids as typed or pasted: separated by commas (a Chinese input method's "，" and "、" too) or spaces
    (the ideographic one too); each once, in order."""
    return list(dict.fromkeys(p for p in re.split(r"[,，、\s]+", text) if p))


_BEARER = re.compile(r"bearer\s+", re.IGNORECASE)


def _without_bearer(key: str) -> str:
    """A key pasted with the header's `Bearer ` (each of a comma-separated list): the gateway gets "Bearer " once,
    from the app, so it is taken off."""
    return ",".join(_BEARER.sub("", k.strip(), count=1) if _BEARER.match(k.strip()) else k for k in key.split(","))


class _Stop(Exception):
    """The user chose to stop: nothing is written."""


class _Again(Exception):
    """The gateway could not be reached: ask `what` ("url" or "models") again."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass
class _Draft:
    """What the steps have settled so far: each step reads what earlier ones set and adds its own part."""

    inst: install.Install | None
    use_link: bool
    version: AppVersion | None
    state: StoreState | None  # what the store holds; None when the wizard makes an import link
    preset: presets.Preset = field(default_factory=lambda: presets.get("custom"))
    name: str = ""
    pid: str = ""
    current: dict[str, Any] | None = None  # the stored provider this run updates; None for a new one
    api_host: str = ""
    key_ref: str = ""  # what a saved profile holds: ${VAR} or the key
    key: str = ""
    models_asked: bool = False  # /models was asked with this key: asking it again would tell nothing new
    models: list[str] = field(default_factory=list)
    exact_models: bool = False  # the models chosen are the whole list: unticked ones are removed
    default_model: str | None = None
    moved: apply.Written | None = None  # a gateway moved out of a built-in provider first

    @property
    def providers(self) -> list[dict[str, Any]]:
        return self.state.providers if self.state else []

    def stored(self, pid: str) -> dict[str, Any] | None:
        return next((p for p in self.providers if p.get("id") == pid), None)

    def provider_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.pid, "name": self.name, "type": "openai", "apiHost": self.api_host,
                               "apiKey": self.key, "models": self.models}
        if self.exact_models:
            doc["replaceModels"] = True
        return doc

    def profile_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"version": 1, "providers": [self.provider_doc()]}
        if self.default_model:
            data["defaultModel"] = f"{self.pid}/{self.default_model}"
        return data


def _same_url(provider: dict[str, Any], d: _Draft) -> bool:
    try:
        return normalise_api_host(str(provider.get("apiHost") or ""), d.version) == d.api_host
    except BadInput:
        return False
