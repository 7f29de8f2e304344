"""Load profile.yaml: YAML, `${VAR}` references, model shorthand, apiHost normalisation, validation.

Every error names the file and the location inside it (`profile.yaml: providers[0].models[2].id: required`).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import os
import re
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cherryconf.domain import routing
from cherryconf.domain.endpoints import AppVersion, near_miss, normalise_api_host
from cherryconf.domain.moves import needs_own_provider, own_provider
from cherryconf.domain.patch import LoadedProfile, ProviderPatch
from cherryconf.domain.spec import (
    OWNER_PATTERN,
    RETIRED_PROVIDER_IDS,
    check_header_value,
    default_group,
    model_from_id,
)
from cherryconf.errors import BadInput
from cherryconf.formats import fastschema, keyref, schema
from cherryconf.i18n import _

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

# 1.x model capabilities that 2.x has no name for.
V1_ONLY_CAPABILITIES = frozenset({"web_search"})
# Built-in providers whose id sends a gateway's chats somewhere else whatever its type (per-model protocols, no
# /v1): a profile putting a gateway there is refused with the move's advice. (openai, grok and cherryin: a profile
# may configure them as the app routes them; check_type_honoured speaks for the type.)
_ID_ROUTED_PRESETS = frozenset({"aihubmix", "perplexity", "github"})
MAX_PROFILE_BYTES = 1024 * 1024  # a profile is a few KB; anything near this is a mistake, not a profile
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}()")
# A value that is exactly `$NAME`: claude-code-router's profiles write keys so; a key never looks like that.
_BARE_ENV_REF = re.compile(r"\$()([A-Za-z_][A-Za-z0-9_]*)")
# The fields a profile may set on a provider, beyond id and models (which merge by their own rules).
_PROVIDER_FIELDS = ("name", "type", "apiHost", "apiKey", "enabled", "notes", "apiVersion", "extra_headers",
                    "apiOptions", "rateLimit")


def key_env_name(provider_id: str) -> str:
    """The environment variable a profile names for this provider's key: `my-gw` -> `MY_GW_API_KEY`."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", provider_id).strip("_").upper() or "PROVIDER"
    return f"{'P_' if stem[0].isdigit() else ''}{stem}_API_KEY"


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: yaml.SafeLoader | yaml.CSafeLoader, node: yaml.MappingNode, deep: bool = False
                       ) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(None, None, _("a list or mapping as a key"), key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, _("duplicate key {key!r}").format(key=key), key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_Loader = type[yaml.SafeLoader] | type[yaml.CSafeLoader]
# libyaml's parser, when PyYAML was built with it, is several times faster than the pure one (a 1,000-provider
# profile is 0.5 MB). Its results are the pure loader's (tests/unit/formats/test_profile.py fuzzes the two against each
# other); its error messages are not, so a document it refuses is parsed again by the pure loader, which words it.
_FastUniqueKeyLoader: _Loader | None = None
if yaml.__with_libyaml__:
    class _CUniqueKeyLoader(yaml.CSafeLoader):
        """CSafeLoader that refuses a mapping with the same key twice, as _UniqueKeyLoader does."""

    _CUniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _FastUniqueKeyLoader = _CUniqueKeyLoader


def _read_yaml(path: Path) -> Any:
    where = path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise BadInput(_("{path}: no such file").format(path=path)) from None
    except OSError as e:
        raise BadInput(_("{path}: cannot read it ({strerror})").format(path=path, strerror=e.strerror)) from None
    if path.is_dir():
        raise BadInput(_("{path}: is a directory, not a profile").format(path=path))
    if size > MAX_PROFILE_BYTES:
        raise BadInput(_("{where}: {size} bytes is too large for a profile (at most {max_profile_bytes})").format(
                           where=where, size=size, max_profile_bytes=MAX_PROFILE_BYTES))
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadInput(_("{where}: not UTF-8 text (byte {start})").format(where=where, start=e.start)) from None
    except OSError as e:
        raise BadInput(_("{path}: cannot read it ({strerror})").format(path=path, strerror=e.strerror)) from None
    return parse_yaml(text, where)


MAX_VALUES = 100_000  # strings, numbers, lists and mappings after YAML aliases are expanded
MAX_ALIASES = 100  # a profile may share a model list or two; an "alias bomb" needs many
MAX_DEPTH = 32  # a profile is four levels deep
MAX_SCALAR = 64 * 1024  # characters in one value: the app's own import link carries at most 64 KiB
MAX_DIGITS = 20  # the app's numbers are JavaScript numbers: beyond 2**53 they are not exact anyway
_INT_TAG = "tag:yaml.org,2002:int"


def _check_nodes(root: yaml.Node, where: str) -> None:
    """Refuse, before any object is built, a document too big or too deep once its aliases are expanded.

    PyYAML's composer hands an alias back as the very node it names, so a document is a graph: its expanded
    size is counted over that graph (each node once, with its size remembered), which stays linear however the
    aliases nest, where building the objects would not.
    """
    sizes: dict[int, int] = {}
    aliases = 0
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    open_nodes: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_VALUES:
                raise BadInput(_("{where}: more than {max_values} values once YAML aliases are expanded; not a "
                                 "profile").format(where=where, max_values=MAX_VALUES))
            continue
        if key in open_nodes:
            raise BadInput(_("{where}: a YAML alias refers to a value that contains it; not a profile").format(
                               where=where))
        if key in sizes:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise BadInput(_("{where}: more than {max_aliases} YAML aliases; not a profile").format(
                                   where=where, max_aliases=MAX_ALIASES))
            continue
        if depth > MAX_DEPTH:
            raise BadInput(_("{where}: nested too deeply to be a profile").format(where=where))
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(node, where)
            sizes[key] = 1
            continue
        open_nodes.add(key)
        stack.append((node, depth, True))
        # A node reached a second time while still open is a cycle; once closed, a shared one (an alias).
        stack.extend((child, depth + 1, False) for child in reversed(_children(node)))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_scalar(node: yaml.ScalarNode, where: str) -> None:
    at = _("line {line}: ").format(line=node.start_mark.line + 1) if node.start_mark else ""
    if len(node.value) > MAX_SCALAR:
        raise BadInput(_("{where}: {at}a value of {n} characters is too long for a profile (at most "
                         "{max})").format(where=where, at=at, n=len(node.value), max=MAX_SCALAR))
    if node.tag == _INT_TAG and sum(c.isdigit() for c in node.value) > MAX_DIGITS:
        raise BadInput(_("{where}: {at}a number of more than {max} digits is not one Cherry Studio can "
                         "hold").format(where=where, at=at, max=MAX_DIGITS))


def _check_numbers(data: Any, where: str) -> None:
    """Refuse numbers JSON and the app cannot hold exactly: infinities, NaN, integers beyond 2**53."""
    stack: list[tuple[Any, list[str | int]]] = [(data, [])]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, [*loc, str(k)]) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, [*loc, i]) for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise BadInput(_("{where}: {loc}: input should be a finite number").format(
                where=where, loc=schema.format_location(loc) or _("(top level)")))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            at = schema.format_location(loc) or _("(top level)")
            if abs(value) >= 10**MAX_DIGITS:
                # Not quoted: thousands of digits are no help in a sentence (and str() refuses 4,300 of them).
                raise BadInput(_("{where}: {loc}: a number of more than {max} digits is not one Cherry Studio can "
                                 "hold").format(where=where, loc=at, max=MAX_DIGITS))
            raise BadInput(_("{where}: {loc}: {value} is too large for a number Cherry Studio holds exactly").format(
                where=where, loc=at, value=value))


