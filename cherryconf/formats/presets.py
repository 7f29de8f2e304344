"""The provider presets in templates/: one profile file each, whose first comment line is its title.

A second comment line `# zh-CN: <title>: <description>` is the same in Simplified Chinese: the templates are
data users copy and edit, so their words live beside them rather than in the message catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cherryconf import i18n
from cherryconf.errors import BadInput
from cherryconf.formats.profile import parse_yaml
from cherryconf.i18n import _
from cherryconf.resources import data_dir

_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


@dataclass(frozen=True)
class Preset:
    key: str  # the file name without .yaml, used by --preset
    title: str
    description: str
    provider: dict[str, Any]  # the template's provider, as written (references not expanded)

    @property
    def env_var(self) -> str | None:
        """The environment variable the template reads the key from, if it names one."""
        m = _ENV_REF.match(str(self.provider.get("apiKey", "")))
        return m.group(1) if m else None

    @property
    def model_ids(self) -> list[str]:
        return [m if isinstance(m, str) else str(m.get("id")) for m in self.provider.get("models", [])]

    @property
    def is_blank(self) -> bool:
        return self.key == "custom"


def presets() -> list[Preset]:
    """Every preset, the blank custom one last."""
    found = []
    for path in sorted(data_dir("templates").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        first = lines[0].lstrip("# ").strip() if text.startswith("#") else path.stem
        if i18n.LANGUAGE == "zh-CN" and len(lines) > 1 and lines[1].startswith("# zh-CN:"):
            first = lines[1][len("# zh-CN:"):].strip()
        title, _sep, description = first.partition(": ")
        doc = parse_yaml(text, path.name)
        found.append(Preset(path.stem, title, description, doc["providers"][0]))
    return sorted(found, key=lambda p: (p.is_blank, p.key))


def get(key: str) -> Preset:
    for p in presets():
        if p.key == key:
            return p
    names = ", ".join(p.key for p in presets())
    raise BadInput(_("no preset {key!r}; choose one of: {names}").format(key=key, names=names))
