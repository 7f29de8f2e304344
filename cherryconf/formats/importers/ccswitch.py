"""cc-switch's database (farion1231/cc-switch, `~/.cc-switch/cc-switch.db`): its providers for the apps that speak
OpenAI's or Anthropic's protocols.

Table `providers` (src-tauri/src/database/schema.rs at 0133d004): `id`, `app_type`, `name`, `settings_config`
(JSON: what cc-switch writes into that app's own config), `meta` (JSON), `category`, `sort_index`. What a provider
calls is read the way cc-switch's proxy reads it (src-tauri/src/proxy/providers/claude.rs at 00148459, codex.rs
at 02ebc553):
- claude: `env.ANTHROPIC_BASE_URL` (or `base_url`); the key in `env.ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_API_KEY`,
  `OPENROUTER_API_KEY`, `OPENAI_API_KEY` (or `apiKey`); the protocol `meta.apiFormat` or `api_format`:
  `anthropic` (the default), `openai_chat`, `openai_responses`, `gemini_native`.
- codex: `base_url`, or `base_url` of `[model_providers.<model_provider>]` in the TOML text `config`; the key in
  `auth.OPENAI_API_KEY`, `env.OPENAI_API_KEY` or that table's `experimental_bearer_token`; the protocol
  `meta.apiFormat`/`apiFormat`/`api_format`, else that table's `wire_api` (`responses`, `chat`, `anthropic`);
  the model `model` (settings or TOML).
Other apps (Gemini CLI and the rest) speak other protocols or configure no single provider, and are left out.
"""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

from cherryconf.errors import BadInput
from cherryconf.formats.importers import Source, provider_id
from cherryconf.i18n import _

TABLE = "providers"
TABLES = frozenset({TABLE, "provider_endpoints"})  # what tells a cc-switch database apart
_CLAUDE_KEYS = ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "OPENAI_API_KEY")
# Claude Code's model variables, which cc-switch's provider forms fill in.
_CLAUDE_MODELS = ("ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_SONNET_MODEL", "ANTHROPIC_DEFAULT_OPUS_MODEL",
                  "ANTHROPIC_DEFAULT_HAIKU_MODEL", "ANTHROPIC_SMALL_FAST_MODEL")
_TYPE_OF_FORMAT = {"anthropic": "anthropic", "anthropic_messages": "anthropic", "openai_chat": "openai",
                   "chat": "openai", "openai_responses": "openai-response", "responses": "openai-response"}


def _text(mapping: Any, *keys: str) -> str:
    """The first of `keys` that `mapping` holds as non-empty text."""
    if not isinstance(mapping, dict):
        return ""
    return next((mapping[k].strip() for k in keys if isinstance(mapping.get(k), str) and mapping[k].strip()), "")


def _claude(settings: dict[str, Any], meta: dict[str, Any]) -> tuple[str, str, str, list[str]] | str:
    """(type, base URL, key, models), or why the provider is left out."""
    env = settings.get("env")
    fmt = _text(meta, "apiFormat") or _text(settings, "api_format") or "anthropic"
    if fmt not in _TYPE_OF_FORMAT:
        return _("it speaks {protocol}, which is neither OpenAI's nor Anthropic's protocol").format(protocol=fmt)
    host = _text(env, "ANTHROPIC_BASE_URL") or _text(settings, "base_url", "baseURL", "apiEndpoint")
    key = _text(env, *_CLAUDE_KEYS) or _text(settings, "apiKey", "api_key")
    models = [m for m in dict.fromkeys(_text(env, name) for name in _CLAUDE_MODELS) if m]
    return _TYPE_OF_FORMAT[fmt], host, key, models


def _codex(settings: dict[str, Any], meta: dict[str, Any]) -> tuple[str, str, str, list[str]] | str:
    try:
        toml = tomllib.loads(settings["config"]) if isinstance(settings.get("config"), str) else {}
    except tomllib.TOMLDecodeError as e:
        return _("its Codex config.toml is not valid TOML ({error})").format(error=e)
    except RecursionError:
        return _("its Codex config.toml is nested too deeply")
    table = (toml.get("model_providers") or {}).get(toml.get("model_provider")) or {}
    fmt = (_text(meta, "apiFormat") or _text(settings, "apiFormat", "api_format") or _text(table, "wire_api")
           or "responses")
    if fmt not in _TYPE_OF_FORMAT:
        return _("it speaks {protocol}, which is neither OpenAI's nor Anthropic's protocol").format(protocol=fmt)
    host = _text(settings, "base_url", "baseURL") or _text(table, "base_url")
    key = (_text(settings.get("auth"), "OPENAI_API_KEY") or _text(settings.get("env"), "OPENAI_API_KEY")
           or _text(table, "experimental_bearer_token"))
    model = _text(settings, "model") or _text(toml, "model")
    return _TYPE_OF_FORMAT[fmt], host, key, [model] if model else []


_READERS = {"claude": _claude, "codex": _codex}


def _json(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):  # json's C decoder refuses deep nesting with RecursionError
        return {}
    return value if isinstance(value, dict) else {}


def read(path: Path) -> Source:
    from cherryconf.formats.importers import limits

    try:
        with limits.sqlite_source(path) as conn:
            limits.check_plain_tables(conn, [TABLE], path)
            rows = conn.execute(f"SELECT id, app_type, name, settings_config, meta FROM {TABLE} "
                                "ORDER BY app_type, sort_index, created_at, id").fetchall()
    except sqlite3.DatabaseError as e:
        raise BadInput(_("{path} is a cc-switch database cherryconf cannot read ({error})")
                       .format(path=path, error=e)) from None
    providers: list[dict[str, Any]] = []
    notes: list[str] = []
    taken: set[str] = set()
    for _row_id, app, name, settings_text, meta_text in rows:
        reader = _READERS.get(str(app))
        what = f"{app}/{name}"
        if reader is None:
            notes.append(_("left out {what}: cherryconf imports cc-switch's Claude Code and Codex providers")
                         .format(what=what))
            continue
        found = reader(_json(settings_text), _json(meta_text))
        if isinstance(found, str):
            notes.append(_("left out {what}: {why}").format(what=what, why=found))
            continue
        ptype, host, key, models = found
        pid = provider_id(f"{name}-{app}", taken, "ccswitch")
        providers.append({"id": pid, "name": str(name), "type": ptype, "apiHost": host, "apiKey": key,
                          "models": [{"id": m, "provider": pid, "name": m} for m in models], "isSystem": False})
    return Source(_("the cc-switch database {path}").format(path=path), providers, notes)
