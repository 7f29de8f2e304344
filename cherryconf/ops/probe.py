"""Talk to a gateway: list its models, then ask each chosen model one short question per endpoint.

The requests are the ones the app makes (same URL, same headers), few and small, never retried: a gateway's
abuse protection must not see a burst. The key goes only to the provider's host (redirects are not followed)
and never into a result: every detail is scrubbed of it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple
from urllib.parse import urljoin, urlsplit

import httpx

from cherryconf.domain import routing
from cherryconf.domain.endpoints import AppVersion
from cherryconf.domain.spec import check_header_value
from cherryconf.errors import BadInput, KeyRejected
from cherryconf.i18n import _, ngettext
from cherryconf.redact import scrub

Outcome = Literal["pass", "fail", "inconclusive"]
Reason = Literal[
    "ok", "bad_key", "unknown_model", "endpoint_not_served", "no_channel", "quota_or_rate_limit", "timeout",
    "network", "html_not_json", "redirect", "http_error", "no_output",
]
ProbeEndpoint = Literal["chat", "responses"]
Endpoints = Literal["chat", "responses", "both"]

# What each endpoint is called in user text: the path the app requests.
ENDPOINT_PATH: dict[ProbeEndpoint, str] = {"chat": "chat/completions", "responses": "responses"}
# The provider type that makes the app use each endpoint.
ENDPOINT_TYPE: dict[ProbeEndpoint, str] = {"chat": "openai", "responses": "openai-response"}

# Enough for a reasoning model to get through some reasoning_content and still show it answers.
MAX_TOKENS = 64
PROMPT = "Reply with the single word: ok"
_DETAIL_CHARS = 160
_BODY_LIMIT = 64 * 1024  # an error body worth reading is small; a huge one is not an API's answer
_INCONCLUSIVE: frozenset[Reason] = frozenset({"timeout", "network"})
_ORDER: tuple[ProbeEndpoint, ...] = ("chat", "responses")


@dataclass(frozen=True)
class ProbeResult:
    model: str
    endpoint: ProbeEndpoint
    outcome: Outcome
    reason: Reason
    status: int | None
    detail: str  # short, for people; scrubbed of the key
    ttft_ms: float | None  # time to the first output token (streamed chat only)
    total_ms: float | None


@dataclass(frozen=True)
class VerifyReport:
    provider_id: str
    provider_type: str
    configured_endpoint: ProbeEndpoint  # the endpoint the app uses for chats with this provider
    routed_by_id: bool  # the provider's id chose that endpoint, whatever its type
    url_chat: str
    url_responses: str
    listed_models: list[str] | None  # None when /models gave no list
    unlisted: list[str]  # chosen models the gateway's /models does not list
    endpoint_hints: dict[str, list[str]]  # model -> supported_endpoint_types, where the gateway says
    results: list[ProbeResult]
    models_detail: str = ""  # why listed_models is None
    skipped: list[str] = field(default_factory=list)  # the provider's models that cannot chat, not probed

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(r.model for r in self.results))

    def on(self, endpoint: ProbeEndpoint) -> list[ProbeResult]:
        return [r for r in self.results if r.endpoint == endpoint]

    def failing_on_configured_endpoint(self) -> list[ProbeResult]:
        """Models that fail (not merely inconclusive) on the endpoint the provider is set to use."""
        return [r for r in self.on(self.configured_endpoint) if r.outcome == "fail"]

    def unchecked(self) -> bool:
        """True when not one model could be checked on the endpoint in use (every probe timed out, or the network
        failed): nothing is known, which is no pass."""
        here = self.on(self.configured_endpoint)
        return bool(here) and all(r.outcome == "inconclusive" for r in here)

    def verdict(self) -> str:
        """The result in plain words: how many models answer where, and what to do about the type."""
        n = len(self.models)
        counts = []
        for i, e in enumerate(e for e in _ORDER if self.on(e)):
            passing = sum(r.outcome == "pass" for r in self.on(e))
            where = ENDPOINT_PATH[e]
            counts.append((ngettext("{passing} of {n} model answers on {endpoint}",
                                    "{passing} of {n} models answer on {endpoint}", n) if i == 0
                           else _("{passing} of {n} on {endpoint}")).format(passing=passing, n=n, endpoint=where))
        return f"{', '.join(counts)}: {self._advice()}"

    def _advice(self) -> str:
        configured = self.configured_endpoint
        here = self.on(configured)
        if not here:
            return _("the provider uses {endpoint}, which was not probed").format(endpoint=ENDPOINT_PATH[configured])
        failing = self.failing_on_configured_endpoint()
        unsure = [r for r in here if r.outcome == "inconclusive"]
        if not failing:
            if unsure:
                return _("{n} inconclusive (timeout or network) on {endpoint}: run again").format(
                    n=len(unsure), endpoint=ENDPOINT_PATH[configured])
            return _("keep type {type}").format(type=self.provider_type)
        other: ProbeEndpoint = "chat" if configured == "responses" else "responses"
        there = self.on(other)
        if there and all(r.outcome == "pass" for r in there):
            if self.routed_by_id:
                return (_("Cherry Studio calls {endpoint} for the provider id {id!r} whatever its type: move "
                          "the gateway to a provider of its own (cherryconf doctor --fix)").format(
                    endpoint=ENDPOINT_PATH[configured], id=self.provider_id))
            return _("change type to {type}").format(type=ENDPOINT_TYPE[other])
        if all(r.reason == "bad_key" for r in failing):
            return _("the gateway refuses the API key")
        return _("{n} fail on {endpoint}, the endpoint this provider uses (see the reasons)").format(
            n=len(failing), endpoint=ENDPOINT_PATH[configured])


def verify(
    provider: dict[str, Any],
    *,
    models: list[str] | None,
    endpoints: Endpoints,
    concurrency: int = 4,
    timeout: float = 30.0,
    app_version: AppVersion | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> VerifyReport:
    """Probe a 1.x-format provider: /models, then each model on the chosen endpoint(s), `concurrency` at once."""
    pid = str(provider.get("id", ""))
    ptype = str(provider.get("type", ""))
    host = provider.get("apiHost")
    if not isinstance(host, str) or not host.strip():
        raise BadInput(_("provider {pid!r} has no apiHost to probe").format(pid=pid))
    route = routing.route(provider, app_version)
    if route.endpoint not in ("chat/completions", "responses"):
        raise BadInput(_("provider {pid!r} (type {ptype!r}) does not send chats to an OpenAI-compatible endpoint "
                         "({why}), so verify cannot probe it").format(
            pid=pid, ptype=ptype, why=route.why or _("the app uses another protocol for it")))
    configured: ProbeEndpoint = "chat" if route.endpoint == "chat/completions" else "responses"
    if concurrency < 1:
        raise BadInput(_("concurrency must be at least 1"))
    if timeout <= 0:
        raise BadInput(_("the timeout must be more than 0 seconds"))
    stored = [m for m in provider.get("models", []) if isinstance(m, dict) and m.get("id")]
    # By default only chat models: an embedding or rerank model fails any chat, which says nothing of the type.
    skipped = [] if models else [str(m["id"]) for m in stored if not _can_chat(m)]
    chosen = list(dict.fromkeys(models or [str(m["id"]) for m in stored if str(m["id"]) not in skipped]))
    if not chosen:
        raise BadInput((_("provider {pid!r} has no chat models: name the models to probe with --model") if skipped
                        else _("provider {pid!r} has no models: name the models to probe with --model")).format(
            pid=pid))
    base = routing.openai_base(provider, app_version)
    urls = {"models": f"{base}/models", "chat": f"{base}/chat/completions", "responses": f"{base}/responses"}
    wanted: list[ProbeEndpoint] = ["chat", "responses"] if endpoints == "both" else [endpoints]
    prober = _Prober(provider, urls, timeout)
    listed, hints, models_detail, results = asyncio.run(
        prober.run(chosen, wanted, concurrency, on_result, transport))
    unlisted = [] if listed is None else [m for m in chosen if m not in set(listed)]
    return VerifyReport(pid, ptype, configured, route.by_id, urls["chat"], urls["responses"], listed, unlisted,
                        {m: hints[m] for m in chosen if m in hints}, results, models_detail, skipped)


def list_models(
    provider: dict[str, Any],
    *,
    timeout: float = 10.0,
    app_version: AppVersion | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[str]:
    """The model ids the gateway's /models lists; BadInput saying why when it gives none (bad key, 404, ...)."""
    base = routing.openai_base(provider, app_version)
    urls = {"models": f"{base}/models", "chat": f"{base}/chat/completions"}
    prober = _Prober(provider, urls, timeout)

    async def fetch() -> tuple[list[dict[str, Any]] | None, Reason | None, str]:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, transport=transport) as client:
            return await prober.model_entries(client)

    entries, reason, detail = asyncio.run(fetch())
    if entries is None:
        if reason == "bad_key":
            raise KeyRejected(_("the gateway rejected the key ({detail})").format(detail=detail))
        raise BadInput(_("/models gave no model list ({detail})").format(detail=detail) if reason else detail)
    return list(dict.fromkeys(d["id"] for d in entries))


