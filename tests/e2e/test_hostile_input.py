"""Hostile input stays bounded (issue 25): real zip files, real SQLite files, a loopback gateway sending bodies no
API sends, run through the real CLI; each refused with the documented exit code and one sentence, within bounded
time and memory, and nothing written.

Peak memory is the CLI process's own (tests/testing/bounded.py), so these are POSIX-only; the bounds are far
above what a refusal costs and far below what the unbounded read cost before (gigabytes).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testing import hostile, v2db
from testing.bounded import one_sentence, run_measured
from testing.cli import PACKAGE_ROOT, RunCli, fingerprint
from testing.stores import KEY

pytestmark = pytest.mark.posix_only  # peak memory through the resource module

MEMORY_MB = 200


def assert_refused(m: object, code: int, words: str) -> None:
    from testing.bounded import Measured

    assert isinstance(m, Measured)
    assert m.code == code, m.err
    assert one_sentence(m.err), m.err
    assert words in m.err, m.err
    assert m.peak_mb < MEMORY_MB, f"{m.peak_mb:.0f} MB"
    assert m.seconds < 60


def own_tmp(root: Path) -> Path:
    """A temporary folder for one CLI run (TMPDIR), so that what is left there is that run's alone."""
    path = root / "_tmp"
    path.mkdir()
    return path


# --- import ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("build", "words"), [
    (lambda p: hostile.zip_bomb(p / "bomb.zip"), "would grow more than 200 times"),
    (lambda p: hostile.data_json_bomb(p / "data.zip"), "holds no Cherry Studio settings in its first 32 MB"),
    (lambda p: hostile.recursive_view_database(p / "view.sqlite"), "user_model is a view"),
    (lambda p: hostile.zeroblob_ccswitch(p / "cc-switch.db"), "providers has generated columns"),
    (lambda p: hostile.deep_json(p / "deep.json"), "nested more than 64 levels"),
    (lambda p: hostile.deep_json(p / "deep5.json", json5=True), "nested more than 64 levels"),
    (lambda p: hostile.big_json5(p / "ccr.json"), "is not valid JSON"),
], ids=["zip bomb", "data.json bomb", "recursive view", "zeroblob generated column", "deep JSON", "deep JSON5",
        "4 MB of JSON5"])
def test_hostile_import_sources_are_refused_within_bounds(tmp_path: Path, build: object, words: str) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    source = build(sources)  # type: ignore[operator]
    tmp = own_tmp(tmp_path)
    before = fingerprint(tmp_path)
    m = run_measured("import", str(source), "-o", str(tmp_path / "out.yaml"), cwd=tmp_path, env={"TMPDIR": str(tmp)})
    assert_refused(m, 2, words)
    assert fingerprint(tmp_path) == before  # no profile written, the source untouched, no copy left in TMPDIR


def test_an_import_killed_by_sigterm_leaves_no_copy_of_the_store(tmp_path: Path) -> None:
    """The private copy of a 2.x store (keys included) is removed when the import is terminated mid-way."""
    data = v2db.build(tmp_path / "other" / "CherryStudio").data_dir
    conn = __import__("sqlite3").connect(data / "Data" / "cherrystudio.sqlite")
    # Bulk, so that the copy takes a while (the app's own message table is there too, empty).
    conn.execute("CREATE TABLE bulk (id INTEGER PRIMARY KEY, content TEXT)")
    conn.executemany("INSERT INTO bulk (content) VALUES (?)", (("x" * 4000,) for _ in range(60_000)))
    conn.commit()
    conn.close()
    tmp = own_tmp(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), TMPDIR=str(tmp))
    for delay in (0.6, 0.9, 1.2):
        proc = subprocess.Popen([sys.executable, "-m", "cherryconf", "import", "--from-data-dir", str(data), "-o",
                                 str(tmp_path / "out.yaml")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, 130), err
        assert proc.returncode == 0 or err == "cherryconf: interrupted; nothing was written\n"
        assert not any(tmp.iterdir())
    assert not (tmp_path / "out.yaml").exists() or proc.returncode == 0


# --- verify and the wizard's model list --------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "words"), [
    ("gzip bomb", "larger than 4 MB"),
    ("endless body", "larger than 4 MB"),
    ("endless event line", "a line longer than 256 KB"),
    ("big error with the key", "HTTP 400"),
])
def test_verify_reads_hostile_gateways_within_bounds(tmp_path: Path, kind: str, words: str) -> None:
    with hostile.gateway(kind) as url:
        profile = tmp_path / "profile.yaml"
        profile.write_text(hostile.profile_for(url), "utf-8")
        m = run_measured("verify", str(profile), "--endpoint", "chat", "--timeout", "5", "--json", cwd=tmp_path)
    assert m.code == 5, m.err
    assert m.peak_mb < MEMORY_MB, f"{m.peak_mb:.0f} MB"
    assert m.seconds < 30
    report = json.loads(m.out)
    text = json.dumps(report, ensure_ascii=False)
    assert words in text, text[:2000]
    assert hostile.KEY[:12] not in text and hostile.KEY[-8:] not in text


