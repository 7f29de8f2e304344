"""The Ansible collection: it builds, its docs load, and its module works under `ansible-playbook -c local`.

The module runs the cherryconf under test (a wrapper script first on PATH runs `python -m cherryconf` from this
checkout, as `run_cli` does) against a real 1.x store (a LevelDB written by plyvel) and a real 2.x database.
Two playbook runs in all, since Ansible starts slowly: one in check mode, one for real.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from testing import REPO, v2db
from testing.cli import PACKAGE_ROOT
from testing.stores import IT, KEY, store_bytes
from testing.v1state import make_userdata

import cherryconf

ROOT = REPO
COLLECTIONS = ROOT / "ansible"
COLLECTION = COLLECTIONS / "ansible_collections" / "cherryconf" / "cherry_studio"
BIN = Path(sys.executable).parent
# The Ansible controller, and this Python module run on its targets, are POSIX only (Windows hosts take PowerShell
# modules).
pytestmark = [pytest.mark.slow, pytest.mark.posix_only]


def ansible_env(tmp_path: Path) -> dict[str, str]:
    """This (isolated) environment, with the checkout's cherryconf first on PATH and Ansible kept in tmp_path."""
    wrapper = tmp_path / "bin" / "cherryconf"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{PACKAGE_ROOT}" exec "{sys.executable}" -m cherryconf "$@"\n')
    wrapper.chmod(0o755)
    return os.environ | {
        "PATH": f"{wrapper.parent}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}",
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_HOME": str(tmp_path / "ansible"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible" / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "GW_KEY": KEY,
    }


def ansible(tool: str, *args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300,
                          check=False)


def test_the_collection_builds_and_documents_itself(tmp_path: Path) -> None:
    env = ansible_env(tmp_path)
    galaxy = yaml.safe_load((COLLECTION / "galaxy.yml").read_text(encoding="utf-8"))
    assert (galaxy["namespace"], galaxy["name"], galaxy["version"]) == ("cherryconf", "cherry_studio",
                                                                        cherryconf.__version__)
    built = ansible("ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), env=env, cwd=COLLECTION)
    assert built.returncode == 0, built.stdout + built.stderr
    with tarfile.open(tmp_path / f"cherryconf-cherry_studio-{galaxy['version']}.tar.gz") as archive:
        names = set(archive.getnames())
    assert {"MANIFEST.json", "README.md", "meta/runtime.yml", "plugins/modules/providers.py", "docs/install.md",
            "examples/site.yml", "examples/profile.yaml.j2"} <= names
    assert not any("__pycache__" in n for n in names)

    doc = ansible("ansible-doc", "--json", "cherryconf.cherry_studio.providers", env=env, cwd=tmp_path)
    assert doc.returncode == 0, doc.stderr
    options = json.loads(doc.stdout)["cherryconf.cherry_studio.providers"]["doc"]["options"]
    assert set(options) == {"profile", "data_dir", "keep", "owner", "executable"}

    example = ansible("ansible-playbook", "--syntax-check", "-i", "examples/inventory.example", "examples/site.yml",
                      env=env, cwd=COLLECTION)
    assert example.returncode == 0, example.stdout + example.stderr


def run_playbook(tmp_path: Path, data_dirs: list[Path], *flags: str) -> tuple[subprocess.CompletedProcess[str],
                                                                                dict[str, Any]]:
    profile = tmp_path / "it.yaml"
    profile.write_text(IT, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(IT.replace("https://a.example.com", "ftp://a.example.com"), encoding="utf-8")
    changed = tmp_path / "changed.yaml"
    changed.write_text(IT.replace("[o3]", "[o3, o4-mini]"), encoding="utf-8")
    results = tmp_path / "results.json"
    extra = {"stores": ",".join(map(str, data_dirs)), "profile": str(profile), "bad_profile": str(bad),
             "changed_profile": str(changed),
             "results": str(results), "singleton": f"{socket.gethostname()}-{os.getpid()}",
             "ansible_python_interpreter": sys.executable}
    done = ansible("ansible-playbook", "-i", "localhost,", "-c", "local", "-e", json.dumps(extra), *flags,
                   str(ROOT / "tests" / "ansible" / "providers.yml"), env=ansible_env(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert KEY not in done.stdout + done.stderr
    return done, json.loads(results.read_text(encoding="utf-8"))


@pytest.fixture
def stores(tmp_path: Path) -> list[Path]:
    return [make_userdata(tmp_path / "v1"), v2db.build(tmp_path / "v2" / "CherryStudio", "later").data_dir]


def test_check_mode_reports_the_drift_and_writes_nothing(tmp_path: Path, stores: list[Path]) -> None:
    before = [store_bytes(d) for d in stores]
    done, results = run_playbook(tmp_path, stores, "--check", "--diff")
    first = results["first"]["results"]
    assert [(r["changed"], r["providers"], r["backup"]) for r in first] == [(True, ["corp-a", "corp-b"], None)] * 2
    assert [store_bytes(d) for d in stores] == before
    assert not (tmp_path / "_cherryconf_home").exists()
    # The diff shows the providers that would be added, their key masked.
    assert "+[provider corp-a]" in done.stdout and "+  apiKey: sk-sh…6789" in done.stdout
    assert "+  model gpt-4.1" in done.stdout


def test_apply_changes_once_and_fails_with_cherryconfs_sentence(tmp_path: Path, stores: list[Path]) -> None:
    done, results = run_playbook(tmp_path, stores, "--diff")
    first, second, drift = (results[k]["results"] for k in ("first", "second", "drift"))
    assert [r["changed"] for r in first] == [True, True]
    assert all(r["backup"] and Path(r["backup_path"]).name == r["backup"] for r in first)
    assert [(r["changed"], r["backup"]) for r in second] == [(False, None)] * 2
    assert [r["changed"] for r in drift] == [False, False]
    for d in stores:
        listed = subprocess.run([sys.executable, "-m", "cherryconf", "--data-dir", str(d), "providers", "--json"],
                                capture_output=True, text=True, check=True, env=os.environ | {
                                    "PYTHONPATH": str(PACKAGE_ROOT)}).stdout
        assert [(p["id"], p["owner"]) for p in json.loads(listed)["providers"][:2]] == [
            ("corp-a", "it-dept"), ("corp-b", "it-dept")]

    for r in results["running"]["results"]:
        assert r["failed"] and r["exit_code"] == 3
        assert r["msg"] == (f"Cherry Studio is running (SingletonLock names process {os.getpid()}, which is alive): "
                            "quit it, including from the tray icon, then run this again.")
    bad = results["bad"]
    assert bad["failed"] and bad["exit_code"] == 2
    assert bad["msg"].startswith("bad.yaml: providers[0].apiHost: ")
    assert "+  apiKey: sk-sh…6789" in done.stdout

