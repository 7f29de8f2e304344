"""A new user's first ten minutes (issue 27), in a real terminal and in both languages where the text matters:
yes/no questions that wait for Enter, a URL that cannot work, --yes, a declined move, and Ctrl-C at any moment.
"""

from __future__ import annotations

import gettext
import os
import runpy
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from testing.cli import PACKAGE_ROOT, fingerprint, isolated_environ
from testing.gateway import Gateway, ModelSpec, closed_port, running
from testing.plyvel_view import plyvel_items
from testing.tmux import Tmux
from testing.v1state import llm_slice, make_userdata, read_llm, with_llm

from cherryconf.domain.spec import model_from_id
from cherryconf.i18n import DOMAIN, LOCALE_DIR

needs_tmux = pytest.mark.skipif(sys.platform == "win32" or shutil.which("tmux") is None, reason="needs tmux")
LANGS = {"en": "en_US.UTF-8", "zh": "zh_CN.UTF-8"}
_ZH = gettext.translation(DOMAIN, LOCALE_DIR, ["zh_CN"])


def t(lang: str, message: str) -> str:
    """`message` as the CLI shows it in `lang`."""
    return _ZH.gettext(message) if lang == "zh" else message


@pytest.fixture
def gw() -> Iterator[Gateway]:
    with running(Gateway({"gpt-4.1": ModelSpec(), "claude-sonnet-4-20250514": ModelSpec()})) as gateway:
        yield gateway


def stored(ud: Path) -> dict[str, object]:
    llm: dict[str, object] = read_llm(plyvel_items(ud / "Local Storage" / "leveldb"))
    return llm


def start(tmp_path: Path, args: list[str], lang: str, **env: str) -> Tmux:
    return Tmux.cli(tmp_path, args, env={"LANG": LANGS[lang], **env})


def answer(term: Tmux, question: str, *keys: str, literal: bool = False) -> None:
    term.wait_for(question)
    term.keys(*keys, literal=literal)


def first_steps(term: Tmux, gw: Gateway, lang: str) -> None:
    """The API易 preset, its name, the gateway's URL, a typed key, the pre-ticked models, no more ids."""
    answer(term, t(lang, "Which gateway?"), "Enter")
    answer(term, t(lang, "Provider name (shown in Cherry Studio)"), "Enter")
    term.wait_for("https://vip.apiyi.com")
    term.paste(gw.url)
    term.keys("Enter")
    answer(term, t(lang, "Where does the API key come from?"), "Enter")
    term.wait_for(t(lang, "API key"))
    term.keys(gw.key, literal=True)
    term.keys("Enter")
    answer(term, "gpt-4.1", "Enter")
    answer(term, t(lang, "More model ids, comma-separated (Enter for none)"), "Enter")


# --- 1: a yes/no question waits for Enter, in the user's language ----------------------------------------------


@pytest.mark.slow
@needs_tmux
@pytest.mark.parametrize("lang", LANGS)
def test_no_then_enter_answers_one_question_only(tmp_path: Path, gw: Gateway, lang: str) -> None:
    ud = make_userdata(tmp_path / "data")
    term = start(tmp_path, ["--data-dir", str(ud), "wizard"], lang)
    try:
        first_steps(term, gw, lang)
        check = t(lang, "Send each of the {n} models a one-line test chat now?").format(n=2)
        answer(term, check, "n")
        # `n` only chooses: the answer is shown and the question waits for Enter.
        term.wait_for(f"{check} {t(lang, '(Y/n)')} {t(lang, 'No')}")
        term.keys("Enter")
        # The next question was not answered by that Enter: its second choice (the first model) is taken.
        answer(term, t(lang, "Make one of them Cherry Studio's default model?"), "Down")
        term.keys("Enter")
        answer(term, t(lang, "Write this to {where}?").format(where=ud), "y")
        term.wait_for(t(lang, "Yes"))
        term.keys("Enter")
        answer(term, t(lang, "Save these settings as a profile (to apply on other machines)?"), "Enter")
        shown = term.wait_for("[exit ")
    finally:
        term.close()
    assert "[exit 0]" in shown, shown
    assert f"{check} {t(lang, 'No')}" in shown  # the answered line, without the hint
    # The picker's summary is cherryconf's, in the user's language; questionary's own English is gone.
    assert "claude-sonnet-4-20250514, gpt-4.1" in shown and "selections" not in shown and "done" not in shown
    default = stored(ud)["defaultModel"]
    assert isinstance(default, dict) and (default["provider"], default["id"]) == ("apiyi", "claude-sonnet-4-20250514")


