"""The wizard, driven three ways: scripted answers through its `ask` seam, the command line, and a real terminal.

Every scripted run works on a real 1.x userData directory written by plyvel (tests/testing/v1state.py), and the model
list comes from a loopback gateway through the real `terminal.gateway_models` / `terminal.gateway_check`. The
`harness` fixture checks after every test that no key ever reached the wizard's output (an import link, which
carries the key by design, excepted).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from testing.cli import RunCli, fingerprint
from testing.gateway import Gateway, ModelSpec, closed_port, running
from testing.plyvel_view import plyvel_items
from testing.privacy import assert_private
from testing.tmux import Tmux
from testing.v1state import llm_slice, make_userdata, read_llm, with_provider

from cherryconf.console import finish
from cherryconf.domain.endpoints import normalise_api_host, request_url
from cherryconf.domain.spec import model_from_id
from cherryconf.errors import AppRunning, BadInput, Interrupted
from cherryconf.formats import presets, profile
from cherryconf.formats.deeplink import PREFIX
from cherryconf.ops.apply import prepare
from cherryconf.paths import Context
from cherryconf.stores import open_store
from cherryconf.stores.install import Install, inspect
from cherryconf.wizard import terminal
from cherryconf.wizard.flow import Wizard
from cherryconf.wizard.questions import Flags, Outcome, Question

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="SingletonLock symlink, file modes, tmux")

WRONG_KEY = "sk-wrong-5a5a5a5a5a5a5a5a5a5a5a5a"
ENV_VAR = "MY_GATEWAY_KEY"
ORIGINAL = llm_slice()  # what make_userdata's store holds before the wizard runs


# --- scripted answers ---------------------------------------------------------------------------------------

Answer = Any  # a value, a callable taking the Question, or an exception to raise


class Script:
    """`ask` backed by a queue of (Question.name, answer): the question asked must be the next one expected."""

    def __init__(self, said: list[str], answers: list[tuple[str, Answer]]) -> None:
        self.said = said
        self.answers = list(answers)
        self.asked: list[Question] = []
        self.said_before: list[int] = []  # how many lines were said before each question

    def __call__(self, q: Question) -> Any:
        self.asked.append(q)
        self.said_before.append(len(self.said))
        assert self.answers, f"unexpected question {q.name!r}: {q.message!r}"
        name, answer = self.answers.pop(0)
        assert q.name == name, f"the wizard asked {q.name!r} ({q.message!r}); the script expected {name!r}"
        if isinstance(answer, BaseException):
            raise answer
        value = answer(q) if callable(answer) else answer
        values = [c.value for c in q.choices]
        if q.kind == "select":
            assert value in values, f"{value!r} is not a choice of {q.name!r}"
        elif q.kind == "checkbox":
            assert all(v in values for v in value), f"{value!r} are not all choices of {q.name!r}"
        return value

    def question(self, name: str) -> Question:
        return next(q for q in self.asked if q.name == name)

    def done(self) -> None:
        assert not self.answers, f"never asked: {[n for n, _ in self.answers]}"


def never_ask(q: Question) -> Any:
    raise AssertionError(f"no question may be asked, but the wizard asked {q.name!r}: {q.message!r}")


def preset(key: str) -> Callable[[Question], Any]:
    return lambda q: next(c.value for c in q.choices if c.value.key == key)


def default(q: Question) -> Any:
    return q.default


def ticked(q: Question) -> list[Any]:
    return [c.value for c in q.choices if c.checked]


def plyvel_llm(data_dir: Path) -> dict[str, Any]:
    """The llm slice read by the real LevelDB (plyvel), decoding Chromium's strings by hand."""
    return read_llm(plyvel_items(data_dir / "Local Storage" / "leveldb"))


def new_provider(pid: str, name: str, host: str, key: str, models: list[str]) -> dict[str, Any]:
    """A provider exactly as a wizard-added one is stored: the app's shape for a bare-id model list."""
    return {"id": pid, "name": name, "type": "openai", "apiKey": key, "apiHost": host,
            "models": [model_from_id(m, pid) for m in models], "enabled": True, "isSystem": False}


def decode_link(link: str) -> dict[str, Any]:
    assert link.startswith(PREFIX)
    result: dict[str, Any] = json.loads(base64.b64decode(unquote(link[len(PREFIX):])))
    return result


# --- the harness ----------------------------------------------------------------------------------------------


@dataclass
class Harness:
    tmp: Path
    home: Path
    gw: Gateway
    env: dict[str, str] = field(default_factory=dict)
    said: list[str] = field(default_factory=list)
    spinner_messages: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)

    @property
    def ctx(self) -> Context:
        return Context(home=self.home, env={"CHERRYCONF_HOME": str(self.tmp / "_cherryconf_home")}, system="linux")

    @property
    def key(self) -> str:
        return self.gw.key

    def userdata(self, items: dict[str, str] | None = None, root: Path | None = None) -> Path:
        return make_userdata(root or self.tmp / "data", items)

    def say(self, text: str) -> None:
        self.said.append(finish(text, colour=False))  # as the CLI prints it without colour

    def wizard(self, ask: Callable[[Question], Any], interactive: bool = True) -> Wizard:
        def spinner(message: str) -> Any:
            self.spinner_messages.append(message)
            return terminal.no_spinner(message)

        return Wizard(self.ctx, ask, self.say, interactive, terminal.gateway_models, terminal.gateway_check,
                      spinner=spinner, env=self.env)

    def script(self, answers: list[tuple[str, Answer]]) -> Script:
        return Script(self.said, answers)

    def run(self, data_dir: Path | None, answers: list[tuple[str, Answer]], flags: Flags | None = None
            ) -> tuple[Outcome, Script]:
        script = self.script(answers)
        outcome = self.wizard(script).run(data_dir, flags or Flags())
        script.done()
        return outcome, script

    def text(self) -> str:
        return "\n".join(self.said)

    def backups(self) -> list[Path]:
        root = self.tmp / "_cherryconf_home" / "backups"
        return sorted(p for p in root.rglob("manifest.json")) if root.exists() else []

    def store(self, data_dir: Path) -> dict[str, Any]:
        """The llm slice, read twice: by cherryconf's store and by plyvel; both must agree."""
        state = open_store(inspect(data_dir, "test")).read()
        llm = plyvel_llm(data_dir)
        assert state.providers == llm["providers"]
        assert state.default_model == llm["defaultModel"]
        return llm


@pytest.fixture
def gw() -> Iterator[Gateway]:
    models = {"gpt-4.1": ModelSpec(), "claude-sonnet-4-20250514": ModelSpec(), "qwen-max": ModelSpec()}
    with running(Gateway(models)) as gateway:
        yield gateway


@pytest.fixture
def harness(tmp_path: Path, isolated_home: Path, gw: Gateway) -> Iterator[Harness]:
    h = Harness(tmp_path, isolated_home, gw)
    h.secrets |= {gw.key, WRONG_KEY}
    yield h
    # No key in anything the wizard said, whole or in part (the import link carries it by design).
    shown = "\n".join(line for line in h.said if not line.startswith(PREFIX))
    for secret in h.secrets:
        pieces = {secret[i:i + 10] for i in range(len(secret) - 9)}
        leaked = sorted(p for p in pieces if p in shown)
        assert not leaked, f"a key reached the output: {leaked[:3]}"


# The answers of an ordinary run with the apiyi preset: key typed, the pre-ticked models, no check, keep the
# default model, confirm, no profile. Tests replace the answers they are about.
def apiyi(h: Harness, **replace: Answer) -> list[tuple[str, Answer]]:
    answers: dict[str, Answer] = {
        "preset": preset("apiyi"), "name": default, "base_url": h.gw.url, "api_key_source": "type",
        "api_key": h.key, "models": ticked, "extra_models": "", "check": False, "default_model": None,
        "confirm": True, "save": False,
    }
    answers.update(replace)
    return [(name, a) for name, a in answers.items() if a is not SKIP]


SKIP = object()  # `apiyi(h, check=SKIP)`: that question is not expected
TICKED = ["claude-sonnet-4-20250514", "gpt-4.1"]  # listed by the gateway and suggested by apiyi, in list order


# --- where the data is ----------------------------------------------------------------------------------------


