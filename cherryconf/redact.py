"""Keys and tokens kept out of what cherryconf shows: masked in listings and diffs, scrubbed from gateway text.

Below every layer that shows something (ops' probe reports, the wizard, render's views), so none of them needs
another for it.
"""

from __future__ import annotations

import re
from typing import Any


def mask(key: str) -> str:
    """`sk-abcdef...wxyz` -> `sk-ab…wxyz`; short keys show less, several comma-separated keys each masked."""
    if "," in key:
        return ",".join(mask(k) for k in key.split(","))
    k = key.strip()
    if not k:
        return "(none)"  # also the --json value of a missing key, the same in every language
    if k.startswith("v1:"):
        return "(encrypted)"  # sealed by Cherry Studio 2.x (stores/sealed.py): its ciphertext tells nothing
    if len(k) <= 8:
        return "…" + k[-2:] if len(k) > 4 else "…"
    if len(k) <= 16:
        return f"{k[:2]}…{k[-2:]}"
    return f"{k[:5]}…{k[-4:]}"

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


_SECRET_FIELDS = {"apiKey"}

def masked_value(field: str, value: Any) -> Any:
    """A provider field's value with its secrets masked: the key, and header values (they often carry tokens)."""
    if field in _SECRET_FIELDS and isinstance(value, str):
        return mask(value)
    if field == "extra_headers" and isinstance(value, dict):
        return {k: mask(str(v)) for k, v in value.items()}
    return value
