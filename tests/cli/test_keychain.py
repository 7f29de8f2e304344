"""Keys in the OS keychain (`keyring:<service>/<name>`, `cherryconf key`) and keys Cherry Studio sealed, through the
real CLI, against a real Secret Service (tests/testing/secret_service.py) and a loopback gateway."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from testing import sealing, secret_service, v2db
from testing.cli import fingerprint
from testing.gateway import Gateway, ModelSpec, running

REF = "keyring:cherryconf-test/gw"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running(Gateway({"gpt-4.1": ModelSpec(chat="ok", responses="ok")})) as gw:
        yield gw


def _profile(tmp_path: Path, gw: Gateway, key: str = REF) -> Path:
    path = tmp_path / "gw.yaml"
    path.write_text(f"version: 1\nproviders:\n  - id: gw\n    apiHost: {gw.url}/v1\n    apiKey: {key}\n"
                    "    models: [gpt-4.1]\n", encoding="utf-8")
    return path


def _keys_in_store(data_dir: Path, pid: str = "gw") -> list[str]:
    conn = sqlite3.connect(data_dir / "Data" / "cherrystudio.sqlite")
    try:
        (raw,) = conn.execute("SELECT api_keys FROM user_provider WHERE provider_id = ?", (pid,)).fetchone()
    finally:
        conn.close()
    return [k["key"] for k in json.loads(raw)]


def _seal_in_store(data_dir: Path, sealed: str, pid: str = "gw") -> None:
    conn = sqlite3.connect(data_dir / "Data" / "cherrystudio.sqlite")
    try:
        rows = json.loads(conn.execute("SELECT api_keys FROM user_provider WHERE provider_id = ?",
                                       (pid,)).fetchone()[0])
        conn.execute("UPDATE user_provider SET api_keys = ? WHERE provider_id = ?",
                     (json.dumps([{**rows[0], "key": sealed}]), pid))
        conn.commit()
    finally:
        conn.close()


def _bearers(gw: Gateway) -> set[str]:
    return {r.headers.get("authorization", "") for r in gw.requests}


def test_key_set_get_list_delete(run_cli: Any, keychain: dict[str, str]) -> None:
    stored = run_cli("key", "set", REF, input="sk-kept-in-the-keychain-0123456789\n")
    assert stored.code == 0, stored.err
    masked = run_cli("key", "get", REF)
    assert masked.code == 0 and masked.out.strip() == "sk-ke…6789"
    revealed = run_cli("key", "get", REF, "--reveal")
    assert revealed.out.strip() == "sk-kept-in-the-keychain-0123456789"
    listed = run_cli("key", "list", "--json")
    assert json.loads(listed.out)["keys"] == [{"ref": REF, "state": "present"}]
    assert run_cli("key", "delete", REF).code == 0
    missing = run_cli("key", "get", REF)
    assert missing.code == 2
    assert missing.err.strip() == (f"cherryconf: the keychain has no entry {REF}: create it with "
                                   f"`cherryconf key set {REF}`")


def test_key_set_refuses_an_empty_key_and_a_bad_reference(run_cli: Any, keychain: dict[str, str]) -> None:
    assert run_cli("key", "set", REF, input="\n").code == 2
    bad = run_cli("key", "set", "keyring:/x", input="sk-1\n")
    assert bad.code == 2 and "is not a key reference" in bad.err


def test_a_reference_is_applied_verified_exported_and_checked(run_cli: Any, tmp_path: Path, gateway: Gateway,
                                                               keychain: dict[str, str]) -> None:
    data_dir = tmp_path / "userData"
    v2db.build(data_dir)
    assert run_cli("key", "set", REF, input=gateway.key).code == 0
    path = _profile(tmp_path, gateway)
    applied = run_cli("--data-dir", str(data_dir), "apply", str(path), "--yes", env={"GW_API_KEY": None})
    assert applied.code == 0, applied.err
    assert _keys_in_store(data_dir) == [gateway.key]  # the app needs the key itself
    assert gateway.key not in applied.out + applied.err

    verified = run_cli("verify", str(path), env={"GW_API_KEY": None})
    assert verified.code == 0, verified.err
    assert _bearers(gateway) == {f"Bearer {gateway.key}"}

    exported = run_cli("--data-dir", str(data_dir), "export", "--provider", "gw")
    assert exported.code == 0, exported.err
    assert yaml.safe_load(exported.out)["providers"][0]["apiKey"] == REF

    checked = run_cli("--data-dir", str(data_dir), "apply", str(path), "--check", env={"GW_API_KEY": None})
    assert checked.code == 0, checked.err + checked.out
    assert "up to date" in checked.out


def test_the_environment_variable_wins_over_the_entry(run_cli: Any, tmp_path: Path, gateway: Gateway,
                                                      keychain: dict[str, str]) -> None:
    assert run_cli("key", "set", REF, input="sk-the-entry-not-this-one-000\n").code == 0
    verified = run_cli("verify", str(_profile(tmp_path, gateway)), env={"GW_API_KEY": gateway.key})
    assert verified.code == 0, verified.err
    assert _bearers(gateway) == {f"Bearer {gateway.key}"}


def test_a_missing_entry_is_one_sentence_and_nothing_written(run_cli: Any, tmp_path: Path, gateway: Gateway,
                                                             keychain: dict[str, str]) -> None:
    data_dir = tmp_path / "userData"
    v2db.build(data_dir)
    before = fingerprint(data_dir)
    ref = "keyring:cherryconf-test/never-set"
    result = run_cli("--data-dir", str(data_dir), "apply", str(_profile(tmp_path, gateway, ref)), "--yes")
    assert result.code == 2
    assert result.err.strip() == (f"cherryconf: the keychain has no entry {ref}: create it with `cherryconf key set "
                                  f"{ref}` (or set GW_API_KEY)")
    assert fingerprint(data_dir) == before


@pytest.mark.skipif(sys.platform == "win32", reason="no test keychain to do without on Windows: it always has one")
def test_no_keychain_is_one_sentence_and_nothing_written(run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    data_dir = tmp_path / "userData"
    v2db.build(data_dir)
    before = fingerprint(data_dir)
    result = run_cli("--data-dir", str(data_dir), "apply", str(_profile(tmp_path, gateway)), "--yes")
    assert result.code == 2
    assert result.err.strip() == (f"cherryconf: {REF} cannot be read: no system keychain is available here (no "
                                  "Secret Service, Keychain or Credential Manager answered) (or set GW_API_KEY)")
    assert len(result.err.strip().splitlines()) == 1
    assert fingerprint(data_dir) == before


@pytest.mark.skipif(sys.platform != "linux", reason="locks a private gnome-keyring of its own")
def test_a_locked_keychain_refuses_apply_and_check_compares_digests(run_cli: Any, tmp_path: Path,
                                                                    gateway: Gateway) -> None:
    data_dir = tmp_path / "userData"
    v2db.build(data_dir)
    path = _profile(tmp_path, gateway)
    try:
        context = secret_service.linux_keychain()
        env = context.__enter__()
    except secret_service.Unavailable as e:
        pytest.skip(f"no test keychain: {e}")
    try:
        assert run_cli("key", "set", REF, input=gateway.key, env=env).code == 0
        assert run_cli("--data-dir", str(data_dir), "apply", str(path), "--yes", env=env).code == 0
        secret_service.lock_default_collection(env)
        before = fingerprint(data_dir)

        refused = run_cli("--data-dir", str(data_dir), "apply", str(path), "--yes", env=env)
        assert refused.code == 2
        assert refused.err.strip() == (f"cherryconf: the system keychain is locked, so {REF} cannot be read: "
                                       "unlock it (or set GW_API_KEY) and run the command again")
        assert fingerprint(data_dir) == before

        up_to_date = run_cli("--data-dir", str(data_dir), "apply", str(path), "--check", env=env)
        assert up_to_date.code == 0, up_to_date.err + up_to_date.out

        _seal_in_store(data_dir, "sk-someone-changed-it-in-the-app")
        drift = run_cli("--data-dir", str(data_dir), "apply", str(path), "--check", env=env)
        assert drift.code == 5, drift.err + drift.out
        assert f"gw: the store's key is not the one {REF} held when it was applied" in drift.err
        assert "sk-someone-changed-it-in-the-app" not in drift.out + drift.err
    finally:
        context.__exit__(None, None, None)


# --- keys Cherry Studio sealed (2.x, PR #19138) ----------------------------------------------------------


def _store_with_sealed_key(run_cli: Any, tmp_path: Path, gw: Gateway, seal: Any) -> Path:
    data_dir = tmp_path / "userData"
    v2db.build(data_dir)
    applied = run_cli("--data-dir", str(data_dir), "apply", str(_profile(tmp_path, gw, "${GW_KEY}")), "--yes",
                      env={"GW_KEY": gw.key})
    assert applied.code == 0, applied.err
    _seal_in_store(data_dir, seal(data_dir))
    return data_dir


def test_an_aes_sealed_key_is_read_back_and_sent_in_clear(run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    data_dir = _store_with_sealed_key(run_cli, tmp_path, gateway, lambda d: sealing.aes(gateway.key, d))
    listed = run_cli("--data-dir", str(data_dir), "providers", "--json")
    assert next(p for p in json.loads(listed.out)["providers"] if p["id"] == "gw")["apiKey"] == "(encrypted)"
    verified = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw")
    assert verified.code == 0, verified.err
    assert _bearers(gateway) == {f"Bearer {gateway.key}"}

    out = tmp_path / "with-keys.yaml"
    assert run_cli("--data-dir", str(data_dir), "export", "--with-keys", "-o", str(out)).code == 0
    keys = [p["apiKey"] for p in yaml.safe_load(out.read_text(encoding="utf-8"))["providers"]]
    assert gateway.key in keys and not any(str(k).startswith("v1:") for k in keys)

    imported = tmp_path / "imported.yaml"
    result = run_cli("import", "--from-data-dir", str(data_dir), "--with-keys", "-o", str(imported))
    assert result.code == 0, result.err
    assert gateway.key in [p["apiKey"] for p in yaml.safe_load(imported.read_text(encoding="utf-8"))["providers"]]


def test_a_safe_storage_key_is_never_sent_where_it_cannot_be_read(run_cli: Any, tmp_path: Path,
                                                                  gateway: Gateway) -> None:
    data_dir = _store_with_sealed_key(run_cli, tmp_path, gateway,
                                      lambda d: sealing.safe_storage(gateway.key, b"not-reachable"))
    verified = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw")
    assert verified.code == 2
    assert verified.err.strip() == ("cherryconf: encrypted by Cherry Studio; give the key in a profile, as ${VAR} "
                                    "or keyring:<service>/<name>")
    assert gateway.requests == []
    exported = run_cli("--data-dir", str(data_dir), "export", "--with-keys", "-o", str(tmp_path / "x.yaml"))
    assert exported.code == 0, exported.err
    assert "v1:" not in (tmp_path / "x.yaml").read_text(encoding="utf-8")
    assert "gw: the key is encrypted by Cherry Studio" in exported.err


@pytest.mark.skipif(sys.platform != "linux", reason="Electron's safeStorage keeps its password in the Secret Service "
                                                     "on Linux only")
def test_a_safe_storage_key_is_read_through_the_secret_service(run_cli: Any, tmp_path: Path, gateway: Gateway,
                                                                keychain: dict[str, str]) -> None:
    password = sealing.store_safe_storage_password(keychain)
    data_dir = _store_with_sealed_key(run_cli, tmp_path, gateway,
                                      lambda d: sealing.safe_storage(gateway.key, password))
    verified = run_cli("--data-dir", str(data_dir), "verify", "--provider", "gw")
    assert verified.code == 0, verified.err
    assert _bearers(gateway) == {f"Bearer {gateway.key}"}


def test_a_key_the_app_sealed_since_is_no_change(run_cli: Any, tmp_path: Path, gateway: Gateway) -> None:
    """The app encrypts a plaintext key at its next start: applying the same profile again changes nothing (and
    writes nothing); a different key is still written."""
    data_dir = _store_with_sealed_key(run_cli, tmp_path, gateway, lambda d: sealing.aes(gateway.key, d))
    sealed_key = _keys_in_store(data_dir)
    profile = _profile(tmp_path, gateway, "${GW_KEY}")
    again = run_cli("--data-dir", str(data_dir), "apply", str(profile), "--yes", env={"GW_KEY": gateway.key})
    assert again.code == 0 and "no changes" in again.out, again.out + again.err
    assert _keys_in_store(data_dir) == sealed_key
    check = run_cli("--data-dir", str(data_dir), "apply", str(profile), "--check", env={"GW_KEY": gateway.key})
    assert check.code == 0, check.out + check.err
    rotated = run_cli("--data-dir", str(data_dir), "apply", str(profile), "--yes", env={"GW_KEY": "sk-rotated-99"})
    assert rotated.code == 0, rotated.err
    assert _keys_in_store(data_dir) == ["sk-rotated-99"]