_NOT_CHAT = {"embedding", "rerank", "jina-rerank", "image-generation"}


def _can_chat(model: dict[str, Any]) -> bool:
    """False for a model the app uses for embeddings, reranking or images (by its capabilities, type or id)."""
    kinds = {c.get("type") for c in model.get("capabilities") or [] if isinstance(c, dict)}
    kinds |= {t for t in model.get("type") or [] if isinstance(t, str)}
    kinds.add(model.get("endpoint_type"))
    model_id = str(model["id"]).lower()
    return not (kinds & _NOT_CHAT or "embed" in model_id or "rerank" in model_id)


class _Judged(NamedTuple):
    outcome: Outcome
    reason: Reason
    status: int | None
    detail: str
    ttft_ms: float | None = None


class _Prober:
    def __init__(self, provider: dict[str, Any], urls: dict[str, str], timeout: float) -> None:
        raw_key = str(provider.get("apiKey") or "")
        # The app rotates comma-separated keys; one probe run needs only the first.
        keys = [k.strip() for k in raw_key.split(",") if k.strip()]
        self.headers = {"Accept": "application/json, text/event-stream"}
        if keys:
            self.headers["Authorization"] = f"Bearer {keys[0]}"
        extra = provider.get("extra_headers")
        extra_headers = {str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {}
        # A value httpx cannot send fails this provider alone (a row of its own), not the whole run.
        if unsendable := [w for k, v in extra_headers.items() if (w := check_header_value(k, v))]:
            raise BadInput(_("provider {id!r}: {why}").format(id=provider.get("id"), why="; ".join(unsendable)))
        self.headers.update(extra_headers)
        # Header values often carry tokens too, so they are scrubbed from details like the key.
        self.secrets = [s for s in [*keys, *extra_headers.values()] if len(s) >= 6]
        self.urls = urls
        self.timeout = timeout
        self.origin = _origin(urls["chat"])

    async def run(
        self, chosen: list[str], wanted: list[ProbeEndpoint], concurrency: int,
        on_result: Callable[[ProbeResult], None] | None, transport: httpx.AsyncBaseTransport | None,
    ) -> tuple[list[str] | None, dict[str, list[str]], str, list[ProbeResult]]:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, limits=limits,
                                     transport=transport) as client:
            listed, hints, models_detail = await self.list_models(client)
            gate = asyncio.Semaphore(concurrency)

            async def one(model: str, endpoint: ProbeEndpoint) -> ProbeResult:
                async with gate:
                    result = await self.probe(client, model, endpoint)
                if on_result is not None:
                    on_result(result)
                return result

            results = await asyncio.gather(*(one(m, e) for m in chosen for e in wanted))
        return listed, hints, models_detail, list(results)

    async def list_models(self, client: httpx.AsyncClient) -> tuple[list[str] | None, dict[str, list[str]], str]:
        """(model ids, endpoint hints per model, why there is no list)."""
        entries, reason, detail = await self.model_entries(client)
        if entries is None:
            return None, {}, _("/models gave no model list ({detail})").format(detail=detail) if reason else detail
        hints = {d["id"]: [str(t) for t in d["supported_endpoint_types"]] for d in entries
                 if isinstance(d.get("supported_endpoint_types"), list)}
        return list(dict.fromkeys(d["id"] for d in entries)), hints, ""

    async def model_entries(self, client: httpx.AsyncClient) -> tuple[list[dict[str, Any]] | None, Reason | None,
                                                                      str]:
        """(/models' entries, or None with why: the reason, None when the gateway did not answer; the detail)."""
        try:
            async with asyncio.timeout(self.timeout):
                resp = await client.get(self.urls["models"], headers=self.headers)
        except (TimeoutError, httpx.TimeoutException):
            return None, None, _("/models gave no answer within {timeout:g} s").format(timeout=self.timeout)
        except httpx.HTTPError as e:
            return None, None, f"/models: {self.scrub(_network_text(e))}"
        try:
            data = resp.json()["data"] if resp.status_code == 200 else None
            entries = [d for d in data if isinstance(d, dict) and isinstance(d.get("id"), str)] if data else []
        except (ValueError, KeyError, TypeError):
            entries = []
        if not entries:
            reason, detail = self.classify(resp.status_code, resp.headers, resp.text[:_BODY_LIMIT])
            return None, reason, self.scrub(detail)
        return entries, "ok", ""

    async def probe(self, client: httpx.AsyncClient, model: str, endpoint: ProbeEndpoint) -> ProbeResult:
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                if endpoint == "chat":
                    judged = await self.chat(client, model, start)
                else:
                    judged = await self.responses(client, model)
            total: float | None = round((time.perf_counter() - start) * 1000, 1)
        except (TimeoutError, httpx.TimeoutException):
            judged, total = _Judged("inconclusive", "timeout", None, _("no answer within {timeout:g} s").format(
                                                                         timeout=self.timeout)), None
        except httpx.HTTPError as e:
            judged, total = _Judged("inconclusive", "network", None, _network_text(e)), None
        return ProbeResult(model, endpoint, judged.outcome, judged.reason, judged.status,
                           self.scrub(judged.detail)[:_DETAIL_CHARS], judged.ttft_ms, total)

    async def chat(self, client: httpx.AsyncClient, model: str, start: float) -> _Judged:
        body = {"model": model, "messages": [{"role": "user", "content": PROMPT}], "stream": True,
                "max_tokens": MAX_TOKENS}
        async with client.stream("POST", self.urls["chat"], json=body, headers=self.headers) as resp:
            if resp.status_code != 200 or "text/event-stream" not in resp.headers.get("content-type", ""):
                # Not a stream: an error, a redirect, or a gateway that ignored stream=true.
                text = await _read_limited(resp)
                if resp.status_code == 200:
                    return self.judge_json(resp.headers, text, _chat_output)
                return self.failure(resp, text)
            ttft: float | None = None
            finished = False
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    event = json.loads(payload)
                except ValueError:
                    continue
                if isinstance(event, dict) and event.get("error"):
                    # Some gateways report an upstream failure inside a 200 stream.
                    reason, detail = self.classify(200, resp.headers, payload)
                    return _Judged("fail", reason, 200, detail, ttft)
                has_text, finish = _chat_delta(event)
                if has_text and ttft is None:
                    ttft = round((time.perf_counter() - start) * 1000, 1)
                finished = finished or finish
        if ttft is None and not finished:
            return _Judged("fail", "no_output", 200, _("the stream ended without any content or finish_reason"))
        return _Judged("pass", "ok", 200, _("answered") if ttft is not None else _("finished without text"), ttft)

    async def responses(self, client: httpx.AsyncClient, model: str) -> _Judged:
        body = {"model": model, "input": PROMPT, "max_output_tokens": MAX_TOKENS}
        async with client.stream("POST", self.urls["responses"], json=body, headers=self.headers) as resp:
            text = await _read_limited(resp)
        if resp.status_code != 200:
            return self.failure(resp, text)
        return self.judge_json(resp.headers, text, _responses_output)

    def judge_json(self, headers: httpx.Headers, text: str, has_output: Callable[[Any], bool]) -> _Judged:
        """A 200 answer that should be JSON: pass when it holds output, else say what it holds."""
        try:
            data = json.loads(text)
        except ValueError:
            if not _looks_html(headers, text):
                return _Judged("fail", "no_output", 200, _("HTTP 200 but the body is not JSON"))
            data = None
        if data is None or (isinstance(data, dict) and data.get("error")):
            reason, detail = self.classify(200, headers, text)
            return _Judged("fail", reason, 200, detail)
        if has_output(data):
            return _Judged("pass", "ok", 200, "answered")
        return _Judged("fail", "no_output", 200, _("HTTP 200 but the answer holds no output"))

    def failure(self, resp: httpx.Response, text: str) -> _Judged:
        status = resp.status_code
        if resp.is_redirect:
            where = _origin(urljoin(str(resp.url), resp.headers.get("location", "")))
            elsewhere = "" if where == self.origin else _(", another host")
            return _Judged("fail", "redirect", status,
                           _("HTTP {status}: redirects to {where}{elsewhere}; not followed, is the base URL "
                             "right?").format(status=status, where=where, elsewhere=elsewhere))
        reason, detail = self.classify(status, resp.headers, text)
        return _Judged("inconclusive" if reason in _INCONCLUSIVE else "fail", reason, status, detail)

    def classify(self, status: int, headers: httpx.Headers, text: str) -> tuple[Reason, str]:
        """Why a request failed, from its status and body; the detail quotes the gateway's message."""
        message = _error_message(text)
        detail = f"HTTP {status}: {message}" if message else f"HTTP {status}"
        low = text.lower()
        # Proxies in front of a gateway answer these, often with an HTML page; the gateway itself was not asked.
        if status in (504, 524):
            return "timeout", detail
        if status in (502, 520, 521, 522, 523):
            return "network", detail
        if not _is_json(headers, text) and _looks_html(headers, text):
            title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
            page = f" ({' '.join(title.group(1).split())[:60]})" if title else ""
            return "html_not_json", _("HTTP {status}: an HTML page{page}, not JSON: is the base URL right?").format(
                                        status=status, page=page)
        if status == 401:
            return "bad_key", detail
        if "no channel" in low or "无可用渠道" in text or "no available channel" in low or (
                status == 503 and "channel" in low):
            return "no_channel", detail
        if "convert_request_failed" in low or "invalid url" in low or status in (405, 501) or _ROUTE.search(text):
            return "endpoint_not_served", detail
        if "model_not_found" in low or _UNKNOWN_MODEL.search(text):
            return "unknown_model", detail
        # Checked before 403: some gateways (new-api) answer 403 when the account's quota is used up.
        if status in (402, 429) or _QUOTA.search(text):
            return "quota_or_rate_limit", detail
        if status == 403:
            return "bad_key", detail
        if status == 404:
            return "endpoint_not_served", detail
        return "http_error", detail

    def scrub(self, text: str) -> str:
        """The text with any part of the key (or a header value) replaced."""
        return scrub(text, self.secrets)


