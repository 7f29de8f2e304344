"""The wheel ships the schemas, templates and model catalog; an installed cherryconf runs from it, not the checkout."""

from __future__ import annotations

import base64
import json
import os
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from testing import REPO

import cherryconf

ROOT = REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True)
    (found,) = out.glob("cherryconf-*.whl")
    return found


def test_wheel_holds_the_schemas_and_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for schema in (ROOT / "schemas").glob("*.json"):
        assert f"cherryconf/_data/schemas/{schema.name}" in names
    for template in (ROOT / "templates").glob("*.yaml"):
        assert f"cherryconf/_data/templates/{template.name}" in names
    assert "cherryconf/data/model-catalog.json" in names  # the 2.x model catalog (cherryconf/domain/catalog.py)
    assert f"cherryconf-{cherryconf.__version__}.dist-info/entry_points.txt" in names


def test_wheel_holds_the_compiled_catalogs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    catalogs = sorted((ROOT / "cherryconf" / "locale").glob("*/LC_MESSAGES/*.mo"))
    assert {c.name for c in catalogs} == {"cherryconf.mo", "click.mo"}
    for mo in catalogs:
        assert f"cherryconf/{mo.relative_to(ROOT / 'cherryconf').as_posix()}" in names


def test_installed_console_script_prints_a_link(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # The test run's own site-packages serve as the dependencies (no network needed). Listed in a .pth file they
    # come after the venv's own site-packages, and their .pth files (an editable cherryconf) are not run.
    (site_dir,) = (env_dir / "lib").glob("python3*/site-packages")
    (site_dir / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "APIYI_API_KEY": "sk-from-the-wheel-0001"}
    env.pop("PYTHONPATH", None)
    where = subprocess.run([str(python), "-c", "import cherryconf, sys; print(cherryconf.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, check=True).stdout
    assert str(env_dir) in where  # the installed copy, not the checkout
    result = subprocess.run([str(env_dir / "bin" / "cherryconf"), "link", str(ROOT / "templates" / "apiyi.yaml")],
                            capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    data = unquote(link.split("data=", 1)[1]).replace("_", "+").replace("-", "/")
    payload = json.loads(base64.b64decode(data).decode("utf-8"))
    assert payload["id"] == "apiyi" and payload["baseUrl"] == "https://vip.apiyi.com"
    assert payload["apiKey"] == "sk-from-the-wheel-0001"
    schema = subprocess.run([str(env_dir / "bin" / "cherryconf"), "schema", "provider"], capture_output=True,
                            text=True, cwd=tmp_path, env=env, check=True).stdout
    assert json.loads(schema) == json.loads((ROOT / "schemas" / "cherry-provider.schema.json").read_text())
    # The catalogs come from the wheel too: the installed copy speaks Chinese, click's texts included.
    zh = subprocess.run([str(env_dir / "bin" / "cherryconf"), "--help"], capture_output=True, text=True,
                        cwd=tmp_path, env={**env, "LANG": "zh_CN.UTF-8"}, check=True).stdout
    assert "用法:" in zh and "设置并修复 Cherry Studio 的 LLM 服务商" in zh
