"""Talk to a gateway: list its models, then ask each chosen model one short question per endpoint.

The requests are the ones the app makes (same URL, same headers), few and small. They are paced (ops/pacing.py):
few at first, more while answers come, fewer on a 429 or a timeout; a 429 (or a 503 naming a wait) is asked
again after the wait the gateway names, which pauses every request of the run, so a rate limit is no model's
verdict unless the bounded retries run out. The key goes only to the provider's host (redirects are not
followed) and never into a result: every detail is scrubbed of it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar
from urllib.parse import urljoin

import httpx

from cherryconf.domain import routing
from cherryconf.domain.endpoints import AppVersion, wrong_base_hint
from cherryconf.domain.spec import check_header_value
from cherryconf.errors import BadInput, Interrupted, KeyRejected, Unreachable
from cherryconf.i18n import _, ngettext
from cherryconf.ops import answers, http, netfail, pacing
from cherryconf.stores import sealed

# "not_probed": not sent, because the gateway had already rejected the key (it would refuse this one too).
Outcome = Literal["pass", "fail", "inconclusive", "not_probed"]
Reason = Literal[
    "ok", "bad_key", "unknown_model", "endpoint_not_served", "no_channel", "quota_or_rate_limit", "timeout",
    "network", "html_not_json", "redirect", "http_error", "no_output", "key_rejected",
]
ProbeEndpoint = Literal["chat", "responses"]
# "in_use": the endpoint the app uses for this provider (what --all-models probes unless told otherwise).
Endpoints = Literal["chat", "responses", "both", "in_use"]

# What each endpoint is called in user text: the path the app requests.
ENDPOINT_PATH: dict[ProbeEndpoint, str] = {"chat": "chat/completions", "responses": "responses"}
# The provider type that makes the app use each endpoint.
ENDPOINT_TYPE: dict[ProbeEndpoint, str] = {"chat": "openai", "responses": "openai-response"}

# Enough for a reasoning model to get through some reasoning_content and still show it answers.
MAX_TOKENS = 64
PROMPT = "Reply with the single word: ok"
_BODY_LIMIT = 64 * 1024  # an error body worth reading is small; a huge one is not an API's answer
_INCONCLUSIVE: frozenset[Reason] = frozenset({"timeout", "network"})
_ORDER: tuple[ProbeEndpoint, ...] = ("chat", "responses")
DEFAULT_CONCURRENCY = 8  # the ceiling: the window starts at pacing.START and grows to it while answers come
_TICK = 0.5  # seconds between progress updates while nothing finishes (a pause, slow models)


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
    retries: int = 0  # times the gateway said to come back later (429, or 503 with a wait) before this answer


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
    planned: int = 0  # probes the run was to make (more than len(results) when interrupted)
    interrupted: bool = False  # Ctrl-C: results holds the verdicts gathered until then
    rate_limited: int = 0  # requests the gateway refused for now (429, 503 with a wait) and that were sent again
    waited_s: float = 0.0  # seconds the run paused because the gateway said so
    models_status: int | None = None  # the HTTP status /models answered with (None: no answer)
    # The gateway's answer to the first request it refused the key on (HTTP 401); the probes not sent by then
    # are `not_probed`. "" when the key was not refused.
    key_rejected: str = ""

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

    def no_answer(self) -> str:
        """Why nothing answered on the endpoint in use, when all its probes failed alike on the wire (one sentence
        saying what to do); else ""."""
        here = self.on(self.configured_endpoint)
        details = {r.detail for r in here}
        if here and all(r.reason == "network" for r in here) and len(details) == 1:
            return details.pop()
        if here and all(r.reason == "timeout" for r in here):
            return _("no answer within the timeout: run again, or give it longer with --timeout")
        return ""

    def base_url_wrong(self) -> bool:
        """/models and every probe answered 404 (a JSON error or a web page): the base URL, not the models, is
        wrong."""
        return (self.models_status == 404 and bool(self.results)
                and all(r.status == 404 for r in self.results))

    @property
    def base_url(self) -> str:
        return self.url_chat.removesuffix("/chat/completions")

    def base_url_advice(self) -> str:
        return _("every request got 404, /models too: the base URL {base} is probably wrong; {hint}").format(
            base=self.base_url, hint=wrong_base_hint(self.base_url))

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
        # At most two endpoints; the joints are the language's own (a full-width comma and colon in Chinese).
        joined = (_("{first}, {second}").format(first=counts[0], second=counts[1]) if len(counts) == 2
                  else "".join(counts))
        return _("{counts}: {advice}").format(counts=joined, advice=self._advice())

    def _advice(self) -> str:
        configured = self.configured_endpoint
        here = self.on(configured)
        if self.key_rejected:
            unsent = sum(r.outcome == "not_probed" for r in self.results)
            return ngettext("the gateway refuses the API key; {n} probe after that answer was not sent",
                            "the gateway refuses the API key; {n} probes after that answer were not sent",
                            unsent).format(n=unsent) if unsent else _("the gateway refuses the API key")
        if self.base_url_wrong():
            return self.base_url_advice()
        if not here:
            return _("the provider uses {endpoint}, which was not probed").format(endpoint=ENDPOINT_PATH[configured])
        failing = self.failing_on_configured_endpoint()
        unsure = [r for r in here if r.outcome == "inconclusive"]
        if not failing:
            if unsure and (why := self.no_answer()):
                return _("{n} not checked on {endpoint}: {why}").format(n=len(unsure), endpoint=ENDPOINT_PATH[
                    configured], why=why)
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


@dataclass(frozen=True)
class Progress:
    """Where a run stands, for a progress line: probes done of all, the recent pace, and any pause."""

    done: int
    total: int
    rate: float  # probes finished per second, recently
    eta_s: float | None  # seconds left at the pace so far; None before there is a pace
    retries: int  # requests sent again after a 429 (or a 503 naming a wait)
    waiting_s: float  # seconds until the gateway lets requests start again (0: not paused)
    in_flight: int


class VerifyInterrupted(Interrupted):
    """Ctrl-C during the probes: `report` holds the verdicts gathered until then (interrupted=True)."""

    def __init__(self, report: VerifyReport) -> None:
        super().__init__(_("interrupted after {done} of {total} probes; nothing was written").format(
            done=len(report.results), total=report.planned))
        self.report = report


def verify(
    provider: dict[str, Any],
    *,
    models: list[str] | None,
    endpoints: Endpoints,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float = 30.0,
    app_version: AppVersion | None = None,
    all_models: bool = False,
    on_result: Callable[[ProbeResult], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> VerifyReport:
    """Probe a 1.x-format provider: /models, then each model on the chosen endpoint(s), at most `concurrency` at
    once (fewer while the gateway pushes back). `all_models`: every chat model /models lists, not the provider's.
    `timeout` bounds each request, not the waits a rate limit asks for. Ctrl-C raises VerifyInterrupted."""
    pid = str(provider.get("id", ""))
    ptype = str(provider.get("type", ""))
    host = provider.get("apiHost")
    if not isinstance(host, str) or not host.strip():
        raise BadInput(_("provider {pid!r} has no apiHost to probe").format(pid=pid))
    if sealed.is_sealed(str(provider.get("apiKey") or "")):
        sealed.refuse()  # a key Cherry Studio encrypted is never sent as if it were the key
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
    if all_models and models:
        raise BadInput(_("--all-models and --model cannot be used together"))
    stored = [m for m in provider.get("models", []) if isinstance(m, dict) and m.get("id")]
    # By default only chat models: an embedding or rerank model fails any chat, which says nothing of the type.
    skipped = [] if models or all_models else [str(m["id"]) for m in stored if not _can_chat(m)]
    chosen = list(dict.fromkeys(models or [str(m["id"]) for m in stored if str(m["id"]) not in skipped]))
    if not chosen and not all_models:
        raise BadInput((_("provider {pid!r} has no chat models: name the models to probe with --model") if skipped
                        else _("provider {pid!r} has no models: name the models to probe with --model")).format(
            pid=pid))
    base = routing.openai_base(provider, app_version)
    urls = {"models": f"{base}/models", "chat": f"{base}/chat/completions", "responses": f"{base}/responses"}
    wanted: list[ProbeEndpoint] = (["chat", "responses"] if endpoints == "both" else
                                   [configured] if endpoints == "in_use" else [endpoints])
    prober = _Prober(provider, urls, timeout)
    run = _Run(chosen=None if all_models else chosen, wanted=wanted)
    try:
        asyncio.run(prober.run(run, concurrency, on_result, on_progress, transport))
    except KeyboardInterrupt:
        raise VerifyInterrupted(_report(pid, ptype, configured, route.by_id, urls, run, skipped,
                                        interrupted=True)) from None
    return _report(pid, ptype, configured, route.by_id, urls, run, skipped)


@dataclass
class _Run:
    """What one run has found so far (kept outside the event loop, so Ctrl-C loses none of it)."""

    chosen: list[str] | None  # None: what /models lists
    wanted: list[ProbeEndpoint]
    listed: list[str] | None = None
    hints: dict[str, list[str]] = field(default_factory=dict)
    models_detail: str = ""
    not_chat: list[str] = field(default_factory=list)  # listed models --all-models leaves out
    results: list[ProbeResult] = field(default_factory=list)
    retries: int = 0
    waited: float = 0.0
    models_status: int | None = None
    key_rejected: str = ""


def _report(pid: str, ptype: str, configured: ProbeEndpoint, by_id: bool, urls: dict[str, str], run: _Run,
            skipped: list[str], interrupted: bool = False) -> VerifyReport:
    chosen = run.chosen or []
    place = {(m, e): i for i, (m, e) in enumerate((m, e) for m in chosen for e in run.wanted)}
    results = sorted(run.results, key=lambda r: place.get((r.model, r.endpoint), len(place)))
    listed = set(run.listed or [])
    unlisted = [] if run.listed is None else [m for m in chosen if m not in listed]
    return VerifyReport(pid, ptype, configured, by_id, urls["chat"], urls["responses"], run.listed, unlisted,
                        {m: run.hints[m] for m in chosen if m in run.hints}, results, run.models_detail,
                        skipped + run.not_chat, len(place), interrupted, run.retries, round(run.waited, 1),
                        run.models_status, run.key_rejected)


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

    async def fetch() -> _Listing:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, transport=transport,
                                     verify=http.tls_context()) as client:
            prober.pacer = pacing.Pacer(1, probes=1)
            return (await prober.paced(lambda: prober.model_entries(client)))[0]

    got = asyncio.run(fetch())
    listed, _hints, why = _Prober.listed(got)
    if listed is None:
        if got.reason == "bad_key":
            raise KeyRejected(_("the gateway rejected the key ({detail})").format(detail=got.detail))
        raise (Unreachable if got.reason == "network" else BadInput)(why)  # Unreachable: not one byte came back
    return listed


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
    retry_after: float | None = None  # the gateway said "later": the wait it named, -1 when it named none
    total_ms: float | None = None  # the whole request, when it was answered


class _Listing(NamedTuple):
    entries: list[dict[str, Any]] | None  # None: /models gave no list, for `reason` (None: no answer in time)
    reason: Reason | None
    detail: str
    retry_after: float | None = None  # as in _Judged
    status: int | None = None  # None: no answer


_UNSENT = _Judged("not_probed", "key_rejected", None, _("not sent: the gateway had rejected the key"))
_Answer = TypeVar("_Answer", _Judged, _Listing)


class _Pace:
    """The recent pace of a run, for its progress line."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.started = time.monotonic()
        self.recent: deque[float] = deque(maxlen=40)

    def finished(self) -> None:
        self.recent.append(time.monotonic())

    def progress(self, done: int, pacer: pacing.Pacer) -> Progress:
        now = time.monotonic()
        rate = 0.0
        if len(self.recent) >= 2 and now - self.recent[-1] < 5:
            rate = (len(self.recent) - 1) / max(now - self.recent[0], 1e-3)
        overall = done / (now - self.started) if done and now > self.started else 0.0
        eta = (self.total - done) / overall if overall else None
        return Progress(done, self.total, round(rate, 1), eta, pacer.retries, pacer.waiting(), pacer.in_flight)