def test_one_install_found_is_used_without_asking(harness: Harness) -> None:
    ud = harness.userdata(root=harness.home / ".config")  # ~/.config/CherryStudio, the default on Linux
    outcome, script = harness.run(None, apiyi(harness))
    assert script.asked[0].name == "preset"
    assert f"Cherry Studio data: {ud} (v1 store)" in harness.said
    assert outcome.written is not None and outcome.written.install.data_dir == ud
    assert harness.store(ud)["providers"][0]["id"] == "apiyi"


def test_several_installs_are_offered_and_the_chosen_one_is_written(harness: Harness) -> None:
    release = harness.userdata(root=harness.home / ".config")
    dev = harness.home / ".config" / "CherryStudioDev"
    shutil.move(harness.userdata(root=harness.tmp / "dev"), dev)
    release_before = fingerprint(release)

    def choose_dev(q: Question) -> Install:
        assert [c.value.data_dir for c in q.choices] == [release, dev]
        assert all("v1" in c.title for c in q.choices)
        chosen: Install = next(c.value for c in q.choices if c.value.data_dir == dev)
        return chosen

    outcome, _ = harness.run(None, [("install", choose_dev), *apiyi(harness)])
    assert outcome.written is not None and outcome.written.install.data_dir == dev
    assert harness.store(dev)["providers"][0]["id"] == "apiyi"
    assert fingerprint(release) == release_before


def test_no_install_offers_the_import_link_and_prints_a_decodable_one(harness: Harness) -> None:
    outcome, script = harness.run(None, [("use_link", True), *apiyi(harness, confirm=SKIP)])
    assert script.asked[0].name == "use_link"
    looked = harness.said[0]
    assert looked.startswith("No Cherry Studio data found (looked in ")
    assert str(harness.home / ".config" / "CherryStudio") in looked
    assert len(outcome.links) == 1 and outcome.written is None
    assert outcome.links[0] in harness.said
    assert decode_link(outcome.links[0]) == {"id": "apiyi", "baseUrl": harness.gw.url, "apiKey": harness.key,
                                             "name": "API易", "type": "openai"}
    assert "carries no models" in harness.text()
    assert not (harness.home / ".config").exists() and harness.backups() == []


def test_no_install_and_no_link_stops_with_nothing_written(harness: Harness, tmp_path: Path) -> None:
    before = fingerprint(tmp_path)
    outcome, _ = harness.run(None, [("use_link", False)])
    assert outcome == Outcome()
    assert harness.said[-1] == "Stopped: nothing was written."
    assert fingerprint(tmp_path) == before


# --- the app is running ---------------------------------------------------------------------------------------


def running_app(ud: Path) -> Path:
    """A live SingletonLock (this very process, on this host), as Chromium leaves it while the app runs."""
    link = ud / "SingletonLock"
    link.symlink_to(f"{socket.gethostname()}-{os.getpid()}")
    return link


@posix_only
def test_app_running_is_said_before_any_question_and_the_link_is_offered(harness: Harness) -> None:
    ud = harness.userdata()
    running_app(ud)
    before = fingerprint(ud)

    def link_instead(q: Question) -> str:
        assert [c.value for c in q.choices] == ["retry", "link", "stop"]
        return "link"

    outcome, script = harness.run(ud, [("running", link_instead), *apiyi(harness, confirm=SKIP)])
    assert script.asked[0].name == "running"
    said_first = harness.said[:script.said_before[0]]
    assert any(line.startswith("Cherry Studio is running (SingletonLock names process") for line in said_first)
    assert len(outcome.links) == 1 and outcome.written is None
    assert decode_link(outcome.links[0])["baseUrl"] == harness.gw.url
    assert fingerprint(ud) == before and harness.backups() == []


@posix_only
def test_app_running_retry_goes_on_once_the_app_has_quit(harness: Harness) -> None:
    ud = harness.userdata()
    lock = running_app(ud)

    def quit_then_retry(_q: Question) -> str:
        lock.unlink()
        return "retry"

    outcome, _ = harness.run(ud, [("running", "retry"), ("running", quit_then_retry), *apiyi(harness)])
    assert harness.text().count("Cherry Studio is running") == 2
    assert outcome.written is not None and harness.store(ud)["providers"][0]["id"] == "apiyi"


@posix_only
def test_app_running_stop_writes_nothing(harness: Harness) -> None:
    ud = harness.userdata()
    running_app(ud)
    before = fingerprint(ud)
    outcome, _ = harness.run(ud, [("running", "stop")])
    assert outcome == Outcome() and harness.said[-1] == "Stopped: nothing was written."
    assert fingerprint(ud) == before


@posix_only
def test_app_running_without_a_terminal_is_exit_3(harness: Harness) -> None:
    ud = harness.userdata()
    running_app(ud)
    flags = Flags(preset="apiyi", base_url=harness.gw.url, api_key_env=ENV_VAR, models=("a",), yes=True)
    harness.env[ENV_VAR] = harness.key
    with pytest.raises(AppRunning):
        harness.wizard(never_ask, interactive=False).run(ud, flags)


# --- presets --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [p.key for p in presets.presets() if not p.is_blank])
def test_each_preset_fills_name_id_url_and_suggested_models(harness: Harness, key: str) -> None:
    p = presets.get(key)
    listed, unlisted = p.model_ids[0], p.model_ids[1]
    harness.gw.models = {listed: ModelSpec(), "zz-other-model": ModelSpec()}
    ud = harness.userdata()

    def name(q: Question) -> Any:
        assert q.default == p.provider["name"]
        return q.default

    def base_url(q: Question) -> str:
        assert q.default == p.provider["apiHost"]
        return harness.gw.url + "/v1"  # a pasted form; stored normalised

    def models(q: Question) -> list[Any]:
        checked = {c.value: c.checked for c in q.choices}
        assert checked[listed] is True and checked["zz-other-model"] is False
        assert checked[unlisted] is False  # offered, but the gateway does not list it
        return [listed, "zz-other-model"]

    harness.run(ud, apiyi(harness, preset=preset(key), name=name, base_url=base_url, models=models))
    assert harness.store(ud)["providers"][0] == new_provider(
        str(p.provider["id"]), str(p.provider["name"]), harness.gw.url, harness.key, [listed, "zz-other-model"])


@pytest.mark.parametrize(("typed", "pid"), [("My Gateway", "my-gateway"), ("我的网关 🚀", "my-gateway"),
                                            ("Team GW 2", "team-gw-2")])
def test_custom_preset_asks_everything_and_derives_the_id(harness: Harness, typed: str, pid: str) -> None:
    harness.gw.models = {"m-one": ModelSpec(), "m-two": ModelSpec(), "m-three": ModelSpec()}
    ud = harness.userdata()

    def blank(answer: str) -> Callable[[Question], str]:
        def check(q: Question) -> str:
            assert q.default is None  # nothing pre-filled from the template's placeholders
            return answer
        return check

    def models(q: Question) -> list[Any]:
        assert not any(c.checked for c in q.choices)  # no suggestions for a custom gateway
        return ["m-one", "m-three"]

    answers = apiyi(harness, preset=preset("custom"), name=blank(typed), base_url=blank(harness.gw.url),
                    models=models)
    harness.run(ud, answers)
    assert harness.store(ud)["providers"][0] == new_provider(pid, typed, harness.gw.url, harness.key,
                                                             ["m-one", "m-three"])


# --- answers checked at the prompt ----------------------------------------------------------------------------


def test_bad_base_url_is_asked_again_with_the_reason(harness: Harness) -> None:
    ud = harness.userdata()
    bad = [("", "the base URL is empty"), ("ftp://gw.example", "must start with http:// or https://"),
           ("https://", "has no host name"), ("https://gw.example/v1?key=1", "must not contain a query string"),
           ("https://gw example.com", "contains spaces")]
    answers = apiyi(harness)
    at = [n for n, _ in answers].index("base_url")
    pasted = f"{harness.gw.url}/v1/chat/completions"
    answers[at:at + 1] = [*[("base_url", url) for url, _ in bad], ("base_url", pasted)]
    harness.run(ud, answers)
    for _, reason in bad:
        assert any(reason in line and line.endswith("; please try again") for line in harness.said), reason
    assert f"  Chats will go to {harness.gw.url}/v1/chat/completions" in harness.said
    assert harness.store(ud)["providers"][0]["apiHost"] == harness.gw.url


