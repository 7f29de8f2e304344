"""What a use case hands back to the command line: one Result per command, and the data documents it carries.

The command line renders a Result once, as text or as `--json` (pipx's OperationResult). apply's document is made
here, not in render/: `apply --all-users` runs a user's apply in a child process, which sends it back as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cherryconf.domain import routing
from cherryconf.errors import ExitCode
from cherryconf.redact import mask_url, masked_value

if TYPE_CHECKING:
    from cherryconf.domain.endpoints import AppVersion
    from cherryconf.domain.plan import Plan, ProviderChange
    from cherryconf.stores.backup import Backup
    from cherryconf.stores.install import Install


@dataclass(frozen=True)
class Result:
    """What one command did: `data` is its --json document, `text` what people read; a non-zero `exit_code` ends
    the run with it, after `problem` (one sentence, on stderr) says why."""

    data: dict[str, Any]
    text: str = ""
    exit_code: int = ExitCode.OK
    problem: str | None = None


def change_json(c: ProviderChange, after: list[dict[str, Any]] | None = None,
                app_version: AppVersion | None = None) -> dict[str, Any]:
    """One provider's change; with the providers after it, also where its chats go (`chat_url`)."""
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
        "chat_url": mask_url(url) if url else url,
    }


def apply_json(install: Install, plan: Plan, backup: Backup | None, owner: str | None, *, dry_run: bool = False,
               check: bool = False) -> dict[str, Any]:
    """apply's --json document: what changes (or would, with --dry-run and --check), keys masked."""
    version = install.version
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
        "matched": [{"provider": held, "profile_id": wanted, "why": why}
                    for held, (wanted, why) in plan.matched.items()],
        "capabilities": [{"provider": pid, "model": model, "catalog": own, "added": added}
                         for (pid, model), (own, added) in plan.offered.items()],
    }
