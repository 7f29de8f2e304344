"""One suite, every store: the real CLI on a 1.x LevelDB (written by plyvel) and on both 2.x database shapes.

Same merge rules, idempotence, dry run, doctor, export and restore, whatever the store: what users rely on.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from testing import v2db
from testing.gateway import Gateway, ModelSpec, running
from testing.privacy import assert_private
from testing.running_app import app_running
from testing.stores import KEY, PROFILE, apply, data_dir, providers, store_bytes, write_profile
from testing.v1state import make_userdata

__all__ = ["data_dir"]  # the suite's fixture (tests/testing/stores.py): every test below runs on every store


def test_apply_adds_the_provider_and_a_second_apply_changes_nothing(
        run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    before = providers(run_cli, data_dir)
    profile = write_profile(tmp_path)

    dry = apply(run_cli, data_dir, profile, "--dry-run")
    assert dry.code == 0, dry.err
    assert "+ gw" in dry.out and "dry run" in dry.out and KEY not in dry.out
    assert providers(run_cli, data_dir) == before

    done = apply(run_cli, data_dir, profile, "--yes")
    assert done.code == 0, done.err
    assert KEY not in done.out + done.err
    after = providers(run_cli, data_dir)
    assert after[0]["id"] == "gw" and after[0]["type"] == "openai"
    assert after[0]["url"] == "https://gw.example.com/v1/chat/completions"
    assert after[0]["models"] == ["gpt-4.1", "deepseek-r1"]
    assert after[0]["apiKey"] != KEY and after[0]["apiKey"].startswith("sk-")
    assert after[1:] == before

    fingerprint = store_bytes(data_dir)
    again = apply(run_cli, data_dir, profile, "--yes")
    assert again.code == 0 and "no changes" in again.out
    assert store_bytes(data_dir) == fingerprint


def test_update_merges_by_id(run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    assert apply(run_cli, data_dir, write_profile(tmp_path), "--yes").code == 0
    second = write_profile(tmp_path, PROFILE.replace("      - gpt-4.1\n", "      - o3\n"), "second.yaml")
    result = run_cli("--data-dir", str(data_dir), "apply", str(second), "--yes", "--json",
                     env={"GW_KEY": "sk-rotated-key-9876543210"})
    assert result.code == 0, result.err
    report = json.loads(result.out)
    change = report["changes"][0]
    assert change["action"] == "update" and change["models_added"] == ["o3"]
    assert set(change["fields"]) == {"apiKey"}
    assert "sk-rotated-key-9876543210" not in result.out
    gw = providers(run_cli, data_dir)[0]
    assert gw["models"] == ["gpt-4.1", "deepseek-r1", "o3"]  # merged: nothing dropped without replaceModels


def test_bad_profile_and_running_app_write_nothing(run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    fingerprint = store_bytes(data_dir)
    bad = write_profile(tmp_path, PROFILE.replace("https://gw.example.com", "ftp://gw.example.com"), "bad.yaml")
    result = apply(run_cli, data_dir, bad, "--yes")
    assert result.code == 2 and result.err.startswith("cherryconf: ") and result.err.count("\n") == 1
    assert "providers[0].apiHost" in result.err

    with app_running(data_dir):
        running = apply(run_cli, data_dir, write_profile(tmp_path), "--yes")
        assert store_bytes(data_dir) == fingerprint
    assert running.code == 3, running.err
    assert "quit" in running.err and "Traceback" not in running.err
    assert not list((tmp_path / "_cherryconf_home").glob("backups/*/*"))


def test_doctor_finds_and_fixes_a_responses_provider_on_a_gateway(
        run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    broken = write_profile(tmp_path, PROFILE.replace("    apiHost:", "    type: openai-response\n    apiHost:"),
                           "broken.yaml")
    assert apply(run_cli, data_dir, broken, "--yes").code == 0
    found = run_cli("--data-dir", str(data_dir), "doctor", "--json")
    assert found.code == 5
    codes = {(f["provider"], f["code"]) for f in json.loads(found.out)["findings"]}
    assert ("gw", "responses-on-gateway") in codes

    fixed = run_cli("--data-dir", str(data_dir), "doctor", "--fix", "--yes")
    assert "backup:" in fixed.out
    gw = providers(run_cli, data_dir)[0]
    assert gw["type"] == "openai" and gw["url"] == "https://gw.example.com/v1/chat/completions"
    # What is left (the 1.x seed's gateway sends `X-Team: 研发`, which no request can carry) is not gw's.
    again = run_cli("--data-dir", str(data_dir), "doctor", "--json")
    assert all(f["provider"] != "gw" for f in json.loads(again.out)["findings"])
    assert again.code == fixed.code, fixed.out + fixed.err


def test_export_applies_back_without_changing_where_chats_go(run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    assert apply(run_cli, data_dir, write_profile(tmp_path), "--yes").code == 0
    before = providers(run_cli, data_dir)
    exported = tmp_path / "exported.yaml"
    result = run_cli("--data-dir", str(data_dir), "export", "-o", str(exported))
    assert result.code == 0, result.err
    assert KEY not in exported.read_text(encoding="utf-8")
    assert "${GW_API_KEY}" in exported.read_text(encoding="utf-8")
    assert_private(exported)
    refs = set(re.findall(r"\$\{(\w+)\}", exported.read_text(encoding="utf-8")))
    env = dict.fromkeys(refs, "sk-other-key") | {"GW_API_KEY": KEY}
    back = run_cli("--data-dir", str(data_dir), "apply", str(exported), "--yes", env=env)
    assert back.code == 0, back.err
    after = {p["id"]: p for p in providers(run_cli, data_dir)}
    for p in before:
        assert after[p["id"]]["url"] == p["url"]
        assert after[p["id"]]["models"] == p["models"]

    refused = run_cli("--data-dir", str(data_dir), "export", "--with-keys")
    assert refused.code == 2 and "-o FILE" in refused.err


def test_restore_puts_the_providers_back(run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    before = providers(run_cli, data_dir)
    assert apply(run_cli, data_dir, write_profile(tmp_path), "--yes").code == 0
    preview = run_cli("--data-dir", str(data_dir), "restore", "--dry-run")
    assert preview.code == 0 and "- gw" in preview.out
    result = run_cli("--data-dir", str(data_dir), "restore", "--yes")
    assert result.code == 0, result.err
    assert providers(run_cli, data_dir) == before
    listed = json.loads(run_cli("--data-dir", str(data_dir), "backups", "--json").out)["backups"]
    assert [b["reason"] for b in listed] == ["pre-restore", "apply"]


def test_a_bad_profile_is_reported_before_the_install_is_looked_for(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("apply", str(tmp_path / "missing.yaml"), "--yes")  # no install anywhere in this fake home
    assert result.code == 2 and result.err == f"cherryconf: {tmp_path / 'missing.yaml'}: no such file\n"


def test_the_one_line_wizard_writes_every_store(run_cli: Any, data_dir: Path) -> None:
    result = run_cli("--data-dir", str(data_dir), "wizard", "--preset", "apiyi", "--base-url",
                     "https://vip.apiyi.com/v1", "--api-key-env", "GW_KEY", "--model", "gpt-4.1", "--model",
                     "deepseek-r1", "--no-check", "--yes", env={"GW_KEY": KEY})
    assert result.code == 0, result.out + result.err
    assert KEY not in result.out + result.err
    top = providers(run_cli, data_dir)[0]
    assert (top["id"], top["type"], top["url"]) == ("apiyi", "openai", "https://vip.apiyi.com/v1/chat/completions")
    assert top["models"] == ["gpt-4.1", "deepseek-r1"]


def test_verify_probes_a_stored_provider_of_every_store(run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    models = {"gpt-4.1": ModelSpec(chat="ok", responses="invalid_url"),
              "deepseek-r1": ModelSpec(chat="reasoning", responses="convert_failed")}
    with running(Gateway(models)) as gw:
        text = PROFILE.replace("https://gw.example.com/v1/chat/completions", gw.url)
        applied = run_cli("--data-dir", str(data_dir), "apply", str(write_profile(tmp_path, text)), "--yes",
                          env={"GW_KEY": gw.key})
        assert applied.code == 0, applied.err
        result = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw", "--json")
        assert result.code == 0, result.out + result.err
        report = json.loads(result.out)
        assert "2 of 2 models answer on chat/completions" in report["verdict"]
        assert all(r.headers.get("authorization") == f"Bearer {gw.key}" for r in gw.requests)
        assert gw.key[:8] not in result.out

        # A wrong key: the gateway echoes part of it; none of it reaches the output.
        wrong = apply(run_cli, data_dir, write_profile(tmp_path, text), "--yes")  # GW_KEY is not the gateway's
        assert wrong.code == 0, wrong.err
        refused = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw")
        assert refused.code == 5
        assert KEY[:6] not in refused.out + refused.err


def test_a_long_path_with_spaces_and_chinese(run_cli: Any, tmp_path: Path) -> None:
    """A data directory and a cherryconf home past Windows' 260-character MAX_PATH, under a user name with
    Chinese characters and a space: apply, then restore, on each store. (On Windows this needs long paths enabled,
    as Windows 10 and later allow; Wine allows them as Linux does.)"""
    deep = tmp_path.joinpath("Users", "张三 Li", *["长路径 long folder"] * 12)
    assert len(str(deep)) > 260
    # The 1.x store is written by plyvel, whose Windows build cannot open such a path: made beside, then moved in.
    v1 = deep / "v1"
    shutil.copytree(make_userdata(tmp_path / "short"), v1)
    for kind, made in (("v1", v1), ("v2", v2db.build(deep / "v2" / "CherryStudio").data_dir)):
        before = providers(run_cli, made)
        home = {"CHERRYCONF_HOME": str(deep / f"cherryconf-{kind}")}
        applied = run_cli("--data-dir", str(made), "apply", str(write_profile(tmp_path)), "--yes",
                          env={"GW_KEY": KEY, **home})
        assert applied.code == 0, applied.err
        assert providers(run_cli, made)[0]["id"] == "gw"
        restored = run_cli("--data-dir", str(made), "restore", "--yes", env=home)
        assert restored.code == 0, restored.err
        assert providers(run_cli, made) == before
