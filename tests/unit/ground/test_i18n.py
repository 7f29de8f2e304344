"""Which language cherryconf speaks (--lang, CHERRYCONF_LANG, gettext's variables, then the desktop's), and its
catalogs: complete, not stale, with the fields of every message, and no human text left outside them."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po
from testing import REPO, i18n_guard

from cherryconf import i18n


@pytest.mark.parametrize(("env", "argv", "expected"), [
    ({}, ["--lang", "zh-CN", "providers"], "zh-CN"),
    ({"LANG": "zh_CN.UTF-8"}, ["--lang=en"], "en"),
    ({"LANG": "en_US.UTF-8", "CHERRYCONF_LANG": "zh"}, [], "zh-CN"),
    ({"LANG": "zh_CN.UTF-8"}, [], "zh-CN"),
    ({"LANG": "zh_TW.UTF-8"}, [], "zh-CN"),  # the one Chinese catalog
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, [], "zh-CN"),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, [], "en"),
    ({"LANG": "en_US.UTF-8", "LANGUAGE": "zh_CN:en"}, [], "zh-CN"),
    ({"LANG": "zh_CN.UTF-8", "LANGUAGE": ""}, [], "zh-CN"),  # an empty LANGUAGE is not set
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, [], "en"),
    ({"LANG": "de_DE.UTF-8"}, [], "en"),  # anything not Chinese is English
    ({"LANG": "fr_FR"}, ["--", "--lang", "zh"], "en"),  # after "--" it is an argument, not the option
])
def test_choose(env: dict[str, str], argv: list[str], expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "_from_desktop", lambda: "zh-Hans-CN")  # must not be asked when the env says
    assert i18n.choose(env, argv) == expected


def test_without_any_setting_the_desktop_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "_from_desktop", lambda: "zh-Hans-CN")
    assert i18n.choose({}, []) == "zh-CN"
    monkeypatch.setattr(i18n, "_from_desktop", lambda: None)
    assert i18n.choose({}, []) == "en"


# --- the catalogs --------------------------------------------------------------------------------------------------

ROOT = REPO
LOCALE = ROOT / "cherryconf" / "locale"
CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
# `{name}`, `{name!r}`, `{n:g}` and click's `%(prog)s`: what .format() or % fills in.
_FIELD = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)[sd]")


def _messages(po: Path) -> list[Message]:
    with po.open("rb") as f:
        return [m for m in read_po(f) if m.id]


def test_there_is_a_chinese_catalog_for_cherryconf_and_for_click() -> None:
    assert [p.relative_to(LOCALE).as_posix() for p in CATALOGS] == [
        "zh_CN/LC_MESSAGES/cherryconf.po", "zh_CN/LC_MESSAGES/click.po"]


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.name)
def test_every_message_has_a_translation(po: Path) -> None:
    untranslated = [m.id for m in _messages(po)
                    if m.fuzzy or not all(isinstance(s, str) and s for s in (m.string if isinstance(m.string, tuple)
                                                                               else (m.string,)))]
    assert untranslated == []


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.name)
def test_every_translation_has_the_fields_of_its_message(po: Path) -> None:
    wrong = []
    for m in _messages(po):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        # Chinese has one plural form: it serves every n, so it carries the fields of the plural message.
        wanted = sorted(_FIELD.findall(ids[-1]))
        wrong += [(ids[-1], s) for s in strings if sorted(_FIELD.findall(s)) != wanted]
    assert wrong == []


def test_the_catalogs_are_not_stale() -> None:
    """The .pot is what the code holds now, the .po files follow it (and click's messages), the .mo files the .po."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "catalog"), "--check"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_check_fails_on_a_stale_catalog(tmp_path: Path) -> None:
    """scripts/catalog --check finds a message the .pot lacks (run on a copy of the package)."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "cherryconf", copy / "cherryconf", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    module = copy / "cherryconf" / "render" / "__init__.py"
    module.write_text(module.read_text(encoding="utf-8") + '\n\nNEW = _("a message nobody has translated")\n',
                      encoding="utf-8")
    done = subprocess.run([sys.executable, str(copy / "scripts" / "catalog"), "--check"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert "stale: cherryconf/locale/cherryconf.pot" in done.stderr


def test_the_compiled_catalog_speaks_chinese() -> None:
    zh = gettext.translation("cherryconf", LOCALE, languages=["zh_CN"])
    assert zh.gettext("API key") == "API 密钥"
    assert zh.ngettext("{n} model elsewhere", "{n} models elsewhere", 1) == "{n} 个模型发往别处"
    click_zh = gettext.translation("click", LOCALE, languages=["zh_CN"])
    assert click_zh.gettext("Show this message and exit.") == "显示此帮助并退出。"


# --- the guard: no human text outside _() ---------------------------------------------------------------------------


def test_no_human_text_escapes_the_catalog() -> None:
    assert i18n_guard.untranslated() == []


def test_the_guard_finds_untranslated_text(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(textwrap.dedent('''
        import click
        from cherryconf.errors import BadInput
        from cherryconf.i18n import _

        @click.option("--x", help="Some help.")
        def f(name, say):
            say(f"Hello {name}")
            say(_("Hello {name}").format(name=name))
            click.echo("FAIL")
            click.echo(f"cherryconf: {name}")
            raise BadInput("a sentence for the user")

        @cli.command()
        def g():
            """Help from a docstring."""
    '''))
    found = {line.split(": ", 1)[1] for line in i18n_guard.untranslated(tmp_path)}
    assert found == {'"FAIL"', '"Some help."', '"a sentence for the user"', 'f"Hello {name}"',
                     '"""Help from a docstring."""'}


def test_no_message_is_looked_up_inside_an_f_string() -> None:
    """Babel's extractor does not see `_()` inside an f-string's fields, so such a message is never translated."""
    inside = []
    for path in sorted((ROOT / "cherryconf").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                inside += [f"{path.name}:{n.lineno}" for n in ast.walk(node) if isinstance(n, ast.Call)
                           and isinstance(n.func, ast.Name) and n.func.id in ("_", "ngettext")]
    assert inside == []


def test_every_preset_has_its_title_and_description_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    from cherryconf.formats import presets

    english = {p.key: (p.title, p.description) for p in presets.presets()}
    monkeypatch.setattr(i18n, "LANGUAGE", "zh-CN")
    chinese = {p.key: (p.title, p.description) for p in presets.presets()}
    assert chinese.keys() == english.keys()
    for key, (title, description) in chinese.items():
        assert description and description != english[key][1], key
        assert any("\u4e00" <= c <= "\u9fff" for c in description), key
        assert title == english[key][0] or any("\u4e00" <= c <= "\u9fff" for c in title), key
    # Cherry Studio's own Chinese names for these vendors (its zh-cn locale), so the list reads as the app does.
    assert chinese["siliconflow"][0] == "硅基流动" and chinese["deepseek"][0] == "深度求索"


# --- the Chinese catalogs' punctuation --------------------------------------------------------------------------


def test_chinese_sentences_use_full_width_punctuation() -> None:
    assert i18n_guard.punctuation_problems() == []


def test_the_punctuation_guard_finds_half_width_marks(tmp_path: Path) -> None:
    po = tmp_path / "zh.po"
    po.write_text('msgid "a"\nmsgstr "模型:列表"\n\nmsgid "b"\nmsgstr "网关, 模型"\n\nmsgid "c"\nmsgstr "用法:"\n\n'
                  'msgid "d"\nmsgstr "服务商 (已停用)"\n\nmsgid "e"\nmsgstr "{where}: 网关 (503), URL: {url}"\n',
                  encoding="utf-8")
    found = i18n_guard.punctuation_problems([po])
    # The placeholder's colon, a status code's and a URL's brackets are not inside a Chinese sentence.
    assert [line.split(": ", 1)[1] for line in found] == ["'模型:列表': ':'", "'网关, 模型': ', '", "'用法:': ':'",
                                                          "'服务商 (已停用)': '(已停用)'"]


def test_no_plural_message_says_one_thing_without_its_count() -> None:
    # Such messages are two _() messages chosen by the count (see wizard.flow's test chats).
    assert i18n_guard.plurals_worded_apart() == []
