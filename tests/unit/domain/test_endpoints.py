"""apiHost -> the URL Cherry Studio requests, per app version (facts file, section 4), and the normaliser."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cherryconf.domain.endpoints import AppVersion, base_url, chat_url, normalise_api_host, parse_version, request_url
from cherryconf.domain.spec import default_group
from cherryconf.errors import BadInput

OLD = [(1, 0), (1, 2, 5), (1, 5), (1, 5, 9)]  # up to ~1.5: trailing "/" used as is, else "/v1/" appended
V16: AppVersion = (1, 6, 0)  # strips a slash, knows "#" and version segments, not yet "<endpoint>#"
NEW = [(1, 7), (1, 8, 2), (2, 0, 1), None]  # None: version unknown, taken as the newest behaviour
V19 = [(1, 9, 3), (1, 9, 12)]  # like 1.7, but "<base>/<endpoint>#" is not understood (seen on 1.9.12)
EVERY = [*OLD, V16, *NEW, *V19]
VOLCES = "https://ark.cn-beijing.volces.com/api/v3"

# --- every row of the facts file's table ---------------------------------------------------------------------

# (apiHost, versions, endpoint, the URL the app requests)
ROWS: list[tuple[str, list[AppVersion | None], str, str]] = [
    # up to ~1.5: ends with "/" -> as is; else append "/v1/"; then the endpoint
    ("https://h", OLD, "chat/completions", "https://h/v1/chat/completions"),
    ("https://h/", OLD, "chat/completions", "https://h/chat/completions"),
    ("https://h/v1", OLD, "chat/completions", "https://h/v1/v1/chat/completions"),  # why never "<base>/v1"
    ("https://h/v1/", OLD, "chat/completions", "https://h/v1/chat/completions"),
    ("https://h/api", OLD, "chat/completions", "https://h/api/v1/chat/completions"),
    ("https://h/api/paas/v4", OLD, "chat/completions", "https://h/api/paas/v4/v1/chat/completions"),
    ("https://h/api/paas/v4/", OLD, "chat/completions", "https://h/api/paas/v4/chat/completions"),
    ("https://h", OLD, "responses", "https://h/v1/responses"),
    ("https://h/", OLD, "models", "https://h/models"),
    (VOLCES, OLD, "chat/completions", VOLCES + "/chat/completions"),  # the one special host of the old rule
    (VOLCES + "/", OLD, "chat/completions", VOLCES + "/chat/completions"),
    # 1.6+ and 2.x: trim, strip one "/", "#" or a /vN segment -> append nothing, else "/v1"
    ("https://h", [V16, *NEW, *V19], "chat/completions", "https://h/v1/chat/completions"),
    ("https://h/", [V16, *NEW, *V19], "chat/completions", "https://h/v1/chat/completions"),
    ("  https://h/  ", [V16, *NEW, *V19], "chat/completions", "https://h/v1/chat/completions"),
    ("https://h/v1", [V16, *NEW, *V19], "chat/completions", "https://h/v1/chat/completions"),
    ("https://h/v1/", [V16, *NEW, *V19], "chat/completions", "https://h/v1/chat/completions"),
    ("https://h/api", [V16, *NEW, *V19], "chat/completions", "https://h/api/v1/chat/completions"),
    ("https://h/api/paas/v4", [V16, *NEW, *V19], "chat/completions", "https://h/api/paas/v4/chat/completions"),
    ("https://h/api/paas/v4/", [V16, *NEW, *V19], "chat/completions", "https://h/api/paas/v4/chat/completions"),
    ("https://h/v1beta", [V16, *NEW, *V19], "chat/completions", "https://h/v1beta/chat/completions"),
    ("https://h/v2alpha/", [V16, *NEW, *V19], "chat/completions", "https://h/v2alpha/chat/completions"),
    ("https://h/V1", [V16, *NEW, *V19], "chat/completions", "https://h/V1/chat/completions"),
    ("https://h/v1/openai", [V16, *NEW, *V19], "chat/completions", "https://h/v1/openai/chat/completions"),
    ("https://h/v1x", [V16, *NEW, *V19], "chat/completions", "https://h/v1x/v1/chat/completions"),  # not a segment
    ("https://h/dev1", [V16, *NEW, *V19], "chat/completions", "https://h/dev1/v1/chat/completions"),
    ("https://h/api#", [V16, *NEW, *V19], "chat/completions", "https://h/api/chat/completions"),
    ("https://h/api/#", [V16, *NEW, *V19], "chat/completions", "https://h/api/chat/completions"),
    ("https://h#", [V16, *NEW, *V19], "chat/completions", "https://h/chat/completions"),
    ("https://h/v1#", [V16, *NEW, *V19], "chat/completions", "https://h/v1/chat/completions"),
    ("https://h", [V16, *NEW, *V19], "responses", "https://h/v1/responses"),
    ("https://h/v1", [V16, *NEW, *V19], "models", "https://h/v1/models"),
    (VOLCES, [V16, *NEW, *V19], "chat/completions", VOLCES + "/chat/completions"),
    # 1.6 knows "#" but not an endpoint before it: it appends the endpoint again; so does 1.9.x
    ("https://h/v1/chat/completions#", [V16, *V19], "chat/completions",
     "https://h/v1/chat/completions/chat/completions"),
    ("https://h/custom/chat/completions#", V19, "chat/completions", "https://h/custom/chat/completions/chat/completions"),
    # 1.7+ and 2.x: "<base>/<endpoint>#" is the base URL plus that explicit endpoint
    ("https://h/v1/chat/completions#", NEW, "chat/completions", "https://h/v1/chat/completions"),
    ("https://h/custom/chat/completions#", NEW, "chat/completions", "https://h/custom/chat/completions"),
    ("https://h/v1/responses#", NEW, "responses", "https://h/v1/responses"),
    ("https://h/openai/chat/completions#", NEW, "models", "https://h/openai/models"),
]


@pytest.mark.parametrize(
    ("api_host", "version", "endpoint", "expected"),
    [(host, v, ep, url) for host, versions, ep, url in ROWS for v in versions],
    ids=lambda x: repr(x) if not isinstance(x, str) else x,
)
def test_request_url_row(api_host: str, version: AppVersion | None, endpoint: str, expected: str) -> None:
    assert request_url(api_host, endpoint, version) == expected  # type: ignore[arg-type]


def test_base_url_has_no_trailing_slash() -> None:
    for host, versions, _, _ in ROWS:
        for v in versions:
            assert not base_url(host, v).endswith("/"), (host, v)


@pytest.mark.parametrize(("provider_type", "expected"), [
    ("openai", "https://h/v1/chat/completions"),
    ("openai-response", "https://h/v1/responses"),  # the built-in OpenAI provider's type since 1.3.4
])
def test_chat_url_follows_the_provider_type(provider_type: str, expected: str) -> None:
    assert chat_url("https://h", provider_type) == expected
    assert chat_url("https://h/v1/", provider_type, (1, 5)) == expected


@pytest.mark.parametrize("provider_type", ["anthropic", "gemini", "vertexai", "aws-bedrock", "new-api", "nonsense"])
def test_chat_url_claims_no_url_for_types_with_their_own_rules(provider_type: str) -> None:
    with pytest.raises(BadInput, match=f"provider type '{provider_type}' does not use the OpenAI-compatible"):
        chat_url("https://h", provider_type)


@pytest.mark.parametrize(("text", "expected"), [
    ("1.6.3", (1, 6, 3)),
    ("v2.0.1-beta.2", (2, 0, 1)),
    (" 1.5 ", (1, 5)),
    ("1", (1,)),
    ("1.7.0-rc.1", (1, 7, 0)),
    ("", None),
    (None, None),
    ("unknown", None),
])
def test_parse_version(text: str | None, expected: AppVersion | None) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize(("version", "old"), [("1.5.9", True), ("1.5", True), ("1", True), ("1.6.0", False),
                                              ("1.6", False), ("2.0.0", False)])
def test_era_boundary(version: str, old: bool) -> None:
    url = request_url("https://h/", "chat/completions", parse_version(version))
    assert url == ("https://h/chat/completions" if old else "https://h/v1/chat/completions")


# --- the normaliser ------------------------------------------------------------------------------------------

# Every form issue 2 lists (and some), pasted for a gateway that serves <base>/v1/chat/completions.
GATEWAY_FORMS = [
    "{b}", "{b}/", "{b}/v1", "{b}/v1/", "{b}/v1/chat/completions", "{b}/v1/chat/completions/",
    "{b}/v1#", "{b}/v1/#", "{b}/v1/chat/completions#", " {b}/v1 ", "{b}/v1/models", "{b}/v1/responses",
    "{b}/chat/completions",
]
BASES = ["https://h", "https://gw.example.com", "http://localhost:3000", "https://openrouter.ai/api",
         "https://gw.example.com:8443/proxy/openai", "http://127.0.0.1:8080", "https://网关.例子"]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("form", GATEWAY_FORMS)
def test_gateway_forms_normalise_to_the_bare_base(base: str, form: str) -> None:
    pasted = form.format(b=base)
    for v in EVERY:
        assert normalise_api_host(pasted, v) == base


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("form", GATEWAY_FORMS)
def test_normalised_gateway_form_is_portable(base: str, form: str) -> None:
    """The claim of the facts file: `<base>` reaches `<base>/v1/chat/completions` on every app version."""
    api_host = normalise_api_host(form.format(b=base))
    urls = {v: chat_url(api_host, "openai", v) for v in EVERY}
    assert set(urls.values()) == {f"{base}/v1/chat/completions"}, urls


@pytest.mark.parametrize(("pasted", "expected"), [
    ("https://open.bigmodel.cn/api/paas/v4", "https://open.bigmodel.cn/api/paas/v4/"),
    ("https://open.bigmodel.cn/api/paas/v4/", "https://open.bigmodel.cn/api/paas/v4/"),
    ("https://open.bigmodel.cn/api/paas/v4/chat/completions", "https://open.bigmodel.cn/api/paas/v4/"),
    ("https://generativelanguage.googleapis.com/v1beta/openai", "https://generativelanguage.googleapis.com/v1beta/openai/"),
    ("https://h/v1/openai/chat/completions", "https://h/v1/openai/"),
    ("https://h/V1", "https://h/V1/"),  # paths are case-sensitive: kept as written
    ("https://h/v1beta", "https://h/v1beta/"),
    ("https://h/v2/", "https://h/v2/"),
    (VOLCES, VOLCES + "/"),
])
def test_other_version_segments_keep_a_trailing_slash_both_eras_use(pasted: str, expected: str) -> None:
    api_host = normalise_api_host(pasted)
    assert api_host == expected
    assert len({chat_url(api_host, "openai", v) for v in EVERY}) == 1


def test_a_path_that_must_not_get_v1_depends_on_the_era() -> None:
    """`#` means "append nothing": 1.6+ needs the `#`, older versions a trailing `/` (facts file, section 4)."""
    assert normalise_api_host("https://h/custom#") == "https://h/custom#"
    assert normalise_api_host("https://h/custom/#", (1, 6)) == "https://h/custom#"
    assert normalise_api_host("https://h/custom#", (1, 5)) == "https://h/custom/"
    for v in EVERY:
        assert chat_url(normalise_api_host("https://h/custom#", v), "openai", v) == "https://h/custom/chat/completions"


@pytest.mark.parametrize(("pasted", "message"), [
    ("", "is empty"),
    ("   ", "is empty"),
    ("h.example.com", "must start with http:// or https://"),
    ("ftp://h", "must start with http:// or https://"),
    ("javascript:alert(1)", "must start with http:// or https://"),
    ("https://h/v1?x=1", "query string"),
    ("https://h/#x", "must not contain anything after it"),
    ("https://h /v1", "spaces"),
    ("https://h/\x00", "control characters"),
    ("https://", "no host name"),
    ("https://h:70000", "invalid port"),
    ("http://[::1", "not a valid URL"),
    # A URL pasted after a pre-filled one, and paths that are neither a base nor a base plus one endpoint.
    ("https://vip.apiyi.comhttps://vip.apiyi.com/v1/chat/completions", "second http:// or https://"),
    ("https://h/v1/HTTP://h", "second http:// or https://"),
    ("https://h//v1", "neither a gateway's base URL nor one of its endpoints"),
    ("https://h/v1/chat/completions/v1", "neither a gateway's base URL nor one of its endpoints"),
    ("https://h/chat/completions/chat/completions", "neither a gateway's base URL nor one of its endpoints"),
    ("https://h/v1/models/gpt-4.1", "neither a gateway's base URL nor one of its endpoints"),
    ("https://h/v1/Responses/x#", "neither a gateway's base URL nor one of its endpoints"),
    ("https://h\t/v1", "spaces"),
])
def test_normaliser_refuses_what_is_not_an_http_base_url(pasted: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        normalise_api_host(pasted)


# --- properties ----------------------------------------------------------------------------------------------

_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_host = st.one_of(
    st.lists(_label, min_size=1, max_size=3).map(".".join),
    st.sampled_from(["localhost", "127.0.0.1", "[::1]", "网关.cn"]),
)
_port = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
# Path segments that are neither version segments (/v1, /v2beta) nor endpoint words the normaliser strips.
_segment = st.from_regex(r"[a-zA-Z0-9_.~-]{1,8}", fullmatch=True).filter(
    lambda s: s.lower() not in {"chat", "completions", "responses", "models", "messages", ".", ".."}
    and not (s[0] in "vV" and s[1:2].isdigit())
)
_base = st.builds(
    lambda scheme, host, port, segs: f"{scheme}://{host}{port}" + "".join(f"/{s}" for s in segs),
    st.sampled_from(["http", "https"]), _host, _port, st.lists(_segment, max_size=3),
)
_version_segment = st.sampled_from(["", "/v1", "/v1", "/V1", "/v4", "/v1beta", "/v2alpha", "/v3"])
_tail = st.sampled_from(["", "/", "#", "/#", "/chat/completions#", "/responses#"])
_pasted = st.builds(lambda b, v, t: b + v + t, _base, _version_segment, _tail)
_version = st.sampled_from([*EVERY, (1, 6, 5), (1, 8), (2, 1)])


@given(_pasted, st.sampled_from([V16, *NEW, *V19]))
@example("https://h/v1/chat/completions#", None)
def test_normalise_is_idempotent(pasted: str, version: AppVersion | None) -> None:
    once = normalise_api_host(pasted, version)
    assert normalise_api_host(once, version) == once


@given(_pasted.filter(lambda p: "#" not in p), st.sampled_from(OLD))
def test_normalise_is_idempotent_in_the_old_era_without_hash(pasted: str, version: AppVersion) -> None:
    """(With `#` it is not: the old era's no-`/v1` form is a trailing `/`, which a later paste reads as "/v1".)"""
    once = normalise_api_host(pasted, version)
    assert normalise_api_host(once, version) == once


@given(_pasted, st.sampled_from([(1, 7), (1, 8), (2, 0), None]))
def test_normalised_form_reaches_what_the_pasted_form_reaches(pasted: str, version: AppVersion | None) -> None:
    """On 1.7, 1.8 and 2.x the app itself turns the pasted form into a URL; the normalised form reaches the same."""
    normalised = normalise_api_host(pasted, version)
    for endpoint in ("chat/completions", "models"):
        assert request_url(normalised, endpoint, version) == request_url(pasted.strip(), endpoint, version)


@given(_pasted)
def test_on_1_9_the_normalised_form_reaches_what_1_7_makes_of_the_pasted_one(pasted: str) -> None:
    """1.9.x misreads `<base>/<endpoint>#` (it appends the endpoint again); the normalised form reaches what was
    meant."""
    for endpoint in ("chat/completions", "models"):
        assert request_url(normalise_api_host(pasted, (1, 9, 12)), endpoint, (1, 9, 12)) == request_url(
            pasted.strip(), endpoint, (1, 7))


@given(_pasted.filter(lambda p: not p.endswith("s#")))
def test_normalised_form_reaches_the_same_url_on_1_6(pasted: str) -> None:
    normalised = normalise_api_host(pasted, V16)
    assert chat_url(normalised, "openai", V16) == chat_url(pasted, "openai", V16)


@given(_base.filter(lambda b: "#" not in b), st.sampled_from(GATEWAY_FORMS), _version)
def test_every_gateway_form_of_any_base_is_portable(base: str, form: str, version: AppVersion | None) -> None:
    api_host = normalise_api_host(form.format(b=base), version)
    assert api_host == base
    assert chat_url(api_host, "openai", version) == f"{base}/v1/chat/completions"


# --- default_group, the app's getDefaultGroupName --------------------------------------------------------------

FIRST = ("/", " ", ":")
ALL_DELIMITER_PROVIDERS = ("aihubmix", "silicon", "ocoolai", "o3", "dmxapi")


@pytest.mark.parametrize(("model_id", "provider", "group"), [
    ("gpt-3.5-turbo-16k-0613", "", "gpt-3.5"),
    ("Qwen/Qwen3-32b", "", "qwen"),
    ("qwen3:32b", "", "qwen3"),
    ("deepseek-r1", "", "deepseek-r1"),
    ("claude-sonnet-4-20250514", "", "claude-sonnet"),
    ("o3", "", "o3"),
    ("gpt-4.1", "apiyi", "gpt-4.1"),
    ("text_embedding_3", "gw", "text-embedding"),
    ("deepseek-ai/DeepSeek-R1", "siliconflow", "deepseek-ai"),
    ("deepseek-ai/DeepSeek-R1", "silicon", "deepseek-ai"),
    ("deepseek-r1", "silicon", "deepseek"),
    ("deepseek-r1", "SILICON", "deepseek"),
    ("gpt_4o", "aihubmix", "gpt"),
    ("a:b/c", "", "a:b"),  # "/" is tried first, wherever it is
    ("My Model-1", "", "my"),
])
def test_default_group_examples(model_id: str, provider: str, group: str) -> None:
    assert default_group(model_id, provider) == group


_model_id = st.text(st.sampled_from("abcXYZ019.-_/: İ"), min_size=1, max_size=20)
_provider = st.sampled_from(["", "gw", "apiyi", "openrouter", *ALL_DELIMITER_PROVIDERS])


@given(_model_id, _provider)
def test_default_group_properties(model_id: str, provider: str) -> None:
    group = default_group(model_id, provider)
    lowered = model_id.lower()
    assert group == group.lower()
    # a prefix of the lower-cased id, where the second rule's "_" joins with "-"
    assert lowered.replace("_", "-").startswith(group.replace("_", "-"))
    first = ("/", " ", "-", "_", ":") if provider in ALL_DELIMITER_PROVIDERS else FIRST
    decided = next((d for d in first if d in lowered), None)
    if decided is not None:
        # the first-rule delimiter that decided (and every one tried before it) is not in the result
        assert not any(d in group for d in first[: first.index(decided) + 1])
        assert group == lowered.split(decided)[0]
    elif "-" not in lowered and "_" not in lowered:
        assert group == lowered  # no delimiter at all: the id itself


# --- what a Chinese input method or a shift key makes of a pasted URL -------------------------------------------

_WIDE = st.sampled_from([chr(c) for c in range(0xFF01, 0xFF5F)] + ["。", "、"])


@given(_pasted, _WIDE, st.data())
@example("https://vip.apiyi.com/v1", "：", None)
def test_a_full_width_character_anywhere_is_refused_by_name(pasted: str, wide: str, data: st.DataObject | None
                                                             ) -> None:
    at = data.draw(st.integers(0, len(pasted))) if data else pasted.index(":")
    typed = pasted[:at] + wide + pasted[at + (data is None):]  # the example: "https：//...", the colon replaced
    with pytest.raises(BadInput, match=re.escape(f"full-width character '{wide}'")):
        normalise_api_host(typed)


@given(_pasted)
@example("https://vip.apiyi.com/V1")
def test_scheme_and_host_are_written_lower_case_and_the_path_as_typed(pasted: str) -> None:
    scheme, _sep, rest = pasted.partition("://")
    host, slash, path = rest.partition("/")
    shouted = f"{scheme.upper()}://{host.upper()}{slash}{path}"
    assert normalise_api_host(shouted) == normalise_api_host(pasted)


def test_an_upper_case_path_is_kept() -> None:
    assert normalise_api_host("HTTPS://VIP.APIYI.COM/V1") == "https://vip.apiyi.com/V1/"
    assert normalise_api_host("https://User:PassWord@GW.Example:8443/Api/v1") == (
        "https://User:PassWord@gw.example:8443/Api")


@given(_label, _label, st.sampled_from(sorted(",;!$&'()*+=~\"<>^`{|}\\")))
@example("vip", "apiyi", ",")
def test_a_character_no_host_name_holds_is_refused_by_name(first: str, second: str, bad: str) -> None:
    with pytest.raises(BadInput, match=re.escape(f"has {bad!r} in its host name")):
        normalise_api_host(f"https://{first}{bad}{second}.com/v1")


@pytest.mark.parametrize(("pasted", "meant"), [
    ("https://vip.apiyi.com/v1/chat/completion", "/chat/completions"),
    ("https://vip.apiyi.com/v1/chat/completion/", "/chat/completions"),
    ("https://vip.apiyi.com/v1/chat", "/chat/completions"),
    ("https://vip.apiyi.com/v1/Response", "/responses"),
])
def test_a_near_miss_endpoint_is_pointed_at(pasted: str, meant: str) -> None:
    from cherryconf.domain.endpoints import near_miss

    normalise_api_host(pasted)  # a valid base URL, so only this note says that it is most likely wrong
    assert f"looks like the endpoint {meant} mistyped" in (near_miss(pasted) or "")


@given(_base.filter(lambda b: "#" not in b), st.sampled_from(GATEWAY_FORMS))
def test_no_near_miss_for_any_gateway_form(base: str, form: str) -> None:
    from cherryconf.domain.endpoints import near_miss

    # Only a base path's last segment could look like an endpoint; the strategy's segments end in none.
    if base.rstrip("/").rpartition("/")[2].lower() not in {"completion", "response", "model", "message"}:
        assert near_miss(form.format(b=base)) is None
