"""The release: `python -m build` makes an sdist and, from that sdist alone, a wheel; twine accepts both; the wheel,
installed in a fresh virtualenv, runs from its own files (schemas, templates, model catalog, message catalogs) in
Chinese and in English, never from the checkout."""

from __future__ import annotations

import base64
import json
import os
import site
import subprocess
import sys
import tarfile
import venv
import zipfile
from email.parser import HeaderParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from testing import REPO
from testing.v2db import build as build_v2

import cherryconf

ROOT = REPO
VERSION = cherryconf.__version__
SCHEMAS = sorted(p.name for p in (ROOT / "schemas").glob("*.json"))
TEMPLATES = sorted(p.name for p in (ROOT / "templates").glob("*.yaml"))
MESSAGE_CATALOGS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "cherryconf" / "locale").glob("*/*/*.mo"))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # Given neither --sdist nor --wheel, build makes the sdist, then the wheel from the unpacked sdist: a file the
    # sdist lacks is missing from the wheel too. No isolation: hatchling is a test dependency, so no network.
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture(scope="module")
def wheel(dists: Path) -> Path:
    (found,) = dists.glob("cherryconf-*.whl")
    return found


@pytest.fixture(scope="module")
def sdist(dists: Path) -> Path:
    (found,) = dists.glob("cherryconf-*.tar.gz")
    return found


def test_twine_accepts_the_sdist_and_the_wheel(dists: Path) -> None:
    files = sorted(str(p) for p in dists.iterdir())
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


def test_the_sdist_holds_what_the_wheel_is_built_from(sdist: Path) -> None:
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    wanted = {"PKG-INFO", "pyproject.toml", "LICENSE", "README.md", "cherryconf/data/model-catalog.json",
              *MESSAGE_CATALOGS, *(f"schemas/{s}" for s in SCHEMAS), *(f"templates/{t}" for t in TEMPLATES)}
    assert wanted <= names
    assert not {n for n in names if n.startswith((".venv/", ".git/")) or "__pycache__" in n}


def test_the_wheel_holds_the_schemas_templates_and_catalogs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"cherryconf/_data/schemas/{s}" for s in SCHEMAS} <= names
    assert {f"cherryconf/_data/templates/{t}" for t in TEMPLATES} <= names
    assert "cherryconf/data/model-catalog.json" in names  # the 2.x model catalog (cherryconf/domain/catalog.py)
    assert {m.rsplit("/", 1)[1] for m in MESSAGE_CATALOGS} == {"cherryconf.mo", "click.mo"}
    assert set(MESSAGE_CATALOGS) <= names
    assert {f"cherryconf-{VERSION}.dist-info/entry_points.txt",
            f"cherryconf-{VERSION}.dist-info/licenses/LICENSE"} <= names


def test_the_wheel_says_what_a_release_needs(wheel: Path) -> None:
    meta = HeaderParser().parsestr(zipfile.ZipFile(wheel).read(f"cherryconf-{VERSION}.dist-info/METADATA").decode())
    assert meta["Metadata-Version"] == "2.4"  # pyproject.toml pins it: what twine 6.1+ and PyPI accept
    assert meta["License-Expression"] == "MIT" and meta["Author"]
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().startswith((ROOT / "README.md").read_text(encoding="utf-8")[:200])
    classifiers = set(meta.get_all("Classifier") or [])
    assert {"Operating System :: Microsoft :: Windows", "Operating System :: MacOS",
            "Operating System :: POSIX :: Linux"} <= classifiers
    assert {u.split(",", 1)[0] for u in meta.get_all("Project-URL") or []} >= {"Source", "Issues"}
    assert meta["Keywords"]


# --- the wheel installed in a fresh virtualenv ---------------------------------------------------------------------


