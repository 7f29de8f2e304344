"""`cherryconf verify` through the real CLI: a profile or a stored provider, against a loopback gateway."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testing.cli import fingerprint
from testing.gateway import Gateway, ModelSpec, closed_port, running
from testing.tmux import Tmux
from testing.v1state import make_userdata, model, with_llm


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    models = {"gpt-4.1": ModelSpec(chat="ok", responses="invalid_url"),
              "deepseek-r1": ModelSpec(chat="reasoning", responses="convert_failed")}
    with running(Gateway(models)) as gw:
        yield gw


def profile(tmp_path: Path, gw: Gateway, provider_type: str = "openai") -> Path:
    path = tmp_path / "gw.yaml"
    path.write_text(f"""version: 1
providers:
  - id: gw
    type: {provider_type}
    apiHost: {gw.url}/v1
    apiKey: ${{GW_KEY}}
    models: [gpt-4.1, deepseek-r1]
""", encoding="utf-8")
    return path


def test_chat_type_passes_and_says_to_keep_it(run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    result = run_cli("verify", str(profile(tmp_path, gateway)), env={"GW_KEY": gateway.key})
    assert result.code == 0, result.err
    assert "2 of 2 models answer on chat/completions, 0 of 2 on responses: keep type openai" in result.out
    assert gateway.key not in result.out + result.err
    assert {r.path for r in gateway.requests} >= {"/v1/models", "/v1/chat/completions", "/v1/responses"}


def test_responses_type_fails_with_exit_5_and_the_fix(run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    result = run_cli("verify", str(profile(tmp_path, gateway, "openai-response")), "--json",
                     env={"GW_KEY": gateway.key})
    assert result.code == 5, result.err
    report = json.loads(result.out)
    assert "change type to openai" in report["verdict"]
    assert gateway.key not in result.out


def test_stored_provider_is_probed_with_the_url_the_app_builds(run_cli: Any, tmp_path: Path,
                                                               gateway: Gateway) -> None:
    data_dir = make_userdata(tmp_path, version="1.6.5")
    applied = run_cli("--data-dir", str(data_dir), "apply", str(profile(tmp_path, gateway, "openai-response")),
                      "--yes", env={"GW_KEY": gateway.key})
    assert applied.code == 0, applied.err
    result = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw", "--endpoint", "responses")
    assert result.code == 5
    assert "doctor --fix" in result.out
    assert all(r.path in ("/v1/models", "/v1/responses") for r in gateway.requests)
    fixed = run_cli("--data-dir", str(data_dir), "doctor", "--fix", "--yes")
    # Repaired; what is left is the seed's other gateway, whose `X-Team: 研发` header no request can carry.
    assert fixed.code == 5 and "repaired 1 problem" in fixed.out, fixed.out + fixed.err
    assert fixed.out.split("still to fix by hand:")[1].count("✗") == 1 and "X-Team" in fixed.out
    again = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw", "--endpoint", "chat")
    assert again.code == 0, again.out + again.err


def test_unknown_stored_provider_is_one_sentence(run_cli: Any, tmp_path: Path) -> None:
    data_dir = make_userdata(tmp_path)
    result = run_cli("--data-dir", str(data_dir), "verify", "--provider", "nope")
    assert result.code == 2 and result.err.startswith("cherryconf: ") and result.err.count("\n") == 1


# --- which providers: by id or name, chosen on a terminal, or every one worth checking ---------------------------

TEAM_ID = "3f0c9b2e-7a41-4d6e-9c55-0e1f2a3b4c5d"  # the kind of id the app gives a provider made in its UI


def stored(pid: str, name: str, url: str, key: str, *models: str, enabled: bool = True) -> dict[str, Any]:
    return {"id": pid, "name": name, "type": "openai", "apiKey": key, "apiHost": url, "enabled": enabled,
            "isSystem": False, "models": [model(m, pid) for m in models]}


def loopback_store(tmp_path: Path, *providers: dict[str, Any]) -> Path:
    """A 1.x store whose every provider is one of `providers` (no real host is ever probed)."""
    return make_userdata(tmp_path, with_llm(providers=list(providers), defaultModel=providers[0]["models"][0]))


def test_a_provider_named_where_a_profile_would_be_is_the_provider(run_cli: Any, tmp_path: Path,
                                                                    gateway: Gateway) -> None:
    data_dir = loopback_store(tmp_path, stored(TEAM_ID, "Team Gateway", gateway.url, gateway.key, "gpt-4.1"))
    result = run_cli("--data-dir", str(data_dir), "verify", TEAM_ID, "--endpoint", "chat")
    assert result.code == 0, result.err
    assert f"provider {TEAM_ID} (type openai)" in result.out
    missing = run_cli("--data-dir", str(data_dir), "verify", "nope")
    assert missing.code == 2 and "nope" in missing.err and "Traceback" not in missing.err
    # Something that looks like a file stays a file.
    assert "missing.yaml: no such file" in run_cli("--data-dir", str(data_dir), "verify", "missing.yaml").err


@pytest.mark.parametrize("given", [TEAM_ID, "Team Gateway", "team gateway", "TEAM GATEWAY"])
def test_provider_by_id_or_name(run_cli: Any, tmp_path: Path, gateway: Gateway, given: str) -> None:
    data_dir = loopback_store(tmp_path, stored(TEAM_ID, "Team Gateway", gateway.url, gateway.key, "gpt-4.1"))
    before = fingerprint(data_dir)
    result = run_cli("--data-dir", str(data_dir), "verify", "--provider", given, "--endpoint", "chat")
    assert result.code == 0, result.err
    assert f"provider {TEAM_ID} (type openai)" in result.out
    assert fingerprint(data_dir) == before


def test_exact_name_wins_over_case_and_a_shared_name_asks_for_the_id(run_cli: Any, tmp_path: Path,
                                                                    gateway: Gateway) -> None:
    data_dir = loopback_store(tmp_path, stored("a", "GW", gateway.url, gateway.key, "gpt-4.1"),
                              stored("b", "gw", gateway.url, gateway.key, "gpt-4.1"),
                              stored("c", "Twin", gateway.url, gateway.key, "gpt-4.1"),
                              stored("d", "Twin", gateway.url, gateway.key, "gpt-4.1"))
    result = run_cli("--data-dir", str(data_dir), "--json", "verify", "--provider", "gw", "--endpoint", "chat")
    assert result.code == 0 and json.loads(result.out)["provider_id"] == "b"
    result = run_cli("--data-dir", str(data_dir), "verify", "--provider", "twin")
    assert result.code == 2
    assert result.err == "cherryconf: several providers are called 'twin' ('c', 'd'): give the id with --provider\n"


def test_off_a_terminal_every_provider_worth_checking_is_verified_and_failures_are_named(
        run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    gateway.models["broken-1"] = ModelSpec(chat="model_not_found")
    data_dir = loopback_store(
        tmp_path,
        stored("good", "Good", gateway.url, gateway.key, "gpt-4.1"),
        stored("bad", "Bad", gateway.url, gateway.key, "broken-1", "gpt-4.1"),
        stored("down", "Down", f"http://127.0.0.1:{closed_port()}", gateway.key, "gpt-4.1"),
        stored("off", "Off", gateway.url, gateway.key, "gpt-4.1", enabled=False),
        stored("keyless", "Keyless", gateway.url, "", "gpt-4.1"))
    result = run_cli("--data-dir", str(data_dir), "verify", "--endpoint", "chat")
    assert result.code == 5
    assert result.err == ("cherryconf: verify found problems (failed: bad (1 model); could not be checked: "
                          "down)\n")
    for pid in ("good", "bad", "down"):
        assert f"provider {pid} (type openai)" in result.out
    assert "provider off" not in result.out and "provider keyless" not in result.out
    chats = [r.body["model"] for r in gateway.requests if r.path == "/v1/chat/completions" and r.body]
    assert sorted(chats) == ["broken-1", "gpt-4.1", "gpt-4.1"]  # good's and bad's, none for off or keyless
    document = json.loads(run_cli("--data-dir", str(data_dir), "--json", "verify", "--endpoint", "chat").out)
    assert [r["provider_id"] for r in document["reports"]] == ["good", "bad", "down"]
    assert document["problem"].startswith("verify found problems")


def test_nothing_reachable_is_exit_5_and_says_so(run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    port = closed_port()
    data_dir = loopback_store(tmp_path, stored("down", "Down", f"http://127.0.0.1:{port}", gateway.key, "gpt-4.1"))
    result = run_cli("--data-dir", str(data_dir), "verify", "--provider", "down")
    assert result.code == 5
    refused = f"connection refused: nothing listens at 127.0.0.1:{port}; check the port and host in the URL"
    assert result.err == f"cherryconf: provider down: nothing could be checked on chat/completions: {refused}\n"
    # Said once in the details (not once per probe), and as the verdict; the OS's own words nowhere.
    assert result.out.count(refused) == 2 and "each of the 2 probes sent: " + refused in result.out
    assert result.out.rstrip().endswith(f"1 not checked on chat/completions: {refused}")
    assert "Errno" not in result.out + result.err and "attempts failed" not in result.out


@pytest.mark.parametrize(("lang", "expected"), [
    ("en_US.UTF-8", "host not found: {host} does not resolve; check the host name in the URL"),
    ("zh_CN.UTF-8", "找不到主机：{host} 无法解析；请检查 URL 中的主机名"),
])
def test_a_host_that_does_not_resolve_is_named_in_the_users_language(run_cli: Any, tmp_path: Path, lang: str,
                                                                       expected: str) -> None:
    host = "no-such-gateway.invalid"  # .invalid never resolves (RFC 6761), on or off the network
    data_dir = loopback_store(tmp_path, stored("gone", "Gone", f"https://{host}", "sk-abcdef123456", "gpt-4.1"))
    # No proxy: it would resolve the name itself and answer for it.
    no_proxy = dict.fromkeys(("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"))
    result = run_cli("--data-dir", str(data_dir), "--json", "verify", "--provider", "gone",
                     env={"LANG": lang, **no_proxy})
    assert result.code == 5
    report = json.loads(result.out)
    said = expected.format(host=host)
    assert {r["detail"] for r in report["results"]} == {said} and report["models_detail"] == f"/models: {said}"
    assert report["problem"].endswith(said) and "Errno" not in result.out


def test_a_tls_failure_says_so(run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    # https to a port that speaks plain HTTP: the handshake fails.
    host = gateway.url.removeprefix("http://")
    data_dir = loopback_store(tmp_path, stored("tls", "TLS", f"https://{host}", gateway.key, "gpt-4.1"))
    result = run_cli("--data-dir", str(data_dir), "verify", "--provider", "tls", "--endpoint", "chat")
    assert result.code == 5
    assert result.err == (f"cherryconf: provider tls: nothing could be checked on chat/completions: TLS failure: no "
                          f"secure connection to {host}; check that the URL's scheme (https or http) and port are "
                          "the gateway's\n")


def test_a_failure_on_the_endpoint_in_use_is_named(run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    gateway.models["broken-1"] = ModelSpec(chat="model_not_found")
    data_dir = loopback_store(tmp_path, stored("gw", "GW", gateway.url, gateway.key, "broken-1", "gpt-4.1"))
    result = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw")
    assert result.code == 5
    assert result.err == "cherryconf: provider gw: 1 of 2 models fail on chat/completions, the endpoint it uses\n"


def test_nothing_worth_checking_is_exit_5(run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    data_dir = loopback_store(tmp_path, stored("off", "Off", gateway.url, gateway.key, "gpt-4.1", enabled=False))
    result = run_cli("--data-dir", str(data_dir), "verify")
    assert (result.code, result.out) == (5, "")
    assert result.err.startswith("cherryconf: nothing to verify: the store has no enabled provider with a key")
    assert gateway.requests == []


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_on_a_terminal_the_provider_is_chosen_from_the_store(tmp_path: Path, gateway: Gateway) -> None:
    data_dir = loopback_store(tmp_path, stored("first", "First", gateway.url, gateway.key, "gpt-4.1"),
                              stored(TEAM_ID, "Team Gateway", gateway.url, gateway.key, "deepseek-r1"))
    term = Tmux.cli(tmp_path, ["--data-dir", str(data_dir), "verify", "--endpoint", "chat"])
    try:
        shown = term.wait_for("Verify which provider?")
        assert f"Team Gateway ({TEAM_ID}): {gateway.url}, 1 model, key sk-lo…stuv" in shown
        term.keys("Down")
        term.keys("Enter")
        shown = term.wait_for("[exit ")
    finally:
        term.close()
    assert "[exit 0]" in shown, shown
    assert f"provider {TEAM_ID} (type openai)" in shown and "deepseek-r1" in shown
    assert [r.body["model"] for r in gateway.requests if r.body] == ["deepseek-r1"]


# --- scale: --all-models, progress off a terminal, Ctrl-C ----------------------------------------------------------

def test_all_models_probes_the_gateways_list_on_the_endpoint_in_use(run_cli: Any, tmp_path: Path,
                                                                    gateway: Gateway) -> None:
    gateway.models["text-embedding-3-large"] = ModelSpec()
    gateway.rate, gateway.burst = 4.0, 1  # rate-limited: retried, not reported
    result = run_cli("--json", "verify", str(profile(tmp_path, gateway)), "--all-models", env={"GW_KEY": gateway.key})
    assert result.code == 0, result.err
    report = json.loads(result.out)  # one document, nothing partial before it
    assert [(r["model"], r["endpoint"], r["outcome"]) for r in report["results"]] == [
        ("gpt-4.1", "chat", "pass"), ("deepseek-r1", "chat", "pass")]
    assert report["skipped"] == ["text-embedding-3-large"] and report["interrupted"] is False
    assert gateway.throttled > 0 and report["rate_limited"] == gateway.throttled
    assert "\r" not in result.err and "\x1b" not in result.err  # off a terminal: no live line
    both = run_cli("--json", "verify", str(profile(tmp_path, gateway)), "--all-models", "--endpoint", "both",
                   env={"GW_KEY": gateway.key})
    assert len(json.loads(both.out)["results"]) == 4
    mixed = run_cli("verify", str(profile(tmp_path, gateway)), "--all-models", "--model", "gpt-4.1",
                    env={"GW_KEY": gateway.key})
    assert mixed.code == 2 and "cannot be used together" in mixed.err


@pytest.mark.posix_only  # SIGINT to a child process
@pytest.mark.parametrize("as_json", [False, True])
def test_ctrl_c_prints_the_verdicts_so_far_and_exits_130(tmp_path: Path, as_json: bool) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from testing.cli import PACKAGE_ROOT, isolated_environ

    models = {**{f"fast-{i}": ModelSpec() for i in range(3)}, **{f"slow-{i}": ModelSpec(chat="slow")
                                                                 for i in range(3)}}
    with running(Gateway(models, slow_seconds=30)) as gw:
        path = tmp_path / "gw.yaml"
        path.write_text(f"version: 1\nproviders:\n  - id: gw\n    apiHost: {gw.url}\n    apiKey: {gw.key}\n"
                        f"    models: [{', '.join(models)}]\n", encoding="utf-8")
        env = isolated_environ(tmp_path, os.environ)
        env["PYTHONPATH"] = str(PACKAGE_ROOT)
        proc = subprocess.Popen([sys.executable, "-m", "cherryconf", *(["--json"] if as_json else []), "verify",
                                 str(path), "--endpoint", "chat"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, encoding="utf-8")
        deadline = time.monotonic() + 30
        while not any(r.body and str(r.body.get("model")).startswith("slow") for r in list(gw.requests)):
            assert time.monotonic() < deadline and proc.poll() is None, "the slow probes never started"
            time.sleep(0.05)
        time.sleep(0.5)  # the fast ones, sent with the first slow one, have answered
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.endswith("cherryconf: interrupted after 3 of 6 probes; nothing was written\n"), err
    if as_json:
        report = json.loads(out)
        assert report["interrupted"] is True and report["planned"] == 6
        assert [(r["model"], r["outcome"]) for r in report["results"]] == [(f"fast-{i}", "pass") for i in range(3)]
    else:
        assert "interrupted: 3 of 6 probes done" in out and "fast-2" in out and "slow-0" not in out
        assert "3 of 3 models answer on chat/completions" in out


# --- a wrong key, a wrong base URL: said once, with what to do -----------------------------------------------------

SIX = [f"model-{i}" for i in range(6)]


@pytest.mark.parametrize(("env", "said"), [
    ({}, ("the gateway refuses the API key; 12 probes after that answer were not sent", "key already rejected",
          "cherryconf key set REF")),
    ({"LANG": "zh_CN.UTF-8"}, ("网关拒绝了该 API 密钥；此后的 12 个探测未发送", "密钥已被拒绝",
                               "cherryconf key set REF")),
])
def test_a_rejected_key_stops_the_probes_and_is_said_once(run_cli: Any, tmp_path: Path, env: dict[str, str],
                                                          said: tuple[str, ...]) -> None:
    with running(Gateway({m: ModelSpec() for m in SIX})) as gw:
        data_dir = loopback_store(tmp_path, stored("gw", "GW", gw.url, "sk-wrong-0123456789abcdef", *SIX))
        # One request at a time: /models goes first, its 401 stops everything after it.
        result = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw", "--concurrency", "1", env=env)
        assert gw.paths() == ["/v1/models"]
    assert result.code == 5
    verdict, cell, remedy = said
    assert result.out.count("HTTP 401") == 1 and result.out.count(remedy) == 1 and verdict in result.out
    assert result.out.count(cell) == 12  # every model on both endpoints: not probed, because of the key
    assert result.err.count("HTTP 401") == 1 and result.err.count("\n") == 1


def test_a_rejected_key_sends_fewer_requests_and_keeps_json_whole(run_cli: Any, tmp_path: Path) -> None:
    with running(Gateway({m: ModelSpec() for m in SIX})) as gw:
        data_dir = loopback_store(tmp_path, stored("gw", "GW", gw.url, "sk-wrong-0123456789abcdef", *SIX))
        result = run_cli("--data-dir", str(data_dir), "--json", "verify", "--provider", "gw")
        sent = len(gw.requests)
    report = json.loads(result.out)
    assert result.code == 5 and sent < 1 + 12  # the probes in flight when the 401 came, not all twelve
    assert report["key_rejected"].startswith("HTTP 401") and report["planned"] == len(report["results"]) == 12
    outcomes = {(r["outcome"], r["reason"]) for r in report["results"]}
    assert ("not_probed", "key_rejected") in outcomes and outcomes <= {("not_probed", "key_rejected"),
                                                                       ("fail", "bad_key")}
    assert report["problem"].startswith("provider gw: the gateway rejected the API key (HTTP 401")


@pytest.mark.parametrize(("path", "models_route", "hint"), [
    ("/console", True, "most gateways serve their API at the host's own /v1: try the apiHost without /console"),
    ("/v1/", False, "check the host and port: they may be a web page's, not the gateway API's"),
])
def test_everything_404_blames_the_base_url(run_cli: Any, tmp_path: Path, path: str, models_route: bool,
                                            hint: str) -> None:
    # An HTML 404 page for every path (a web server, not the API), or a JSON 404 for every route.
    with running(Gateway({"gpt-4.1": ModelSpec(chat="invalid_url", responses="invalid_url")},
                         serve_models=models_route)) as gw:
        data_dir = loopback_store(tmp_path, stored("gw", "GW", gw.url + path, gw.key, "gpt-4.1"))
        result = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw")
        base = gw.url + ("/console/v1" if path == "/console" else "/v1")
    assert result.code == 5
    assert result.err == (f"cherryconf: provider gw: every request got 404, /models too: the base URL {base} is "
                          "probably wrong\n")
    assert f"the base URL {base} is probably wrong; {hint}" in result.out
    assert f"to fix:\n  the base URL {base}: {hint}" in result.out
    assert "gateway refuses" not in result.out and "endpoint in use" not in result.out


def test_everything_404_in_chinese(run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    data_dir = loopback_store(tmp_path, stored("gw", "GW", gateway.url + "/console", gateway.key, "gpt-4.1"))
    result = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw", env={"LANG": "zh_CN.UTF-8"})
    assert result.code == 5
    assert f"每个请求都得到 404，/models 也是：基础 URL {gateway.url}/console/v1 很可能有误；" in result.out
    assert "请试试去掉 /console 的 apiHost" in result.out
    # The verdict's joints are Chinese too: 1 个中有 0 个在 chat/completions 上应答；... 上：每个请求...
    verdict = next(line for line in result.out.splitlines() if "每个请求都得到 404" in line and "应答" in line)
    assert "应答，" in verdict and "上：每个请求" in verdict and ", " not in verdict and ": " not in verdict


def test_several_providers_name_the_one_whose_key_is_rejected(run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    data_dir = loopback_store(tmp_path, stored("good", "Good", gateway.url, gateway.key, "gpt-4.1"),
                              stored("badkey", "Bad key", gateway.url, "sk-wrong-0123456789abcdef", *SIX))
    result = run_cli("--data-dir", str(data_dir), "verify", "--endpoint", "chat", "--concurrency", "1")
    assert result.code == 5
    assert result.err == "cherryconf: verify found problems (failed: badkey (key rejected))\n"
    # badkey: its /models was refused, so none of its six models was asked.
    assert not [r for r in gateway.requests if r.body and r.body.get("model") in SIX]
