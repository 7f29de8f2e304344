"""Keys and tokens kept out of what cherryconf shows: masked in listings and diffs, scrubbed from gateway text.

Below every layer that shows something (ops' probe reports, the wizard, render's views), so none of them needs
another for it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def mask(key: str) -> str:
    """`sk-abcdef...wxyz` -> `sk-ab…wxyz`; short keys show less, several comma-separated keys each masked; no key
    is "" (a view says "(none)" in its language, --json says null: masked_value)."""
    if "," in key:
        return ",".join(mask(k) for k in key.split(","))
    k = key.strip()
    if not k:
        return ""
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
_URL_FIELDS = {"apiHost", "anthropicApiHost"}
# Query parameters that carry credentials (Google's `key`, `api_key`, `access_token`, a signature...).
_SECRET_PARAM = re.compile(r"key|token|secret|pass|pwd|auth|sig|credential|session", re.IGNORECASE)
# Headers whose value is a credential whatever it holds.
_SECRET_HEADER = re.compile(r"authorization|api[-_]?key|cookie|token|secret|session|auth", re.IGNORECASE)
_USERINFO = re.compile(r"(?<=://)[^/?#\s]*@")


def mask_url(url: str) -> str:
    """`url` with its user-info (`user:password@`) and the values of credential-like query parameters masked;
    applied to every URL cherryconf shows, and to a URL quoted in a message."""
    text = _USERINFO.sub("***@", url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if not parts.query:
        return text
    query = "&".join(
        f"{name}=***" if sep and _SECRET_PARAM.search(name) else f"{name}{sep}{value}"
        for name, sep, value in (item.partition("=") for item in parts.query.split("&")))
    return urlunsplit(parts._replace(query=query))


def secret_header(name: str, value: str, keys: list[str]) -> bool:
    """True for a header whose value is a credential: by its name, or because it holds one of `keys`."""
    return bool(_SECRET_HEADER.search(name)) or any(k and k in value for k in keys)


def masked_value(field: str, value: Any) -> Any:
    """A provider field's value with its secrets masked: the key, header values (they often carry tokens), and
    credentials in its URLs."""
    if field in _SECRET_FIELDS and isinstance(value, str):
        return mask(value) if value.replace(",", "").strip() else None  # no key: null in --json
    if field in _URL_FIELDS and isinstance(value, str):
        return mask_url(value)
    if field == "extra_headers" and isinstance(value, dict):
        return {k: mask(str(v)) for k, v in value.items()}
    return value