def parse_yaml(text: str, where: str) -> Any:
    """The YAML document in `text`, refused (BadInput, located) when it is not one a profile can be."""
    # The pure reader refuses what YAML does not allow, lone surrogates among them, which libyaml (reading UTF-8)
    # could not even be given: such a text goes to the pure loader for its error. So do a tab and a byte order
    # mark past the start, which libyaml reads differently (tests/unit/formats/test_profile.py found them).
    if (_FastUniqueKeyLoader is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text)
            and "\t" not in text and "\ufeff" not in text[1:]):
        try:
            return _parse_with(_FastUniqueKeyLoader, text, where)
        except BadInput:
            pass
    return _parse_with(_UniqueKeyLoader, text, where)


def _parse_with(loader_class: _Loader, text: str, where: str) -> Any:
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        raise BadInput(_("{where}: line {line}: a character that YAML does not allow (#x{character:04x}, a control "
                         "character or a lone surrogate); remove it").format(
                           where=where, line=line, character=e.character)) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, where)
        try:
            data = loader.construct_document(node)
        except (ValueError, IndexError, TypeError, OverflowError, AttributeError):
            # PyYAML's constructors fail so on a value its tag does not fit (`!!int x`, `!!int` with no value).
            raise BadInput(_("{where}: a value does not read as the type its YAML tag (!!int, !!float...) names")
                           .format(where=where)) from None
    except RecursionError:
        raise BadInput(_("{where}: nested too deeply to be a profile").format(where=where)) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        at = _("line {line}, column {column}: ").format(line=mark.line + 1, column=mark.column + 1) if mark else ""
        problem = ", ".join(part for part in (e.context, e.problem) if part) or _("invalid YAML")
        if "'\\t'" in problem:
            problem = _("a tab character; YAML is indented with spaces, never tabs")
        raise BadInput(f"{where}: {at}{problem}") from None
    except yaml.YAMLError as e:
        raise BadInput(_("{where}: invalid YAML ({error})").format(where=where, error=e)) from None
    finally:
        loader.dispose()
    _check_numbers(data, where)
    return data


