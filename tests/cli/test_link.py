"""`cherryconf link`: the app's own import link, decoded the way Cherry Studio decodes it."""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from testing import REPO
from testing.cli import RunCli

import cherryconf
from cherryconf.domain import routing
from cherryconf.formats import profile
from cherryconf.formats.deeplink import KEY_WARNING

REPO_ROOT = REPO
TEMPLATES = sorted((REPO_ROOT / "templates").glob("*.yaml"))
PREFIX = "cherrystudio://providers/api-keys?v=1&data="


def app_decode(link: str) -> dict[str, Any]:
    """What Cherry Studio 1.x does with the link: percent-decode `data`, map `_`->`+` and `-`->`/`, base64-decode,
    delete every `'`, `(` and `)`, parse the JSON."""
    assert link.startswith(PREFIX)
    query = urlsplit(link).query
    params = dict(part.split("=", 1) for part in query.split("&"))
    assert params["v"] == "1"
    data = unquote(params["data"]).replace("_", "+").replace("-", "/")
    text = base64.b64decode(data, validate=True).decode("utf-8")
    for c in "'()":
        text = text.replace(c, "")
    decoded = json.loads(text)
    assert isinstance(decoded, dict)
    return decoded


def template_env(path: Path) -> dict[str, str]:
    return {name: f"sk-test-{name.lower()}-0123456789" for name in re.findall(r"\$\{([A-Z0-9_]+)\}",
                                                                               path.read_text("utf-8"))}


def write_profile(tmp_path: Path, *providers: dict[str, Any], name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"version": 1, "providers": list(providers)}, allow_unicode=True), "utf-8")
    return path


def gw(**fields: Any) -> dict[str, Any]:
    return {"id": "gw", "apiHost": "https://gw.example.com/v1", "apiKey": "sk-gw-0123456789", **fields}


# --- the templates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_template_link_decodes_to_what_the_app_requires(path: Path, run_cli: RunCli) -> None:
    env = template_env(path)
    code, out, err = run_cli("link", str(path), env=env)
    assert code == 0, err
    expected = profile.load(path, env=env).providers
    links = out.splitlines()
    assert len(links) == len(expected) >= 1
    for link, p in zip(links, expected, strict=True):
        decoded = app_decode(link)
        assert decoded == {
            "id": p.id,
            "baseUrl": p.new_provider["apiHost"],
            "apiKey": next(iter(env.values())),
            "name": p.new_provider["name"],
            "type": "openai",
        }
        assert all(decoded[k] for k in ("id", "baseUrl", "apiKey"))  # the app refuses an empty one
        assert decoded["baseUrl"].startswith(("http://", "https://"))  # 2.x requires http(s)
        assert len(unquote(link[len(PREFIX):])) <= 64 * 1024
    urls = [f"{p.id}: chats will go to {routing.chat_url(p.new_provider)} once imported" for p in expected]
    assert all("/chat/completions once" in u for u in urls)
    assert err.splitlines() == [KEY_WARNING, *urls, "Import links carry no models: after importing, add the models in "
                                                    "the app, or use `cherryconf apply` to write them too."]


def test_template_link_without_its_variable_is_refused(run_cli: RunCli) -> None:
    path = REPO_ROOT / "templates" / "apiyi.yaml"
    code, out, err = run_cli("link", str(path), env={"APIYI_API_KEY": None})
    assert (code, out) == (2, "")
    assert err == "cherryconf: apiyi.yaml: providers[0].apiKey: environment variable APIYI_API_KEY is not set\n"


# --- what the link carries -----------------------------------------------------------------------------------


def test_one_link_per_provider_in_order(tmp_path: Path, run_cli: RunCli) -> None:
    path = write_profile(
        tmp_path,
        gw(name="API易", models=["gpt-4.1"]),
        {"id": "second", "apiHost": "http://localhost:3000/v1/chat/completions", "apiKey": "k2", "type": "new-api"},
    )
    code, out, err = run_cli("link", str(path))
    assert code == 0, err
    first, second = (app_decode(line) for line in out.splitlines())
    assert first == {"id": "gw", "baseUrl": "https://gw.example.com", "apiKey": "sk-gw-0123456789",
                     "name": "API易", "type": "openai"}
    assert second == {"id": "second", "baseUrl": "http://localhost:3000", "apiKey": "k2", "name": "second",
                      "type": "new-api"}