# --- 2: a URL that cannot work ----------------------------------------------------------------------------------


@pytest.mark.slow
@needs_tmux
@pytest.mark.parametrize("lang", LANGS)
def test_a_bad_host_is_refused_and_an_unreachable_one_offers_the_url_again(tmp_path: Path, gw: Gateway,
                                                                           lang: str) -> None:
    ud = make_userdata(tmp_path / "data")
    dead = f"http://127.0.0.1:{closed_port()}"
    term = start(tmp_path, ["--data-dir", str(ud), "wizard", "--preset", "apiyi", "--name", "GW"], lang)
    try:
        term.wait_for("https://vip.apiyi.com")
        term.paste("https://vip.apiyi,com/v1")  # the comma a tired hand types for the dot
        term.keys("Enter")
        term.wait_for("','")  # named, and asked again
        term.paste(dead)
        term.keys("Enter")
        answer(term, t(lang, "Where does the API key come from?"), "Enter")
        term.wait_for(t(lang, "API key"))
        term.keys(gw.key, literal=True)
        term.keys("Enter")
        term.wait_for(t(lang, "What now?"))
        term.keys("Enter")  # the first choice: the URL again
        term.wait_for(t(lang, "Base URL of the gateway (any form: https://host, .../v1, .../v1/chat/completions)"),
                      count=2)
        term.paste(gw.url)
        term.keys("Enter")
        answer(term, "gpt-4.1", "Enter")  # the list, fetched with the same key: it was not asked again
        answer(term, t(lang, "More model ids, comma-separated (Enter for none)"), "Enter")
        answer(term, t(lang, "one-line test chat") if lang == "en" else "测试消息", "n", "Enter")
        answer(term, t(lang, "Make one of them Cherry Studio's default model?"), "Enter")
        answer(term, t(lang, "Write this to {where}?").format(where=ud), "Enter")
        answer(term, t(lang, "Save these settings as a profile (to apply on other machines)?"), "Enter")
        shown = term.wait_for("[exit ")
    finally:
        term.close()
    assert "[exit 0]" in shown, shown
    assert t(lang, "the base URL {text!r} has {bad!r} in its host name, which a host name cannot hold").format(
        text="https://vip.apiyi,com/v1", bad=",") in shown
    # One sentence for the failure, naming the URL (the cause in brackets), not a raw [Errno ...] line.
    sentence = t(lang, "The gateway at {url} cannot be reached ({detail}).").split("{detail}")[0].format(url=dead)
    assert len([line for line in shown.splitlines() if line.startswith("  " + sentence)]) == 1, shown
    assert "Errno" not in shown.partition(dead)[0] and "Traceback" not in shown
    key_asked = [line for line in shown.splitlines() if line.startswith(f"? {t(lang, 'API key')} *")]
    assert len(key_asked) == 1, shown  # the key was typed once: only the URL was asked again
    providers = stored(ud)["providers"]
    assert isinstance(providers, list) and providers[0]["apiHost"] == gw.url


# --- 4: --yes asks only what has no default --------------------------------------------------------------------


@pytest.mark.slow
@needs_tmux
def test_yes_on_a_terminal_asks_only_which_gateway(tmp_path: Path, gw: Gateway) -> None:
    ud = make_userdata(tmp_path / "data")
    term = start(tmp_path, ["--data-dir", str(ud), "wizard", "--base-url", gw.url, "--yes"], "en",
                 APIYI_API_KEY=gw.key)
    try:
        answer(term, "Which gateway?", "Enter")
        shown = term.wait_for("[exit ")
    finally:
        term.close()
    assert "[exit 0]" in shown, shown
    asked = [line for line in shown.splitlines() if line.startswith("? ")]
    assert len(asked) == 1 and asked[0].startswith("? Which gateway?"), shown
    providers = stored(ud)["providers"]
    assert isinstance(providers, list) and providers[0]["id"] == "apiyi"


# --- 5: a declined move is not forgotten by "Done" ----------------------------------------------------------------