_UNKNOWN_MODEL = re.compile(
    r"model[^.\n]{0,80}?(not found|does not exist|not exist|unknown|no such|not available|invalid|not supported)"
    r"|(unknown|invalid|unsupported) model|模型[^。\n]{0,40}?(不存在|不支持|未找到)",
    re.IGNORECASE)
# "endpoint not supported", "model x is not supported on /v1/responses": the route, not the model, is refused.
_ROUTE = re.compile(r"(endpoint|route)[^.\n]{0,40}?not (supported|found|implemented)"
                    r"|not supported[^.\n]{0,40}?(endpoint|route|/v1/|responses api)", re.IGNORECASE)
_QUOTA = re.compile(r"insufficient_quota|quota|rate.?limit|too many requests|额度|余额不足", re.IGNORECASE)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_json(headers: httpx.Headers, text: str) -> bool:
    return "json" in headers.get("content-type", "") or text.lstrip()[:1] in ("{", "[")


def _looks_html(headers: httpx.Headers, text: str) -> bool:
    start = text.lstrip()[:15].lower()
    return "text/html" in headers.get("content-type", "") or start.startswith(("<!doctype", "<html"))


def _error_message(text: str) -> str:
    """The message an error body carries ({"error": {"message"}}, {"error": "..."}, {"message"}, {"detail"})."""
    try:
        data = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:_DETAIL_CHARS] if not text.lstrip().startswith("<") else ""
    if not isinstance(data, dict):
        return ""
    err = data.get("error", data)
    if isinstance(err, str):
        return err
    if isinstance(err, dict):
        for field in ("message", "msg", "detail", "code", "type"):
            if isinstance(err.get(field), str) and err[field]:
                code = err.get("code") if field == "message" and isinstance(err.get("code"), str) else None
                return f"{err[field]} ({code})" if code and code not in err[field] else str(err[field])
    return ""


