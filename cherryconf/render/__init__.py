"""Human text and --json output. Keys are masked here and nowhere is a whole key printed."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from cherryconf import console
from cherryconf.errors import one_line
from cherryconf.i18n import _, ngettext
from cherryconf.redact import mask_url, masked_value

if TYPE_CHECKING:
    from cherryconf.domain.endpoints import AppVersion
    from cherryconf.domain.moves import Finding
    from cherryconf.domain.plan import Plan, ProviderChange
    from cherryconf.domain.routing import ProviderUrls
    from cherryconf.ops.allusers import Mode, Outcome


def unmoved_text(pid: str, settings: list[str]) -> str:
    """After a declined move: what still uses built-in provider `pid` (`settings`: the app's settings naming it),
    so that "Done" is not the last word, and the command that moves it."""
    if not settings:
        return _("Not fixed: the gateway is still in the built-in provider {pid!r}, left as it was; `cherryconf "
                 "doctor --fix` moves it, with the assistants that use it, to a provider of its own.").format(pid=pid)
    return ngettext(
        "Not fixed: Cherry Studio's {settings} still uses the built-in provider {pid!r}, left as it was; "
        "`cherryconf doctor --fix` moves it, with the assistants that use it, to a provider of its own.",
        "Not fixed: Cherry Studio's {settings} still use the built-in provider {pid!r}, left as it was; "
        "`cherryconf doctor --fix` moves them, with the assistants that use it, to a provider of its own.",
        len(settings)).format(settings=", ".join(settings), pid=pid)


def size(n: int) -> str:
    """Bytes for people: 512 B, 4.7 MB."""
    value = float(n)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def dumps(document: Any) -> str:
    """The one JSON form cherryconf prints: indented, stable key order, non-ASCII as is (escaped on Windows, where
    a redirected stream's code page could not carry it: see `console`)."""
    return json.dumps(document, ensure_ascii=console.JSON_ASCII, indent=2, default=str)


width = console.columns


def table(headers: list[str], rows: list[list[str]], fit: int | None = -1, shrink: tuple[int, ...] = ()) -> str:
    """A plain aligned table, in terminal columns (a CJK name takes two per character). Wider than `fit` columns
    (the terminal's, by default; None: any width), the columns in `shrink` (names, URLs: never an id) are cut
    short with "…" down to _SHRUNK columns, widest first; still too wide, it is one block per row instead,
    `HEADER  value` a line, so that each value stays whole, as it must be typed back (ids, URLs), rather than
    wrapped mid-row."""
    if not rows:
        return ""
    if fit == -1:
        fit = console.width(sys.stdout)
    widths = [max(width(h), *(width(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str], sizes: list[int]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, sizes, strict=True)).rstrip()

    over = -1 if fit is None else sum(widths) + 2 * (len(widths) - 1) - fit  # columns too many
    for i in sorted(shrink, key=lambda i: -widths[i]):
        cut = min(max(over, 0), widths[i] - max(_SHRUNK, width(headers[i])))
        if cut > 0:
            widths[i] -= cut
            over -= cut
    if over <= 0:
        rows = [[_clip(c, widths[i]) if i in shrink else c for i, c in enumerate(r)] for r in rows]
        return "\n".join([line(headers, widths), *(line(r, widths) for r in rows)])
    label = max(width(h) for h in headers)
    return "\n\n".join("\n".join(line([h, c], [label, 0]) for h, c in zip(headers, r, strict=True)) for r in rows)


_SHRUNK = 16


def _clip(text: str, size: int) -> str:
    """`text` in at most `size` terminal columns, its end replaced by "…" when cut."""
    if width(text) <= size:
        return text
    out, used = "", 0
    for ch in text:
        w = width(ch)
        if used + w > size - 1:
            break
        out, used = out + ch, used + w
    return out + "…"


def show_value(field: str, value: Any) -> str:
    """A field's value for people, secrets masked."""
    if value is None:
        return _("(unset)")
    shown = masked_value(field, value)
    if shown is None:  # a secret field holding no secret
        return _("(none)")
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
            lines.append(console.paint("+ " + _("{id} ({name}): add provider, type {type}").format(
                id=c.id, name=c.name, type=p.get("type")), console.GOOD))
            for f in ("apiHost", "apiKey"):
                lines.append(f"    {f}: {show_value(f, p.get(f))}")
        elif c.action == "remove":
            lines.append(console.paint("- " + _("{id} ({name}): provider will be deleted").format(
                id=c.id, name=c.name), console.BAD))
        else:
            lines.append(console.paint("~ " + _("{id} ({name}): update").format(id=c.id, name=c.name), console.CHANGE))
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
        text += "\n" + console.paint("~ " + ngettext(
            "{n} model moves from {old} to {new}; the settings and assistants that use it follow",
            "{n} models move from {old} to {new}; the settings and assistants that use them follow",
            len(models)).format(n=len(models), old=old, new=new), console.CHANGE)
    for held, (wanted, why) in plan.matched.items():
        text += "\n  " + _("the profile's {wanted} is the gateway the store holds as {held} ({why}): {held} is "
                           "updated, no second provider is added").format(wanted=wanted, held=held, why=why)
    for (pid, model), (own, added) in plan.offered.items():
        offered = ", ".join([*own, *added]) or _("(none)")
        text += "\n  " + (_("{pid}/{model}: Cherry Studio will offer {offered} (its catalog's, and {added} from the "
                            "profile)") if added else
                          _("{pid}/{model}: Cherry Studio will offer {offered} (its catalog's: the profile adds "
                            "nothing to them)")).format(pid=pid, model=model, offered=offered, added=", ".join(added))
    after = plan.default_model_after
    if after is not None and after != plan.default_model_before:
        text += "\n" + default_model_line(plan.default_model_before, after)
    return text


def default_model_line(before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    """`~ default model: old/model -> new/model`, for a preview."""
    was = f"{before.get('provider')}/{before.get('id')}" if before else _("(none)")
    return console.paint("~ " + _("default model: {was} -> {provider}/{id}").format(
        was=was, provider=after.get("provider"), id=after.get("id")), console.CHANGE)


def urls_text(urls: ProviderUrls) -> str:
    """`https://gw/v1/responses (by id; 2 models elsewhere)`: the main URL, and what decides it when not the type."""
    text = mask_url(urls.main) if urls.main else "-"
    notes = [_("by id")] if urls.by_id and urls.main else []
    if urls.by_model:
        n = len(urls.by_model)
        notes.append(ngettext("{n} model elsewhere", "{n} models elsewhere", n).format(n=n))
    if not notes:
        return text
    # The brackets and the semicolon: full-width ones in Chinese.
    said = notes[0] if len(notes) == 1 else _("{first}; {second}").format(first=notes[0], second=notes[1])
    return _("{url} ({notes})").format(url=text, notes=said)


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
            said = _("{where}: up to date") if mode == "check" else _("{where}: no changes")
            lines.append(said.format(where=where))
        elif mode == "apply":
            lines.append(_("{where}: changed {changes}; backup: {backup}").format(
                where=where, changes=" ".join(changed) or _("the default model"), backup=doc["backup"]))
        else:
            lines.append(_("{where}: would change {changes}").format(
                where=where, changes=" ".join(changed) or _("the default model")))
    # Names, paths and errors come from users' files and settings: a control character in them must not reach
    # root's terminal as one (erase a line, forge another, set the title).
    return "\n".join(one_line(line) for line in lines)


def all_users_json(outcomes: list[Outcome], mode: Mode) -> dict[str, Any]:
    return {"mode": mode, "installs": [
        {"user": o.user, "home": str(o.home), "install": o.data_dir, "exit_code": o.exit_code, "error": o.error,
         "result": o.document} for o in outcomes]}


def findings_text(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        mark = {"error": console.paint("✗", console.BAD), "warning": console.paint("!", console.CHANGE)}.get(
            f.severity, "·")
        who = (_("{id} ({name})").format(id=f.provider_id, name=f.provider_name) if f.provider_name
               else f.provider_id)
        # The brackets and the colon: full-width ones in Chinese.
        lines.append(f"{mark} " + _("{who}: {message}").format(who=who, message=f.message))
        if f.severity == "note":
            lines.append("    " + _("(a note: nothing to fix)"))
        else:
            lines.append("    " + (_("fix: {fix}").format(fix=f.fix) if f.fix
                                     else _("fix by hand in Cherry Studio's settings")))
    return "\n".join(lines)


def finding_json(f: Finding) -> dict[str, Any]:
    return {"provider": f.provider_id, "name": f.provider_name, "code": f.code, "severity": f.severity,
            "message": f.message, "fix": f.fix}