@pytest.mark.slow
@needs_tmux
@pytest.mark.parametrize("lang", LANGS)
def test_a_declined_move_is_named_at_the_end_with_doctor_fix(tmp_path: Path, gw: Gateway, lang: str) -> None:
    providers = llm_slice()["providers"]
    providers[0].update(type="openai", apiKey=gw.key, apiHost=gw.url + "/v1", enabled=True,
                        models=[model_from_id("gpt-4.1", "openai")])
    ud = make_userdata(tmp_path / "data", with_llm(providers=providers,
                                                   defaultModel=model_from_id("gpt-4.1", "openai")))
    term = start(tmp_path, ["--data-dir", str(ud), "wizard"], lang)
    try:
        answer(term, t(lang, "Move it now (backup first)?"), "n", "Enter")
        first_steps(term, gw, lang)
        term.wait_for("(Y/n)" if lang == "en" else "回车默认是")
        term.keys("n", "Enter")
        keep = t(lang, "Keep Cherry Studio's current default model ({model})").format(model="openai/gpt-4.1")
        answer(term, keep, "Enter")
        answer(term, t(lang, "Write this to {where}?").format(where=ud), "Enter")
        answer(term, t(lang, "Save these settings as a profile (to apply on other machines)?"), "Enter")
        shown = term.wait_for("[exit ")
    finally:
        term.close()
    assert "[exit 0]" in shown, shown
    last = shown.split("[exit ")[0].strip().splitlines()[-1]
    assert last.startswith(t(lang, "Not fixed: Cherry Studio's {settings} still uses the built-in provider {pid!r}, "
                                   "left as it was; `cherryconf doctor --fix` moves it, with the assistants that use "
                                   "it, to a provider of its own.").split("{settings}")[0]), shown
    assert "`cherryconf doctor --fix`" in last and "'openai'" in last


# --- 7: Ctrl-C at any moment: one line, exit 130 --------------------------------------------------------------------


class _Interrupter:
    """Raises KeyboardInterrupt when click is imported: a Ctrl-C that lands while the CLI is still loading."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "click":
            raise KeyboardInterrupt


@pytest.mark.parametrize("lang", LANGS)
def test_ctrl_c_while_the_cli_is_still_loading_is_one_line_and_exit_130(tmp_path: Path, lang: str) -> None:
    # `python -m cherryconf` exactly, with the interruption planted in its imports: no wall clock involved.
    script = "\n".join(["import runpy, sys", *_source(_Interrupter), "sys.meta_path.insert(0, _Interrupter())",
                        "sys.argv = ['cherryconf', 'wizard']",
                        "runpy.run_module('cherryconf', run_name='__main__', alter_sys=True)"])
    env = isolated_environ(tmp_path, {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PACKAGE_ROOT)})
    env["LANG"] = LANGS[lang]
    env["PYTHONIOENCODING"] = "utf-8"  # read back as testing.cli reads every run (Windows: not the code page)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, encoding="utf-8",
                          timeout=60, check=False)
    assert proc.returncode == 130
    assert proc.stderr.splitlines() == ["cherryconf: " + t(lang, "interrupted; nothing was written")], proc.stderr
    assert proc.stdout == ""


def _source(cls: type) -> list[str]:
    import inspect

    return inspect.getsource(cls).splitlines()


def test_the_console_entry_point_is_the_one_that_catches_an_early_ctrl_c() -> None:
    import tomllib

    scripts = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["cherryconf"] == "cherryconf.__main__:run"
    assert callable(runpy.run_module("cherryconf.__main__", run_name="not_main")["run"])


@pytest.mark.slow
@needs_tmux
@pytest.mark.parametrize("lang", LANGS)
def test_ctrl_c_at_a_confirmation_starts_its_message_on_a_line_of_its_own(tmp_path: Path, lang: str) -> None:
    ud = make_userdata(tmp_path / "data")
    profile = tmp_path / "p.yaml"
    profile.write_text("version: 1\nproviders:\n  - id: gw\n    name: GW\n    apiHost: https://gw.example/v1\n"
                       "    apiKey: sk-gw-0123456789abcdef\n    models: [gpt-4.1]\n")
    before = fingerprint(ud)
    term = start(tmp_path, ["--data-dir", str(ud), "apply", str(profile)], lang)
    try:
        question = t(lang, "Write these changes to {dir}?").format(dir=ud)
        answer(term, question, "C-c")
        shown = term.wait_for("[exit ")
    finally:
        term.close()
    assert "[exit 130]" in shown, shown
    lines = shown.splitlines()
    message = next(i for i, line in enumerate(lines) if "cherryconf: " in line)
    assert lines[message].startswith("cherryconf: "), shown  # not glued to the question or to ^C
    assert "Traceback" not in shown
    assert fingerprint(ud) == before