def _network_text(e: httpx.HTTPError) -> str:
    """What went wrong on the wire, without the URL (the caller knows it) and without a traceback."""
    cause = str(e) or type(e).__name__
    return _("network error: {cause}").format(cause=cause)[:_DETAIL_CHARS]


async def _read_limited(resp: httpx.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _BODY_LIMIT:
            break
    return b"".join(chunks).decode(resp.encoding or "utf-8", errors="replace")


def _chat_delta(event: Any) -> tuple[bool, bool]:
    """(has output text, has finish_reason) of one chat.completion.chunk."""
    if not isinstance(event, dict) or not isinstance(event.get("choices"), list):
        return False, False
    text = finish = False
    for choice in event["choices"]:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta") or {}
        if isinstance(delta, dict):
            # `reasoning` is OpenRouter's name for reasoning_content.
            text = text or any(isinstance(delta.get(k), str) and delta[k] != ""
                               for k in ("content", "reasoning_content", "reasoning"))
        finish = finish or bool(choice.get("finish_reason"))
    return text, finish


def _chat_output(data: Any) -> bool:
    """A non-streamed chat.completion holds a message with content or reasoning_content."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list):
        return False
    for c in choices:
        msg = c.get("message") if isinstance(c, dict) else None
        if isinstance(msg, dict) and (msg.get("content") or msg.get("reasoning_content")):
            return True
        if isinstance(c, dict) and c.get("finish_reason"):
            return True
    return False


def _responses_output(data: Any) -> bool:
    """A Responses API answer holds output items (a reasoning item counts: the model ran) or output_text."""
    if not isinstance(data, dict):
        return False
    return bool(data.get("output")) or bool(data.get("output_text"))
