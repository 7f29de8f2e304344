"""Output for people through the real CLI: colour on a terminal only (never piped, with NO_COLOR or in --json),
long lines wrapped at word boundaries to the terminal's width, tables that fit it."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from testing.cli import RunCli
from testing.gateway import Gateway, ModelSpec, running
from testing.stores import KEY, write_profile
from testing.tmux import Tmux
from testing.v1state import make_userdata, model, with_provider

from cherryconf.console import columns

ZH = {"LANG": "zh_CN.UTF-8"}
EN = {"LANG": "en_US.UTF-8"}
ESC = "\x1b["
GREEN, RED, YELLOW = "\x1b[32m", "\x1b[31m", "\x1b[33m"
# A gateway on the responses type, with a long name: doctor's finding about it is a long line.
GATEWAY = {"id": "gw", "name": "我的网关 with a name long enough to need wrapping everywhere",
           "type": "openai-response",
           "apiKey": "sk-gw-000000000000000000", "apiHost": "https://gw.example.com",
           "models": [model("gpt-4.1", "gw")], "enabled": True}
needs_tmux = pytest.mark.skipif(sys.platform == "win32" or shutil.which("tmux") is None, reason="needs tmux")


@pytest.fixture
def userdata(tmp_path: Path) -> Path:
    return make_userdata(tmp_path, with_provider(GATEWAY))


def in_terminal(tmp_path: Path, args: list[str], env: dict[str, str], columns: int = 200,
                escapes: bool = False) -> str:
    term = Tmux.cli(Path(tempfile.mkdtemp(dir=tmp_path)), args, env=env, columns=columns)  # a server each
    try:
        shown = term.wait_for("[exit ")
        return term.screen(escapes=escapes) if escapes else shown
    finally:
        term.close()


@pytest.mark.slow
@needs_tmux
def test_a_plan_and_findings_are_in_colour_in_a_terminal(tmp_path: Path, userdata: Path) -> None:
    profile, fresh = write_profile(tmp_path), make_userdata(tmp_path / "fresh")
    shown = in_terminal(tmp_path, ["--data-dir", str(fresh), "apply", "--dry-run", str(profile)],
                        {**EN, "GW_KEY": KEY}, escapes=True)
    assert f"{GREEN}+ gw (网关 Gateway): add provider" in shown, shown
    assert f"{YELLOW}~ default model:" in shown
    shown = in_terminal(tmp_path, ["--data-dir", str(userdata), "doctor"], ZH, escapes=True)
    assert f"{RED}✗" in shown, shown
    shown = in_terminal(tmp_path, ["--data-dir", str(tmp_path / "nowhere"), "providers"], ZH, escapes=True)
    assert f"{RED}cherryconf:" in shown, shown  # an error, on stderr


@pytest.mark.slow
@needs_tmux
def test_no_colour_in_a_terminal_with_no_color(tmp_path: Path, userdata: Path) -> None:
    shown = in_terminal(tmp_path, ["--data-dir", str(userdata), "doctor"], {**EN, "NO_COLOR": "1"}, escapes=True)
    assert "responses" in shown and ESC not in shown, shown


def test_no_colour_piped_nor_in_json_even_when_forced(run_cli: RunCli, tmp_path: Path, userdata: Path) -> None:
    profile, fresh = str(write_profile(tmp_path)), make_userdata(tmp_path / "fresh")
    piped = run_cli("--data-dir", str(fresh), "apply", "--dry-run", profile, env={"GW_KEY": KEY})
    assert piped.code == 0 and "+ gw (网关 Gateway)" in piped.out
    assert "\x1b" not in piped.out + piped.err
    forced = run_cli("--data-dir", str(fresh), "apply", "--dry-run", profile, env={"GW_KEY": KEY, "FORCE_COLOR": "1"})
    assert f"{GREEN}+ gw" in forced.out  # FORCE_COLOR is honoured: the check above can fail
    both = {"GW_KEY": KEY, "FORCE_COLOR": "1", "NO_COLOR": "1"}
    assert "\x1b" not in run_cli("--data-dir", str(fresh), "apply", "--dry-run", profile, env=both).out
    as_json = run_cli("--data-dir", str(userdata), "--json", "doctor", env={"FORCE_COLOR": "1"})
    assert "\x1b" not in as_json.out and json.loads(as_json.out)["findings"]


def test_verify_verdicts_in_colour(run_cli: RunCli, tmp_path: Path) -> None:
    with running(Gateway({"ok": ModelSpec(chat="ok"), "gone": ModelSpec(chat="model_not_found")})) as gw:
        path = tmp_path / "gw.yaml"
        path.write_text(f"version: 1\nproviders:\n  - id: gw\n    apiHost: {gw.url}/v1\n    apiKey: ${{GW_KEY}}\n"
                        "    models: [ok, gone]\n", encoding="utf-8")
        coloured = run_cli("verify", str(path), "--endpoint", "chat", env={"GW_KEY": gw.key, "FORCE_COLOR": "1"})
        plain = run_cli("verify", str(path), "--endpoint", "chat", env={"GW_KEY": gw.key, "NO_COLOR": "x"})
    assert coloured.code == plain.code == 5
    assert f"{GREEN}pass" in coloured.out and f"{RED}fail" in coloured.out
    assert f"{RED}1 of 2 models answer" in coloured.out  # the verdict
    assert "\x1b" not in plain.out + plain.err and "fail: unknown model" in plain.out


def _wrapped_right(shown: str, width: int) -> list[str]:
    """The screen's lines, checked: none wider than the terminal (capture-pane joins what the terminal wrapped),
    but a run that cannot be broken (a path)."""
    lines = [line.rstrip() for line in shown.splitlines()]
    assert all(columns(line) <= width or " " not in line.strip() for line in lines), "\n".join(lines)
    return lines


@pytest.mark.slow
@needs_tmux
@pytest.mark.parametrize("env", [EN, ZH], ids=["en", "zh"])
def test_doctor_wraps_to_the_terminal_at_word_boundaries(tmp_path: Path, userdata: Path,
                                                         env: dict[str, str]) -> None:
    lines = _wrapped_right(in_terminal(tmp_path, ["--data-dir", str(userdata), "doctor"], env, columns=60), 60)
    text = " ".join(line.strip() for line in lines)
    # Every word of the long name arrives whole: no word was cut at the edge.
    assert "我的网关 with a name long enough to need wrapping everywhere" in text, "\n".join(lines)
    finding = next(i for i, line in enumerate(lines) if line.startswith(("✗", "!")))
    assert lines[finding + 1].startswith("  ") and not lines[finding + 1].startswith("   ")  # hangs under the text


@pytest.mark.slow
@needs_tmux
@pytest.mark.parametrize("env", [EN, ZH], ids=["en", "zh"])
def test_the_wizard_wraps_to_the_terminal(tmp_path: Path, userdata: Path, env: dict[str, str]) -> None:
    term = Tmux.cli(tmp_path, ["--data-dir", str(userdata), "wizard"], env=env, columns=40)
    try:
        shown = term.wait_for("?")  # the first question: what the wizard said before it is on the screen
        term.keys("C-c")
        term.wait_for("[exit ")
    finally:
        term.close()
    said = shown.split("?")[0]
    lines = _wrapped_right(said, 40)
    # "Cherry Studio data: <path> (v1 store)": longer than 40 columns, so on lines of its own, broken at spaces.
    assert len([line for line in lines if line.strip()]) >= 2 and "Cherry Studio" in lines[0], said


def test_providers_table_fits_a_narrow_terminal(run_cli: RunCli, tmp_path: Path) -> None:
    data_dir = make_userdata(tmp_path)  # the default store: openai, deepseek and a gateway with a UUID id
    wide = run_cli("--data-dir", str(data_dir), "providers", env={"COLUMNS": "250"})
    narrow = run_cli("--data-dir", str(data_dir), "providers", env={"COLUMNS": "80"})
    piped = run_cli("--data-dir", str(data_dir), "providers")
    uuid = "8c2a0e5e-4d7b-4f3c-9a1e-5b6c7d8e9f00"
    assert wide.out == piped.out and wide.out.startswith("ID ") and len(wide.out.splitlines()) == 4
    assert all(columns(line) <= 80 for line in narrow.out.splitlines()), narrow.out
    # One block per provider, each value whole: the id can be copied back into `verify --provider`.
    assert f"\nID        {uuid}\n" in narrow.out and narrow.out.count("\n\n") == 2


def test_providers_leaves_out_the_built_ins_nobody_set_up_unless_all(run_cli: RunCli, tmp_path: Path) -> None:
    from testing import v2db

    install = v2db.first_boot(tmp_path / "ud")  # the newest app lists each of its 60-odd presets
    everything = json.loads(run_cli("--data-dir", str(install.data_dir), "providers", "--json").out)["providers"]
    unused = [p["id"] for p in everything if not (p["enabled"] or p["apiKey"] or p["models"])]
    assert len(unused) > 40
    shown = run_cli("--data-dir", str(install.data_dir), "providers", env={"COLUMNS": "100"}).out.splitlines()
    assert len(shown) == 1 + len(everything) - len(unused) + 1  # the header, the set-up ones, the count
    assert shown[-1] == (f"(and {len(unused)} providers nobody set up: turned off, no key, no models; "
                         "--all lists them)")
    assert all(columns(line) <= 100 for line in shown)  # the URL column cut short to fit, not a block a provider
    listed = run_cli("--data-dir", str(install.data_dir), "providers", "--all", env={"COLUMNS": "250"}).out
    assert len(listed.splitlines()) == 1 + len(everything) and "nobody set up" not in listed
