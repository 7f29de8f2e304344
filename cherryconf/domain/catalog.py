"""Cherry Studio 2.x's model catalog: which model ids the app backs with one of its preset models.

The app's add-model path resolves a model id against the registry it ships, even under a custom provider, and
stores a preset-backed row when it finds one (Cherry Studio 2.x, src/main/data/services/ProviderRegistryService.ts
`lookupModel` at 0268bab2; ModelService.ts `presetDeltaToNewUserModel` at 021e3ccd). The lookup is the registry
loader's `findModel`: the exact catalog id, else the first catalog id with the same normalised form
(packages/provider-registry registry-loader.ts, and src/utils/normalize.ts `normalizeModelId` at 90b01d33,
reimplemented here).

The catalog is read from the installed app's own registry when cherryconf finds it: electron-builder copies it as
an extra resource, `<resources>/provider-registry/models.json` (src/main paths: `feature.provider_registry.data`
is `process.resourcesPath/provider-registry` when packaged). Otherwise the ids cherryconf ships are used
(cherryconf/data/model-catalog.json, where it says which registry file they were read from).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from cherryconf.i18n import _

# The installed app's resources directory, for an install cherryconf does not find by itself.
RESOURCES_ENV = "CHERRYCONF_CHERRY_RESOURCES"
_REGISTRY_FILE = Path("provider-registry") / "models.json"
_PROVIDERS_FILE = Path("provider-registry") / "providers.json"

# --- the app's id normalisation (normalize.ts) -----------------------------------------------------------------

_AGGREGATOR_PREFIXES = (
    "aihubmix-", "aihub-", "ahm-", "alicloud-", "azure-", "baidu-", "cbs-", "cc-", "sf-", "s-", "bai-", "web-",
    "deepinfra-", "groq-", "nvidia-", "sophnet-", "zai-org-", "zai-", "lucidquery-", "lucidnova-", "lucid-",
    "siliconflow-", "chutes-", "huoshan-", "meta-", "cohere-", "coding-", "dmxapi-", "perplexity-", "ai21-",
    "openai-", "dmxapi_", "aistudio_",
)
_PREFIX_EXPANSIONS = (("mm-", "minimax-"),)
_COLON_SUFFIXES = (":free", ":nitro", ":extended", ":beta", ":preview", ":thinking", ":exacto", ":latest", ":cloud")
_HYPHEN_SUFFIXES = (
    "-free", "-search", "-online", "-think", "-reasoning", "-classic", "-low", "-high", "-minimal", "-nothink",
    "-no-think", "-ssvip", "-thinking", "-nothinking", "-aliyun", "-huoshan", "-tee", "-cc", "-fw", "-di", "-t",
    "-reverse",
)
_PAREN_SUFFIXES = ("(free)", "(beta)", "(preview)", "(thinking)")
_PROTECTED_PREFIXES = ("non", "no", "pre", "anti", "post")
_QUANTIZATION_SUFFIXES = ("-fp8", "-fp16", "-bf16", "-awq", "-int4", "-int8", "-gguf", "-gptq")
_PARAMETER_SIZE = re.compile(r"-(\d+(?:\.\d+)?b)(?=-|$)", re.IGNORECASE)
_DATE_SNAPSHOT = re.compile(
    r"-20\d{2}-(?:0[1-9]|1[0-2])-(?:[0-2]\d|3[01])$|-20\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])$"
    r"|-2\d(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])$|-(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])$|-2\d(?:0[1-9]|1[0-2])$"
)
_BEDROCK_REGION_VENDOR = re.compile(r"^(?:[a-z]+\.)+")
_BEDROCK_VENDOR_DASH = re.compile(
    r"^(?:anthropic|amazon|meta|google|mistralai|cohere|openai|ai21|microsoft|nvidia)-{1,2}")
_BEDROCK_REVISION = re.compile(r"(?:[-_]v\d+)?:\d+$", re.IGNORECASE)
_VERSION_SEPARATOR = re.compile(r"(\d)[,._p](?=\d)")


def _strip_variant(model_id: str) -> str:
    colon = model_id.rfind(":")
    if colon > 0 and model_id[colon:] in _COLON_SUFFIXES:
        return model_id[:colon]
    for suffix in _HYPHEN_SUFFIXES:
        if model_id.endswith(suffix):
            rest = model_id[: -len(suffix)]
            # `...-no-think` is a word of its own, not a `-think` variant of `...-no`.
            if any(rest == p or rest.endswith(f"-{p}") for p in _PROTECTED_PREFIXES):
                continue
            return rest
    for suffix in _PAREN_SUFFIXES:
        if model_id.endswith(suffix):
            rest = model_id[: -len(suffix)]
            return rest[:-1] if rest.endswith(" ") else rest
    return model_id


def _strip_quantization(model_id: str) -> str:
    for suffix in _QUANTIZATION_SUFFIXES:
        if model_id.endswith(suffix):
            return model_id[: -len(suffix)]
    return model_id


def _strip_date(model_id: str) -> str:
    return _DATE_SNAPSHOT.sub("", re.sub(r"@.*$", "", model_id))


def _strip_variant_quant_date(model_id: str) -> str:
    while True:
        stripped = _strip_date(_strip_quantization(_strip_variant(model_id)))
        if stripped == model_id:
            return model_id
        model_id = stripped


def normalise(model_id: str) -> str:
    """Canonical form of a model id: `gpt-4.1` -> `gpt-4-1`, `claude-sonnet-4-20250514` -> `claude-sonnet-4`"""
    base = model_id.split("/")[-1].lower()
    base = next((base[len(p):] for p in _AGGREGATOR_PREFIXES if base.startswith(p)), base)
    base = _BEDROCK_VENDOR_DASH.sub("", _BEDROCK_REGION_VENDOR.sub("", base))
    base = _BEDROCK_REVISION.sub("", base)
    base = next((full + base[len(short):] for short, full in _PREFIX_EXPANSIONS if base.startswith(short)), base)
    while True:
        stripped = _PARAMETER_SIZE.sub("", _strip_variant_quant_date(base), count=1)
        if stripped == base:
            break
        base = stripped
    return _VERSION_SEPARATOR.sub(r"\1-", base).replace("_", "-")


# --- the catalog ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    ids: tuple[str, ...]
    source: str  # where the ids were read, for messages and tests
    # The preset providers of the installed app's registry (providers.json), empty for the shipped catalog:
    # cherryconf's own list of them is spec.BUILT_IN_PROVIDER_IDS.
    provider_ids: frozenset[str] = frozenset()
    # Catalog id -> its capabilities (MODEL_CAPABILITY values), where known. A user_model row whose capabilities
    # are NULL inherits these; a non-NULL list is used instead of them, not merged (facts file section 9, read in
    # the 2.x data layer at ousugo/cherry-studio 564c9eac).
    caps: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    _exact: frozenset[str] = field(init=False, repr=False, compare=False)
    _by_normal: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_normal: dict[str, str] = {}
        for cid in self.ids:
            by_normal.setdefault(normalise(cid), cid)  # the first catalog id of a normal form wins, as in the app
        object.__setattr__(self, "_exact", frozenset(self.ids))
        object.__setattr__(self, "_by_normal", by_normal)

    def find(self, model_id: str) -> str | None:
        """The catalog id the app backs `model_id` with, or None for a model it stores as custom."""
        if model_id in self._exact:
            return model_id
        return self._by_normal.get(normalise(model_id))

    def capabilities(self, catalog_id: str | None) -> tuple[str, ...] | None:
        """The capabilities the app gives this catalog model, or None when cherryconf does not know them."""
        return None if catalog_id is None else self.caps.get(catalog_id)


def _read_entries(path: Path, key: str) -> list[dict[str, object]] | None:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))[key]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    ok = isinstance(entries, list) and all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in entries)
    return entries if ok else None


def _read_ids(path: Path, key: str) -> tuple[str, ...] | None:
    entries = _read_entries(path, key)
    return None if entries is None else tuple(str(m["id"]) for m in entries)


def _caps_of(entries: Iterable[dict[str, object]]) -> dict[str, tuple[str, ...]]:
    """Each registry model's `capabilities` list (packages/provider-registry/data/models.json)."""
    out: dict[str, tuple[str, ...]] = {}
    for m in entries:
        caps = m.get("capabilities")
        if isinstance(caps, list) and all(isinstance(c, str) for c in caps):
            out[str(m["id"])] = tuple(caps)
    return out


