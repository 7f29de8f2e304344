"""restore's views: what undoing changes, what is kept, what a whole restore would lose; and its --json document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cherryconf.i18n import _, ngettext
from cherryconf.ops.result import change_json
from cherryconf.render import default_model_line

if TYPE_CHECKING:
    from cherryconf.domain.undo import Kept, Record
    from cherryconf.ops.restore import RestorePlan


def record_line(r: Record | None) -> str:
    """A backup's record in one line, for `backups`: `apply: +apiyi, ~silicon, default model`."""
    if r is None:
        return _("(no record)")
    if r.whole:
        return _("{reason}: the whole store").format(reason=r.reason)
    parts = [{"add": "+", "remove": "-", "update": "~"}[p.action] + p.id for p in r.providers]
    if r.default_model is not None:
        parts.append(_("default model"))
    if r.moved:
        parts.append(ngettext("{n} model moved", "{n} models moved", len(r.moved)).format(n=len(r.moved)))
    if r.owners:
        parts.append(_("owners"))
    # Ids and names only: never a value, so never a key.
    said = parts[0] if parts else _("nothing")
    for part in parts[1:]:
        said = _("{line}, {part}").format(line=said, part=part)  # a full-width comma in Chinese
    line = _("{reason}: {parts}").format(reason=r.reason, parts=said)
    return line if r.state == "written" else line + " " + _("(interrupted: may not have been written)")


def kept_line(k: Kept) -> str:
    return f"{k.provider}.{k.what}" if k.provider else k.what


def lost_text(lost: dict[str, int]) -> str:
    names = {
        "topics": lambda n: ngettext("{n} topic", "{n} topics", n),
        "messages": lambda n: ngettext("{n} message", "{n} messages", n),
        "settings": lambda n: ngettext("{n} setting", "{n} settings", n),
        "providers": lambda n: ngettext("{n} provider", "{n} providers", n),
    }
    parts = [names[k](n).format(n=n) for k, n in lost.items() if k in names]
    return (_("what changed since the backup and would be lost: {parts}").format(parts=", ".join(parts)) + "\n"
            + _("the present state is kept in the pre-restore backup, which `cherryconf restore --whole` can put "
                "back"))


def preview(rp: RestorePlan, changes_text: str) -> str:
    """What restoring does, before it is done; `changes_text` is the providers' changes already rendered."""
    lines = []
    if not rp.current_readable:
        lines.append(_("the current store cannot be read; restoring replaces it whole"))
    if rp.mode == "undo":
        for b, r in rp.undone:
            lines.append(_("undoing {id} ({record})").format(id=b.id, record=record_line(r)))
    lines.append(changes_text or (_("providers: no differences (other settings may differ)") if rp.mode == "whole"
                                  else _("providers and model settings: nothing to undo")))
    if rp.write is None and rp.default_model is not None:  # with a plan, changes_text holds it already
        lines.append(default_model_line(*rp.default_model))
    if rp.mode == "undo" and rp.owners_after is not None:
        lines.append(_("the record of which providers each owner applied goes back too"))
    if rp.kept:
        lines.append(_("kept as changed in the app since cherryconf wrote it (--force puts cherryconf's earlier value "
                       "back): {fields}").format(fields=", ".join(kept_line(k) for k in rp.kept)))
    if rp.mode == "whole" or rp.no_record is not None:
        lines.append(lost_text(rp.lost))
    elif rp.mode == "undo":
        lines.append(_("everything else stays as it is now: topics, messages, other settings and providers"))
    return "\n".join(lines)


def document(rp: RestorePlan, dry_run: bool) -> dict[str, Any]:
    return {
        "backup": rp.backup.id, "install": str(rp.install.data_dir), "dry_run": dry_run, "mode": rp.mode,
        "changes": [change_json(c) for c in rp.changes], "warning": rp.warning, "pre_restore_backup": None,
        "undone": [b.id for b, _r in rp.undone], "kept": [kept_line(k) for k in rp.kept],
        "lost": rp.lost or None, "no_record": rp.no_record.id if rp.no_record else None,
        "default_model": _default_after(rp),
    }


def _default_after(rp: RestorePlan) -> dict[str, Any] | None:
    """The default model restoring puts back, where it changes it (as apply's document says it)."""
    if rp.write is not None:
        p = rp.write
        return p.default_model_after if p.default_model_after != p.default_model_before else None
    return rp.default_model[1] if rp.default_model is not None else None