def test_answers_pasted_as_a_chinese_input_method_types_them(harness: Harness) -> None:
    ud = harness.userdata()
    host = harness.gw.url.partition("://")[2]
    answers = apiyi(harness, base_url=f"https：//{host}", api_key=f"Bearer {harness.key}", models=lambda q: [],
                    extra_models="qwen-max，gpt-4.1、 claude-sonnet-4-20250514")
    at = [n for n, _ in answers].index("base_url") + 1
    # The full-width colon is refused by name; then a near-miss endpoint is pointed at and typed again.
    answers[at:at] = [("base_url", f"{harness.gw.url}/v1/chat/completion"), ("near_miss", False),
                      ("base_url", f"{harness.gw.url.upper()}/v1")]
    harness.run(ud, answers)
    said = harness.text()
    assert "holds the full-width character '：' (typed by a Chinese input method): type ':' instead" in said
    assert "ends with /chat/completion, which looks like the endpoint /chat/completions mistyped" in said
    assert 'The key was pasted with "Bearer " in front; it is taken off' in said
    assert harness.store(ud)["providers"][0] == new_provider(
        "apiyi", "API易", harness.gw.url, harness.key, ["qwen-max", "gpt-4.1", "claude-sonnet-4-20250514"])


def test_empty_and_too_long_names_are_asked_again(harness: Harness) -> None:
    ud = harness.userdata()
    answers = apiyi(harness)
    at = [n for n, _ in answers].index("name")
    answers[at:at + 1] = [("name", ""), ("name", "   "), ("name", "x" * 33), ("name", "  " + "名" * 32 + "  ")]
    harness.run(ud, answers)
    assert harness.text().count("the name is empty; please try again") == 2
    assert "  the name is longer than 32 characters (Cherry Studio's limit); please try again" in harness.said
    assert harness.store(ud)["providers"][0]["name"] == "名" * 32  # 32 is allowed, and the padding is dropped


OLD_APIYI = {"id": "apiyi", "name": "Old name", "type": "openai", "apiKey": "sk-old-000000000000000",
             "apiHost": "https://old.example.com", "enabled": True, "isSystem": False,
             "models": [{"id": "kept-model", "provider": "apiyi", "name": "Kept", "group": "kept"}]}


def set_up_before(h: Harness, pid: str = "apiyi", name: str = "Old name") -> dict[str, Any]:
    """A provider an earlier run made for the loopback gateway: two listed models and one the gateway does not list."""
    return {"id": pid, "name": name, "type": "openai", "apiKey": h.key, "apiHost": h.gw.url, "enabled": True,
            "isSystem": False, "models": [model_from_id(m, pid) for m in ("gpt-4.1", "qwen-max", "kept-model")]}


def before_name(answers: list[tuple[str, Answer]], *inserted: tuple[str, Answer], at: str = "name"
                ) -> list[tuple[str, Answer]]:
    i = [n for n, _ in answers].index(at)
    return [*answers[:i], *inserted, *answers[i:]]


def test_existing_id_can_be_updated(harness: Harness) -> None:
    ud = harness.userdata(with_provider(OLD_APIYI))
    harness.secrets.add(str(OLD_APIYI["apiKey"]))
    _, script = harness.run(ud, before_name(apiyi(harness), ("update_existing", True)))
    assert "'apiyi' (Old name) exists" in script.question("update_existing").message
    stored = harness.store(ud)["providers"]
    assert [p["id"] for p in stored].count("apiyi") == 1
    assert stored[0]["apiHost"] == harness.gw.url and stored[0]["apiKey"] == harness.key
    assert stored[0]["name"] == "Old name"  # the name offered was the provider's own
    assert [m["id"] for m in stored[0]["models"]] == ["kept-model"]  # ticked as it was, nothing else added
    preview = next(line for line in harness.said if line.startswith("~ apiyi"))
    assert "sk-ol…0000 -> sk-lo…stuv" in preview  # keys masked in the diff


def test_rerun_offers_the_current_values_and_unticking_removes_a_model(harness: Harness) -> None:
    ud = harness.userdata(with_provider(set_up_before(harness)))

    def same(expected: Any) -> Callable[[Question], Any]:
        def check(q: Question) -> Any:
            assert q.default == expected
            return q.default
        return check

    def keep_key(q: Question) -> str:
        assert q.choices[0].value == "current" and "sk-lo…stuv" in q.choices[0].title
        return "current"

    def untick_qwen(q: Question) -> list[Any]:
        assert set(ticked(q)) == {"gpt-4.1", "qwen-max", "kept-model"}  # the provider's models, not the preset's
        kept = next(c for c in q.choices if c.value == "kept-model")
        assert kept.group == "current" and "not listed by the gateway" in kept.title
        return ["gpt-4.1", "kept-model"]

    answers = before_name(apiyi(harness, name=same("Old name"), base_url=same(harness.gw.url),
                                api_key_source=keep_key, api_key=SKIP, models=untick_qwen),
                          ("update_existing", True))
    harness.run(ud, answers)
    preview = next(line for line in harness.said if line.startswith("~ apiyi"))
    assert "-qwen-max" in preview
    assert harness.store(ud)["providers"][0] == {**set_up_before(harness), "models": [
        model_from_id("gpt-4.1", "apiyi"), model_from_id("kept-model", "apiyi")]}
    assert [r.path for r in harness.gw.requests] == ["/v1/models"]  # the list was the key's check


def test_a_model_a_setting_uses_cannot_be_unticked(harness: Harness) -> None:
    provider = set_up_before(harness)
    ud = harness.userdata(with_provider(provider, quickModel=provider["models"][1]))  # qwen-max
    before = harness.store(ud)
    answers = before_name(apiyi(harness, api_key_source="current", api_key=SKIP), ("update_existing", True))
    at = [n for n, _ in answers].index("models")
    answers[at:at + 1] = [("models", ["gpt-4.1"]), ("models", ["gpt-4.1", "qwen-max"])]
    harness.run(ud, answers)
    assert ("  qwen-max is Cherry Studio's quickModel: keep it, or choose another model for that setting in the "
            "app first; please try again") in harness.said
    after = harness.store(ud)
    assert [m["id"] for m in after["providers"][0]["models"]] == ["gpt-4.1", "qwen-max"]
    assert after["quickModel"] == before["quickModel"]


def test_a_second_custom_gateway_gets_an_id_of_its_own(harness: Harness) -> None:
    first = {**set_up_before(harness, "my-gateway", "My Gateway"), "apiHost": "https://first.example.com"}
    ud = harness.userdata(with_provider(first))

    def new_id(q: Question) -> str:
        assert q.default == "my-gateway-2"
        return str(q.default)

    answers = apiyi(harness, preset=preset("custom"), name="My Gateway", models=["gpt-4.1"])
    answers.insert([n for n, _ in answers].index("api_key_source"), ("provider_id", new_id))
    harness.run(ud, answers)
    assert ("  'my-gateway' (My Gateway) is another gateway (https://first.example.com); this one gets an id of its "
            "own.") in harness.said
    stored = harness.store(ud)["providers"]
    assert [p["id"] for p in stored[:2]] == ["my-gateway-2", "my-gateway"] and stored[1] == first


def test_the_same_custom_gateway_again_is_updated(harness: Harness) -> None:
    ud = harness.userdata(with_provider(set_up_before(harness, "my-gateway-2", "My Gateway")))

    def url(q: Question) -> str:
        assert q.default is None  # no provider has the id the name gives (my-gateway)
        return f"{harness.gw.url}/v1/chat/completions"

    answers = apiyi(harness, preset=preset("custom"), name="My Gateway", base_url=url, api_key_source="current",
                    api_key=SKIP, models=ticked, confirm=SKIP)
    answers.insert([n for n, _ in answers].index("api_key_source"), ("update_existing", True))
    _, script = harness.run(ud, answers)
    assert "'my-gateway-2' (My Gateway) exists" in script.question("update_existing").message
    assert "No changes: Cherry Studio already holds exactly this provider." in harness.said


def test_existing_id_can_be_kept_by_choosing_another_free_id(harness: Harness) -> None:
    ud = harness.userdata(with_provider(OLD_APIYI))
    harness.secrets.add(str(OLD_APIYI["apiKey"]))

    def taken_default(q: Question) -> str:
        assert q.default == "apiyi-2"
        return "apiyi"

    answers = before_name(apiyi(harness), ("update_existing", False), ("provider_id", taken_default),
                          ("provider_id", "bad id!"), ("provider_id", "openai"), ("provider_id", "apiyi-work"))
    harness.run(ud, answers)
    text = harness.text()
    assert "'apiyi' is taken; please try again" in text
    assert "use letters, digits, '-', '_' or '.'" in text
    assert "'openai' is one of Cherry Studio's built-in providers; please try again" in text
    stored = harness.store(ud)["providers"]
    assert stored[0]["id"] == "apiyi-work" and stored[1] == OLD_APIYI