@pytest.mark.parametrize("kind", ["gzip bomb", "endless body"])
def test_the_wizards_model_list_is_read_within_bounds(kind: str) -> None:
    """The wizard's /models fetch (probe.list_models) refuses the body in one sentence, in this process."""
    import resource

    from cherryconf.errors import BadInput
    from cherryconf.ops import probe

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with hostile.gateway(kind) as url, pytest.raises(BadInput) as refused:
        probe.list_models({"id": "wizard", "type": "openai", "apiHost": url, "apiKey": hostile.KEY}, timeout=10)
    assert "larger than 4 MB" in refused.value.message and "\n" not in refused.value.message
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < MEMORY_MB


# --- secrets ------------------------------------------------------------------------------------------------------

def test_export_and_import_write_credential_headers_as_references(tmp_path: Path, run_cli: RunCli) -> None:
    export = {"version": 1, "providers": [{
        "id": "relay", "name": "Relay", "endpointConfigs": {"openai-chat-completions": {"baseUrl": "https://r.example/v1"}},
        "apiKeys": [{"id": "a", "key": KEY, "isEnabled": True}], "isEnabled": True, "models": [],
        "settings": {"extraHeaders": {"Authorization": f"Bearer {KEY}", "x-api-key": "other-secret-value",
                                      "Cookie": "session=abcdef123456", "X-Team": "dev"}}}]}
    source = tmp_path / "providers.json"
    source.write_text(json.dumps(export), "utf-8")
    result = run_cli("import", str(source), "-o", str(tmp_path / "out.yaml"))
    assert result.code == 0, result.err
    written = (tmp_path / "out.yaml").read_text("utf-8")
    assert KEY not in written and "other-secret-value" not in written and "abcdef123456" not in written
    assert "Bearer ${RELAY_API_KEY}" in written and "${RELAY_HEADER_X_API_KEY}" in written
    assert "X-Team: dev" in written
    kept = run_cli("import", str(source), "--with-keys", "-o", str(tmp_path / "keys.yaml"))
    assert kept.code == 0 and f"Bearer {KEY}" in (tmp_path / "keys.yaml").read_text("utf-8")


def test_url_credentials_are_masked_wherever_a_url_is_shown(tmp_path: Path, run_cli: RunCli) -> None:
    data = v2db.build(tmp_path / "CherryStudio").data_dir
    profile = tmp_path / "p.yaml"
    profile.write_text("version: 1\nproviders:\n  - id: gw\n    name: GW\n    apiHost: https://bob:hunter22@gw.example\n"
                       f"    apiKey: {KEY}\n    models: [gpt-4.1]\n", "utf-8")
    shown = [run_cli("--data-dir", str(data), "apply", str(profile), "--dry-run"),
             run_cli("--data-dir", str(data), "--json", "apply", str(profile), "--dry-run"),
             run_cli("--data-dir", str(data), "apply", str(profile), "--yes"),
             run_cli("--data-dir", str(data), "providers"),
             run_cli("--data-dir", str(data), "--json", "providers")]
    for r in shown:
        assert r.code == 0, r.err
        assert "hunter22" not in r.out + r.err and KEY not in r.out + r.err
    assert "https://***@gw.example" in shown[3].out