def _installed(d: Path) -> Catalog | None:
    entries = _read_entries(d / _REGISTRY_FILE, "models")
    if not entries:
        return None
    return Catalog(tuple(str(m["id"]) for m in entries), str(d / _REGISTRY_FILE),
                   frozenset(_read_ids(d / _PROVIDERS_FILE, "providers") or ()), _caps_of(entries))


def shipped() -> Catalog:
    path = Path(str(resources.files("cherryconf"))) / "data" / "model-catalog.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    return Catalog(tuple(doc["models"]), _("cherryconf's catalog ({source})").format(source=doc["source"]),
                   caps={k: tuple(v) for k, v in doc["capabilities"].items()})


def resource_dirs(env: Mapping[str, str] | None = None, platform: str = sys.platform) -> list[Path]:
    """Where an installed Cherry Studio keeps its resources, by the installers' default locations."""
    env = os.environ if env is None else env
    dirs = [Path(env[RESOURCES_ENV])] if env.get(RESOURCES_ENV) else []
    if platform == "darwin":
        # A bundle is named after its productName: the China edition's is "Cherry Studio 中国版" where its build sets
        # that name (CherryHQ/cherry-studio electron-builder.cn.config.cjs at 22f67fd4).
        dirs += [apps / f"{product}.app" / "Contents" / "Resources"
                 for apps in (Path("/Applications"), Path.home() / "Applications")
                 for product in ("Cherry Studio", "Cherry Studio 中国版")]
    elif platform == "win32":
        dirs += [Path(env[var]) / sub / "Cherry Studio" / "resources"
                 for var, sub in (("LOCALAPPDATA", "Programs"), ("PROGRAMFILES", ""))
                 if env.get(var)]
    else:
        dirs += [Path("/opt/Cherry Studio/resources")]
    return dirs


_default: Catalog | None = None  # load()'s answer for the default places, read once per run


def load(dirs: Iterable[Path] | None = None) -> Catalog:
    """The installed app's catalog if one of `dirs` holds it (resource_dirs() by default), else the shipped one.

    The default answer is kept, so a process that later gives up its rights (`apply --all-users` runs as each
    user) need not read cherryconf's own files again where that user may not (a venv under /root)."""
    global _default
    if dirs is None and _default is not None:
        return _default
    found = next((c for d in (resource_dirs() if dirs is None else dirs) if (c := _installed(d))), None) or shipped()
    if dirs is None:
        _default = found
    return found