def test_built_in_id_must_be_replaced_by_an_id_of_ones_own(harness: Harness) -> None:
    ud = harness.userdata()
    answers = apiyi(harness, preset=preset("custom"), name="DeepSeek", models=["gpt-4.1"])
    at = [n for n, _ in answers].index("api_key_source")  # a custom gateway's id comes after its URL
    answers[at:at] = [("provider_id", "deepseek"), ("provider_id", default)]  # no "update it?" for a built-in
    _, script = harness.run(ud, answers)
    assert "'deepseek' is one of Cherry Studio's built-in providers; choose an id of your own." in harness.said
    assert script.question("provider_id").default == "deepseek-2"
    stored = harness.store(ud)["providers"]
    assert stored[0]["id"] == "deepseek-2"
    assert stored[1:] == ORIGINAL["providers"]  # the built-in deepseek (and its key) untouched


def test_built_in_id_by_flag_is_refused(harness: Harness) -> None:
    ud = harness.userdata()
    harness.env[ENV_VAR] = harness.key
    flags = Flags(preset="custom", name="OpenAI", provider_id="openai", base_url=harness.gw.url,
                  api_key_env=ENV_VAR, models=("m",), yes=True)
    before = fingerprint(ud)
    with pytest.raises(BadInput, match=r"^--id: 'openai' is one of Cherry Studio's built-in providers$"):
        harness.wizard(never_ask, interactive=False).run(ud, flags)
    assert fingerprint(ud) == before


# --- the key ----------------------------------------------------------------------------------------------------


def test_typed_key_is_hidden_and_checked(harness: Harness) -> None:
    ud = harness.userdata()
    answers = apiyi(harness)
    at = [n for n, _ in answers].index("api_key")
    answers[at:at + 1] = [("api_key", "   "), ("api_key", "sk-line\nbreak-0000"), ("api_key", f"  {harness.key}\t ")]
    _, script = harness.run(ud, answers)
    assert script.question("api_key").kind == "password"
    source = script.question("api_key_source")
    assert [c.value for c in source.choices] == ["type", "env"]  # $APIYI_API_KEY is not set: not offered
    assert "  the key is empty; please try again" in harness.said
    assert "  the key contains a line break or another control character; please try again" in harness.said
    assert harness.store(ud)["providers"][0]["apiKey"] == harness.key


def test_key_from_the_presets_environment_variable(harness: Harness) -> None:
    ud = harness.userdata()
    harness.env["APIYI_API_KEY"] = harness.key
    save_to = harness.tmp / "apiyi.yaml"

    def from_preset_env(q: Question) -> str:
        assert q.choices[0].value == "preset_env" and "$APIYI_API_KEY" in q.choices[0].title
        return "preset_env"

    answers = apiyi(harness, api_key_source=from_preset_env, api_key=SKIP, save=True)
    answers.append(("save_path", str(save_to)))  # no "write the key itself?": there is only a reference
    outcome, _ = harness.run(ud, answers)
    assert harness.store(ud)["providers"][0]["apiKey"] == harness.key
    assert outcome.saved_profile == save_to
    saved = yaml.safe_load(save_to.read_text())
    assert saved["providers"][0]["apiKey"] == "${APIYI_API_KEY}"


def test_key_from_another_environment_variable_must_be_set(harness: Harness) -> None:
    ud = harness.userdata()
    harness.env |= {ENV_VAR: f" {harness.key} ", "EMPTY_VAR": "  "}
    answers = apiyi(harness, api_key_source="env", api_key=SKIP)
    at = [n for n, _ in answers].index("api_key_source") + 1
    answers[at:at] = [("api_key_env", "NOT_SET_ANYWHERE"), ("api_key_env", "1BAD"), ("api_key_env", "EMPTY_VAR"),
                      ("api_key_env", ""), ("api_key_source", "env"), ("api_key_env", ENV_VAR)]  # "" goes back
    harness.run(ud, answers)
    assert "  environment variable NOT_SET_ANYWHERE is not set; please try again" in harness.said
    assert "  '1BAD' is not an environment variable name; please try again" in harness.said
    assert "  environment variable EMPTY_VAR is empty; please try again" in harness.said
    assert harness.store(ud)["providers"][0]["apiKey"] == harness.key


# --- models -----------------------------------------------------------------------------------------------------


def test_model_list_is_fetched_grouped_and_pre_ticked_and_extra_ids_are_typed(harness: Harness) -> None:
    ud = harness.userdata()
    harness.gw.models["deepseek-r1"] = ModelSpec()

    def models(q: Question) -> list[Any]:
        by_value = {c.value: c for c in q.choices}
        assert {v for v, c in by_value.items() if c.checked} == {"gpt-4.1", "claude-sonnet-4-20250514",
                                                                 "deepseek-r1"}
        assert by_value["qwen-max"].checked is False and by_value["qwen-max"].group == "qwen-max"
        assert by_value["claude-sonnet-4-20250514"].group == "claude-sonnet"
        for unlisted in ("claude-opus-4-20250514", "gemini-2.5-pro"):
            assert by_value[unlisted].group == "suggested" and not by_value[unlisted].checked
            assert "not listed by the gateway" in by_value[unlisted].title
        groups = [c.group or "" for c in q.choices]
        assert groups == sorted(groups)  # each group's choices together, under one heading
        return ["gpt-4.1", "qwen-max"]

    harness.run(ud, apiyi(harness, models=models, extra_models="extra-1, extra-2 gpt-4.1"))
    assert f"Fetching the model list from {harness.gw.url}/v1/models" in harness.spinner_messages
    assert "  The gateway lists 4 models." in harness.said
    assert [m["id"] for m in harness.store(ud)["providers"][0]["models"]] == ["gpt-4.1", "qwen-max", "extra-1",
                                                                            "extra-2"]
    models_requests = [r for r in harness.gw.requests if r.path == "/v1/models"]
    assert [r.headers["authorization"] for r in models_requests] == [f"Bearer {harness.key}"]


def test_ticking_nothing_asks_for_ids(harness: Harness) -> None:
    ud = harness.userdata()
    answers = apiyi(harness, models=[])
    at = [n for n, _ in answers].index("extra_models") + 1
    answers[at:at] = [("model_ids", ""), ("model_ids", "typed-1,typed-2")]
    harness.run(ud, answers)
    assert "  No model chosen; type at least one id." in harness.said
    assert "  give at least one model id; please try again" in harness.said
    assert [m["id"] for m in harness.store(ud)["providers"][0]["models"]] == ["typed-1", "typed-2"]


@pytest.mark.parametrize("failure", ["404", "html", "refused"])
def test_model_list_failure_is_explained_then_ids_are_typed(harness: Harness, failure: str) -> None:
    ud = harness.userdata()
    base, key, expected = harness.gw.url, harness.key, ""
    if failure == "404":
        harness.gw.serve_models = False
        expected = "HTTP 404: Invalid URL (GET /v1/models)"
    elif failure == "html":
        base, expected = f"{harness.gw.url}/api/v3", "an HTML page (404 Not Found), not JSON"
    else:
        port = closed_port()
        base, expected = f"http://127.0.0.1:{port}", f"connection refused: nothing listens at 127.0.0.1:{port}"
    url = request_url(normalise_api_host(base, (1, 6, 5)), "models", (1, 6, 5))

    def typed(q: Question) -> str:
        assert q.default == ", ".join(presets.get("apiyi").model_ids)  # the suggestions, ready to edit
        return "typed-a, typed-b"

    answers = apiyi(harness, base_url=base, api_key=key, models=SKIP, extra_models=SKIP)
    answers.insert([n for n, _ in answers].index("check"), ("model_ids", typed))
    if failure == "refused":  # no answer at all: the URL may be wrong, so it is offered again (not taken here)
        answers.insert([n for n, _ in answers].index("model_ids"), ("unreachable", "type"))
    harness.run(ud, answers)
    if failure == "refused":
        said = next(line for line in harness.said if "cannot be reached" in line)
        assert said.startswith(f"  The gateway at {base} cannot be reached (") and expected in said
    else:
        said = next(line for line in harness.said if "Could not fetch" in line)
        assert said.startswith(f"  Could not fetch the model list from {url}: ") and expected in said
        assert "  Type the model ids instead (as the gateway names them)." in harness.said
    stored = harness.store(ud)["providers"][0]
    assert [m["id"] for m in stored["models"]] == ["typed-a", "typed-b"] and stored["apiKey"] == key


