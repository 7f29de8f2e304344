"""The user's language: Simplified Chinese or English, and the message catalog that speaks it.

Every human-facing text goes through `_()` (or `ngettext()`), looked up in the gettext catalog
`cherryconf/locale/<lang>/LC_MESSAGES/cherryconf.mo` with the standard library's gettext: the catalogs are
standard `.po` files translators know, extracted with Babel (`scripts/catalog`). The language is chosen once,
when this module is first imported, because click's help texts are built when the commands are defined:
`--lang` on the command line, then `CHERRYCONF_LANG`, then what gettext itself reads (`LANGUAGE`, `LC_ALL`,
`LC_MESSAGES`, `LANG`), then on Windows and macOS the user's UI language. Anything not Chinese is English.
click's own texts ("Usage:", "Show this message and exit.", its errors) go through `gettext.gettext`, the
process's global text domain: cherryconf, the program, makes that domain "click" with its own `click.po`
(`install_click_catalog`).
--json documents keep their keys, codes and values in every language; only human text is translated.
"""

from __future__ import annotations

import gettext as _gettext
import os
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Literal

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")
DOMAIN = "cherryconf"
CLICK_DOMAIN = "click"
# os.path, not pathlib: pathlib (and the urllib.parse and ipaddress it imports) would cost --version and --help
# a tenth of their start-up.
LOCALE_DIR = os.path.join(os.path.dirname(os.path.realpath(__file__)), "locale")  # noqa: PTH118, PTH120
_GETTEXT_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def normalise(name: str) -> Language:
    """`zh_CN.UTF-8`, `zh-Hans`, `zh` -> zh-CN (the one Chinese catalog); anything else -> en."""
    return "zh-CN" if name.strip().lower().replace("_", "-").startswith("zh") else "en"


def _from_argv(argv: Sequence[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _from_gettext_variables(env: Mapping[str, str]) -> str | None:
    for name in _GETTEXT_VARIABLES:
        value = env.get(name, "")
        # LANGUAGE is a list (zh_CN:en); "C" and "POSIX" mean no translation, as gettext reads them.
        first = value.split(":")[0] if name == "LANGUAGE" else value
        if first:
            return None if first.split(".")[0] in ("C", "POSIX") else first
    return None


def _from_desktop() -> str | None:
    """The user's UI language where the desktop, not the environment, holds it."""
    if sys.platform == "win32":
        import ctypes
        import locale

        # GetUserDefaultUILanguage: the language of the Windows interface, as a LANGID.
        langid = ctypes.windll.kernel32.GetUserDefaultUILanguage()  # type: ignore[attr-defined,unused-ignore]
        return locale.windows_locale.get(int(langid))
    if sys.platform == "darwin":
        import plistlib
        from pathlib import Path

        prefs = Path.home() / "Library" / "Preferences" / ".GlobalPreferences.plist"
        try:
            languages = plistlib.loads(prefs.read_bytes()).get("AppleLanguages")
        except (OSError, ValueError, plistlib.InvalidFileException):
            return None
        return str(languages[0]) if isinstance(languages, list) and languages else None
    return None


def choose(env: Mapping[str, str], argv: Sequence[str]) -> Language:
    """The language for this run (see the module docstring for the order)."""
    for found in (_from_argv(argv), env.get("CHERRYCONF_LANG"), _from_gettext_variables(env)):
        if found:
            return normalise(found)
    if any(env.get(name) for name in _GETTEXT_VARIABLES):
        return "en"  # C or POSIX: the user asked for no translation
    desktop = _from_desktop()
    return normalise(desktop) if desktop else "en"


def _translations(language: Language) -> _gettext.NullTranslations:
    if language == "en":
        return _gettext.NullTranslations()
    # The one catalog of that language, opened by its path: gettext.translation() would first work out the
    # locale names it might be filed under, at start-up, for a file whose place is known.
    mo = os.path.join(LOCALE_DIR, language.replace("-", "_"), "LC_MESSAGES", f"{DOMAIN}.mo")  # noqa: PTH118
    try:
        with open(mo, "rb") as f:  # noqa: PTH123
            return _gettext.GNUTranslations(f)
    except OSError:
        return _gettext.NullTranslations()


def install_click_catalog(language: Language, env: MutableMapping[str, str]) -> None:
    """Make click speak `language`: click looks its texts up with `gettext.gettext` (click 8.x, every module's
    `from gettext import gettext as _`), so in the global text domain, the program's to choose. gettext picks
    that domain's language from the environment alone, so LANGUAGE says the language chosen here (it may come
    from --lang, CHERRYCONF_LANG or the desktop); English needs nothing: click's texts are English."""
    if language == "en":
        return
    _gettext.bindtextdomain(CLICK_DOMAIN, LOCALE_DIR)
    _gettext.textdomain(CLICK_DOMAIN)
    env["LANGUAGE"] = language.replace("-", "_")


LANGUAGE: Language = choose(os.environ, sys.argv[1:])
_catalog = _translations(LANGUAGE)
install_click_catalog(LANGUAGE, os.environ)


def _(message: str) -> str:
    """`message` in the user's language."""
    return _catalog.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the user's language."""
    return _catalog.ngettext(singular, plural, n)
