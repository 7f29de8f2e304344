"""`cherryconf verify` through the real CLI: a profile or a stored provider, against a loopback gateway."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gateway import Gateway, ModelSpec, running
from v1state import make_userdata


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
    assert fixed.code == 0, fixed.out + fixed.err
    again = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw", "--endpoint", "chat")
    assert again.code == 0, again.out + again.err


def test_unknown_stored_provider_is_one_sentence(run_cli: Any, tmp_path: Path) -> None:
    data_dir = make_userdata(tmp_path)
    result = run_cli("--data-dir", str(data_dir), "verify", "--provider", "nope")
    assert result.code == 2 and result.err.startswith("cherryconf: ") and result.err.count("\n") == 1