def test_an_unreachable_gateway_is_said_in_one_sentence_and_the_url_asked_again(harness: Harness) -> None:
    ud = harness.userdata()
    dead = f"http://127.0.0.1:{closed_port()}"
    answers = apiyi(harness, base_url=dead)
    at = [n for n, _ in answers].index("models")
    # The key is not asked again: only the URL was wrong.
    answers[at:at] = [("unreachable", "url"), ("base_url", harness.gw.url)]
    harness.run(ud, answers)
    said = [line for line in harness.said if "cannot be reached" in line]
    assert len(said) == 1 and said[0].startswith(f"  The gateway at {dead} cannot be reached (")
    assert "Traceback" not in harness.text() and "Errno" not in said[0].partition("(")[0]
    assert harness.store(ud)["providers"][0]["apiHost"] == harness.gw.url


@pytest.mark.parametrize("then", ["url", "models", "add", "stop"])
def test_test_chats_that_reach_no_gateway_offer_the_url_the_models_adding_or_stopping(harness: Harness,
                                                                                     then: str) -> None:
    ud = harness.userdata()
    before = fingerprint(ud)
    dead = f"http://127.0.0.1:{closed_port()}"
    answers = apiyi(harness, base_url=dead, models=SKIP, extra_models=SKIP, check=SKIP)
    at = [n for n, _ in answers].index("default_model")
    again: list[tuple[str, Answer]] = {
        "url": [("base_url", harness.gw.url), ("models", lambda q: ["gpt-4.1"]), ("extra_models", ""),
                ("check", True)],
        "models": [("unreachable", "type"), ("model_ids", "qwen-max"), ("check", False)],
        "add": [], "stop": []}[then]
    answers[at:at] = [("unreachable", "type"), ("model_ids", "gpt-4.1"), ("check", True), ("unreachable", then),
                      *again]
    if then == "stop":
        answers = answers[:at + 4]
    harness.run(ud, answers)
    if then == "stop":
        assert fingerprint(ud) == before and "Stopped: nothing was written." in harness.said
        return
    stored = harness.store(ud)["providers"][0]
    assert (stored["apiHost"], [m["id"] for m in stored["models"]]) == {
        "url": (harness.gw.url, ["gpt-4.1"]), "models": (dead, ["qwen-max"]), "add": (dead, ["gpt-4.1"])}[then]


@pytest.mark.parametrize("leave_out", [True, False])
def test_quick_check_reports_the_failing_models_and_offers_to_leave_them_out(harness: Harness, leave_out: bool
                                                                              ) -> None:
    ud = harness.userdata()
    harness.gw.models = {"good-1": ModelSpec(), "broken-1": ModelSpec(chat="model_not_found"),
                         "echo-1": ModelSpec(chat="unauthorized")}  # answers with pieces of the key

    def check(q: Question) -> bool:
        assert "3 models" in q.message and q.default is True
        return True

    def drop(q: Question) -> bool:
        assert q.message == "Leave out broken-1, echo-1?" and q.default is True
        return leave_out

    answers = apiyi(harness, models=["broken-1", "echo-1", "good-1"], check=check)
    answers.insert([n for n, _ in answers].index("default_model"), ("drop_failing", drop))
    harness.run(ud, answers)
    assert "  ok   good-1" in harness.said
    assert any(line.startswith("  FAIL broken-1: HTTP 404") for line in harness.said)
    echo = next(line for line in harness.said if line.startswith("  FAIL echo-1: HTTP 401"))
    assert harness.key[:6] not in echo and harness.key[-6:] not in echo  # scrubbed, though not the whole key
    assert "  2 of 3 models did not answer; `cherryconf verify` explains more." in harness.text()
    posts = [r.body["model"] for r in harness.gw.requests if r.path == "/v1/chat/completions" and r.body]
    assert sorted(posts) == ["broken-1", "echo-1", "good-1"]
    stored = [m["id"] for m in harness.store(ud)["providers"][0]["models"]]
    assert stored == (["good-1"] if leave_out else ["broken-1", "echo-1", "good-1"])
    assert ("  They are added anyway." in harness.said) is not leave_out


def test_no_model_answering_is_not_written_unless_the_user_insists(harness: Harness) -> None:
    ud = harness.userdata()
    before = fingerprint(ud)
    harness.gw.models = {"broken-1": ModelSpec(chat="model_not_found")}
    answers = apiyi(harness, models=["broken-1"], check=True, default_model=SKIP, confirm=SKIP, save=SKIP)
    answers.append(("add_failing", False))
    outcome, _ = harness.run(ud, answers)
    assert "  The model did not answer; `cherryconf verify` explains more." in harness.said
    assert outcome == Outcome() and fingerprint(ud) == before


# --- a key the gateway rejects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["models", "check"])
def test_a_rejected_key_is_said_in_those_words_and_asked_again(harness: Harness, where: str) -> None:
    ud = harness.userdata()
    retry = [("key_rejected", "retry"), ("api_key_source", "type"), ("api_key", harness.key)]
    if where == "models":  # the model list answers 401
        answers, flags = before_name(apiyi(harness, api_key=WRONG_KEY), *retry, at="models"), Flags()
    else:  # models given by flag: the test chats are the first to tell
        answers = apiyi(harness, api_key=WRONG_KEY, models=SKIP, extra_models=SKIP, check=True)
        answers = before_name(answers, *retry, ("check", True), at="default_model")
        flags = Flags(models=("gpt-4.1",))
    harness.run(ud, answers, flags)
    said = next(line for line in harness.said if "rejected the key" in line)
    assert said.startswith("  The gateway rejected the key (HTTP 401: ") and said.endswith(").")
    assert harness.store(ud)["providers"][0]["apiKey"] == harness.key


@pytest.mark.parametrize("where", ["models", "check"])
def test_stopping_after_a_rejected_key_writes_nothing(harness: Harness, where: str) -> None:
    ud = harness.userdata()
    before = fingerprint(ud)
    answers = apiyi(harness, api_key=WRONG_KEY)[:5]  # up to the key
    flags = Flags() if where == "models" else Flags(models=("gpt-4.1",))
    answers += [("key_rejected", "stop")] if where == "models" else [("check", True), ("key_rejected", "stop")]
    outcome, _ = harness.run(ud, answers, flags)
    assert outcome == Outcome() and harness.said[-1] == "Stopped: nothing was written."
    assert fingerprint(ud) == before and harness.backups() == []


# --- default model ----------------------------------------------------------------------------------------------


def test_default_model_chosen(harness: Harness) -> None:
    ud = harness.userdata()

    def choose(q: Question) -> Any:
        assert [c.value for c in q.choices] == [None, *TICKED]  # "keep" first
        return "gpt-4.1"

    harness.run(ud, apiyi(harness, default_model=choose))
    assert "~ default model: deepseek/deepseek-chat -> apiyi/gpt-4.1" in harness.text()
    llm = harness.store(ud)
    assert llm["defaultModel"] == model_from_id("gpt-4.1", "apiyi")
    assert llm["quickModel"] == ORIGINAL["quickModel"]  # only the default changes


def test_default_model_kept(harness: Harness) -> None:
    ud = harness.userdata()
    harness.run(ud, apiyi(harness, default_model=None))
    assert "default model" not in harness.text()
    assert harness.store(ud)["defaultModel"] == ORIGINAL["defaultModel"]


# --- preview, confirm, write --------------------------------------------------------------------------------------


def test_preview_then_decline_writes_nothing(harness: Harness) -> None:
    ud = harness.userdata()
    before = fingerprint(ud)
    outcome, _ = harness.run(ud, apiyi(harness, confirm=False, save=SKIP))
    assert outcome == Outcome()
    assert "Cherry Studio's settings will change like this:" in harness.said
    assert harness.said[-1] == "Stopped: nothing was written."
    assert fingerprint(ud) == before
    assert harness.backups() == []


