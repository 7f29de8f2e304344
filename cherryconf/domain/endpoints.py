"""Base URL normalisation and the exact request URL each Cherry Studio version builds from an apiHost.

Two eras (facts file section 4): up to 1.5 the app appends `/v1/` unless apiHost ends with `/`; from 1.6 it
strips one trailing `/` and appends `/v1` unless the path already holds a version segment or ends with `#`.
In 1.7, 1.8 and 2.x `<base>/<endpoint>#` names the endpoint explicitly; 1.9.x appends the endpoint to it again.
Which endpoint a provider calls at all (the app routes some provider ids past their type) is `routing`'s.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Literal
from urllib.parse import urlsplit

from cherryconf.errors import BadInput
from cherryconf.i18n import _
from cherryconf.redact import mask_url

Endpoint = Literal["chat/completions", "responses", "models"]

_VERSION_SEGMENT = re.compile(r"/v\d+(?:alpha|beta)?(?:/|$)", re.IGNORECASE)
# Endpoint paths people paste along with the base URL; stripped before anything else.
_ENDPOINT_SUFFIXES = ("/chat/completions", "/responses", "/completions", "/models", "/messages")
_KNOWN_HASH_ENDPOINTS = ("chat/completions", "responses", "messages", "completions")
# Path segments that name an endpoint: in a base URL they can only come last (and are then stripped).
_ENDPOINT_WORDS = frozenset({"completions", "responses", "models", "messages"})
_SECOND_SCHEME = re.compile(r"https?:/", re.IGNORECASE)
# What a Chinese input method types for URL punctuation: the full-width forms of ASCII (U+FF01..U+FF5E, e.g.
# "：" "／" "．"), and the ideographic full stop and comma.
_FULL_WIDTH = {**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, "。": ".", "、": ","}
# ASCII a host name cannot hold (letters, digits, "-" and "." can; "_" is kept: some internal DNS names use it).
_NOT_IN_HOST = frozenset("!\"#$%&'()*+,/:;<=>?@[\\]^`{|}~")

AppVersion = tuple[int, ...]


def parse_version(text: str | None) -> AppVersion | None:
    """`1.6.3`, `v2.0.1-beta.2` -> (1, 6, 3), (2, 0, 1); None when there is no version to read."""
    if not text:
        return None
    m = re.match(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
    if not m:
        return None
    return tuple(int(g) for g in m.groups() if g is not None)


def _old_era(version: AppVersion | None) -> bool:
    return version is not None and version < (1, 6)


def check_url(raw: str) -> str:
    """Trimmed URL if it is an http(s) URL with a host, else BadInput naming what is wrong."""
    text = raw.strip()
    if not text:
        raise BadInput(_("the base URL is empty"))
    wide = next((c for c in text if c in _FULL_WIDTH), None)
    if wide is not None:
        raise BadInput(_("the base URL {text!r} holds the full-width character {wide!r} (typed by a Chinese input "
                         "method): type {ascii!r} instead").format(text=mask_url(text), wide=wide,
                                                                  ascii=_FULL_WIDTH[wide]))
    if any(c.isspace() for c in text) or any(ord(c) < 0x20 for c in text):
        raise BadInput(_("the base URL {text!r} contains spaces or control characters").format(text=mask_url(text)))
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 address)
        raise BadInput(_("the base URL {text!r} is not a valid URL").format(text=mask_url(text))) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise BadInput(_("the base URL {text!r} must start with http:// or https://").format(text=mask_url(text)))
    if not parts.hostname:
        raise BadInput(_("the base URL {text!r} has no host name").format(text=mask_url(text)))
    host = parts.netloc.rpartition("@")[2]
    bad = next((c for c in host.rpartition(":")[0] or host if c in _NOT_IN_HOST), None)
    if bad is not None and not host.startswith("["):  # "[::1]": an IPv6 address is written with ":" in brackets
        raise BadInput(_("the base URL {text!r} has {bad!r} in its host name, which a host name cannot "
                         "hold").format(text=mask_url(text), bad=bad))
    if parts.query:
        raise BadInput(_("the base URL {text!r} must not contain a query string (?...)").format(text=mask_url(text)))
    if parts.fragment:
        raise BadInput(_("the base URL {text!r} may end with '#' but must not contain anything after it").format(
                           text=mask_url(text)))
    try:
        parts.port  # noqa: B018  (validates the port range)
    except ValueError:
        raise BadInput(_("the base URL {text!r} has an invalid port").format(text=mask_url(text))) from None
    if _SECOND_SCHEME.search(text, len(parts.scheme) + 3):
        # What pasting into a pre-filled answer gives: https://hosthttps://host/v1/chat/completions.
        raise BadInput(_("the base URL {text!r} holds a second http:// or https://: paste one URL only").format(
                           text=mask_url(text)))
    if not _is_base_path(parts.path):
        raise BadInput(_("the base URL {text!r} has a path that is neither a gateway's base URL nor one of its "
                         "endpoints (like https://host/v1 or https://host/v1/chat/completions)").format(text=mask_url(text)))
    # Scheme and host are case-insensitive (written lower-case, as the app shows them); the path is not.
    userinfo, at, host_port = parts.netloc.rpartition("@")
    rest = text[len(parts.scheme) + 3 + len(parts.netloc):]
    return f"{parts.scheme.lower()}://{userinfo}{at}{host_port.lower()}{rest}"


# The last path segment(s) a mistyped endpoint ends with -> the endpoint meant ("chat" alone: its first half).
_NEAR_ENDPOINTS = {"chat/completion": "chat/completions", "chat/complete": "chat/completions",
                   "chat/completitions": "chat/completions", "chat/compeltions": "chat/completions",
                   "chat/completions.": "chat/completions", "chat": "chat/completions", "completion": "completions",
                   "response": "responses", "model": "models", "message": "messages"}


def near_miss(raw: str) -> str | None:
    """Why a valid base URL most likely names an endpoint mistyped (`/v1/chat/completion`, no s), or None.

    Such a path passes as a base path, so the app would call `.../chat/completion/chat/completions`.
    """
    path = urlsplit(raw.strip()).path.rstrip("/#").lower()
    for typed, meant in _NEAR_ENDPOINTS.items():
        if path.endswith("/" + typed):
            return _("the base URL ends with /{typed}, which looks like the endpoint /{meant} mistyped: the app "
                     "would add /chat/completions after it").format(typed=typed, meant=meant)
    return None


def _is_base_path(path: str) -> bool:
    """A base path, optionally followed by one known endpoint: no empty segment, no endpoint in the middle."""
    path = path.rstrip("/")
    lowered = path.lower()
    for suffix in _ENDPOINT_SUFFIXES:
        if lowered.endswith(suffix):
            path = path[: -len(suffix)]
            break
    segments = path.split("/")[1:]
    if "" in segments:
        return False
    words = [s.lower() for s in segments]
    return not any(w in _ENDPOINT_WORDS or (w, nxt) == ("chat", "completions")
                   for w, nxt in pairwise([*words, ""]))


def normalise_api_host(raw: str, app_version: AppVersion | None = None) -> str:
    """Turn any pasted form of a gateway URL into the apiHost that reaches `<base>/v1/chat/completions`.

    `https://h`, `https://h/`, `https://h/v1`, `https://h/v1/`, `https://h/v1/chat/completions` (with or without
    `#`) all give `https://h`: the portable form every app version turns into `/v1/chat/completions`. A base
    whose path holds another version segment (`/api/paas/v4`, `/v1beta/openai`) keeps it, with a trailing `/`
    which both eras use as is. A base whose path must not get `/v1` (written with `#`) needs `#` on 1.6+ and a
    trailing `/` before.
    """
    text = check_url(raw)
    no_append = text.endswith("#")
    text = text.rstrip("#").rstrip("/")
    lowered = text.lower()
    for suffix in _ENDPOINT_SUFFIXES:
        if lowered.endswith(suffix):
            text = text[: -len(suffix)].rstrip("/")
            break
    scheme_host_len = len(urlsplit(text).scheme) + 3 + len(urlsplit(text).netloc)
    path = text[scheme_host_len:]
    if path.endswith("/v1"):  # exactly "/v1": URL paths are case-sensitive, so "/V1" is kept as written
        return text[: -len("/v1")]
    if _VERSION_SEGMENT.search(path):  # "/api/paas/v4", "/v1beta/openai": a trailing "/" both eras use as is
        return text + "/"
    if no_append:
        return text + "/" if _old_era(app_version) else text + "#"
    return text


def base_url(api_host: str, app_version: AppVersion | None = None) -> str:
    """The base URL the app derives from apiHost (what it puts endpoints after), without a trailing `/`."""
    host = api_host.strip()
    if _old_era(app_version):
        if host.endswith(("/", "volces.com/api/v3")):
            return host.rstrip("/")
        return f"{host}/v1"
    host = host[:-1] if host.endswith("/") else host
    if host.endswith("#"):
        stripped = host[:-1]
        # 1.7, 1.8 and 2.x: "<base>/<endpoint>#" names the endpoint; the base is what comes before it. 1.9.x
        # strips the "#" before it looks (seen on 1.9.12, facts section 4): the endpoint is appended again.
        if app_version is None or app_version >= (2,) or (1, 7) <= app_version < (1, 9):
            for ep in _KNOWN_HASH_ENDPOINTS:
                if stripped.endswith("/" + ep):
                    return stripped[: -len(ep) - 1]
        # "<base>/#": the app's request builder drops the slash before adding "/chat/completions".
        return stripped[:-1] if stripped.endswith("/") else stripped
    path = host[len(urlsplit(host).scheme) + 3 + len(urlsplit(host).netloc) :]
    if _VERSION_SEGMENT.search(path):
        return host
    return f"{host}/v1"


def endpoint_for_type(provider_type: str) -> Endpoint:
    """Which endpoint a provider of this type calls for chat."""
    if provider_type == "openai-response":
        return "responses"
    # Only plain `openai` follows the apiHost rules above; azure, ollama, new-api (per-model endpoint) and the
    # vendor types format their URLs in their own ways, so no URL is claimed for them.
    if provider_type == "openai":
        return "chat/completions"
    raise BadInput(_("provider type {provider_type!r} does not use the OpenAI-compatible endpoint rules").format(
                       provider_type=provider_type))


def request_url(
    api_host: str, endpoint: Endpoint, app_version: AppVersion | None = None
) -> str:
    """The exact URL the app requests for `endpoint` given this apiHost."""
    return f"{base_url(api_host, app_version)}/{endpoint}"


def chat_url(api_host: str, provider_type: str, app_version: AppVersion | None = None) -> str:
    """The URL a chat with this provider goes to, as the installed app version builds it."""
    return request_url(api_host, endpoint_for_type(provider_type), app_version)


def wrong_base_hint(base: str) -> str:
    """What to try when /models and every endpoint under the base URL `base` answer 404: the base most likely
    misses or doubles the version segment the gateway serves its API under, or has a path before it."""
    path = urlsplit(base).path.rstrip("/")
    if re.search(r"/v1/v1(?:/|$)", path):
        return _("it holds /v1 twice: remove the /v1 at the end of the apiHost")
    version = _VERSION_SEGMENT.search(path)
    if version is None:
        return _("it has no /v1, under which most gateways serve their API: try the base URL with /v1 at its end "
                 "(an apiHost of https://host or https://host/v1)")
    if version.start() > 0:
        return _("most gateways serve their API at the host's own /v1: try the apiHost without {prefix}").format(
            prefix=path[: version.start()])
    return _("check the host and port: they may be a web page's, not the gateway API's")