def expand_env(value: Any, env: Mapping[str, str], loc: list[str | int], problems: list[str]) -> Any:
    """Replace `${NAME}` in every string, and a whole value `$NAME` (claude-code-router's form); a name missing
    from the environment, or empty there, is added to `problems` (`location: what is wrong`)."""
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(2)
            if name not in env or not env[name].strip():
                problems.append((_("{loc}: environment variable {name} is not set") if name not in env
                                 else _("{loc}: environment variable {name} is empty")).format(
                    loc=schema.format_location(loc), name=name))
                return m.group(0)  # left as written, so validation does not report the same place again
            return env[name]

        whole = _BARE_ENV_REF.fullmatch(value.strip())
        return sub(whole) if whole else _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: expand_env(v, env, [*loc, str(k)], problems) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, env, [*loc, i], problems) for i, v in enumerate(value)]
    return value


MAX_PROBLEMS = 10  # listed in one error; more are counted


def _refused(where: str, problems: list[str]) -> BadInput:
    """One sentence naming every problem (up to MAX_PROBLEMS), each with its location."""
    shown = "; ".join(problems[:MAX_PROBLEMS])
    more = len(problems) - MAX_PROBLEMS
    return BadInput(f"{where}: {shown}" + (_("; and {more} more").format(more=more) if more > 0 else ""))


_PYDANTIC_MESSAGES = {
    "missing": _("required"),
    "extra_forbidden": _("unknown field"),
    "string_too_short": _("must not be empty"),
    "too_short": _("must not be empty"),
    "model_type": _("must be a mapping of fields"),
    "dict_type": _("must be a mapping"),
}
# Messages that depend on the field as well as the kind of error.
_FIELD_MESSAGES = {
    ("version", "literal_error"): _("must be 1, the only profile format there is so far"),
    ("defaultModel", "string_pattern_mismatch"): _("must be <provider id>/<model id>, like gw/gpt-4.1"),
    ("id", "string_pattern_mismatch"): _("must not contain spaces"),
    ("owner", "string_pattern_mismatch"):
        _("must be a name of letters, digits, '.', '_' and '-' (at most 64), like it-dept"),
}
_UNION_BRANCHES = ("str", "ProfileModel")


