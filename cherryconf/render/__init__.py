"""Human text and --json output. Keys are masked here and nowhere is a whole key printed."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from cherryconf import console
from cherryconf.i18n import _, ngettext

if TYPE_CHECKING:
    from cherryconf.domain.endpoints import AppVersion
    from cherryconf.domain.plan import Plan, ProviderChange
    from cherryconf.domain.routing import ProviderUrls
    from cherryconf.ops.allusers import Mode, Outcome
    from cherryconf.ops.doctor import Finding
    from cherryconf.stores.backup import Backup
    from cherryconf.stores.install import Install


def setting_name(key: str) -> str:
    """A model setting of the store (`defaultModel`, ...) by the name the app shows for it, in the user's language.

    English keeps the store's key, as the messages always said; the Chinese names are the app's own labels
    (Cherry Studio 1.7.x, src/renderer/src/i18n/locales/zh-cn.json @ e997d02: settings.models.*).
    """
    names = {
        # Translators: the app's label for this setting, then the store key (zh: 默认助手模型（defaultModel）).
        "defaultModel": _("defaultModel"),
        # Translators: the app labels the topic-naming model "quick model" (zh: 快速模型).
        "topicNamingModel": _("topicNamingModel"),
        # Translators: the quick assistant's model (zh: 快捷助手模型).
        "quickModel": _("quickModel"),
        # Translators: the translate model (zh: 翻译模型).
        "translateModel": _("translateModel"),
    }
    return names.get(key, key)


def mask(key: str) -> str:
    """`sk-abcdef...wxyz` -> `sk-ab…wxyz`; short keys show less, several comma-separated keys each masked."""
    if "," in key:
        return ",".join(mask(k) for k in key.split(","))
    k = key.strip()
    if not k:
        return "(none)"  # also the --json value of a missing key, the same in every language
    if len(k) <= 8:
        return "…" + k[-2:] if len(k) > 4 else "…"
    if len(k) <= 16:
        return f"{k[:2]}…{k[-2:]}"
    return f"{k[:5]}…{k[-4:]}"


def size(n: int) -> str:
    """Bytes for people: 512 B, 4.7 MB."""
    value = float(n)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def scrub(text: str, secrets: list[str], shortest: int = 6) -> str:
    """`text` with every piece of a secret `shortest` characters or longer replaced by `***`.

    Gateways echo a bad key's prefix, suffix or both ("sk-abcd…wxyz") in their errors; removing only the
    whole key would still print parts of it. 6 is longer than the 4 characters `mask` shows.
    """
    for secret in secrets:
        for n in range(len(secret), shortest - 1, -1):
            for start in range(len(secret) - n + 1):
                piece = secret[start : start + n]
                if piece in text:
                    text = text.replace(piece, "***")
    return re.sub(r"(?:\*\*\*)+", "***", text)


def dumps(document: Any) -> str:
    """The one JSON form cherryconf prints: indented, stable key order, non-ASCII as is (escaped on Windows, where
    a redirected stream's code page could not carry it: see `console`)."""
    return json.dumps(document, ensure_ascii=console.JSON_ASCII, indent=2, default=str)


def width(text: str) -> int:
    """Terminal columns: CJK and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain aligned table, in terminal columns (a CJK name takes two per character)."""
    if not rows:
        return ""
    widths = [max(width(h), *(width(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


_SECRET_FIELDS = {"apiKey"}


def masked_value(field: str, value: Any) -> Any:
    """A provider field's value with its secrets masked: the key, and header values (they often carry tokens)."""
    if field in _SECRET_FIELDS and isinstance(value, str):
        return mask(value)
    if field == "extra_headers" and isinstance(value, dict):
        return {k: mask(str(v)) for k, v in value.items()}
    return value


def show_value(field: str, value: Any) -> str:
    """A field's value for people, secrets masked."""
    if value is None:
        return _("(unset)")
    shown = masked_value(field, value)
    if shown is not value:  # masked: shown bare, not as JSON with quotes
        return shown if isinstance(shown, str) else "{" + ", ".join(f"{k}: {v}" for k, v in shown.items()) + "}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _models_summary(c: ProviderChange) -> str:
    parts = [f"+{m}" for m in c.models_added] + [f"-{m}" for m in c.models_removed]
    parts += [f"~{m}" for m in c.models_changed]
    return _("models {changes}").format(changes=" ".join(parts)) if parts else ""


def changes_text(changes: list[ProviderChange], after: list[dict[str, Any]],
                 app_version: AppVersion | None = None) -> str:
    """One block per provider that changes: `+` added, `~` updated, `-` removed; keys masked; for a provider
    added or updated, where its chats will go."""
    from cherryconf.domain import routing

    by_id = {p.get("id"): p for p in after}
    lines: list[str] = []
    for c in changes:
        if c.action == "unchanged":
            continue
        p = by_id.get(c.id, {})
        if c.action == "add":
            lines.append("+ " + _("{id} ({name}): add provider, type {type}").format(
                id=c.id, name=c.name, type=p.get("type")))
            for f in ("apiHost", "apiKey"):
                lines.append(f"    {f}: {show_value(f, p.get(f))}")
        elif c.action == "remove":
            lines.append("- " + _("{id} ({name}): provider removed").format(id=c.id, name=c.name))
        else:
            lines.append("~ " + _("{id} ({name}): update").format(id=c.id, name=c.name))
            for fc in c.fields:
                lines.append(f"    {fc.field}: {show_value(fc.field, fc.before)} -> {show_value(fc.field, fc.after)}")
        summary = _models_summary(c)
        if summary:
            lines.append(f"    {summary}")
        if c.action != "remove" and p.get("apiHost"):
            urls = urls_text(routing.provider_urls(p, app_version))
            lines.append("    " + _("chats go to: {urls}").format(urls=urls))
    return "\n".join(lines)


def plan_text(plan: Plan, app_version: AppVersion | None = None) -> str:
    """The whole preview of a plan: provider changes, moved models, then the default model if it changes."""
    text = changes_text(plan.changes, plan.after, app_version)
    moves: dict[tuple[str, str], list[str]] = {}
    for (old, model), new in plan.moved.items():
        moves.setdefault((old, new), []).append(model)
    for (old, new), models in moves.items():
        text += "\n~ " + ngettext(
            "{n} model moves from {old} to {new}; the settings and assistants that use it follow",
            "{n} models move from {old} to {new}; the settings and assistants that use them follow",
            len(models)).format(n=len(models), old=old, new=new)
    after = plan.default_model_after
    if after is not None and after != plan.default_model_before:
        before = plan.default_model_before
        was = f"{before.get('provider')}/{before.get('id')}" if before else _("(none)")
        text += "\n~ " + _("default model: {was} -> {provider}/{id}").format(
            was=was, provider=after.get("provider"), id=after.get("id"))
    return text


def change_json(c: ProviderChange, after: list[dict[str, Any]] | None = None,
                app_version: AppVersion | None = None) -> dict[str, Any]:
    """One provider's change; with the providers after it, also where its chats go (`chat_url`)."""
    from cherryconf.domain import routing

    provider = next((p for p in after or [] if p.get("id") == c.id), None)
    url = routing.chat_url(provider, app_version) if provider is not None and c.action != "remove" else None
    return {
        "id": c.id,
        "name": c.name,
        "action": c.action,
        "fields": {f.field: {"before": masked_value(f.field, f.before), "after": masked_value(f.field, f.after)}
                   for f in c.fields},
        "models_added": c.models_added,
        "models_removed": c.models_removed,
        "models_changed": c.models_changed,
        "chat_url": url,
    }


def urls_text(urls: ProviderUrls) -> str:
    """`https://gw/v1/responses (by id; 2 models elsewhere)`: the main URL, and what decides it when not the type."""
    text = urls.main or "-"
    notes = [_("by id")] if urls.by_id and urls.main else []
    if urls.by_model:
        n = len(urls.by_model)
        notes.append(ngettext("{n} model elsewhere", "{n} models elsewhere", n).format(n=n))
    return f"{text} ({'; '.join(notes)})" if notes else text


def apply_json(install: Install, plan: Plan, backup: Backup | None, owner: str | None, *, dry_run: bool = False,
               check: bool = False) -> dict[str, Any]:
    """apply's --json document: what changes (or would, with --dry-run and --check), keys masked."""
    from cherryconf.domain.endpoints import parse_version

    version = parse_version(install.app_version)
    return {
        "install": str(install.data_dir),
        "changed": plan.changed,
        "dry_run": dry_run,
        "check": check,
        "owner": owner,
        "changes": [change_json(c, plan.after, version) for c in plan.changes],
        "default_model": plan.default_model_after if plan.default_model_after != plan.default_model_before else None,
        "backup": str(backup.path) if backup else None,
        "backup_id": backup.id if backup else None,
    }


_ACTION_MARKS = {"add": "+", "update": "~", "remove": "-"}


def all_users_text(outcomes: list[Outcome], mode: Mode) -> str:
    """One line per install of `apply --all-users`: what changed (or would), or why it failed."""
    lines = []
    for o in outcomes:
        where = f"{o.user}: {o.data_dir or o.home}"
        doc = o.document
        if doc is None:
            lines.append(_("{where}: failed: {error}").format(where=where, error=o.error))
            continue
        changed = [f"{_ACTION_MARKS[c['action']]}{c['id']}" for c in doc["changes"] if c["action"] in _ACTION_MARKS]
        if not doc["changed"]:
            lines.append((_("{where}: in step") if mode == "check" else _("{where}: no changes")).format(where=where))
        elif mode == "apply":
            lines.append(_("{where}: changed {changes}; backup: {backup}").format(
                where=where, changes=" ".join(changed) or _("the default model"), backup=doc["backup"]))
        else:
            lines.append(_("{where}: would change {changes}").format(
                where=where, changes=" ".join(changed) or _("the default model")))
    return "\n".join(lines)


def all_users_json(outcomes: list[Outcome], mode: Mode) -> dict[str, Any]:
    return {"mode": mode, "installs": [
        {"user": o.user, "home": str(o.home), "install": o.data_dir, "exit_code": o.exit_code, "error": o.error,
         "result": o.document} for o in outcomes]}


def findings_text(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        mark = {"error": "✗", "warning": "!"}.get(f.severity, "·")
        who = f"{f.provider_id} ({f.provider_name})" if f.provider_name else f.provider_id
        lines.append(f"{mark} {who}: {f.message}")
        if f.severity == "note":
            lines.append("    " + _("(a note: nothing to fix)"))
        else:
            lines.append("    " + (_("fix: {fix}").format(fix=f.fix) if f.fix
                                     else _("fix by hand in Cherry Studio's settings")))
    return "\n".join(lines)


def finding_json(f: Finding) -> dict[str, Any]:
    return {"provider": f.provider_id, "name": f.provider_name, "code": f.code, "severity": f.severity,
            "message": f.message, "fix": f.fix}
