#!/usr/bin/python
# Copyright: cherryconf contributors; MIT License (see galaxy.yml)
"""Ansible module cherryconf.cherry_studio.providers: make Cherry Studio hold a cherryconf profile's providers.

It runs the `cherryconf` command installed on the managed host rather than importing cherryconf: Ansible runs a
module with the host's own Python (often the system one), while cherryconf is normally installed with pipx in a
virtualenv of its own that this Python cannot import from; and the command line's `--json` document and exit
codes are cherryconf's documented contract, where its Python modules are not.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: providers
short_description: Make Cherry Studio hold a cherryconf profile's LLM providers
version_added: "0.1.0"
description:
  - Runs C(cherryconf apply PROFILE --json --yes) on the managed host, as the user the task runs as (use
    C(become_user) to configure another user's Cherry Studio).
  - Applying is idempotent. Before every write cherryconf backs up the whole store into that user's cherryconf
    directory; the task returns the backup's id, which C(cherryconf restore ID) puts back.
  - Check mode is cherryconf's drift check (C(cherryconf apply PROFILE --check)); it writes nothing and reports
    C(changed) when the store differs from the profile.
  - Diff mode shows, per provider, the fields and models that change; API keys are always masked.
  - The task fails with cherryconf's own sentence when cherryconf refuses, for example while Cherry Studio is
    running or when the profile is invalid.
requirements:
  - cherryconf (the same release as this collection or newer) on the managed host, for example installed with
    C(pipx install cherryconf); see the collection's docs/install.md.
options:
  profile:
    description:
      - Path of the cherryconf profile on the managed host.
      - C(${VAR}) references in it are read from the task's environment (the C(environment) keyword).
    type: path
    required: true
  data_dir:
    description:
      - Cherry Studio's userData directory. By default cherryconf finds the user's only install.
    type: path
  keep:
    description:
      - How many backups cherryconf keeps for the install (cherryconf's default is 20).
    type: int
  owner:
    description:
      - Apply the profile as this owner; the owner's providers become exactly the profile's, so one it applied
        before and the profile no longer lists is removed. Other owners' providers and the user's own are never
        touched. A profile that names its own C(owner) must name the same one.
    type: str
  executable:
    description:
      - The cherryconf command. By default C(cherryconf) on the C(PATH), or in C(~/.local/bin) where pipx puts it.
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
author:
  - cherryconf contributors
"""

EXAMPLES = r"""
- name: Put the company gateway into Cherry Studio for alice
  become: true
  become_user: alice
  cherryconf.cherry_studio.providers:
    profile: /home/alice/.config/cherryconf/profile.yaml
    owner: it-dept

- name: Report drift only (the task is "changed" when the store differs from the profile)
  cherryconf.cherry_studio.providers:
    profile: /etc/cherryconf/profile.yaml
  check_mode: true
"""

RETURN = r"""
changed:
  description: Whether the store changed (in check mode, whether it would).
  returned: always
  type: bool
install:
  description: The Cherry Studio userData directory the profile was applied to.
  returned: success
  type: str
backup:
  description: The id of the backup taken before writing (for C(cherryconf restore)), or null when nothing was written.
  returned: success
  type: str
backup_path:
  description: Where that backup is, on the managed host.
  returned: success
  type: str
providers:
  description: The ids of the providers that changed (or would, in check mode).
  returned: success
  type: list
  elements: str
changes:
  description: cherryconf's per-provider changes (action, fields before and after, models); keys masked.
  returned: success
  type: list
  elements: dict
exit_code:
  description: cherryconf's exit code (2 bad input, 3 Cherry Studio is running, 4 install not found or damaged).
  returned: failure
  type: int
"""

import json
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

_DRIFT = 5  # cherryconf apply --check: applying would change the store


def _show(value):
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _diff(document):
    """Provider-level before/after text from cherryconf's changes; values come already masked."""
    before, after = [], []
    for change in document["changes"]:
        action = change["action"]
        if action == "unchanged":
            continue
        head = f"[provider {change['id']}]"
        if action != "add":
            before.append(head)
        if action != "remove":
            after.append(head)
        for name, values in sorted(change["fields"].items()):
            if values["before"] is not None:
                before.append(f"  {name}: {_show(values['before'])}")
            if values["after"] is not None:
                after.append(f"  {name}: {_show(values['after'])}")
        before += [f"  model {m}" for m in change["models_removed"]]
        after += [f"  model {m}" for m in change["models_added"]]
        before += [f"  model {m} (as it was)" for m in change["models_changed"]]
        after += [f"  model {m} (changed)" for m in change["models_changed"]]
    model = document.get("default_model")
    if model:
        after.append(f"[default model] {model.get('provider')}/{model.get('id')}")
    where = f"Cherry Studio providers in {document['install']}"
    return {"before_header": where, "after_header": where,
            "before": "\n".join(before) + "\n" if before else "",
            "after": "\n".join(after) + "\n" if after else ""}


def _sentence(out, err):
    """cherryconf's one-sentence error: from its --json document, else from the `cherryconf: ...` line."""
    try:
        document = json.loads(out)
    except ValueError:
        document = None
    if isinstance(document, dict) and document.get("error"):
        return document["error"]
    lines = [line for line in err.splitlines() if line.strip()]
    last = lines[-1] if lines else "cherryconf failed without saying why"
    return last[len("cherryconf: "):] if last.startswith("cherryconf: ") else last


def main():
    module = AnsibleModule(
        argument_spec={
            "profile": {"type": "path", "required": True},
            "data_dir": {"type": "path"},
            "keep": {"type": "int"},
            "owner": {"type": "str"},
            "executable": {"type": "path"},
        },
        supports_check_mode=True,
    )
    params = module.params
    executable = params["executable"] or module.get_bin_path(
        "cherryconf", required=True, opt_dirs=[str(Path("~/.local/bin").expanduser())])
    command = [executable, "--json"]
    if params["data_dir"]:
        command += ["--data-dir", params["data_dir"]]
    command += ["apply", params["profile"], "--check" if module.check_mode else "--yes"]
    if params["keep"] is not None:
        command += ["--keep", str(params["keep"])]
    if params["owner"]:
        command += ["--owner", params["owner"]]

    rc, out, err = module.run_command(command, environ_update={"PYTHONIOENCODING": "utf-8"})
    if rc not in (0, _DRIFT) or (rc == _DRIFT and not module.check_mode):
        module.fail_json(msg=_sentence(out, err), exit_code=rc)
    try:
        document = json.loads(out)
    except ValueError:
        module.fail_json(msg="cherryconf printed no JSON document; is it older than this collection?", exit_code=rc)

    result = {
        "changed": bool(document["changed"]),
        "install": document["install"],
        "backup": document.get("backup_id"),
        "backup_path": document.get("backup"),
        "providers": [c["id"] for c in document["changes"] if c["action"] != "unchanged"],
        "changes": [c for c in document["changes"] if c["action"] != "unchanged"],
    }
    if module._diff:
        result["diff"] = _diff(document)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
