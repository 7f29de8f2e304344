"""The seed's case end to end on 1.x: a gateway in the built-in OpenAI provider, moved by `doctor --fix`.

Cherry Studio routes the id `openai` to /v1/responses whatever its type (facts file, section 8), so the only
fix is a provider of its own. Real Chromium writes the state, the real CLI repairs it, real Chromium reads it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from testing.chromium_harness import chromium_available, read_local_storage, write_local_storage
from testing.v1state import PERSIST_KEY, cherry_state, llm_slice, stringify

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(not chromium_available(), reason="needs Debian's chromium (scripts/test installs it)"),
]

KEY = "sk-apiyi-0123456789abcdef0123"
MODEL_IDS = ("gpt-4.1", "claude-sonnet-4-20250514", "gemini-2.5-pro")


def _model(mid: str, provider: str) -> dict[str, Any]:
    return {"id": mid, "provider": provider, "name": mid, "group": mid.split("-")[0]}


def seed_state() -> dict[str, str]:
    """A 1.x state whose built-in OpenAI provider holds a gateway, used by settings and assistants."""
    llm = llm_slice()
    openai = llm["providers"][0]
    openai.update(type="openai", apiKey=KEY, apiHost="https://vip.apiyi.com/v1/", enabled=True,
                  models=[_model(m, "openai") for m in MODEL_IDS])
    llm["defaultModel"] = llm["topicNamingModel"] = _model("gpt-4.1", "openai")
    llm["quickModel"] = _model("claude-sonnet-4-20250514", "openai")
    llm["translateModel"] = {"id": "Qwen/Qwen3-8B", "provider": "cherryai", "name": "Qwen3", "group": "qwen"}
    assistants = {
        "defaultAssistant": {"id": "default", "name": "默认助手 😀", "model": _model("gpt-4.1", "openai"),
                             "topics": [{"id": "t1", "name": "話題"}]},
        "assistants": [
            {"id": "a1", "name": "翻译", "model": _model("gemini-2.5-pro", "openai"),
             "defaultModel": _model("gpt-4.1", "openai"), "prompt": "你好"},
            {"id": "a2", "name": "other", "model": _model("deepseek-chat", "deepseek")},
        ],
    }
    state = cherry_state()
    slices = json.loads(state[PERSIST_KEY])
    slices["llm"], slices["assistants"] = stringify(llm), stringify(assistants)
    state[PERSIST_KEY] = stringify(slices)
    return state


def parts(items: dict[str, str]) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    slices: dict[str, str] = json.loads(items[PERSIST_KEY])
    return slices, json.loads(slices["llm"]), json.loads(slices["assistants"])


def test_doctor_moves_the_gateway_out_of_the_built_in_openai_provider(tmp_path: Path, run_cli: Any) -> None:
    profile = tmp_path / "chromium"
    write_local_storage(profile, seed_state())
    before = read_local_storage(profile)
    data_dir = ["--data-dir", str(profile / "Default")]

    found = run_cli(*data_dir, "doctor", "--json")
    assert found.code == 5, found.err
    # The seed's own gateway sends `X-Team: 研发`, which no HTTP request can carry: only the user can fix that.
    assert [f["code"] for f in json.loads(found.out)["findings"]] == ["gateway-in-built-in", "header-value"]

    fixed = run_cli(*data_dir, "doctor", "--fix", "--yes")
    assert fixed.code == 5, fixed.err
    assert "still to fix by hand" in fixed.out and "X-Team" in fixed.out
    assert "'apiyi'" in fixed.out and "https://vip.apiyi.com/v1/chat/completions" in fixed.out
    assert "disabled" in fixed.out and KEY not in fixed.out + fixed.err

    after = read_local_storage(profile)
    assert {k: v for k, v in after.items() if k != PERSIST_KEY} == {k: v for k, v in before.items() if k != PERSIST_KEY}
    old_slices, old_llm, old_assistants = parts(before)
    new_slices, llm, assistants = parts(after)
    assert list(new_slices) == list(old_slices)
    assert {k: v for k, v in new_slices.items() if k not in ("llm", "assistants")} == {
        k: v for k, v in old_slices.items() if k not in ("llm", "assistants")}

    own, built_in = llm["providers"][0], llm["providers"][1]
    assert own == {"id": "apiyi", "name": "vip.apiyi.com", "type": "openai", "apiKey": KEY,
                   "apiHost": "https://vip.apiyi.com", "enabled": True, "isSystem": False,
                   "models": [_model(m, "apiyi") for m in MODEL_IDS]}
    assert built_in == {**old_llm["providers"][0], "type": "openai-response", "apiKey": "",
                        "apiHost": "https://api.openai.com", "models": [], "enabled": False}
    assert llm["providers"][2:] == old_llm["providers"][1:]
    assert llm["defaultModel"] == llm["topicNamingModel"] == _model("gpt-4.1", "apiyi")
    assert llm["quickModel"] == _model("claude-sonnet-4-20250514", "apiyi")
    assert llm["translateModel"] == old_llm["translateModel"]  # the app's runtime CherryAI provider: not moved

    expected = copy.deepcopy(old_assistants)
    expected["defaultAssistant"]["model"]["provider"] = "apiyi"
    expected["assistants"][0]["model"]["provider"] = "apiyi"
    expected["assistants"][0]["defaultModel"]["provider"] = "apiyi"
    assert assistants == expected

    again = run_cli(*data_dir, "doctor", "--json")
    assert again.code == 5, again.out + again.err
    assert [f["code"] for f in json.loads(again.out)["findings"]] == ["header-value"]

    restored = run_cli(*data_dir, "restore", "--yes")
    assert restored.code == 0, restored.err
    assert read_local_storage(profile) == before
