"""The real CLI in Chinese and in English, chosen by LANG as a user's system sets it (and by --lang): errors,
--help, doctor, providers and the wizard in a terminal speak the language; --json documents are the same in both."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from testing.cli import RunCli
from testing.gateway import Gateway, ModelSpec, running
from testing.tmux import Tmux
from testing.v1state import make_userdata, model, with_provider

from cherryconf.cli import cli
from cherryconf.render import width

ZH = {"LANG": "zh_CN.UTF-8"}
EN = {"LANG": "en_US.UTF-8"}
# A gateway on the responses type: doctor finds it (responses-on-gateway) and exits 5.
GATEWAY = {"id": "gw", "name": "我的网关", "type": "openai-response", "apiKey": "sk-gw-000000000000000000",
           "apiHost": "https://gw.example.com", "models": [model("gpt-4.1", "gw")], "enabled": True}


@pytest.fixture
def userdata(tmp_path: Path) -> Path:
    return make_userdata(tmp_path, with_provider(GATEWAY))


def shape(doc: Any) -> Any:
    """The document's keys and structure, every string value replaced by its type."""
    if isinstance(doc, dict):
        return {k: shape(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [shape(v) for v in doc]
    return type(doc).__name__


def test_help_is_chinese_under_a_chinese_locale_and_english_otherwise(run_cli: RunCli) -> None:
    zh = run_cli("--help", env=ZH)
    en = run_cli("--help", env=EN)
    assert zh.code == en.code == 0
    assert "用法：" in zh.out and "选项：" in zh.out and "显示此帮助并退出。" in zh.out  # click's own texts too
    assert "设置并修复 Cherry Studio 的 LLM 服务商" in zh.out and "Usage:" not in zh.out
    assert "Usage:" in en.out and "Show this message and exit." in en.out and "用法" not in en.out
    assert "--lang [zh-CN|en]" in en.out
    # Wrapped and cut to the terminal's columns, a Chinese character taking two.
    for command in ([], ["verify"], ["apply"], ["wizard"]):
        shown = run_cli(*command, "--help", env={**ZH, "COLUMNS": "80"}).out
        assert all(width(line) <= 80 for line in shown.splitlines()), shown
    listed = run_cli("--help", env={**ZH, "COLUMNS": "80"}).out.split("命令：\n", 1)[1].splitlines()
    assert len(listed) == len(cli.commands)
    verify = "".join(run_cli("verify", "--help", env=ZH).out.split())  # as one line, without the wrapping
    assert "要探测的端点：chat/completions、responses或两者（默认：两者；使用--all-models时为服务商所用的端点）。" \
        in verify


def test_lang_and_cherryconf_lang_override_the_locale(run_cli: RunCli) -> None:
    assert "用法：" in run_cli("--lang", "zh-CN", "--help", env=EN).out
    assert "Usage:" in run_cli("--lang", "en", "--help", env=ZH).out
    assert "用法：" in run_cli("--help", env={**EN, "CHERRYCONF_LANG": "zh-CN"}).out
    assert "Usage:" in run_cli("--help", env={**ZH, "LC_ALL": "C"}).out  # C: no translation, as gettext reads it


def test_an_error_is_one_chinese_sentence_with_the_same_exit_code(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    zh = run_cli("apply", str(missing), env=ZH)
    en = run_cli("apply", str(missing), env=EN)
    assert zh.code == en.code == 2
    assert zh.err == f"cherryconf: {missing}: 文件不存在\n"
    assert en.err == f"cherryconf: {missing}: no such file\n"
    # click's usage errors come through its own catalog, and the hint through ours.
    usage = run_cli("apply", env=ZH)
    assert usage.code == 2
    assert usage.err == "cherryconf: 缺少参数 'PROFILE'（见 `cherryconf apply --help`）\n"


def test_doctor_speaks_the_language_and_its_json_keeps_codes(run_cli: RunCli, userdata: Path) -> None:
    zh = run_cli("--data-dir", str(userdata), "doctor", env=ZH)
    en = run_cli("--data-dir", str(userdata), "doctor", env=EN)
    assert zh.code == en.code == 5
    assert "openai-response 类型会把聊天发往 /responses" in zh.out
    assert "修复：把类型改为 openai（聊天发往 /chat/completions）" in zh.out
    assert "运行 `cherryconf doctor --fix` 修复这些问题" in zh.out
    assert "type openai-response sends chats to /responses" in en.out and "修复" not in en.out
    zh_doc = json.loads(run_cli("--data-dir", str(userdata), "doctor", "--json", env=ZH).out)
    en_doc = json.loads(run_cli("--data-dir", str(userdata), "doctor", "--json", env=EN).out)
    assert shape(zh_doc) == shape(en_doc)
    codes = [(f["provider"], f["code"], f["severity"]) for f in en_doc["findings"]]
    assert codes == [(f["provider"], f["code"], f["severity"]) for f in zh_doc["findings"]]
    assert ("gw", "responses-on-gateway", "error") in codes
    message = next(f["message"] for f in zh_doc["findings"] if f["code"] == "responses-on-gateway")
    assert message.startswith("openai-response 类型")  # a human-text field: translated


def test_providers_table_headings_are_translated_and_its_json_is_identical(run_cli: RunCli, userdata: Path) -> None:
    zh = run_cli("--data-dir", str(userdata), "providers", env=ZH)
    en = run_cli("--data-dir", str(userdata), "providers", env=EN)
    assert zh.code == en.code == 0
    assert zh.out.splitlines()[0].split() == ["ID", "名称", "类型", "启用", "聊天", "URL", "模型", "密钥", "所有者"]
    assert en.out.splitlines()[0].split() == ["ID", "NAME", "TYPE", "ENABLED", "CHAT", "URL", "MODELS", "KEY", "OWNER"]
    assert "https://gw.example.com/v1/responses" in zh.out  # the data itself is the same
    zh_doc = run_cli("--data-dir", str(userdata), "providers", "--json", env=ZH)
    en_doc = run_cli("--data-dir", str(userdata), "providers", "--json", env=EN)
    assert json.loads(zh_doc.out) == json.loads(en_doc.out)  # nothing in it is human text


def test_a_json_error_keeps_its_exit_code_in_both_languages(run_cli: RunCli, tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere")
    zh = json.loads(run_cli("--json", "--data-dir", missing, "providers", env=ZH).out)
    en = json.loads(run_cli("--json", "--data-dir", missing, "providers", env=EN).out)
    assert shape(zh) == shape(en) and zh["exit_code"] == en["exit_code"] == 4
    assert zh["error"] != en["error"]  # the one human field


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32" or shutil.which("tmux") is None, reason="needs tmux")
def test_the_wizard_asks_in_chinese_in_a_real_terminal(tmp_path: Path, userdata: Path) -> None:
    term = Tmux.cli(tmp_path, ["--data-dir", str(userdata), "wizard"], env=ZH)
    try:
        term.wait_for("哪个网关？ （用方向键选择）")  # questionary's hint too
        term.keys("Enter")  # API易, the first preset
        term.wait_for("服务商名称（在 Cherry Studio 中显示）")
        term.keys("C-c")
        shown = term.wait_for("[exit ")
    finally:
        term.close()
    assert "[exit 130]" in shown, shown
    assert "Which gateway?" not in shown


def test_verify_report_in_chinese_and_its_json_keeps_shape_codes_and_results(run_cli: RunCli, tmp_path: Path) -> None:
    models = {"gpt-4.1": ModelSpec(chat="ok", responses="invalid_url"),
              "qwen-2": ModelSpec(chat="no_channel", responses="no_channel")}
    with running(Gateway(models)) as gw:
        path = tmp_path / "gw.yaml"
        path.write_text(f"version: 1\nproviders:\n  - id: gw\n    type: openai-response\n    apiHost: {gw.url}/v1\n"
                        "    apiKey: ${GW_KEY}\n    models: [gpt-4.1, qwen-2]\n", encoding="utf-8")
        env = {"GW_KEY": gw.key}
        zh = run_cli("verify", str(path), env={**env, **ZH})
        zh_doc = json.loads(run_cli("verify", str(path), "--json", env={**env, **ZH}).out)
        en_doc = json.loads(run_cli("verify", str(path), "--json", env={**env, **EN}).out)
    assert zh.code == 5
    assert "该分组没有可用渠道（503）" in zh.out and "待修复（2 个模型在正在使用的端点 responses 上失败）：" in zh.out
    assert zh.err == "cherryconf: 服务商 gw：2 个模型中有 2 个在其使用的端点 responses 上失败\n"
    assert shape(zh_doc) == shape(en_doc)

    def codes(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [(r["model"], r["endpoint"], r["outcome"], r["reason"], r["status"]) for r in doc["results"]]

    assert codes(zh_doc) == codes(en_doc) and ("qwen-2", "chat", "fail", "no_channel", 503) in codes(en_doc)
    assert zh_doc["configured_endpoint"] == en_doc["configured_endpoint"] == "responses"
    assert zh_doc["verdict"] != en_doc["verdict"]  # human text: translated


@pytest.mark.parametrize("failing", [1, 2])
def test_a_count_of_one_is_not_said_as_none_of_them(run_cli: RunCli, tmp_path: Path, failing: int) -> None:
    models = [f"gone-{i}" for i in range(failing)]
    ud = make_userdata(tmp_path)
    with running(Gateway(dict.fromkeys(models, ModelSpec(chat="model_not_found")))) as gw:
        args = ["--data-dir", str(ud), "wizard", "--preset", "custom", "--name", "x", "--base-url", f"{gw.url}/v1",
                "--api-key-env", "GK", *(a for m in models for a in ("--model", m)), "--check", "--yes"]
        zh = run_cli(*args, env={**ZH, "GK": gw.key})
        en = run_cli(*args, env={**EN, "GK": gw.key})
    assert zh.code == en.code == 2
    if failing == 1:
        assert "这个模型没有应答测试消息" in zh.err and "都" not in zh.err, zh.err
        assert "the model did not answer a test chat" in en.err
    else:
        assert "2 个模型都没有应答测试消息" in zh.err
        assert "none of the 2 models answered a test chat" in en.err


def test_presets_read_as_gateway_names_in_chinese(run_cli: RunCli) -> None:
    helped = run_cli("wizard", "--help", env=ZH).out
    joined = "".join(helped.split())  # as read, whatever the line breaks
    assert "siliconflow（硅基流动）" in joined and "deepseek（深度求索）" in joined, helped
    assert "templates/" not in helped and "用法：" in helped and "\n选项：\n" in helped


def test_click_sentences_join_without_a_space_in_chinese(run_cli: RunCli) -> None:
    err = run_cli("apply", "--nope", env=ZH).err
    assert "没有选项 '--nope'。是不是想用" in err and "。 " not in err, err


def test_click_metavars_and_its_errors_speak_chinese(run_cli: RunCli) -> None:
    helped = run_cli("apply", "--help", env=ZH).out
    assert "用法： cherryconf apply [选项] PROFILE" in helped and "--keep 整数范围" in helped, helped
    assert "[默认：20；x>=1]" in helped and "INTEGER" not in helped and "[OPTIONS]" not in helped
    assert "[选项] [命令] [参数]..." in run_cli("--help", env=ZH).out
    err = run_cli("verify", "--timeout", "abc", env=ZH).err
    assert "'abc' 不是有效的小数范围" in err and "float" not in err, err
    # English stays click's own.
    assert "--keep INTEGER RANGE" in run_cli("apply", "--help", env=EN).out
    assert "'abc' is not a valid float range" in run_cli("verify", "--timeout", "abc", env=EN).err


def test_what_the_views_put_around_names_is_full_width_in_chinese(run_cli: RunCli, tmp_path: Path) -> None:
    ud = make_userdata(tmp_path)  # openai, deepseek (routed by id) and a gateway named 我的网关 🚀
    listed = run_cli("--data-dir", str(ud), "providers", env=ZH).out
    assert "https://api.openai.com/v1/responses（按 id）" in listed, listed
    found = run_cli("--data-dir", str(ud), "doctor", env=ZH).out
    assert "（我的网关 🚀）：" in found and "(我的网关" not in found, found