def test_confirm_writes_exactly_the_provider_with_a_backup(harness: Harness) -> None:
    ud = harness.userdata()
    outcome, script = harness.run(ud, apiyi(harness))
    assert [q.name for q in script.asked] == ["preset", "name", "base_url", "api_key_source", "api_key", "models",
                                              "extra_models", "check", "default_model", "confirm", "save"]

    llm = harness.store(ud)
    added = {"id": "apiyi", "name": "API易", "type": "openai", "apiKey": harness.key, "apiHost": harness.gw.url,
             "models": [
                 {"id": "claude-sonnet-4-20250514", "provider": "apiyi", "name": "claude-sonnet-4-20250514",
                  "group": "claude-sonnet", "supported_text_delta": True},
                 {"id": "gpt-4.1", "provider": "apiyi", "name": "gpt-4.1", "group": "gpt-4.1",
                  "supported_text_delta": True}],
             "enabled": True, "isSystem": False}
    assert llm["providers"] == [added, *ORIGINAL["providers"]]
    assert {k: v for k, v in llm.items() if k != "providers"} == {k: v for k, v in ORIGINAL.items()
                                                                  if k != "providers"}

    assert outcome.written is not None and outcome.written.backup is not None
    backup = outcome.written.backup.path
    assert harness.backups() == [backup / "manifest.json"]
    preview = harness.said[harness.said.index("Cherry Studio's settings will change like this:") + 1]
    assert preview.startswith("+ apiyi (API易): add provider, type openai")
    assert "apiKey: sk-lo…stuv" in preview and "models +claude-sonnet-4-20250514 +gpt-4.1" in preview
    assert harness.said[-3:] == [f"Done: provider 'apiyi' is in {ud}.",
                                 f"Backup of the previous state: {backup}", "Restart Cherry Studio to see it."]
    # The backup holds the state from before.
    snap = open_store(inspect(ud, "test"), root=outcome.written.backup.files_dir).read()
    assert snap.providers == ORIGINAL["providers"]


def test_same_answers_again_change_nothing(harness: Harness) -> None:
    ud = harness.userdata()
    harness.run(ud, apiyi(harness, default_model="gpt-4.1"))
    after_first = fingerprint(ud)
    answers = before_name(apiyi(harness, default_model="gpt-4.1", confirm=SKIP), ("update_existing", True))
    outcome, _ = harness.run(ud, answers)
    assert "No changes: Cherry Studio already holds exactly this provider." in harness.said
    assert outcome.written is not None and outcome.written.backup is None
    assert fingerprint(ud) == after_first and len(harness.backups()) == 1


# --- the saved profile ------------------------------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("literal", [False, True])
def test_profile_saved_on_request_is_private_and_holds_the_key_only_if_asked(harness: Harness, literal: bool
                                                                             ) -> None:
    ud = harness.userdata()
    answers = apiyi(harness, save=True)
    answers += [("save_path", "~/profiles/gw.yaml"), ("save_key", literal)]
    (harness.home / "profiles").mkdir()
    outcome, _ = harness.run(ud, answers)
    path = harness.home / "profiles" / "gw.yaml"
    assert outcome.saved_profile == path
    assert_private(path)
    text = path.read_text()
    assert (harness.key in text) is literal
    doc = yaml.safe_load(text)
    assert doc["providers"][0]["apiKey"] == (harness.key if literal else "${APIYI_API_KEY}")
    if not literal:
        assert ("  The key is not written to the file: set APIYI_API_KEY before applying it, in this shell like "
                "this: export APIYI_API_KEY=...") in harness.said
    # The saved profile is the same set-up: applied to the store just written, it changes nothing.
    loaded = profile.load(path, env={"APIYI_API_KEY": harness.key}, app_version=(1, 6, 5))
    assert not prepare(inspect(ud, "test"), loaded).plan.changed


