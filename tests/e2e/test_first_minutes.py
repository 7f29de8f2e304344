"""A new user's first ten minutes (issue 27): each paper cut, through the real CLI on real 1.x and 2.x stores."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from testing import v2db
from testing.cli import fingerprint
from testing.stores import data_dir

__all__ = ["data_dir"]  # every store kind (tests/testing/stores.py), for the tests that ask for it

PROFILE = """\
version: 1
providers:
  - id: gw
    name: GW
    apiHost: https://gw.example
    apiKey: sk-test-0123456789abcdef
    models: [gpt-4.1]
defaultModel: gw/gpt-4.1
"""


def write(tmp_path: Path, text: str, name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", ["--check", "--dry-run", "--yes"])
def test_a_2_0_8_database_without_a_preference_table_is_refused_alike_by_check_and_apply(
        tmp_path: Path, run_cli: Any, mode: str) -> None:
    install = v2db.build(tmp_path / "userData", "release")
    (install.data_dir / "version.log").write_text("2.0.8|linux|prod|packaged|install|2026-08-22T10:00:00.000Z\n",
                                                  encoding="utf-8")
    conn = sqlite3.connect(install.sqlite_path)
    conn.execute("DROP TABLE preference")
    conn.commit()
    conn.close()
    profile = write(tmp_path, PROFILE)
    before = fingerprint(install.data_dir)
    result = run_cli("--data-dir", str(install.data_dir), "apply", str(profile), mode)
    # The refusal apply meets when it writes, met while planning: --check predicts no change apply cannot make.
    assert (result.code, result.out) == (4, "")
    assert result.err == ("cherryconf: Cherry Studio's database has no preference table to hold the default "
                          "model\n")
    assert fingerprint(install.data_dir) == before
    assert not list((tmp_path / "_cherryconf_home").glob("backups/*/*"))


def test_a_provider_without_a_key_says_null_in_json_and_none_in_text(data_dir: Path, run_cli: Any,
                                                                     tmp_path: Path) -> None:
    listed = run_cli("--data-dir", str(data_dir), "providers", "--json")
    assert listed.code == 0, listed.err
    keys = {p["id"]: p["apiKey"] for p in json.loads(listed.out)["providers"]}
    assert keys["openai"] is None  # a keyless built-in, in every store kind
    assert all(k is None or (isinstance(k, str) and "…" in k) for k in keys.values())
    # --all: in 2.x the keyless openai preset is one nobody set up, which the table otherwise only counts.
    table = run_cli("--data-dir", str(data_dir), "providers", "--all").out.splitlines()
    assert "(none)" in next(line for line in table if line.startswith("openai "))
    chinese = run_cli("--data-dir", str(data_dir), "providers", "--all", env={"LANG": "zh_CN.UTF-8"}).out.splitlines()
    assert "（无）" in next(line for line in chinese if line.startswith("openai "))


def test_a_key_given_to_a_keyless_provider_was_null_before_in_json(tmp_path: Path, run_cli: Any) -> None:
    install = v2db.build(tmp_path / "userData", "release")
    profile = write(tmp_path, "version: 1\nproviders:\n  - id: silicon\n    apiHost: https://api.siliconflow.cn\n"
                              "    apiKey: sk-abcdefghijklmnop\n")
    planned = run_cli("--data-dir", str(install.data_dir), "--json", "apply", str(profile), "--dry-run")
    assert planned.code == 0, planned.err
    change = json.loads(planned.out)["changes"][0]
    assert change["fields"]["apiKey"] == {"before": None, "after": "sk-ab…mnop"}
    shown = run_cli("--data-dir", str(install.data_dir), "apply", str(profile), "--dry-run")
    assert "    apiKey: (none) -> sk-ab…mnop" in shown.out


@pytest.mark.parametrize("mode", [(), ("--whole",), ("--providers",)])
def test_restore_dry_run_says_what_it_would_delete_and_the_default_model_it_puts_back(
        data_dir: Path, run_cli: Any, tmp_path: Path, mode: tuple[str, ...]) -> None:
    dd = ("--data-dir", str(data_dir))
    assert run_cli(*dd, "apply", str(write(tmp_path, PROFILE)), "--yes").code == 0
    applied = run_cli(*dd, "providers", "--json").out
    was = run_cli(*dd, "restore", "--dry-run", *mode, "--json")
    assert was.code == 0, was.err
    document = json.loads(was.out)
    assert document["dry_run"] is True and document["default_model"] is not None
    back = document["default_model"]
    assert (back["provider"], back["id"]) != ("gw", "gpt-4.1")
    text = run_cli(*dd, "restore", "--dry-run", *mode)
    assert "- gw (GW): provider will be deleted" in text.out
    assert f"~ default model: gw/gpt-4.1 -> {back['provider']}/{back['id']}" in text.out
    assert "provider removed" not in text.out
    chinese = run_cli(*dd, "restore", "--dry-run", *mode, env={"LANG": "zh_CN.UTF-8"})
    assert "- gw（GW）：将删除服务商" in chinese.out and "~ 默认模型：gw/gpt-4.1 -> " in chinese.out
    assert run_cli(*dd, "providers", "--json").out == applied  # a dry run


OFF_NOTE = ("gw: as the profile says, but turned off in the app; add `enabled: true` to the profile to turn it on")


def test_a_provider_the_user_turned_off_is_said_to_be_off_and_listed_so(data_dir: Path, run_cli: Any,
                                                                        tmp_path: Path) -> None:
    dd = ("--data-dir", str(data_dir))
    profile = write(tmp_path, PROFILE)
    assert run_cli(*dd, "apply", str(profile), "--yes").code == 0
    listed = {p["id"]: p for p in json.loads(run_cli(*dd, "providers", "--json").out)["providers"]}
    assert listed["gw"]["enabled"] is True
    # The user switches it off in the app: the same field as a profile saying so (1.x `enabled`, 2.x is_enabled).
    off = write(tmp_path, PROFILE.replace("    models: [gpt-4.1]\n", "    models: [gpt-4.1]\n    enabled: false\n"),
                "off.yaml")
    assert run_cli(*dd, "apply", str(off), "--yes").code == 0
    listed = {p["id"]: p for p in json.loads(run_cli(*dd, "providers", "--json").out)["providers"]}
    assert listed["gw"]["enabled"] is False and listed["openai"]["enabled"] is False
    table = run_cli(*dd, "providers").out.splitlines()
    assert table[0].split()[:4] == ["ID", "NAME", "TYPE", "ENABLED"]
    assert next(line for line in table if line.startswith("gw ")).split()[3] == "no"

    # The profile leaves `enabled` out: the user's choice stands, and check and apply say so for that provider.
    check = run_cli(*dd, "apply", str(profile), "--check")
    assert check.code == 0, check.err
    assert check.out == f"up to date: the store already holds this profile\n{OFF_NOTE}\n"
    applied = run_cli(*dd, "apply", str(profile), "--yes")
    assert applied.out == f"no changes: the store already holds this profile\n{OFF_NOTE}\n"
    assert json.loads(run_cli(*dd, "--json", "apply", str(profile), "--check").out)["turned_off"] == ["gw"]
    zh = run_cli(*dd, "apply", str(profile), "--check", env={"LANG": "zh_CN.UTF-8"})
    assert "gw：已与配置文件一致，但在应用中处于关闭状态；在配置文件中加上 `enabled: true` 即可启用" in zh.out

    # `enabled: true` (as the README's example says) turns it on; then nothing is said.
    on = write(tmp_path, PROFILE.replace("    models: [gpt-4.1]\n", "    models: [gpt-4.1]\n    enabled: true\n"))
    assert run_cli(*dd, "apply", str(on), "--check").code == 5
    assert run_cli(*dd, "apply", str(on), "--yes").code == 0
    assert run_cli(*dd, "apply", str(profile), "--check").out == "up to date: the store already holds this profile\n"


def test_export_names_key_variables_after_the_providers(tmp_path: Path, run_cli: Any) -> None:
    from testing.v1state import make_userdata, with_provider

    relay = "3f9a2c1e-1111-4a42-9a8e-0c2b8f1f6a01"  # the 1.x app gives a provider added by hand a UUID
    source = make_userdata(tmp_path / "v1", with_provider(
        {"id": relay, "name": "My Relay (EU)", "type": "openai", "apiKey": "sk-relay-0123456789ab",
         "apiHost": "https://relay.example.eu", "models": [], "enabled": True, "isSystem": False}))
    exported = run_cli("--data-dir", str(source), "export", "-o", str(tmp_path / "mine.yaml"))
    assert exported.code == 0, exported.err
    text = (tmp_path / "mine.yaml").read_text(encoding="utf-8")
    # The custom gateway of the fixture store is a UUID named 我的网关 🚀: a short form of its id.
    assert "apiKey: ${MY_RELAY_EU_API_KEY}" in text and "apiKey: ${PROVIDER_8C2A0E5E_API_KEY}" in text
    assert "3F9A2C1E" not in text
    assert "set MY_RELAY_EU_API_KEY, DEEPSEEK_API_KEY, PROVIDER_8C2A0E5E_API_KEY where you apply it" in exported.err
    target = v2db.build(tmp_path / "v2", "later", migrated_provider=False)
    env = {"MY_RELAY_EU_API_KEY": "sk-relay-0123456789ab", "DEEPSEEK_API_KEY": "sk-deepseek-000000000000",
           "PROVIDER_8C2A0E5E_API_KEY": "sk-mine-1111111111111111"}
    applied = run_cli("--data-dir", str(target.data_dir), "apply", str(tmp_path / "mine.yaml"), "--yes", env=env)
    assert applied.code == 0, applied.err


def test_credentials_in_a_base_url_are_exported_as_a_reference_and_applied_back(tmp_path: Path, run_cli: Any
                                                                               ) -> None:
    from testing.v1state import make_userdata, with_provider

    host = "https://team:pa55w0rd@relay.example.eu/v1"
    source = make_userdata(tmp_path / "v1", with_provider(
        {"id": "relay", "name": "Relay", "type": "openai", "apiKey": "sk-relay-0123456789ab", "apiHost": host,
         "models": [], "enabled": True, "isSystem": False}))
    exported = run_cli("--data-dir", str(source), "export", "--provider", "relay", "-o", str(tmp_path / "r.yaml"))
    assert exported.code == 0, exported.err
    text = (tmp_path / "r.yaml").read_text(encoding="utf-8")
    assert "pa55w0rd" not in text and "apiHost: https://${RELAY_URL_CREDENTIALS}@relay.example.eu/v1" in text
    assert "RELAY_API_KEY, RELAY_URL_CREDENTIALS where you apply it" in exported.err
    target = v2db.build(tmp_path / "v2", "later", migrated_provider=False)
    env = {"RELAY_API_KEY": "sk-relay-0123456789ab", "RELAY_URL_CREDENTIALS": "team:pa55w0rd"}
    dd = ("--data-dir", str(target.data_dir))
    assert run_cli(*dd, "apply", str(tmp_path / "r.yaml"), "--yes", env=env).code == 0
    listed = json.loads(run_cli(*dd, "providers", "--json").out)["providers"]
    assert next(p for p in listed if p["id"] == "relay")["url"].startswith("https://***@relay.example.eu/")


def test_2x_presets_show_the_type_the_app_gives_them(tmp_path: Path, run_cli: Any) -> None:
    # The newest app's preset rows store no endpoint: the app takes it from its registry (issue 27: all said openai).
    fresh = v2db.first_boot(tmp_path / "fresh")
    dd = ("--data-dir", str(fresh.data_dir))
    listed = {p["id"]: p["type"] for p in json.loads(run_cli(*dd, "providers", "--json").out)["providers"]}
    assert {pid: listed[pid] for pid in ("anthropic", "gemini", "ollama", "openai", "new-api", "gateway", "silicon",
                                         "vertexai", "cherryai")} == {
        "anthropic": "anthropic", "gemini": "gemini", "ollama": "ollama", "openai": "openai-response",
        "new-api": "new-api", "gateway": "gateway", "silicon": "openai", "vertexai": "vertexai", "cherryai": "openai"}
    table = run_cli(*dd, "providers", "--all").out.splitlines()  # nobody set it up: listed with --all
    assert next(line for line in table if line.startswith("anthropic ")).split()[2] == "anthropic"

    # A key and host for the Anthropic preset keep it on Anthropic's endpoint, the registry's default.
    profile = write(tmp_path, "version: 1\nproviders:\n  - id: anthropic\n    type: anthropic\n"
                              "    apiHost: https://api.anthropic.com\n"
                              "    apiKey: sk-ant-0123456789abcdef\n")
    applied = run_cli(*dd, "apply", str(profile), "--yes")
    assert applied.code == 0, applied.err
    row = next(r for r in v2db.dump(fresh)["user_provider"] if r["provider_id"] == "anthropic")
    assert row["default_chat_endpoint"] is None  # still the registry's, as the app stores a preset
    assert json.loads(row["endpoint_configs"]) == {"anthropic-messages": {"baseUrl": "https://api.anthropic.com"}}
    again = run_cli(*dd, "apply", str(profile), "--check")
    assert again.code == 0, again.out + again.err