class Installed:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.scripts = root / ("Scripts" if os.name == "nt" else "bin")
        self.python = self.scripts / ("python.exe" if os.name == "nt" else "python")
        self.cli = self.scripts / ("cherryconf.exe" if os.name == "nt" else "cherryconf")

    def run(self, *args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
        """The installed console script, in the isolated environment and nothing of the checkout on sys.path."""
        full = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONIOENCODING": "utf-8"}
        return subprocess.run([str(self.cli), *args], capture_output=True, text=True, encoding="utf-8", cwd=cwd,
                              env=full | (env or {}), timeout=120, check=False)


@pytest.fixture(scope="module")
def installed(dists: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    env = Installed(tmp_path_factory.mktemp("venv") / "cherryconf")
    venv.create(env.root, with_pip=False)
    site_dir = subprocess.run([str(env.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                              capture_output=True, text=True, check=True).stdout.strip()
    # cherryconf itself comes from the wheel just built (--no-index: never the network, never the sdist).
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(env.python), "install", "-q", "--no-index",
                           "--find-links", str(dists), "--only-binary", "cherryconf", "--no-deps",
                           f"cherryconf=={VERSION}"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (Path(site_dir) / f"cherryconf-{VERSION}.dist-info").is_dir()
    # Its dependencies come from this test run's site-packages, listed in a .pth file (a venv of its own with them
    # downloaded would need the network). Written after the install, or pip would take this run's editable
    # cherryconf for an installed one; they come after the venv's own site-packages, so the wheel's cherryconf
    # wins, and their own .pth files (that editable install's) are not read.
    (Path(site_dir) / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    return env


def test_the_installed_package_reads_its_own_files(installed: Installed, tmp_path: Path) -> None:
    probe = ("import cherryconf, cherryconf.i18n as i, cherryconf.resources as r; "
             "print(cherryconf.__file__, i.LOCALE_DIR, r.data_dir('schemas'), r.data_dir('templates'), sep='\\n')")
    done = subprocess.run([str(installed.python), "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, check=True)
    places = [Path(line) for line in done.stdout.splitlines()]
    assert len(places) == 4
    for place in places:
        assert place.resolve().is_relative_to(installed.root.resolve()), place  # the installed copy, not the checkout
    assert sorted(p.name for p in places[2].glob("*.json")) == SCHEMAS
    assert sorted(p.name for p in places[3].glob("*.yaml")) == TEMPLATES


def test_the_installed_cli_prints_the_schema_and_a_link_from_an_installed_template(installed: Installed,
                                                                                   tmp_path: Path) -> None:
    schema = installed.run("schema", "provider", cwd=tmp_path)
    assert schema.returncode == 0, schema.stderr
    assert json.loads(schema.stdout) == json.loads((ROOT / "schemas" / "cherry-provider.schema.json").read_text())
    site_dir = next(installed.root.rglob("site-packages"))
    template = site_dir / "cherryconf" / "_data" / "templates" / "apiyi.yaml"
    result = installed.run("link", str(template), env={"APIYI_API_KEY": "sk-from-the-wheel-0001"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = unquote(result.stdout.strip().split("data=", 1)[1]).replace("_", "+").replace("-", "/")
    payload = json.loads(base64.b64decode(data).decode("utf-8"))
    assert payload["id"] == "apiyi" and payload["baseUrl"] == "https://vip.apiyi.com"
    assert payload["apiKey"] == "sk-from-the-wheel-0001"


# The ways a user picks the language (cherryconf/i18n.py): the flag, CHERRYCONF_LANG, then gettext's variables.
CHINESE = [
    pytest.param(["--lang", "zh-CN"], {}, id="--lang"),
    pytest.param([], {"CHERRYCONF_LANG": "zh-CN"}, id="CHERRYCONF_LANG"),
    pytest.param([], {"LANGUAGE": "zh_CN:en"}, id="LANGUAGE"),
    pytest.param([], {"LANG": "zh_CN.UTF-8"}, id="LANG"),
]


@pytest.mark.parametrize(("flags", "env"), CHINESE)
def test_the_installed_cli_speaks_chinese(installed: Installed, tmp_path: Path, flags: list[str],
                                          env: dict[str, str]) -> None:
    helped = installed.run(*flags, "--help", env=env, cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "用法：" in helped.stdout and "设置并修复 Cherry Studio 的 LLM 服务商" in helped.stdout  # click's and ours
    # A whole wizard run from the installed files: the preset (templates), the profile's schema, the 2.x catalog.
    data_dir = build_v2(tmp_path / "CherryStudio").data_dir
    done = installed.run(*flags, "--data-dir", str(data_dir), "wizard", "--preset", "deepseek", "--api-key-env", "K",
                         "--no-check", "--yes", env=env | {"K": "sk-0123456789abcdef"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "模型：使用预设的 deepseek-v4-flash, deepseek-v4-pro" in done.stdout
    assert "完成：服务商 'deepseek-api' 已在" in done.stdout


def test_the_installed_cli_speaks_english_by_default(installed: Installed, tmp_path: Path) -> None:
    helped = installed.run("--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("Usage: cherryconf") and "用法" not in helped.stdout
    data_dir = build_v2(tmp_path / "CherryStudio").data_dir
    done = installed.run("--data-dir", str(data_dir), "wizard", "--preset", "deepseek", "--api-key-env", "K",
                         "--no-check", "--yes", env={"K": "sk-0123456789abcdef"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Models: the preset's deepseek-v4-flash, deepseek-v4-pro" in done.stdout
    assert "Done: provider 'deepseek-api' is in" in done.stdout
    unknown = installed.run("--data-dir", str(data_dir), "wizard", "--preset", "nope", "--yes", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "choose one of: apiyi, deepseek, newapi, openrouter, siliconflow, custom" in unknown.stderr

