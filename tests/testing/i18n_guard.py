"""Human-facing string literals that do not go through `_()`, found by reading cherryconf's source (an AST scan).

It looks where messages come from: the errors cherryconf raises, what click prints or asks (echo, secho, confirm,
prompt, pause, `help=`), what the wizard says and asks (`say`, `Question`, `Choice`), and the text that the
render modules return. A literal there is human text when it holds a word of two letters or more and is a
sentence (it has a space) or a bare word; a token such as `--yes`, `chat/completions` or `cherryconf:` is not.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from testing import REPO

PACKAGE = REPO / "cherryconf"

# Calls -> which positional argument is the human text.
_TEXT_ARGUMENT = {
    **dict.fromkeys(("CherryconfError", "BadInput", "KeyRejected", "AppRunning", "Busy", "StoreError",
                     "ReadBackFailed", "Interrupted", "WriteFailed", "UsageError", "BadParameter", "ClickException",
                     "_Corrupt"), 0),
    "PydanticCustomError": 1, "ConstructorError": 2,  # (type code, message); (context, mark, problem)
    **dict.fromkeys(("echo", "secho", "confirm", "prompt", "pause", "say", "Choice", "spinner"), 0),
    "Question": 2,  # (name, kind, message)
    "Result": 1,  # (--json document, text, exit code, problem)
}
_RENDER_PACKAGE = "render"  # cherryconf/render/: the views
_TRANSLATED = {"_", "ngettext"}
# Literals at those places that are not human text though they look like it.
ALLOWED = {
    "GB", "ms",  # units
}
_WORD = re.compile(r"[^\W\d_]{2,}")
_TOKEN = re.compile(r"\S*[-/.:_$#{}=\\]\S*")


def human(text: str) -> bool:
    text = re.sub(r"\{[^{}]*\}", " ", text).strip()
    if text in ALLOWED or not _WORD.search(text):
        return False
    return " " in text or not _TOKEN.fullmatch(text)


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _untranslated(node: ast.AST) -> Iterator[ast.AST]:
    """The human literals in an expression that no `_()` or `ngettext()` encloses."""
    if isinstance(node, ast.Call):
        # A call's own arguments are its business (`p.get("name")`, `", ".join`); a literal's `.format` is not.
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format" and _name(node.func) not in _TRANSLATED:
            yield from _untranslated(node.func.value)
        return
    if isinstance(node, ast.Dict):
        return  # a --json document: keys, codes and values are the same in every language
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if human(node.value):
            yield node
        return
    if isinstance(node, ast.JoinedStr):
        literal = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        if human(literal):
            yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Constant) and isinstance(node, ast.JoinedStr):
            continue
        if isinstance(node, ast.Subscript) and child is node.slice:
            continue  # a key into a table, not text
        if isinstance(node, ast.Compare):
            continue
        yield from _untranslated(child)


def _help_from_docstring(tree: ast.Module) -> Iterator[ast.AST]:
    """A click command whose help is its docstring: a docstring cannot go through `_()`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and ast.get_docstring(node):
            for d in node.decorator_list:
                if (isinstance(d, ast.Call) and _name(d.func) in ("command", "group")
                        and not any(k.arg == "help" for k in d.keywords)):
                    yield node.body[0].value  # type: ignore[attr-defined]


def _sites(tree: ast.Module, render_module: bool) -> Iterator[ast.AST]:
    yield from _help_from_docstring(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            at = _TEXT_ARGUMENT.get(name)
            on_click = isinstance(node.func, ast.Attribute) and _name(node.func.value) == "click"
            if at is not None and len(node.args) > at and not (name == "Choice" and on_click):
                yield node.args[at]
            yield from (k.value for k in node.keywords if k.arg in ("help", "message", "prompt", "text", "fix"))
        elif isinstance(node, ast.Return) and render_module and node.value is not None:
            yield node.value


def untranslated(package: Path = PACKAGE) -> list[str]:
    """`file:line: literal` for every human literal not passed through `_()`."""
    found = []
    for path in sorted(package.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        for site in _sites(tree, path.relative_to(package).parts[0] == _RENDER_PACKAGE):
            for literal in _untranslated(site):
                where = path.relative_to(package.parent).as_posix()
                found.append(f"{where}:{getattr(literal, 'lineno', 0)}: {ast.get_source_segment(source, literal)}")
    return sorted(set(found))


# --- The Chinese catalogs' punctuation ---------------------------------------------------------------------------

CATALOGS = sorted((PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES").glob("*.po"))
_CJK = r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]"
# A comma, colon or semicolon after a Chinese character, before another (a space between or not) or ending the
# text (a label such as "用法:"): a full-width one belongs there. An ASCII bracket pair whose content holds
# Chinese: full-width brackets belong there.
_HALF_WIDTH = re.compile(rf"(?<={_CJK})[,:;](?: ?(?={_CJK})|$)")
_ASCII_BRACKETS = re.compile(rf"\((?=[^()]*{_CJK})[^()]*\)")


def punctuation_problems(catalogs: list[Path] = CATALOGS) -> list[str]:
    """`file: msgstr: what is wrong` for each Chinese translation with half-width punctuation inside a sentence."""
    from babel.messages.pofile import read_po

    found = []
    for path in catalogs:
        with path.open("rb") as f:
            catalog = read_po(f)
        for message in catalog:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in filter(None, strings):
                bad = [m[0] for m in (*_HALF_WIDTH.finditer(text), *_ASCII_BRACKETS.finditer(text))]
                if bad:
                    found.append(f"{path.name}: {text!r}: {', '.join(repr(b) for b in bad)}")
    return found


def plurals_worded_apart(pot: Path = PACKAGE / "locale" / "cherryconf.pot") -> list[str]:
    """ngettext messages whose singular names no count where the plural does ("the model" / "none of the {n}
    models"): Chinese has one plural form for every count, so its one sentence must serve both; it cannot."""
    from babel.messages.pofile import read_po

    with pot.open("rb") as f:
        catalog = read_po(f)
    return [m.id[0] for m in catalog if m.pluralizable and "{n}" in m.id[1] and "{n}" not in m.id[0]]
