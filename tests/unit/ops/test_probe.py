"""verify's probes against a real loopback gateway: every classification, the headers, the key, concurrency."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from testing.gateway import Behaviour, Gateway, ModelSpec, running

from cherryconf.console import finish
from cherryconf.errors import BadInput
from cherryconf.ops import pacing
from cherryconf.ops.probe import Endpoints, ProbeResult, Progress, VerifyReport, list_models, verify
from cherryconf.render.verify import fixes, progress_line, report_json, report_text


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running(Gateway({})) as gw:
        yield gw


def probe_one(gw: Gateway, behaviour: Behaviour, endpoint: Endpoints = "chat", timeout: float = 5.0) -> ProbeResult:
    gw.models["m"] = ModelSpec(chat=behaviour, responses=behaviour)
    report = verify(gw.provider(), models=["m"], endpoints=endpoint, timeout=timeout)
    assert len(report.results) == 1
    return report.results[0]


# --- passes ---------------------------------------------------------------------------------------------------

def test_chat_pass_records_time_to_first_token_and_total(gateway: Gateway) -> None:
    gateway.latency = 0.05
    r = probe_one(gateway, "ok")
    assert (r.outcome, r.reason, r.status, r.endpoint) == ("pass", "ok", 200, "chat")
    assert r.ttft_ms is not None and r.total_ms is not None
    assert 50 <= r.ttft_ms <= r.total_ms


def test_reasoning_content_alone_is_an_answer(gateway: Gateway) -> None:
    r = probe_one(gateway, "reasoning")
    assert (r.outcome, r.reason) == ("pass", "ok")
    assert r.ttft_ms is not None


def test_finish_reason_alone_is_an_answer(gateway: Gateway) -> None:
    r = probe_one(gateway, "finish_only")
    assert (r.outcome, r.reason, r.ttft_ms) == ("pass", "ok", None)


def test_chat_answered_without_streaming_still_passes(gateway: Gateway) -> None:
    assert probe_one(gateway, "json_no_stream").outcome == "pass"


def test_responses_pass(gateway: Gateway) -> None:
    r = probe_one(gateway, "ok", "responses")
    assert (r.outcome, r.reason, r.endpoint, r.ttft_ms) == ("pass", "ok", "responses", None)
    assert r.total_ms is not None


# --- every failure classification -----------------------------------------------------------------------------

@pytest.mark.parametrize(("behaviour", "endpoint", "outcome", "reason", "status"), [
    ("empty", "chat", "fail", "no_output", 200),
    ("empty", "responses", "fail", "no_output", 200),
    ("stream_error", "chat", "fail", "unknown_model", 200),
    ("invalid_url", "responses", "fail", "endpoint_not_served", 404),
    ("convert_failed", "responses", "fail", "endpoint_not_served", 500),
    ("not_supported", "responses", "fail", "endpoint_not_served", 400),
    ("model_not_found", "chat", "fail", "unknown_model", 404),
    ("model_not_found", "responses", "fail", "unknown_model", 404),
    ("no_channel", "chat", "fail", "no_channel", 503),
    ("no_channel", "responses", "fail", "no_channel", 503),
    ("no_channel_en", "chat", "fail", "no_channel", 503),
    ("unauthorized", "chat", "fail", "bad_key", 401),
    ("forbidden", "responses", "fail", "bad_key", 403),
    ("quota", "chat", "fail", "quota_or_rate_limit", 402),
    ("quota_403", "chat", "fail", "quota_or_rate_limit", 403),
    ("rate_limit", "responses", "fail", "quota_or_rate_limit", 429),
    ("server_error", "chat", "fail", "http_error", 500),
    ("html", "chat", "fail", "html_not_json", 200),
    ("html", "responses", "fail", "html_not_json", 200),
    ("bad_gateway", "chat", "inconclusive", "network", 502),
])
def test_classification(gateway: Gateway, behaviour: Behaviour, endpoint: Endpoints, outcome: str, reason: str,
                        status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # A 429 naming no wait is now asked again (1, 2, 4 s) before it is a verdict: the waits are shortened here.
    monkeypatch.setattr(pacing, "FALLBACK_WAIT", 0.01)
    r = probe_one(gateway, behaviour, endpoint)
    assert (r.outcome, r.reason, r.status) == (outcome, reason, status), r.detail
    assert r.detail.startswith(f"HTTP {status}") or reason == "no_output"


def test_gateway_messages_are_quoted(gateway: Gateway) -> None:
    assert probe_one(gateway, "invalid_url", "responses").detail == "HTTP 404: Invalid URL (POST /v1/responses)"
    assert "无可用渠道" in probe_one(gateway, "no_channel").detail
    assert "(Gateway Console)" in probe_one(gateway, "html").detail


def test_unknown_model_the_gateway_never_heard_of(gateway: Gateway) -> None:
    report = verify(gateway.provider(), models=["nope"], endpoints="both")
    assert [(r.endpoint, r.reason) for r in report.results] == [("chat", "unknown_model"),
                                                                 ("responses", "unknown_model")]


def test_wrong_key_is_bad_key(gateway: Gateway) -> None:
    gateway.models["m"] = ModelSpec()
    report = verify(gateway.provider(apiKey="sk-wrong-key-0000000000000000"), models=None, endpoints="both")
    assert {(r.outcome, r.reason, r.status) for r in report.results} == {("fail", "bad_key", 401)}
    assert report.listed_models is None and "401" in report.models_detail
    assert report.verdict().endswith("the gateway refuses the API key")


def test_wrong_base_path_gives_html_not_json(gateway: Gateway) -> None:
    gateway.models["m"] = ModelSpec()
    report = verify(gateway.provider(apiHost=gateway.url + "/console"), models=None, endpoints="both")
    assert report.url_chat == gateway.url + "/console/v1/chat/completions"
    assert {r.reason for r in report.results} == {"html_not_json"}
    assert "404 Not Found" in report.results[0].detail


def test_slow_model_times_out_as_inconclusive(gateway: Gateway) -> None:
    started = time.perf_counter()
    r = probe_one(gateway, "slow", timeout=0.4)
    assert time.perf_counter() - started < 2.5  # the probe gave up; it did not wait for the gateway
    assert (r.outcome, r.reason, r.status, r.total_ms) == ("inconclusive", "timeout", None, None)
    assert r.detail == "no answer within 0.4 s"


def test_nothing_listening_is_a_network_problem() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = {"id": "x", "type": "openai", "apiHost": f"http://127.0.0.1:{port}", "apiKey": "sk-1234567890",
                "models": [{"id": "m"}]}
    report = verify(provider, models=None, endpoints="both", timeout=2)
    assert {(r.outcome, r.reason) for r in report.results} == {("inconclusive", "network")}
    assert report.listed_models is None and report.models_detail
    assert report.failing_on_configured_endpoint() == []


def test_redirect_is_not_followed_and_the_key_stays_home(gateway: Gateway) -> None:
    with running(Gateway({"m": ModelSpec()})) as elsewhere:
        gateway.redirect_to = elsewhere.url
        gateway.models["m"] = ModelSpec(chat="redirect", responses="redirect")
        report = verify(gateway.provider(), models=None, endpoints="both")
        assert elsewhere.requests == []
    for r in report.results:
        assert (r.outcome, r.reason, r.status) == ("fail", "redirect", 307)
        assert elsewhere.url in r.detail and "another host" in r.detail


# --- what is sent ---------------------------------------------------------------------------------------------

def test_requests_carry_the_apps_headers_and_small_bodies(gateway: Gateway) -> None:
    gateway.models["m"] = ModelSpec()
    provider = gateway.provider(apiKey=f"{gateway.key}, sk-second-key-abcdefghijkl",
                                extra_headers={"X-Team": "blue", "HTTP-Referer": "https://cherry-ai.com"})
    verify(provider, models=None, endpoints="both")
    assert sorted(gateway.paths()) == ["/v1/chat/completions", "/v1/models", "/v1/responses"]
    for rec in gateway.requests:
        assert rec.headers["authorization"] == f"Bearer {gateway.key}"  # the first of several keys
        assert rec.headers["x-team"] == "blue"
        assert rec.headers["http-referer"] == "https://cherry-ai.com"
        assert "sk-second-key" not in str(rec.headers)
    bodies = {rec.path: rec.body for rec in gateway.requests}
    chat = bodies["/v1/chat/completions"]
    assert chat is not None and chat["stream"] is True and chat["model"] == "m"
    assert 16 <= chat["max_tokens"] <= 256 and len(chat["messages"]) == 1
    responses = bodies["/v1/responses"]
    assert responses is not None and responses["input"] and responses["max_output_tokens"] >= 16


def test_urls_are_the_ones_the_app_version_builds(gateway: Gateway) -> None:
    gateway.models["m"] = ModelSpec()
    # Before 1.6 the app appends /v1/ to an apiHost ending in /v1: the probe must see the same broken URL.
    report = verify(gateway.provider(apiHost=gateway.url + "/v1"), models=None, endpoints="chat",
                    app_version=(1, 5, 2))
    assert report.url_chat == gateway.url + "/v1/v1/chat/completions"
    assert report.results[0].reason == "endpoint_not_served"
    report = verify(gateway.provider(apiHost=gateway.url + "/v1"), models=None, endpoints="chat",
                    app_version=(1, 6, 0))
    assert report.results[0].outcome == "pass"


def test_no_request_leaves_for_another_host_and_no_result_holds_the_key(gateway: Gateway) -> None:
    behaviours: list[Behaviour] = ["ok", "unauthorized", "no_channel", "html", "stream_error", "server_error"]
    gateway.models.update({b: ModelSpec(chat=b, responses=b) for b in behaviours})
    report = verify(gateway.provider(extra_headers={"X-Api-Token": "hdr-secret-value-42"}), models=None,
                    endpoints="both")
    text = repr(report)
    for secret in (gateway.key, gateway.key[:10], gateway.key[-6:], "hdr-secret-value-42"):
        assert secret not in text
    assert all(rec.path.startswith("/v1/") for rec in gateway.requests)
    bad_key = next(r for r in report.results if r.model == "unauthorized")
    assert "***" in bad_key.detail  # the gateway echoed part of the key; it was scrubbed


# --- /models ---------------------------------------------------------------------------------------------------

def test_unlisted_models_and_endpoint_hints(gateway: Gateway) -> None:
    gateway.models.update({
        "listed": ModelSpec(endpoint_types=["openai", "openai-response"]),
        "hidden": ModelSpec(listed=False),
    })
    report = verify(gateway.provider(), models=["listed", "hidden"], endpoints="chat")
    assert report.listed_models == ["listed"]
    assert report.unlisted == ["hidden"]
    assert report.endpoint_hints == {"listed": ["openai", "openai-response"]}
    assert [r.outcome for r in report.results] == ["pass", "pass"]  # listing is a hint, the probe decides


def test_gateway_without_models_route(gateway: Gateway) -> None:
    gateway.serve_models = False
    gateway.models["m"] = ModelSpec()
    report = verify(gateway.provider(), models=None, endpoints="chat")
    assert report.listed_models is None and report.unlisted == []
    assert "404" in report.models_detail


# --- the report -----------------------------------------------------------------------------------------------

def test_verdict_keep_openai(gateway: Gateway) -> None:
    gateway.models.update({f"m{i}": ModelSpec(responses="ok" if i == 0 else "invalid_url") for i in range(4)})
    report = verify(gateway.provider(), models=None, endpoints="both")
    assert report.verdict() == "4 of 4 models answer on chat/completions, 1 of 4 on responses: keep type openai"
    assert report.failing_on_configured_endpoint() == []


def test_verdict_change_responses_provider_to_openai(gateway: Gateway) -> None:
    gateway.models.update({"a": ModelSpec(), "b": ModelSpec(responses="convert_failed"),
                           "c": ModelSpec(responses="no_channel")})
    report = verify(gateway.provider("openai-response"), models=None, endpoints="both")
    assert report.configured_endpoint == "responses"
    assert [r.model for r in report.failing_on_configured_endpoint()] == ["b", "c"]
    assert report.verdict() == ("3 of 3 models answer on chat/completions, 1 of 3 on responses: "
                                "change type to openai")


def test_verdict_when_the_configured_endpoint_fails_everywhere(gateway: Gateway) -> None:
    gateway.models.update({"a": ModelSpec(), "b": ModelSpec(chat="no_channel", responses="no_channel")})
    report = verify(gateway.provider(), models=None, endpoints="both")
    assert [r.model for r in report.failing_on_configured_endpoint()] == ["b"]
    assert report.verdict() == ("1 of 2 models answer on chat/completions, 1 of 2 on responses: "
                                "1 fail on chat/completions, the endpoint this provider uses (see the reasons)")


def test_verdict_inconclusive_and_unprobed(gateway: Gateway) -> None:
    gateway.models.update({"a": ModelSpec(), "b": ModelSpec(chat="bad_gateway")})
    report = verify(gateway.provider(), models=None, endpoints="chat")
    assert report.failing_on_configured_endpoint() == []
    assert report.verdict() == ("1 of 2 models answer on chat/completions: "
                                "1 inconclusive (timeout or network) on chat/completions: run again")
    report = verify(gateway.provider("openai-response"), models=None, endpoints="chat")
    assert report.verdict().endswith("the provider uses responses, which was not probed")


def test_results_keep_model_order_and_on_result_sees_each(gateway: Gateway) -> None:
    gateway.models.update({m: ModelSpec() for m in ("z", "a", "m")})
    seen: list[ProbeResult] = []
    report = verify(gateway.provider(), models=None, endpoints="both", on_result=seen.append)
    assert [(r.model, r.endpoint) for r in report.results] == [
        ("z", "chat"), ("z", "responses"), ("a", "chat"), ("a", "responses"), ("m", "chat"), ("m", "responses")]
    assert sorted(seen, key=report.results.index) == report.results


def test_concurrency_overlaps_and_is_bounded(gateway: Gateway) -> None:
    gateway.latency = 0.25
    gateway.models.update({f"m{i}": ModelSpec() for i in range(9)})
    report = verify(gateway.provider(), models=None, endpoints="chat", concurrency=3)
    assert all(r.outcome == "pass" for r in report.results)
    # Three at once, never more: the gateway saw them overlap (the speed-up is measured by bench_verify.py, not
    # by a timed test, which a loaded machine or the Windows lane would fail).
    assert gateway.max_in_flight == 3


def test_concurrency_one_is_sequential(gateway: Gateway) -> None:
    gateway.models.update({f"m{i}": ModelSpec() for i in range(4)})
    verify(gateway.provider(), models=None, endpoints="both", concurrency=1)
    assert gateway.max_in_flight == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"apiHost": ""}, "has no apiHost"),
    ({"type": "anthropic"}, "does not send chats to an OpenAI-compatible endpoint"),
    ({"models": []}, "has no models"),
])
def test_bad_input(gateway: Gateway, change: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        verify(gateway.provider(**change), models=None, endpoints="both")
    assert gateway.requests == []


def test_report_is_plain_data(gateway: Gateway) -> None:
    gateway.models["m"] = ModelSpec()
    report = verify(gateway.provider(), models=None, endpoints="chat")
    assert isinstance(report, VerifyReport)
    assert report.provider_id == "loop" and report.provider_type == "openai"
    assert report.url_responses == gateway.url + "/v1/responses"


# --- rendering ------------------------------------------------------------------------------------------------

def test_text_for_a_responses_provider_says_how_to_fix_it(gateway: Gateway) -> None:
    gateway.models.update({"gpt-4.1": ModelSpec(responses="invalid_url"), "r1": ModelSpec(chat="reasoning"),
                           "ghost": ModelSpec(responses="no_channel", listed=False)})
    report = verify(gateway.provider("openai-response"), models=None, endpoints="both")
    text = finish(report_text(report), colour=False)  # as printed without colour
    header, *rows = text.split("\n\n")[1].splitlines()
    assert header.split() == ["MODEL", "LISTED", "CHAT/COMPLETIONS", "RESPONSES", "(in", "use)"]
    assert rows[0].split()[:4] == ["gpt-4.1", "yes", "pass", f"{report.results[0].total_ms:.0f}"]
    assert "fail: endpoint not served (404)" in rows[0]
    assert rows[2].split()[:2] == ["ghost", "no"] and "fail: no channel for the group (503)" in rows[2]
    assert "gpt-4.1 on responses: HTTP 404: Invalid URL (POST /v1/responses)" in text
    assert "the gateway's /models does not list ghost" in text
    assert "3 of 3 models answer on chat/completions, 1 of 3 on responses: change type to openai" in text
    assert "cherryconf doctor --fix" in text and gateway.key not in text


def test_fixes_name_the_models_by_reason(gateway: Gateway) -> None:
    gateway.models.update({"a": ModelSpec(chat="no_channel"), "b": ModelSpec(chat="model_not_found"),
                           "c": ModelSpec(), "d": ModelSpec(chat="slow")})
    gateway.slow_seconds = 8.0  # d times out; a and b answer well within the timeout, even on a loaded machine
    report = verify(gateway.provider(), models=None, endpoints="chat", timeout=3.0)
    todo = fixes(report)
    assert len(todo) == 2
    assert todo[0].startswith("a: the key's group has no channel")
    assert todo[1].startswith("b: the gateway does not know these model ids")
    document = report_json(report)
    assert document["configured_endpoint"] == "chat"
    assert document["failing_on_configured_endpoint"] == ["a", "b"]
    assert document["fix"] == todo and document["verdict"] == report.verdict()
    assert gateway.key not in str(document)
    assert fixes(verify(gateway.provider(), models=["c"], endpoints="chat")) == []


def test_models_that_cannot_chat_are_skipped_unless_named(gateway: Gateway) -> None:
    gateway.models.update({"gpt-4o": ModelSpec(), "text-embedding-3-small": ModelSpec(chat="model_not_found"),
                           "bge-m3": ModelSpec(chat="model_not_found")})
    provider = gateway.provider()
    provider["models"][2]["capabilities"] = [{"type": "rerank"}]
    report = verify(provider, models=None, endpoints="chat")
    assert report.models == ["gpt-4o"] and report.skipped == ["text-embedding-3-small", "bge-m3"]
    assert "not probed (not chat models): text-embedding-3-small, bge-m3" in report_text(report)
    named = verify(provider, models=["bge-m3"], endpoints="chat")
    assert named.skipped == [] and named.results[0].reason == "unknown_model"
    provider["models"] = provider["models"][1:]
    with pytest.raises(BadInput, match="has no chat models"):
        verify(provider, models=None, endpoints="chat")


# --- rate limits: waited for and asked again, never a model's verdict while the retries last --------------------

def test_a_rate_limited_gateway_still_gives_every_model_a_real_verdict(gateway: Gateway) -> None:
    gateway.rate, gateway.burst = 8.0, 2  # two at once, then one every 125 ms; a 429 with Retry-After: 1 beyond
    gateway.models.update({f"m{i}": ModelSpec() for i in range(8)})
    gateway.models["gone"] = ModelSpec(chat="model_not_found")
    seen: list[Progress] = []
    report = verify(gateway.provider(), models=None, endpoints="chat", on_progress=seen.append)
    assert gateway.throttled > 0  # the bucket did refuse some
    # /models goes along with the probes and is asked again like them when refused.
    listing_retries = gateway.paths().count("/v1/models") - 1
    assert report.rate_limited == gateway.throttled == sum(r.retries for r in report.results) + listing_retries
    assert report.listed_models is not None and len(report.listed_models) == 9
    assert [r.reason for r in report.results] == ["ok"] * 8 + ["unknown_model"]
    assert seen[-1].done == seen[-1].total == 9 and seen[-1].retries == report.rate_limited
    assert "rate-limited" in report_text(report) and report_json(report)["rate_limited"] == report.rate_limited


def _spend_the_bucket(gateway: Gateway) -> None:
    """Take the one token a 1-per-second bucket holds, so the next request is refused for about a second."""
    gateway.rate, gateway.burst = 1.0, 1
    assert httpx.get(f"{gateway.url}/v1/models", headers={"Authorization": f"Bearer {gateway.key}"}).status_code == 200


@pytest.mark.parametrize("all_models", [True, False], ids=["all-models", "configured"])
def test_a_rate_limited_models_list_is_waited_for_not_lost(gateway: Gateway, all_models: bool) -> None:
    gateway.models.update({"m": ModelSpec()})
    _spend_the_bucket(gateway)
    report = verify(gateway.provider(), models=None, endpoints="chat", all_models=all_models)
    assert report.listed_models == ["m"] and report.models_detail == ""
    assert [r.reason for r in report.results] == ["ok"]
    assert report.rate_limited == gateway.throttled >= 1


def test_the_wizard_s_model_list_waits_out_a_rate_limit(gateway: Gateway) -> None:
    gateway.models.update({"a": ModelSpec(), "b": ModelSpec()})
    _spend_the_bucket(gateway)
    assert list_models(gateway.provider()) == ["a", "b"]
    assert gateway.throttled == 1 and gateway.paths().count("/v1/models") == 3


def test_a_503_naming_a_wait_as_an_http_date_is_asked_again(gateway: Gateway) -> None:
    gateway.models["m"] = ModelSpec(chat="busy_once", responses="no_channel")
    report = verify(gateway.provider(), models=None, endpoints="both")
    chat, responses = report.results
    assert (chat.outcome, chat.retries) == ("pass", 1)
    assert (responses.reason, responses.retries) == ("no_channel", 0)  # a 503 naming no wait is a verdict
    assert gateway.paths().count("/v1/chat/completions") == 2


def test_a_spent_quota_is_not_asked_again(gateway: Gateway) -> None:
    r = probe_one(gateway, "quota_429")
    assert (r.reason, r.status, r.retries) == ("quota_or_rate_limit", 429, 0)
    assert gateway.paths().count("/v1/chat/completions") == 1


def test_retries_are_bounded_and_then_the_429_is_the_verdict(gateway: Gateway, monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.setattr(pacing, "FALLBACK_WAIT", 0.01)
    r = probe_one(gateway, "rate_limit")
    assert (r.reason, r.retries) == ("quota_or_rate_limit", pacing.MAX_UNTOLD_RETRIES)
    assert r.detail.endswith(f"(still refused after {pacing.MAX_UNTOLD_RETRIES} retries)")
    assert gateway.paths().count("/v1/chat/completions") == pacing.MAX_UNTOLD_RETRIES + 1


def test_x_ratelimit_headers_are_heeded(gateway: Gateway) -> None:
    gateway.rate, gateway.burst, gateway.ratelimit_headers = 10.0, 2, True
    gateway.models.update({f"m{i}": ModelSpec() for i in range(6)})
    report = verify(gateway.provider(), models=None, endpoints="chat")
    assert all(r.outcome == "pass" for r in report.results)


def test_all_models_probes_what_the_gateway_lists_on_the_endpoint_in_use(gateway: Gateway) -> None:
    gateway.models.update({"a": ModelSpec(), "b": ModelSpec(responses="invalid_url"),
                           "text-embedding-3-small": ModelSpec()})
    provider = gateway.provider("openai-response", models=[])
    report = verify(provider, models=None, endpoints="in_use", all_models=True)
    assert [(r.model, r.endpoint, r.outcome) for r in report.results] == [
        ("a", "responses", "pass"), ("b", "responses", "fail")]
    assert report.skipped == ["text-embedding-3-small"] and report.planned == 2
    with pytest.raises(BadInput, match="cannot be used together"):
        verify(provider, models=["a"], endpoints="both", all_models=True)


def test_progress_line() -> None:
    assert progress_line(Progress(120, 500, 19.84, 19.2, 3, 0.0, 8)) == (
        "probing 120/500, 19.8 req/s, about 19 s left, 3 retries")
    assert progress_line(Progress(120, 500, 0.0, 95.0, 1, 2.2, 0)) == (
        "probing 120/500, rate limited: waiting 2 s, 1 retry")
    assert progress_line(Progress(0, 500, 0.0, None, 0, 0.0, 4)) == "probing 0/500"
    assert "about 1 min 35 s left" in progress_line(Progress(1, 500, 5.0, 95.0, 0, 0.0, 4))


@pytest.mark.parametrize(("headers", "wait"), [
    ({"retry-after": "3"}, 3.0),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),  # an HTTP date, 10 s after `now`
    ({"retry-after-ms": "250", "retry-after": "1"}, 0.25),
    ({"x-ratelimit-reset-requests": "6m0s"}, 360.0),
    ({"x-ratelimit-reset-requests": "20ms"}, 0.02),
    ({"x-ratelimit-reset": "1445412470"}, 0.0),  # a Unix time already past
    ({"x-ratelimit-reset": "1445412490"}, 10.0),
    ({"retry-after": "soon"}, None),
    ({}, None),
])
def test_the_wait_a_gateway_names(headers: dict[str, str], wait: float | None) -> None:
    now = 1445412480.0  # 2015-10-21 07:28:00 GMT
    told = pacing.told_delay(headers, now)
    assert told == wait if wait is None else told == pytest.approx(wait)


def test_an_answer_saying_no_request_is_left_names_the_wait() -> None:
    assert pacing.exhausted_delay({"x-ratelimit-remaining-requests": "0",
                                   "x-ratelimit-reset-requests": "1.5s"}) == 1.5
    assert pacing.exhausted_delay({"x-ratelimit-remaining-requests": "3",
                                   "x-ratelimit-reset-requests": "1.5s"}) is None
    assert pacing.exhausted_delay({}) is None


def test_the_window_grows_on_answers_and_halves_once_per_round_on_a_429() -> None:
    now = [0.0]
    pacer = pacing.Pacer(8, probes=100, clock=lambda: now[0])
    assert pacer.window == pacing.START
    for _ in range(4):
        pacer.in_flight += 1
        pacer.release(0.0, "ok")
    assert pacer.window == 8  # slow start to the ceiling, and no further
    pacer.release(0.0, "ok")
    assert pacer.window == 8
    now[0] = 1.0
    pacer.release(0.5, "throttled")
    pacer.release(0.6, "throttled")  # sent before the cut: not cut again
    assert pacer.window == 4
    now[0] = 2.0
    pacer.release(1.5, "slow")
    assert pacer.window == 2
    pacer.release(1.6, "ok")
    assert pacer.window == pytest.approx(2.5)  # past the threshold: one more per round, not per answer
    pacer.pause(3.0)
    pacer.pause(1.0)  # a shorter pause does not shorten it
    assert pacer.waiting() == 3.0 and pacer.waited == 3.0
    assert not pacer.may_retry(0, pacing.MAX_WAIT + 1) and pacer.may_retry(0, 1.0)
    assert not pacer.may_retry(pacing.MAX_UNTOLD_RETRIES, 1.0, told=False)