def test_a_message_never_quotes_a_key_in_a_url(tmp_path: Path, run_cli: RunCli) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("version: 1\nproviders:\n  - id: gw\n    apiHost: https://gw.example/v1?key=AIzaSyHiddenKey123\n"
                       f"    apiKey: {KEY}\n    models: [m]\n", "utf-8")
    result = run_cli("--data-dir", str(tmp_path), "apply", str(profile), "--dry-run")
    assert result.code == 2 and one_sentence(result.err)
    assert "AIzaSyHiddenKey123" not in result.err and "key=***" in result.err


# --- restore, and the two crash classes ---------------------------------------------------------------------

def test_restore_refuses_a_manifest_naming_a_path_outside_the_backup(tmp_path: Path, run_cli: RunCli) -> None:
    data = v2db.build(tmp_path / "CherryStudio").data_dir
    profile = tmp_path / "p.yaml"
    profile.write_text(f"version: 1\nproviders:\n  - id: gw\n    apiHost: https://gw.example\n    apiKey: {KEY}\n"
                       "    models: [m]\n", "utf-8")
    assert run_cli("--data-dir", str(data), "apply", str(profile), "--yes").code == 0
    (manifest,) = (tmp_path / "_cherryconf_home").rglob("manifest.json")
    doc = json.loads(manifest.read_text("utf-8"))
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    # The outside file's own size and checksum: an edit that passes every check but the path's.
    relative = Path(os.path.relpath(outside, manifest.parent / "files")).as_posix()
    assert relative.startswith("../")
    doc["files"].append({"path": relative, "size": outside.stat().st_size,
                         "sha256": __import__("hashlib").sha256(outside.read_bytes()).hexdigest()})
    manifest.write_text(json.dumps(doc), "utf-8")
    before = fingerprint(data)
    result = run_cli("--data-dir", str(data), "restore", "--yes")
    assert result.code == 4 and one_sentence(result.err) and "damaged" in result.err
    assert fingerprint(data) == before


def test_a_2x_column_name_that_is_not_utf8_is_one_sentence(tmp_path: Path, run_cli: RunCli) -> None:
    import sqlite3

    data = v2db.build(tmp_path / "CherryStudio").data_dir
    conn = sqlite3.connect(data / "Data" / "cherrystudio.sqlite")
    conn.execute("PRAGMA writable_schema = ON")
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'user_model'").fetchone()[0]
    conn.execute("UPDATE sqlite_master SET sql = CAST(? AS TEXT) WHERE name = 'user_model'",
                 (sql.encode().replace(b"`notes`", b"`no\xfftes`", 1),))
    conn.commit()
    conn.close()
    before = fingerprint(data)
    result = run_cli("--data-dir", str(data), "providers")
    assert result.code == 4 and one_sentence(result.err) and "not UTF-8" in result.err
    assert fingerprint(data) == before


def test_a_number_of_4000_digits_in_an_import_is_one_sentence(tmp_path: Path, run_cli: RunCli) -> None:
    export = {"version": 1, "providers": [{
        "id": "relay", "name": "Relay", "endpointConfigs": {"openai-chat-completions": {"baseUrl": "https://r.example"}},
        "apiKeys": [{"id": "a", "key": KEY, "isEnabled": True}], "isEnabled": True, "models": [],
        "settings": {"rateLimit": int("7" * 4000)}}]}
    source = tmp_path / "providers.json"
    source.write_text(json.dumps(export), "utf-8")
    result = run_cli("import", str(source), "-o", str(tmp_path / "out.yaml"))
    assert result.code == 2 and one_sentence(result.err) and "more than 20 digits" in result.err
    assert not (tmp_path / "out.yaml").exists()