def test_a_profile_saved_to_the_default_name_is_named_by_its_full_path(harness: Harness,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ud = harness.userdata()
    harness.env["SHELL"] = "/usr/bin/fish"  # the user's shell decides the example
    monkeypatch.chdir(harness.tmp)
    outcome, _ = harness.run(ud, [*apiyi(harness, save=True), ("save_path", default), ("save_key", False)])
    # Saved where it always was (the working directory), and said with the directory it is in.
    assert outcome.saved_profile == harness.tmp / "cherryconf-profile.yaml"
    assert outcome.saved_profile.is_file()
    assert (f"Profile saved to {harness.tmp / 'cherryconf-profile.yaml'}; apply it elsewhere with `cherryconf "
            f"apply {harness.tmp / 'cherryconf-profile.yaml'}`.") in harness.said
    assert ("  The key is not written to the file: set APIYI_API_KEY before applying it, in this shell like "
            "this: set -x APIYI_API_KEY ...") in harness.said


def test_profile_saved_with_the_key_in_the_keychain(harness: Harness, keychain: dict[str, str]) -> None:
    ud = harness.userdata()
    save_to = harness.tmp / "p.yaml"
    answers = apiyi(harness, save=True)
    answers += [("save_path", str(save_to)), ("save_keychain", True)]
    harness.run(ud, answers)
    text = save_to.read_text()
    assert yaml.safe_load(text)["providers"][0]["apiKey"] == "keyring:cherryconf/apiyi"
    assert harness.key not in text
    # The saved profile is the same set-up: with the key read from the keychain, applying it changes nothing.
    loaded = profile.load(save_to, env={}, app_version=(1, 6, 5))
    assert not prepare(inspect(ud, "test"), loaded).plan.changed


def test_profile_saved_with_an_environment_reference(harness: Harness) -> None:
    ud = harness.userdata()
    harness.env[ENV_VAR] = harness.key
    save_to = harness.tmp / "p.yaml"
    answers = apiyi(harness, api_key_source="env", api_key=SKIP, save=True)
    answers.insert([n for n, _ in answers].index("api_key_source") + 1, ("api_key_env", ENV_VAR))
    answers.append(("save_path", str(save_to)))
    harness.run(ud, answers)
    assert yaml.safe_load(save_to.read_text())["providers"][0]["apiKey"] == f"${{{ENV_VAR}}}"
    assert harness.key not in save_to.read_text()


# --- flags, no terminal, interruption -----------------------------------------------------------------------------


def test_every_answer_by_flag_asks_nothing(harness: Harness) -> None:
    ud = harness.userdata()
    harness.env[ENV_VAR] = harness.key
    save_to = harness.tmp / "flags.yaml"
    flags = Flags(preset="apiyi", name="Gateway by flag", base_url=f"{harness.gw.url}/v1/", api_key_env=ENV_VAR,
                  models=("gpt-4.1", "qwen-max"), default_model="qwen-max", check=True, save_profile=save_to,
                  yes=True)
    outcome = harness.wizard(never_ask, interactive=False).run(ud, flags)
    assert outcome.written is not None and outcome.saved_profile == save_to
    llm = harness.store(ud)
    assert llm["providers"][0] == new_provider("apiyi", "Gateway by flag", harness.gw.url, harness.key,
                                               ["gpt-4.1", "qwen-max"])
    assert llm["defaultModel"] == model_from_id("qwen-max", "apiyi")
    assert "  ok   qwen-max" in harness.said  # --check ran the quick check without a terminal
    assert yaml.safe_load(save_to.read_text())["providers"][0]["apiKey"] == f"${{{ENV_VAR}}}"
    # The same line again: --yes also answers "update it?", and nothing changes.
    again = harness.wizard(never_ask, interactive=False).run(ud, flags)
    assert again.written is not None and again.written.backup is None
    assert "No changes: Cherry Studio already holds exactly this provider." in harness.said


def test_yes_on_a_terminal_asks_only_what_has_no_default(harness: Harness) -> None:
    ud = harness.userdata()
    harness.env["APIYI_API_KEY"] = harness.key
    # The gateway: no default, so asked; the name, key, models, test chat, default model, write and profile are not.
    outcome, _ = harness.run(ud, [("preset", preset("apiyi"))], Flags(base_url=harness.gw.url, yes=True))
    assert outcome.written is not None and outcome.saved_profile is None
    # The test chat's default is yes: the models the gateway does not serve were left out (that default too).
    assert harness.store(ud)["providers"][0] == new_provider("apiyi", "API易", harness.gw.url, harness.key,
                                                             TICKED[::-1])
    assert harness.store(ud)["defaultModel"] == ORIGINAL["defaultModel"]
    left_out = [m for m in presets.get("apiyi").model_ids if m not in TICKED]
    assert left_out and f"Left out: {', '.join(left_out)}." in harness.text()  # unasked, so said


def test_a_profile_saved_with_the_key_from_a_variable_says_to_set_it_where_applied(harness: Harness) -> None:
    ud = harness.userdata()
    harness.env["APIYI_API_KEY"] = harness.key
    save_to = harness.tmp / "apiyi.yaml"
    outcome, _ = harness.run(ud, [("preset", preset("apiyi"))],
                             Flags(base_url=harness.gw.url, yes=True, save_profile=str(save_to)))
    assert outcome.saved_profile == save_to and "${APIYI_API_KEY}" in save_to.read_text(encoding="utf-8")
    assert "The key is not written to the file: set APIYI_API_KEY before applying it" in harness.text()


def test_without_a_terminal_the_preset_supplies_name_url_key_and_models(harness: Harness) -> None:
    ud = harness.userdata()
    harness.env["APIYI_API_KEY"] = harness.key
    # --no-check: the preset's URL is a real gateway, which a test must not call.
    harness.wizard(never_ask, interactive=False).run(ud, Flags(preset="apiyi", check=False, yes=True))
    p = presets.get("apiyi")
    assert harness.store(ud)["providers"][0] == new_provider("apiyi", "API易", "https://vip.apiyi.com",
                                                             harness.key, p.model_ids)
    assert harness.gw.requests == []  # nothing was fetched: the preset's models are the answer


@pytest.mark.parametrize(("drop", "flag"), [
    ("preset", "--preset"), ("base_url", "--base-url"), ("name", "--name"), ("api_key_env", "--api-key-env"),
    ("models", "--model"), ("yes", "--yes"),
])
def test_a_missing_answer_without_a_terminal_names_its_flag(harness: Harness, drop: str, flag: str) -> None:
    ud = harness.userdata()
    harness.env[ENV_VAR] = harness.key
    given: dict[str, Any] = {"preset": "custom", "name": "GW", "base_url": harness.gw.url, "api_key_env": ENV_VAR,
                             "models": ("m",), "yes": True}
    given.pop(drop)
    before = fingerprint(ud)
    with pytest.raises(BadInput) as e:
        harness.wizard(never_ask, interactive=False).run(ud, Flags(**given))
    assert e.value.message.startswith("not a terminal, so the wizard cannot ask ")
    assert f": give {flag}" in e.value.message and "`cherryconf apply PROFILE`" in e.value.message
    assert fingerprint(ud) == before and harness.gw.requests == []


@pytest.mark.parametrize("at", ["preset", "api_key", "models", "confirm"])
def test_ctrl_c_at_any_prompt_propagates_and_writes_nothing(harness: Harness, at: str) -> None:
    ud = harness.userdata()
    before = fingerprint(ud)
    answers = apiyi(harness)
    names = [n for n, _ in answers]
    answers = [*answers[:names.index(at)], (at, KeyboardInterrupt())]
    script = harness.script(answers)
    with pytest.raises(KeyboardInterrupt):
        harness.wizard(script).run(ud, Flags())
    script.done()
    assert fingerprint(ud) == before and harness.backups() == []


# --- the command line -------------------------------------------------------------------------------------------


def test_cli_wizard_without_a_terminal_points_to_apply(run_cli: RunCli) -> None:
    code, out, err = run_cli("wizard")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("cherryconf: not a terminal")
    assert "`cherryconf apply PROFILE`" in err


def test_cli_without_a_command_or_a_terminal_prints_help(run_cli: RunCli) -> None:
    code, out, err = run_cli()
    assert code == 2 and out == ""
    assert err.startswith("Usage: cherryconf") and "wizard" in err


def test_cli_fully_flagged_wizard_is_a_one_line_set_up(run_cli: RunCli, harness: Harness) -> None:
    ud = harness.userdata()
    args = ("--data-dir", str(ud), "wizard", "--preset", "apiyi", "--base-url", harness.gw.url,
            "--api-key-env", "X", "--model", "a", "--model", "b", "--no-check", "--yes")
    code, out, err = run_cli(*args, env={"X": harness.key})
    assert (code, err) == (0, "")
    assert "Restart Cherry Studio to see it." in out and harness.key not in out
    assert harness.store(ud)["providers"][0] == new_provider("apiyi", "API易", harness.gw.url, harness.key,
                                                             ["a", "b"])
    code, out, _ = run_cli(*args, env={"X": harness.key})
    assert code == 0 and "No changes" in out


@pytest.mark.parametrize("check", [None, "--check"])
def test_cli_flags_with_a_rejected_key_exit_2_and_keep_the_working_key(run_cli: RunCli, harness: Harness,
                                                                      check: str | None) -> None:
    ud = harness.userdata(with_provider(set_up_before(harness)))
    before = fingerprint(ud)
    args = ["--data-dir", str(ud), "wizard", "--preset", "apiyi", "--api-key-env", "X", "--model", "gpt-4.1",
            "--yes", *([check] if check else [])]
    code, out, err = run_cli(*args, env={"X": WRONG_KEY})
    assert code == 2, out + err
    assert err.startswith("cherryconf: the gateway rejected the key (HTTP 401: ") and err.count("\n") == 1
    assert err.endswith("; nothing was written\n") and WRONG_KEY[:12] not in out + err
    assert fingerprint(ud) == before and harness.backups() == []
    # Only an explicit --no-check writes a key nobody checked.
    code, out, err = run_cli(*args, "--no-check", env={"X": WRONG_KEY})
    assert code == 0, err
    assert harness.store(ud)["providers"][0]["apiKey"] == WRONG_KEY


def test_cli_check_with_every_model_forbidden_is_a_rejected_key(run_cli: RunCli, harness: Harness) -> None:
    harness.gw.models = {"gpt-4.1": ModelSpec(chat="forbidden"), "qwen-max": ModelSpec(chat="forbidden")}
    ud = harness.userdata()
    before = fingerprint(ud)
    code, _, err = run_cli("--data-dir", str(ud), "wizard", "--preset", "custom", "--name", "GW", "--base-url",
                           harness.gw.url, "--api-key-env", "X", "--model", "gpt-4.1", "--model", "qwen-max",
                           "--check", "--yes", env={"X": harness.key})
    assert code == 2
    assert err.startswith("cherryconf: the gateway rejected the key (HTTP 403: access denied for this token")
    assert fingerprint(ud) == before


def test_cli_a_second_custom_gateway_gets_its_own_id_and_each_rerun_changes_nothing(run_cli: RunCli,
                                                                                      harness: Harness) -> None:
    ud = harness.userdata()
    with running(Gateway({"other-1": ModelSpec()}, key=harness.key)) as second:
        def wizard(url: str) -> tuple[int, str, str]:
            return run_cli("--data-dir", str(ud), "wizard", "--preset", "custom", "--name", "My Gateway",
                           "--base-url", url, "--api-key-env", "X", "--model", "m", "--yes", env={"X": harness.key})

        assert wizard(harness.gw.url)[0] == 0
        code, out, _ = wizard(f"{second.url}/v1")
        assert code == 0 and "is another gateway" in out
        after_two = fingerprint(ud)
        for url in (harness.gw.url, second.url):
            code, out, _ = wizard(url)
            assert code == 0 and "No changes" in out
    stored = {p["id"]: p["apiHost"] for p in harness.store(ud)["providers"][:2]}
    assert stored == {"my-gateway-2": second.url, "my-gateway": harness.gw.url}
    assert fingerprint(ud) == after_two


# --- a real terminal ---------------------------------------------------------------------------------------------


@posix_only
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_end_to_end_in_a_real_terminal(tmp_path: Path, harness: Harness) -> None:
    harness.gw.models = {"alpha-1": ModelSpec(), "beta-2": ModelSpec(), "gamma-3": ModelSpec()}
    ud = harness.userdata()
    term = Tmux.cli(tmp_path, ["--data-dir", str(ud), "wizard"])
    try:
        term.wait_for("Which gateway?")
        term.keys("Enter")  # API易, the first preset
        term.wait_for("Provider name")
        term.keys("Enter")  # an empty answer takes the name shown
        term.wait_for("(Enter: https://vip.apiyi.com)")  # the preset's URL, shown but not in the edit box
        term.paste(f"{harness.gw.url}/v1/chat/completions")  # what a user copies from the gateway's docs
        term.keys("Enter")
        term.wait_for(f"Chats will go to {harness.gw.url}/v1/chat/completions")
        term.wait_for("Where does the API key come from?")
        term.keys("Enter")  # type it
        term.wait_for("? API key")
        term.keys(harness.key, literal=True)
        term.keys("Enter")
        term.wait_for("Models to add")
        term.keys("Space")  # alpha-1 (the pointer starts on the first model, past its group heading)
        term.keys("Down")
        term.keys("Down")
        term.keys("Space")  # gamma-3
        shown = term.wait_for("● gamma-3")
        assert "● alpha-1" in shown and "○ beta-2" in shown
        term.keys("Enter")
        term.wait_for("More model ids")
        term.keys("Enter")
        term.wait_for("one-line test chat")
        term.keys("n", "Enter")  # a yes/no answer waits for Enter, as every other does
        term.wait_for("Make one of them Cherry Studio's default model?")
        term.keys("Enter")  # keep the current default
        term.wait_for("Write this to")
        term.keys("y", "Enter")
        term.wait_for("Save these settings as a profile")
        term.keys("n", "Enter")
        shown = term.wait_for("[exit ")
    finally:
        term.close()
    assert "[exit 0]" in shown, shown
    assert "Restart Cherry Studio to see it." in shown
    assert harness.key not in shown and harness.key[:12] not in shown
    llm = harness.store(ud)
    assert llm["providers"] == [new_provider("apiyi", "API易", harness.gw.url, harness.key, ["alpha-1", "gamma-3"]),
                                *ORIGINAL["providers"]]
    assert llm["defaultModel"] == ORIGINAL["defaultModel"]


@pytest.mark.parametrize("replace", [True, False])
def test_saving_over_an_existing_file_asks_first(harness: Harness, replace: bool) -> None:
    ud = harness.userdata()
    harness.env[ENV_VAR] = harness.key
    save_to = harness.tmp / "existing.yaml"
    save_to.write_text("# someone's notes\n")
    answers = apiyi(harness, api_key_source="env", api_key=SKIP, save=True)
    answers.insert([n for n, _ in answers].index("api_key_source") + 1, ("api_key_env", ENV_VAR))
    answers += [("save_path", str(save_to)), ("overwrite", replace)]
    outcome, _ = harness.run(ud, answers)
    assert (outcome.saved_profile == save_to) is replace
    assert (save_to.read_text() == "# someone's notes\n") is not replace


# --- a gateway already in a built-in provider the app routes by id ------------------------------------------


def gateway_in_openai(h: Harness) -> dict[str, str]:
    """The seed's case: the gateway pasted into the built-in OpenAI provider, the default model on it."""
    from testing.v1state import with_llm

    providers = llm_slice()["providers"]
    providers[0].update(type="openai", apiKey=h.key, apiHost=h.gw.url + "/v1", enabled=True,
                        models=[model_from_id("gpt-4.1", "openai")])
    return with_llm(providers=providers, defaultModel=model_from_id("gpt-4.1", "openai"))


def test_a_gateway_in_the_built_in_openai_is_named_first_and_moved(harness: Harness) -> None:
    ud = harness.userdata(gateway_in_openai(harness))
    outcome, script = harness.run(ud, [("move", True), ("another", False)])
    assert script.asked[0].name == "move"
    first = harness.said[script.said_before[0] - 4:script.said_before[0]]
    assert any("/v1/responses whatever its type" in line for line in first)
    llm = harness.store(ud)
    own = llm["providers"][0]
    # The loopback gateway has an IP address, not a name to take an id from.
    assert (own["id"], own["type"], own["apiHost"], own["apiKey"]) == ("my-gateway", "openai", harness.gw.url,
                                                                       harness.key)
    assert own["models"] == [model_from_id("gpt-4.1", own["id"])]
    assert llm["defaultModel"]["provider"] == own["id"]
    assert llm["providers"][1]["id"] == "openai" and not llm["providers"][1]["enabled"]
    assert outcome.written is not None and len(harness.backups()) == 1


def test_declining_the_move_leaves_the_store_and_goes_on_to_a_new_gateway(harness: Harness) -> None:
    ud = harness.userdata(gateway_in_openai(harness))
    before = fingerprint(ud)
    outcome, _ = harness.run(ud, [("move", False), ("preset", preset("apiyi")), ("name", default),
                                       ("base_url", harness.gw.url), ("api_key_source", "type"),
                                       ("api_key", harness.key), ("models", ticked), ("extra_models", ""),
                                       ("check", False), ("default_model", None), ("confirm", False)])
    assert "Left as it is" in harness.text()
    assert outcome.written is None and fingerprint(ud) == before and harness.backups() == []


def test_declining_the_move_ends_saying_what_still_uses_the_built_in_provider(harness: Harness) -> None:
    ud = harness.userdata(gateway_in_openai(harness))
    outcome, script = harness.run(ud, [("move", False), *apiyi(harness)])
    assert outcome.written is not None and harness.store(ud)["defaultModel"]["provider"] == "openai"
    # The choice that keeps the default says which model that is: the one on the provider left as it was.
    assert script.question("default_model").choices[0].title == (
        "Keep Cherry Studio's current default model (openai/gpt-4.1)")
    # "Done" is not the last word: the default model still uses the built-in provider, and the fix is named.
    assert harness.said[-1] == ("Not fixed: Cherry Studio's defaultModel still uses the built-in provider 'openai', "
                                "left as it was; `cherryconf doctor --fix` moves it, with the assistants that use "
                                "it, to a provider of its own.")


def test_choosing_the_new_gateways_model_as_default_leaves_only_the_gateway_to_move(harness: Harness) -> None:
    ud = harness.userdata(gateway_in_openai(harness))
    harness.run(ud, [("move", False), *apiyi(harness, default_model="gpt-4.1")])
    assert harness.said[-1].startswith("Not fixed: the gateway is still in the built-in provider 'openai', left as")


def test_interrupted_after_the_write_says_the_write_stays(harness: Harness) -> None:
    ud = harness.userdata()
    script = harness.script(apiyi(harness, save=KeyboardInterrupt()))
    with pytest.raises(Interrupted, match=r"interrupted; what was written before stays; `cherryconf restore \S+` puts"):
        harness.wizard(script).run(ud, Flags())
    assert harness.store(ud)["providers"][0]["id"] == "apiyi" and len(harness.backups()) == 1


# --- the model picker on a big catalogue ---------------------------------------------------------------------------

@pytest.mark.parametrize(("keys", "ticked"), [
    ("\r", ["a/keep"]),  # as it opened
    ("b-vendor\x01\r", ["a/keep", "b/one", "b/two"]),  # a group's name, then Ctrl-A: that group ticked
    ("two\x01\r", ["a/keep", "b/two"]),  # by model id: only what is shown
    ("a-vendor\x01\r", []),  # all shown were ticked already: Ctrl-A unticks them
])
def test_the_model_picker_filters_by_group_and_ticks_what_is_shown(keys: str, ticked: list[str]) -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from cherryconf.wizard.questions import Choice, Question
    from cherryconf.wizard.terminal import model_picker

    choices = [Choice("a/keep", "a/keep", checked=True, group="a-vendor"),
               Choice("b/one", "b/one", group="b-vendor"), Choice("b/two", "b/two", group="b-vendor")]
    choices += [Choice(f"c/{i:03d}", f"c/{i:03d}", group="c-vendor") for i in range(500)]
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        picked = model_picker(Question("models", "checkbox", "Models", choices), input=pipe,
                              output=DummyOutput()).unsafe_ask()
    assert sorted(choices[i].value for i in picked) == ticked


@pytest.mark.parametrize(("keys", "default", "answer"), [
    ("\r", True, True), ("\r", False, False),  # Enter alone: the default
    ("n\r", True, False), ("Y\r", False, True), ("否\r", True, False), ("是\r", False, True),
    ("n\x7f\r", True, True),  # chosen, then cleared with Backspace: the default again
    ("xq n\r", True, False),  # other keys do nothing
])
def test_a_yes_no_answer_is_chosen_by_key_and_given_by_enter(keys: str, default: bool, answer: bool) -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from cherryconf.wizard.terminal import yes_no

    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        assert yes_no("Write?", default, input=pipe, output=DummyOutput()).unsafe_ask() is answer