def _pydantic_problems(e: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[str]:
    """Every problem pydantic found, as `location: what is wrong`, in document order."""
    def clean(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
        # Union branches show up in the location ("str", "ProfileModel"); users think in document paths.
        return tuple(p for p in loc if not is_branch(p))

    def is_branch(p: str | int) -> bool:
        return isinstance(p, str) and (p in _UNION_BRANCHES or p.startswith("constrained-str"))

    errs = e.errors()
    locs = [clean(err["loc"]) for err in errs]
    problems: dict[tuple[str | int, ...], str] = {}
    for err, at in zip(errs, locs, strict=True):
        # A union branch that fails at an enclosing location ("models[2]: not a string") while the other branch
        # says what is wrong inside it is no problem of its own; of several at one location, the first tells.
        if at in problems or any(len(other) > len(at) and other[: len(at)] == at for other in locs):
            continue
        message = _PYDANTIC_MESSAGES.get(err["type"], err["msg"][:1].lower() + err["msg"][1:])
        message = _FIELD_MESSAGES.get((str(at[-1]) if at else "", err["type"]), message)
        if err["type"] in ("string_type", "model_type") and err["loc"] and is_branch(err["loc"][-1]):
            message = _("a model is a model id or a mapping with an id")  # neither branch of `id | {id: ...}` fits
        if err["type"] == "extra_forbidden":
            message += _did_you_mean(at)
        where = schema.format_location([*prefix, *at]) or _("(top level)")
        problems[at] = f"{where}: {message}"
    return list(problems.values()) or [_("(top level): invalid profile")]


def _did_you_mean(at: tuple[str | int, ...]) -> str:
    """` (did you mean apiHost?)` for an unknown field name close to a known one, else ``."""
    from cherryconf.formats.models import Profile, ProfileModel, ProfileProvider

    known: list[str] = []
    if len(at) == 1:
        known = list(Profile.model_fields)
    elif at[:1] == ("providers",) and len(at) == 3:
        known = list(ProfileProvider.model_fields)
    elif at[:1] == ("providers",) and len(at) == 5 and at[2] == "models":
        known = list(ProfileModel.model_fields)
    name = str(at[-1])
    by_lower = {k.lower(): k for k in known}
    close = [by_lower[name.lower()]] if name.lower() in by_lower else difflib.get_close_matches(name, known, 1, 0.6)
    return " " + _("(did you mean {name}?)").format(name=close[0]) if close else ""


# The declared fields of the models' nested objects, in their order: a validated document's values are given the
# form pydantic gave them (declared fields first, numbers of a `number` field as floats), so that what is
# written to a store stays what it was when pydantic built it.
_API_OPTIONS = ("isNotSupportArrayContent", "isNotSupportStreamOptions", "isSupportDeveloperRole",
                "isSupportServiceTier", "isNotSupportEnableThinking", "isNotSupportAPIVersion",
                "isNotSupportVerbosity")
_PRICING = ("input_per_million_tokens", "output_per_million_tokens", "currencySymbol")
_PRICING_NUMBERS = frozenset(_PRICING[:2])
# A profile model's fields a Model takes as they are (not id, name, group, capabilities), in ProfileModel's order.
_MODEL_EXTRA = ("description", "owned_by", "endpoint_type", "supported_endpoint_types", "pricing")


def _declared_first(value: dict[str, Any], declared: tuple[str, ...]) -> dict[str, Any]:
    ordered = {k: copy.deepcopy(value[k]) for k in declared if k in value}
    return ordered | {k: copy.deepcopy(v) for k, v in value.items() if k not in ordered}


def _field_value(name: str, value: Any) -> Any:
    """A validated field's value as the model gave it: a copy (YAML aliases share one object between places)."""
    if name == "rateLimit":
        return float(value)
    if name == "apiOptions":
        return _declared_first(value, _API_OPTIONS)
    if name == "pricing":
        return {k: float(v) if k in _PRICING_NUMBERS else v for k, v in _declared_first(value, _PRICING).items()}
    return copy.deepcopy(value)


def _expand_models(provider: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    full: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for m in provider.get("models", []):
        if isinstance(m, str):
            full.append(model_from_id(m.strip(), provider["id"]))
            updates.append({"id": m.strip()})
            continue
        model = _model_from_profile(m, provider["id"])
        full.append(model)
        named = m.keys() | {"id"}
        updates.append({k: v for k, v in model.items() if k in named})
    return full, updates


def _model_from_profile(m: dict[str, Any], provider_id: str) -> dict[str, Any]:
    model = model_from_id(m["id"], provider_id)
    model["name"] = m.get("name") or m["id"]
    model["group"] = m.get("group") or default_group(m["id"], provider_id)
    model.update({k: _field_value(k, m[k]) for k in _MODEL_EXTRA if k in m})
    if "capabilities" in m:
        model["capabilities"] = [{"type": c, "isUserSelected": True} for c in m["capabilities"]]
    return model


def _drop_v1_only_capabilities(models: list[dict[str, Any]], updates: list[dict[str, Any]], loc: str) -> list[str]:
    """Leave out the capabilities 2.x has no name for, as the app's own 1.x -> 2.x migration drops them.

    (Cherry Studio 2.x, ProviderModelMappings.ts CAPABILITY_MAP at 1220ce3f: `web_search` became a server tool,
    not a model capability.)
    """
    notes = []
    for j, (model, update) in enumerate(zip(models, updates, strict=True)):
        dropped = [c["type"] for c in model.get("capabilities") or [] if c["type"] in V1_ONLY_CAPABILITIES]
        if not dropped:
            continue
        for m in (model, update):
            if "capabilities" in m:
                m["capabilities"] = [c for c in m["capabilities"] if c["type"] not in V1_ONLY_CAPABILITIES]
        notes.append(_("{loc}.models[{j}].capabilities: {names} has no meaning in Cherry Studio 2.x (web search is "
                       "a tool there, not a model capability), so it is left out").format(
                           loc=loc, j=j, names=", ".join(dropped)))
    return notes


def build(profile: dict[str, Any], where: str, app_version: AppVersion | None = None) -> LoadedProfile:
    """Turn a validated profile into patches: normalised apiHost, expanded models, checked cross-references."""
    seen: set[str] = set()
    patches: list[ProviderPatch] = []
    problems: list[str] = []
    notes: list[str] = []
    for i, p in enumerate(profile["providers"]):
        found = _provider_problems(p, i, seen, app_version, notes)
        seen.add(p["id"])
        if isinstance(found, list):
            problems += found
        else:
            patches.append(found)

    default_model = None
    if profile.get("defaultModel"):
        provider_id, _slash, model_id = profile["defaultModel"].partition("/")
        patch = next((x for x in patches if x.id == provider_id), None)
        if provider_id not in seen:
            problems.append(_("defaultModel: no provider {provider_id!r} in this profile").format(
                                provider_id=provider_id))
        elif patch is not None and model_id not in {m["id"] for m in patch.models}:
            problems.append(_("defaultModel: provider {provider_id!r} lists no model {model_id!r}").format(
                                provider_id=provider_id, model_id=model_id))
        default_model = (provider_id, model_id)
    if problems:
        raise _refused(where, problems)
    return LoadedProfile(where, patches, default_model, profile, profile.get("owner"), tuple(notes))


def _provider_problems(p: dict[str, Any], i: int, seen: set[str], app_version: AppVersion | None,
                       notes: list[str]) -> ProviderPatch | list[str]:
    """The provider's patch, or every problem it has (`location: what is wrong`)."""
    loc = f"providers[{i}]"
    problems: list[str] = []
    pid: str = p["id"]
    ptype: str = p.get("type", "openai")
    if pid in seen:
        problems.append(_("{loc}.id: {id!r} is used by an earlier provider too").format(loc=loc, id=pid))
    try:
        routing.check_type_honoured(pid, ptype)
    except BadInput as e:
        problems.append(f"{loc}.{'type' if 'type' in p else 'id'}: {e.message}")
    if pid in RETIRED_PROVIDER_IDS and app_version is not None and app_version >= (2,):
        problems.append(_("{loc}.id: Cherry Studio 2.x retired the provider id {id!r} (it hides such a provider and "
                          "its models): give your provider an id of its own").format(loc=loc, id=pid))
    for name, value in (p.get("extra_headers") or {}).items():
        why = check_header_value(str(name), value) if isinstance(value, str) else None
        if why:
            problems.append(f"{loc}.extra_headers: {why}")
    api_host = ""
    try:
        api_host = normalise_api_host(p["apiHost"], app_version)
    except BadInput as e:
        problems.append(f"{loc}.apiHost: {e.message}")
    else:
        mistyped = near_miss(p["apiHost"])
        if mistyped:
            notes.append(f"{loc}.apiHost: {mistyped}")
    key = p["apiKey"].strip()
    if not key:
        problems.append(_("{loc}.apiKey: must not be empty").format(loc=loc))
    elif any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        problems.append(_("{loc}.apiKey: contains a line break or another control character").format(loc=loc))
    models, model_updates = _expand_models(p)
    if app_version is not None and app_version >= (2,):
        notes += _drop_v1_only_capabilities(models, model_updates, loc)
    first_at: dict[str, int] = {}
    for j, m in enumerate(models):
        if m["id"] in first_at:
            problems.append(_("{loc}.models[{j}].id: model {id!r} is listed twice (also models[{first}])").format(
                loc=loc, j=j, id=m["id"], first=first_at[m["id"]]))
        first_at.setdefault(m["id"], j)
    fields = {k: _field_value(k, p[k]) for k in _PROVIDER_FIELDS if k in p}
    fields["apiHost"] = api_host
    fields["apiKey"] = key
    new_provider: dict[str, Any] = {
        "id": pid,
        "name": p.get("name") or pid,
        "type": ptype,
        "apiKey": fields["apiKey"],
        "apiHost": api_host,
        "models": models,
        "enabled": p.get("enabled", True),
        "isSystem": False,
    }
    new_provider.update({k: v for k, v in fields.items() if k not in new_provider})
    if (pid in _ID_ROUTED_PRESETS and api_host and routing.holds_gateway(new_provider)
            and needs_own_provider(new_provider, app_version)):
        # What `doctor --fix` would do with it once written: the same advice, before anything is written.
        own = own_provider(new_provider, set(seen), app_version)
        problems.append(_("{loc}.id: Cherry Studio routes its built-in provider {id!r} by id, so a gateway there "
                          "gets {now} instead of {then}; give the gateway a provider of its own, such as id {own!r} "
                          "(what `cherryconf doctor --fix` moves it to)").format(
            loc=loc, id=pid, now=routing.chat_url(new_provider, app_version),
            then=routing.chat_url(own, app_version), own=own["id"]))
    # The app's Provider format (schemas/cherry-provider.schema.json).
    if not fastschema.accepts("provider", new_provider):
        from cherryconf.formats.models import Provider

        problems += _model_problems(Provider, new_provider, ("providers", i))
    if problems:
        return problems
    return ProviderPatch(pid, fields, models, model_updates, p.get("replaceModels", False), new_provider)


def _model_problems(model: type[BaseModel], document: Any, prefix: tuple[str | int, ...] = ()) -> list[str]:
    """What is wrong with a document the schema refused, worded from the pydantic model that says the same."""
    from pydantic import ValidationError

    try:
        model.model_validate(document)
    except ValidationError as e:
        return _pydantic_problems(e, prefix)
    # The model and the schema agree (tests/unit/formats/test_schema.py): this would be a bug, not the user's mistake.
    raise AssertionError(f"{model.__name__} accepts what its JSON Schema refuses")


def _finite(value: Any) -> bool:
    """No infinity or NaN anywhere (JSON has none; a document built in Python may)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


_YAML_KINDS: dict[type, str] = {list: _("a list"), str: _("a string"), int: _("a number"), float: _("a number"),
                                bool: _("a boolean")}


def parse(data: Any, where: str, env: Mapping[str, str] | None, app_version: AppVersion | None = None,
          keep_unread_keys: bool = False) -> LoadedProfile:
    """Validate a profile document; `env` expands its references, `${VAR}` and `keyring:` ones (None: the values
    are meant literally); `keep_unread_keys`: see keyref.resolve_profile."""
    _check_numbers(data, where)  # also for documents that did not come from YAML (import, export, Ansible)
    if not isinstance(data, dict):
        found = _("an empty file") if data is None else _YAML_KINDS.get(type(data), type(data).__name__)
        raise BadInput(_("{where}: a profile is a mapping with 'version' and 'providers', not {found}").format(
                           where=where, found=found))
    problems: list[str] = []
    key_refs: dict[str, str] = {}
    unread: frozenset[str] = frozenset()
    if env is not None:
        data = expand_env(data, env, [], problems)
        data, key_refs, unread = keyref.resolve_profile(data, env, key_env_name, keep_unread_keys)
    if not (fastschema.accepts("profile", data) and _finite(data)):
        from cherryconf.formats.models import Profile

        problems += _model_problems(Profile, data)
    if problems:
        raise _refused(where, problems)
    loaded = build(data, where, app_version)
    return dataclasses.replace(loaded, key_refs=key_refs, unread_keys=unread) if key_refs else loaded


def read(path: Path) -> Any:
    """The YAML document of a profile file, for load(..., document=) (a run parses it once); not validated yet."""
    return _read_yaml(path)


def load(path: Path, env: Mapping[str, str] | None = None, app_version: AppVersion | None = None,
         document: Any = None, keep_unread_keys: bool = False) -> LoadedProfile:
    """Read (unless `document` is what read() gave), expand and validate a profile file; BadInput with a located
    sentence on any problem."""
    data = _read_yaml(path) if document is None else document
    return parse(data, path.name, os.environ if env is None else env, app_version, keep_unread_keys)


def with_owner(loaded: LoadedProfile, owner: str | None) -> LoadedProfile:
    """The profile applied as `owner` (--owner); a profile that names its own owner must name the same one."""
    if owner is None:
        return loaded
    if not re.fullmatch(OWNER_PATTERN, owner):
        raise BadInput(_("--owner {owner!r} must be a name of letters, digits, '.', '_' and '-' (at most 64), like "
                         "it-dept").format(owner=owner))
    if loaded.owner not in (None, owner):
        raise BadInput(_("{source} belongs to owner {owner!r}, not {owner2!r}: leave out --owner or change the "
                         "profile's owner").format(source=loaded.source, owner=loaded.owner, owner2=owner))
    return dataclasses.replace(loaded, owner=owner)
