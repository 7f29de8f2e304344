"""Which language cherryconf speaks: --lang, CHERRYCONF_LANG, gettext's variables, then the desktop's."""

from __future__ import annotations

import pytest

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
