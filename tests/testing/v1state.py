"""Realistic Cherry Studio 1.x localStorage content, and 1.x userData directories built from it.

`cherry_state()` is what a real 1.x app keeps under origin file://: the redux-persist blob (with the system
`openai` provider of type openai-response, custom providers, CJK and emoji, several other slices and a late
`_persist` version) plus the other keys the app writes. `make_userdata` lays it out as
`<userData>/Local Storage/leveldb`, written by plyvel (the real LevelDB, independent of our writer).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import plyvel

from cherryconf.stores.v1.localstorage import encode

PERSIST_KEY = "persist:cherry-studio"


def model(mid: str, provider: str, name: str | None = None) -> dict[str, Any]:
    return {"id": mid, "provider": provider, "name": name or mid, "group": mid.split("-")[0]}


def llm_slice(extra_providers: int = 0) -> dict[str, Any]:
    providers: list[dict[str, Any]] = [
        {"id": "openai", "name": "OpenAI", "type": "openai-response", "apiKey": "", "apiHost": "https://api.openai.com",
         "models": [model("gpt-4o", "openai", "GPT-4o"), model("gpt-4.1", "openai", "GPT 4.1")],
         "isSystem": True, "enabled": False},
        {"id": "deepseek", "name": "深度求索", "type": "openai", "apiKey": "sk-deepseek-000000000000",
         "apiHost": "https://api.deepseek.com", "models": [model("deepseek-chat", "deepseek")],
         "isSystem": True, "enabled": True, "apiOptions": {"isNotSupportStreamOptions": False}},
        {"id": "8c2a0e5e-4d7b-4f3c-9a1e-5b6c7d8e9f00", "name": "我的网关 🚀", "type": "openai",
         "apiKey": "sk-mine-1111111111111111,sk-mine-2222222222222222", "apiHost": "https://gw.example.cn/v1/",
         "models": [model("qwen3:32b", "8c2a0e5e-4d7b-4f3c-9a1e-5b6c7d8e9f00")], "enabled": True,
         "isSystem": False, "extra_headers": {"X-Team": "研发"}, "unknownFutureField": {"kept": [1, 2, 3]}},
    ]
    for i in range(extra_providers):
        pid = f"bulk-{i}"
        providers.append({"id": pid, "name": f"批量 {i} ✨", "type": "openai", "apiKey": f"sk-bulk-{i:020d}",
                          "apiHost": f"https://bulk{i}.example.com", "enabled": True, "isSystem": False,
                          "models": [model(f"model-{j}", pid, f"模型 {j}") for j in range(20)]})
    default = providers[1]["models"][0]
    return {"providers": providers, "defaultModel": default, "topicNamingModel": default, "quickModel": default,
            "translateModel": default, "quickAssistantId": "",
            "settings": {"ollama": {"keepAliveTime": 0}, "lmstudio": {"keepAliveTime": 0},
                         "gpustack": {"keepAliveTime": 0},
                         "vertexai": {"serviceAccount": {"privateKey": "", "clientEmail": ""}, "projectId": "",
                                      "location": ""}}}


def stringify(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def blob(llm: dict[str, Any], padding: int = 0) -> str:
    """The persist blob; `padding` characters of CJK/emoji/ASCII chat-like text grow the assistants slice."""
    unit = "你好，世界！Hello 👋 こんにちは "
    text = (unit * (padding // len(unit) + 1))[:padding]
    assistants = {"defaultAssistant": {"id": "default", "name": "默认助手 😀", "prompt": text,
                                       "topics": [{"id": "t1", "name": "話題"}]},
                  "assistants": []}
    slices = {
        "assistants": stringify(assistants),
        "agents": stringify({"agents": []}),
        "backup": stringify({"webdavSync": {"lastSyncTime": None}}),
        "nutstore": stringify({"nutstoreToken": ""}),
        "paintings": stringify({"paintings": []}),
        "llm": stringify(llm),
        "settings": stringify({"language": "zh-CN", "theme": "auto", "proxyUrl": "", "userName": "用户"}),
        "runtime": stringify({"avatar": "", "generating": False}),
        "shortcuts": stringify({"shortcuts": []}),
        "websearch": stringify({"defaultProvider": "local-bing"}),
        "mcp": stringify({"servers": []}),
        "_persist": stringify({"version": 178, "rehydrated": True}),
    }
    return stringify(slices)


def cherry_state(padding: int = 0, extra_providers: int = 0) -> dict[str, str]:
    """Every localStorage item of origin file:// a 1.x app holds."""
    return {
        PERSIST_KEY: blob(llm_slice(extra_providers), padding),
        "i18nextLng": "zh-CN",
        "memory_currentUserId": "default-user",
        "onboarding-completed": "true",
        "emoji-key-ü": "😀 latin-1 key, UTF-16 value",
    }


def with_llm(**llm_fields: Any) -> dict[str, str]:
    """cherry_state() whose llm slice has `llm_fields` in place of its own."""
    llm = llm_slice()
    llm.update(llm_fields)
    items = cherry_state()
    outer = json.loads(items[PERSIST_KEY])
    outer["llm"] = stringify(llm)
    items[PERSIST_KEY] = stringify(outer)
    return items


def with_provider(extra: dict[str, Any], **llm_fields: Any) -> dict[str, str]:
    """cherry_state() whose llm slice also holds `extra` (first, as the app puts new providers) and `llm_fields`."""
    return with_llm(providers=[extra, *llm_slice()["providers"]], **llm_fields)


def read_llm(items: dict[str, str]) -> dict[str, Any]:
    outer = json.loads(items[PERSIST_KEY])
    result: dict[str, Any] = json.loads(outer["llm"])
    return result


def write_leveldb(leveldb_dir: Path, items: dict[str, str], origin: str = "file://") -> None:
    """Write items as Chromium lays them out (data keys + META), with plyvel."""
    leveldb_dir.parent.mkdir(parents=True, exist_ok=True)
    db = plyvel.DB(str(leveldb_dir), create_if_missing=True)
    try:
        db.put(b"VERSION", b"1")
        for k, v in items.items():
            db.put(b"_" + origin.encode() + b"\x00" + encode(k), encode(v))
    finally:
        db.close()


def make_userdata(root: Path, items: dict[str, str] | None = None, version: str | None = "1.6.5") -> Path:
    """A 1.x userData directory holding `items` (default: `cherry_state()`); returns its path."""
    ud = root / "CherryStudio"
    shutil.rmtree(ud, ignore_errors=True)
    write_leveldb(ud / "Local Storage" / "leveldb", cherry_state() if items is None else items)
    (ud / "config.json").write_text('{"language": "zh-CN"}')
    if version:
        (ud / "version.log").write_text(f"{version}|linux|prod|packaged|install|2026-10-01T08:00:00.000Z\n")
    return ud