def test_link_uses_standard_base64_which_the_app_maps_back(tmp_path: Path, run_cli: RunCli) -> None:
    """base64url's `-` and `_` would survive the app's mapping unchanged only by luck; `+` and `/` must be sent
    percent-encoded, so the app's `_`->`+`, `-`->`/` mapping has nothing to break."""
    path = write_profile(tmp_path, gw(apiKey="sk-~~~???"))
    code, out, _ = run_cli("link", str(path))
    assert code == 0
    data = out.strip()[len(PREFIX):]
    assert "%2B" in data and "%2F" in data  # the payload's base64 holds both + and /
    assert not set(data) - set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789%")
    assert app_decode(out.strip())["apiKey"] == "sk-~~~???"


def test_several_keys_travel_as_one_comma_separated_string(tmp_path: Path, run_cli: RunCli) -> None:
    path = write_profile(tmp_path, gw(apiKey="sk-one,sk-two"))
    code, out, _ = run_cli("link", str(path))
    assert code == 0
    assert app_decode(out.strip())["apiKey"] == "sk-one,sk-two"


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("name", "API易 (beta)", "( )"),
    ("apiKey", "sk-it's", "'"),
    ("apiKey", "sk-(x", "("),
    ("id", "gw)", ")"),
    ("apiHost", "https://gw.example.com/team(1)", "( )"),
])
def test_values_the_app_would_mangle_are_refused(tmp_path: Path, run_cli: RunCli, field: str, value: str,
                                                 shown: str) -> None:
    path = write_profile(tmp_path, gw(**{field: value}), name="mangled.yaml")
    code, out, err = run_cli("link", str(path))
    assert (code, out) == (2, "")
    assert "Traceback" not in err
    (line,) = err.splitlines()
    target = "baseUrl" if field == "apiHost" else field
    assert line.startswith("cherryconf: provider ")
    assert f"{target} contains {shown}, which Cherry Studio deletes from import links" in line
    assert "cherryconf apply" in line  # and says what to do instead


def test_data_over_64_kib_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    path = write_profile(tmp_path, gw(apiKey="k" * 50_000))
    code, out, err = run_cli("link", str(path))
    assert (code, out) == (2, "")
    (line,) = err.splitlines()
    assert line.startswith("cherryconf: provider 'gw': the import link data is ")
    assert "over the app's 64 KiB limit" in line


def test_data_just_under_64_kib_passes(tmp_path: Path, run_cli: RunCli) -> None:
    path = write_profile(tmp_path, gw(apiKey="k" * 48_000))
    code, out, _ = run_cli("link", str(path))
    assert code == 0
    assert len(out.strip()[len(PREFIX):]) <= 64 * 1024
    assert app_decode(out.strip())["apiKey"] == "k" * 48_000


# --- output forms ----------------------------------------------------------------------------------------------


def test_json_prints_one_document(tmp_path: Path, run_cli: RunCli) -> None:
    path = write_profile(tmp_path, gw(), {"id": "b", "apiHost": "https://b.example.com", "apiKey": "kb"})
    code, out, err = run_cli("--json", "link", str(path))
    assert (code, err) == (0, KEY_WARNING + "\n")  # said on stderr even with --json: it is about safety
    document = json.loads(out)  # the whole of stdout is one JSON document
    assert document["warning"] == KEY_WARNING
    assert [item["id"] for item in document["links"]] == ["gw", "b"]
    assert app_decode(document["links"][1]["link"])["baseUrl"] == "https://b.example.com"
    assert [item["chat_url"] for item in document["links"]] == ["https://gw.example.com/v1/chat/completions",
                                                                 "https://b.example.com/v1/chat/completions"]
    assert "no models" in document["note"]


def test_the_text_says_where_chats_go_once_imported(tmp_path: Path, run_cli: RunCli) -> None:
    path = write_profile(tmp_path, gw(), {"id": "openai", "type": "openai-response", "apiHost": "https://api.openai.com",
                                          "apiKey": "sk-openai-0123456789"})
    code, _, err = run_cli("link", str(path))
    assert code == 0, err
    assert "gw: chats will go to https://gw.example.com/v1/chat/completions once imported" in err
    assert "openai: chats will go to https://api.openai.com/v1/responses once imported" in err


def test_json_error_is_one_document_too(tmp_path: Path, run_cli: RunCli) -> None:
    path = write_profile(tmp_path, gw(apiKey=""), name="bad.yaml")
    code, out, err = run_cli("--json", "link", str(path))
    assert code == 2
    assert json.loads(out) == {"error": "bad.yaml: providers[0].apiKey: must not be empty", "exit_code": 2}
    assert err == "cherryconf: bad.yaml: providers[0].apiKey: must not be empty\n"