class _Prober:
    def __init__(self, provider: dict[str, Any], urls: dict[str, str], timeout: float) -> None:
        raw_key = str(provider.get("apiKey") or "")
        # The app rotates comma-separated keys; one probe run needs only the first.
        keys = [k.strip() for k in raw_key.split(",") if k.strip()]
        self.headers = {"Accept": "application/json, text/event-stream", "Accept-Encoding": http.ACCEPT_ENCODING}
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
        self.origin = answers.origin(urls["chat"])
        self.pacer: pacing.Pacer | None = None
        self.refused = ""  # the first answer refusing the key (401): every later request would get the same

    def refuse(self, answer: ProbeResult | _Listing) -> None:
        """A 401 means the key, not the model or the endpoint: nothing more is sent with it."""
        if answer.reason == "bad_key" and answer.status == 401 and not self.refused:
            self.refused = self.scrub(answer.detail)

    async def run(
        self, run: _Run, concurrency: int, on_result: Callable[[ProbeResult], None] | None,
        on_progress: Callable[[Progress], None] | None, transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, limits=limits,
                                     transport=transport, verify=http.tls_context()) as client:
            self.pacer = pacer = pacing.Pacer(concurrency, probes=len(run.chosen or []) * len(run.wanted))

            async def listing() -> None:
                # Paced and asked again after a 429 like a probe: a rate limit must not cost the run its list.
                got, _retries = await self.paced(lambda: self.model_entries(client))
                run.listed, run.hints, run.models_detail = self.listed(got)
                run.models_status = got.status
                self.refuse(got)

            # The models to probe are known unless /models names them: then /models goes along with the probes.
            listed = asyncio.create_task(listing()) if run.chosen is not None else None
            if run.chosen is None:
                await listing()
                if run.listed is None:
                    raise BadInput(_("--all-models needs the gateway's model list: {detail}").format(
                        detail=run.models_detail))
                run.not_chat = [m for m in run.listed if not _can_chat({"id": m})]
                run.chosen = [m for m in run.listed if m not in set(run.not_chat)]
                if not run.chosen:
                    raise BadInput(_("the gateway's /models lists no chat model to probe"))
            jobs = deque((m, e) for m in run.chosen for e in run.wanted)
            pace = _Pace(len(jobs))
            pacer.expect(len(jobs))

            def report_progress() -> None:
                run.retries, run.waited = pacer.retries, pacer.waited
                if on_progress is not None:
                    on_progress(pace.progress(len(run.results), pacer))

            async def worker() -> None:
                while jobs:
                    model, endpoint = jobs.popleft()
                    result = await self.probe(client, model, endpoint)
                    self.refuse(result)
                    run.results.append(result)
                    pace.finished()
                    if on_result is not None:
                        on_result(result)
                    report_progress()

            async def ticker() -> None:
                while True:
                    await asyncio.sleep(_TICK)
                    report_progress()

            report_progress()
            tick = asyncio.create_task(ticker())
            try:
                await asyncio.gather(*(worker() for _ in range(min(concurrency, len(jobs)))),
                                     *([listed] if listed else []))
            finally:
                tick.cancel()
                if listed:
                    listed.cancel()
                run.retries, run.waited, run.key_rejected = pacer.retries, pacer.waited, self.refused

    @staticmethod
    def listed(got: _Listing) -> tuple[list[str] | None, dict[str, list[str]], str]:
        """(model ids, endpoint hints per model, why there is no list)."""
        entries, reason, detail, _later_s, _status = got
        if entries is None:
            wrap = reason not in (None, "network")  # without an answer at all the detail says why
            return None, {}, _("/models gave no model list ({detail})").format(detail=detail) if wrap else detail
        hints = {d["id"]: [str(t) for t in d["supported_endpoint_types"]] for d in entries
                 if isinstance(d.get("supported_endpoint_types"), list)}
        return list(dict.fromkeys(d["id"] for d in entries)), hints, ""

    async def model_entries(self, client: httpx.AsyncClient) -> _Listing:
        """/models' entries, or None with why: the reason (None on a timeout, "network" with no answer) and detail."""
        try:
            async with asyncio.timeout(self.timeout):
                async with client.stream("GET", self.urls["models"], headers=self.headers) as resp:
                    # A list is read whole (up to the cap); an error only as far as it is judged.
                    text = await (http.read_text(resp) if resp.status_code == 200 else
                                  http.read_prefix(resp, _BODY_LIMIT))
        except (TimeoutError, httpx.TimeoutException):
            return _Listing(None, None, _("/models gave no answer within {timeout:g} s").format(timeout=self.timeout))
        except http.BodyRefused as e:
            return _Listing(None, "http_error", f"HTTP {resp.status_code}: {e}", status=resp.status_code)
        except httpx.HTTPError as e:
            return _Listing(None, "network", f"/models: {netfail.describe(e, self.urls['models'])}")
        try:
            data = json.loads(text)["data"] if resp.status_code == 200 else None
            entries = [d for d in data if isinstance(d, dict) and isinstance(d.get("id"), str)] if data else []
        except (ValueError, KeyError, TypeError):
            entries = []
        if not entries:
            reason, detail = self.classify(resp.status_code, resp.headers, text[:_BODY_LIMIT])
            return _Listing(None, reason, self.scrub(detail), answers.later(resp.status_code, resp.headers, text),
                            resp.status_code)
        return _Listing(entries, "ok", "", status=200)

    async def probe(self, client: httpx.AsyncClient, model: str, endpoint: ProbeEndpoint) -> ProbeResult:
        """One model on one endpoint: sent when the pacer lets it, again after each wait a 429 asks for."""
        judged, attempt = (_UNSENT, 0) if self.refused else await self.paced(
            lambda: self.attempt(client, model, endpoint))
        # A network sentence is cherryconf's own, whole; what a gateway said is cut short.
        detail = judged.detail if judged.reason == "network" else self.scrub(judged.detail)[:answers.DETAIL_CHARS]
        return ProbeResult(model, endpoint, judged.outcome, judged.reason, judged.status, detail, judged.ttft_ms,
                           judged.total_ms, attempt)

    async def paced(self, send: Callable[[], Awaitable[_Answer]]) -> tuple[_Answer, int]:
        """`send` when the pacer lets it, again after each wait a 429 asks for: (the last answer, its retries)."""
        assert self.pacer is not None
        pacer = self.pacer
        attempt = 0
        while True:
            started = await pacer.acquire()
            got = await send()
            later = got.retry_after
            pacer.release(started, "throttled" if later is not None else "slow" if got.reason == "timeout" else "ok")
            if later is None:
                return got, attempt
            wait = later if later >= 0 else pacing.FALLBACK_WAIT * 2 ** attempt
            if not pacer.may_retry(attempt, wait, told=later >= 0):
                if attempt:
                    got = got._replace(detail=ngettext(
                        "{detail} (still refused after {n} retry)", "{detail} (still refused after {n} retries)",
                        attempt).format(detail=got.detail, n=attempt))
                return got, attempt
            pacer.retries += 1
            pacer.pause(wait)
            attempt += 1

    async def attempt(self, client: httpx.AsyncClient, model: str, endpoint: ProbeEndpoint) -> _Judged:
        if self.refused:  # checked again when the pacer lets it go: the key may have been refused meanwhile
            return _UNSENT
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                if endpoint == "chat":
                    judged = await self.chat(client, model, start)
                else:
                    judged = await self.responses(client, model)
            return judged._replace(total_ms=round((time.perf_counter() - start) * 1000, 1))
        except (TimeoutError, httpx.TimeoutException):
            return _Judged("inconclusive", "timeout", None, _("no answer within {timeout:g} s").format(
                timeout=self.timeout))
        except httpx.HTTPError as e:
            return _Judged("inconclusive", "network", None, netfail.describe(e, self.urls[endpoint]))
        except http.BodyRefused as e:
            return _Judged("fail", "http_error", None, str(e))

    def heed(self, headers: httpx.Headers) -> None:
        """An answer saying the key has no requests left until a reset: nobody asks before then."""
        wait = pacing.exhausted_delay(headers)
        if wait is not None and wait <= pacing.MAX_WAIT and self.pacer is not None:
            self.pacer.pause(wait)

    async def chat(self, client: httpx.AsyncClient, model: str, start: float) -> _Judged:
        body = {"model": model, "messages": [{"role": "user", "content": PROMPT}], "stream": True,
                "max_tokens": MAX_TOKENS}
        async with client.stream("POST", self.urls["chat"], json=body, headers=self.headers) as resp:
            self.heed(resp.headers)
            if resp.status_code != 200 or "text/event-stream" not in resp.headers.get("content-type", ""):
                # Not a stream: an error, a redirect, or a gateway that ignored stream=true.
                text = await http.read_prefix(resp, _BODY_LIMIT)
                if resp.status_code == 200:
                    return self.judge_json(resp.headers, text, answers.chat_output)
                return self.failure(resp, text)
            ttft: float | None = None
            finished = False
            async for line in http.aiter_lines(resp):
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
                has_text, finish = answers.chat_delta(event)
                if has_text and ttft is None:
                    ttft = round((time.perf_counter() - start) * 1000, 1)
                finished = finished or finish
        if ttft is None and not finished:
            return _Judged("fail", "no_output", 200, _("the stream ended without any content or finish_reason"))
        return _Judged("pass", "ok", 200, _("answered") if ttft is not None else _("finished without text"), ttft)

    async def responses(self, client: httpx.AsyncClient, model: str) -> _Judged:
        body = {"model": model, "input": PROMPT, "max_output_tokens": MAX_TOKENS}
        async with client.stream("POST", self.urls["responses"], json=body, headers=self.headers) as resp:
            self.heed(resp.headers)
            text = await http.read_prefix(resp, _BODY_LIMIT)
        if resp.status_code != 200:
            return self.failure(resp, text)
        return self.judge_json(resp.headers, text, answers.responses_output)

    def judge_json(self, headers: httpx.Headers, text: str, has_output: Callable[[Any], bool]) -> _Judged:
        """A 200 answer that should be JSON: pass when it holds output, else say what it holds."""
        try:
            data = json.loads(text)
        except ValueError:
            if not answers.looks_html(headers, text):
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
            where = answers.origin(urljoin(str(resp.url), resp.headers.get("location", "")))
            elsewhere = "" if where == self.origin else _(", another host")
            return _Judged("fail", "redirect", status,
                           _("HTTP {status}: redirects to {where}{elsewhere}; not followed, is the base URL "
                             "right?").format(status=status, where=where, elsewhere=elsewhere))
        reason, detail = self.classify(status, resp.headers, text)
        return _Judged("inconclusive" if reason in _INCONCLUSIVE else "fail", reason, status, detail,
                       retry_after=answers.later(status, resp.headers, text))

    def classify(self, status: int, headers: httpx.Headers, text: str) -> tuple[Reason, str]:
        """Why a request failed, from its status and body; the detail quotes the gateway's message."""
        message = answers.error_message(text)
        detail = f"HTTP {status}: {message}" if message else f"HTTP {status}"
        low = text.lower()
        # Proxies in front of a gateway answer these, often with an HTML page; the gateway itself was not asked.
        if status in (504, 524):
            return "timeout", detail
        if status in (502, 520, 521, 522, 523):
            return "network", detail
        if not answers.is_json(headers, text) and answers.looks_html(headers, text):
            title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
            page = f" ({' '.join(title.group(1).split())[:60]})" if title else ""
            return "html_not_json", _("HTTP {status}: an HTML page{page}, not JSON: is the base URL right?").format(
                                        status=status, page=page)
        if status == 401:
            return "bad_key", detail
        if "no channel" in low or "无可用渠道" in text or "no available channel" in low or (
                status == 503 and "channel" in low):
            return "no_channel", detail
        if ("convert_request_failed" in low or "invalid url" in low or status in (405, 501)
                or answers.ROUTE.search(text)):
            return "endpoint_not_served", detail
        if "model_not_found" in low or answers.UNKNOWN_MODEL.search(text):
            return "unknown_model", detail
        # Checked before 403: some gateways (new-api) answer 403 when the account's quota is used up.
        if status in (402, 429) or answers.QUOTA.search(text):
            return "quota_or_rate_limit", detail
        if status == 403:
            return "bad_key", detail
        if status == 404:
            return "endpoint_not_served", detail
        return "http_error", detail

    def scrub(self, text: str) -> str:
        """The text with any part of the key (or a header value) replaced."""
        return http.shown(text, self.secrets)
