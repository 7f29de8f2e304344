"""A mistyped provider name gets the closest one offered, in every command that takes one (issue 27)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from testing.v1state import make_userdata, model, with_llm

ZH = {"LANG": "zh_CN.UTF-8"}


def store(tmp_path: Path) -> Path:
    providers = [{"id": pid, "name": name, "type": "openai", "apiKey": "sk-0123456789abcdef", "enabled": True,
                  "apiHost": "http://127.0.0.1:9", "isSystem": False, "models": [model("gpt-4.1", pid)]}
                 for pid, name in (("relay", "Team Relay"), ("3f0c9b2e-7a41-4d6e-9c55-0e1f2a3b4c5d", "Night Shift"))]
    return make_userdata(tmp_path, with_llm(providers=providers, defaultModel=providers[0]["models"][0]))


@pytest.mark.parametrize("args", [("verify", "relya"), ("verify", "--provider", "relya")])
def test_verify_offers_the_closest_id(run_cli: Any, tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run_cli("--data-dir", str(store(tmp_path)), *args)
    assert (result.code, result.out) == (2, "")
    assert result.err == ("cherryconf: the store has no provider with the id or name 'relya': did you mean "
                          "'relay'? (`cherryconf providers` lists them)\n")


def test_verify_offers_the_closest_name_in_chinese(run_cli: Any, tmp_path: Path) -> None:
    # The id is a UUID nobody types: the name is what comes close.
    result = run_cli("--data-dir", str(store(tmp_path)), "verify", "--provider", "night shfit", env=ZH)
    assert result.code == 2
    assert result.err == ("cherryconf: 数据存储中没有 id 或名称为 'night shfit' 的服务商：您是不是要找 'Night Shift'？"
                          "（`cherryconf providers` 可列出全部服务商）\n")


def test_nothing_close_offers_nothing(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("--data-dir", str(store(tmp_path)), "verify", "--provider", "zzz")
    assert result.code == 2 and "did you mean" not in result.err and "`cherryconf providers`" in result.err


def test_export_offers_the_closest_id(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("--data-dir", str(store(tmp_path)), "export", "--provider", "rlay")
    assert result.code == 2
    assert result.err == ("cherryconf: the store has no provider 'rlay': did you mean 'relay'? "
                          "(`cherryconf providers` lists them)\n")


def test_a_profiles_provider_too(run_cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\nproviders:\n  - id: relay\n    apiHost: http://127.0.0.1:9\n"
                    "    apiKey: sk-0123456789\n    models: [gpt-4.1]\n", encoding="utf-8")
    result = run_cli("verify", str(path), "--provider", "rely")
    assert result.code == 2
    assert result.err.endswith(": no provider 'rely' in this profile: did you mean 'relay'?\n"), result.err