def test_the_no_models_note_goes_to_stderr_only(tmp_path: Path, run_cli: RunCli) -> None:
    path = write_profile(tmp_path, gw(models=["gpt-4.1"]))
    code, out, err = run_cli("link", str(path))
    assert code == 0
    assert out.startswith(PREFIX) and out.count("\n") == 1
    assert "carry no models" in err
    assert "cherryconf apply" in err


def test_link_never_touches_the_home(tmp_path: Path, run_cli: RunCli, isolated_home: Path) -> None:
    path = write_profile(tmp_path, gw())
    assert run_cli("link", str(path)).code == 0
    assert list(isolated_home.iterdir()) == []
    assert not (tmp_path / "_cherryconf_home").exists()


# --- the basics ------------------------------------------------------------------------------------------------


def test_version(run_cli: RunCli) -> None:
    code, out, err = run_cli("--version")
    assert (code, err) == (0, "")
    assert out == f"cherryconf, version {cherryconf.__version__}\n"


@pytest.mark.parametrize("args", [("--help",), ("-h",), ("link", "--help"), ("schema", "--help")])
def test_help(run_cli: RunCli, args: tuple[str, ...]) -> None:
    code, out, err = run_cli(*args)
    assert (code, err) == (0, "")
    assert out.startswith("Usage: cherryconf")


def test_no_command_without_a_terminal_prints_help_and_exits_2(run_cli: RunCli) -> None:
    code, out, err = run_cli()
    assert code == 2
    assert out == ""
    assert "Usage: cherryconf" in err


def test_link_without_a_profile_is_a_usage_error(run_cli: RunCli) -> None:
    code, _, err = run_cli("link")
    assert code == 2
    assert err == "cherryconf: Missing argument 'PROFILE' (see `cherryconf link --help`)\n"
    code, _, err = run_cli("frobnicate")
    assert code == 2 and err.count("\n") == 1 and err.startswith("cherryconf: No such command")


# --- --open ------------------------------------------------------------------------------------------------------


linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the opener is xdg-open on Linux only")


def fake_opener(tmp_path: Path, exit_code: int = 0) -> dict[str, str]:
    """A PATH whose xdg-open (and macOS open) logs each link with its start and end time, slowly, and exits so."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "opened.log"
    for name in ("xdg-open", "open"):
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\necho \"start $(date +%s.%N) $1\" >> {log}\nsleep 0.3\n"
                          f"echo \"end $(date +%s.%N)\" >> {log}\nexit {exit_code}\n")
        script.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin"}


@linux_only
def test_open_hands_each_link_over_one_after_the_other(tmp_path: Path, run_cli: RunCli) -> None:
    path = write_profile(tmp_path, gw(), {"id": "b", "apiHost": "https://b.example.com", "apiKey": "kb"})
    code, out, err = run_cli("link", str(path), "--open", env=fake_opener(tmp_path))
    assert code == 0, err
    assert err.count(KEY_WARNING) == 1
    log = (tmp_path / "opened.log").read_text().split()
    assert [w for w in log if w in ("start", "end")] == ["start", "end", "start", "end"]  # never two at once
    assert [w for w in log if w.startswith(PREFIX)] == out.splitlines()


@linux_only
def test_a_failed_open_is_exit_4_and_opens_no_more(tmp_path: Path, run_cli: RunCli) -> None:
    # No browser, no app registered for the link: xdg-open says so with its own exit code (issue 27).
    path = write_profile(tmp_path, gw(), {"id": "b", "apiHost": "https://b.example.com", "apiKey": "kb"})
    env = fake_opener(tmp_path, exit_code=4)
    code, out, err = run_cli("link", str(path), "--open", env=env)
    assert code == 4
    assert err.splitlines()[-1] == ("cherryconf: the operating system could not open the import link of provider "
                                    "'gw' (xdg-open exited with 4), so Cherry Studio may not be installed; open the "
                                    "link printed above by hand")
    assert [line.startswith(PREFIX) for line in out.splitlines()] == [True, True]  # both, to open by hand
    assert (tmp_path / "opened.log").read_text().count("start") == 1
    chinese = run_cli("link", str(path), "--open", env={**env, "LANG": "zh_CN.UTF-8"})
    assert chinese.code == 4 and "请手动打开上面输出的链接" in chinese.err.splitlines()[-1]


@linux_only
def test_no_opener_at_all_is_exit_4(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = run_cli("link", str(write_profile(tmp_path, gw())), "--open",
                             env={"PATH": str(tmp_path / "empty")})
    assert code == 4 and "there is no xdg-open; open the link printed above by hand" in err.splitlines()[-1]
    assert out.startswith(PREFIX)
