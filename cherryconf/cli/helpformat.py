"""`--help` that fits the terminal in Chinese too: click measures and wraps text by characters, at spaces; a CJK
character takes two columns and Chinese has few spaces. Text without wide characters goes to click unchanged; the
rest is wrapped by `console.wrap`, as all of cherryconf's output is."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import click

from cherryconf import console
from cherryconf.i18n import _

# click names its parameter types in English and never looks the names up; they are the metavars of the help
# (INTEGER RANGE) and words of its errors ("'abc' is not a valid float range"): given in the user's language here.
for _type, _name in ((click.types.StringParamType, _("text")), (click.types.IntParamType, _("integer")),
                     (click.types.IntRange, _("integer range")), (click.types.FloatParamType, _("float")),
                     (click.types.FloatRange, _("float range")), (click.types.BoolParamType, _("boolean")),
                     (click.types.UUIDParameterType, _("uuid")), (click.types.File, _("filename")),
                     (click.types.DateTime, _("datetime"))):
    _type.name = _name


def _wide(text: str) -> bool:
    return console.columns(text) != len(text)


class Formatter(click.HelpFormatter):
    def write_heading(self, heading: str) -> None:
        if not _wide(heading):
            super().write_heading(heading)
            return
        self.write(f"{'':>{self.current_indent}}{heading}：\n")  # a Chinese heading takes a full-width colon

    def write_text(self, text: str) -> None:
        if not _wide(text):
            super().write_text(text)
            return
        for i, paragraph in enumerate(text.split("\n\n")):
            if i:
                self.write_paragraph()
            if paragraph.startswith("\b\n"):  # click's mark for lines kept as written (commands to type)
                self.write("".join(f"{'':>{self.current_indent}}{line}\n" for line in paragraph[2:].split("\n")))
                continue
            for line in console.wrap(paragraph.replace("\n", " "), max(self.width - self.current_indent, 11)):
                self.write(f"{'':>{self.current_indent}}{line}\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if not any(_wide(second) for _, second in rows):
            super().write_dl(rows, col_max, col_spacing)
            return
        first_width = min(max(console.columns(first) for first, _ in rows), col_max)
        hang = " " * (self.current_indent + first_width + col_spacing)
        text_width = max(self.width - len(hang), 10)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if console.columns(first) <= first_width:
                self.write(" " * (first_width - console.columns(first) + col_spacing))
            else:
                self.write("\n" + hang)
            # click joins what it adds ([default: 20; x>=1]) with a semicolon: a full-width one in Chinese.
            second = re.sub(r"\[([^\[\]]*)\]$", lambda m: "[" + m[1].replace("; ", "；") + "]", second)
            self.write(("\n" + hang).join(console.wrap(second, text_width)) + "\n")


class Context(click.Context):
    formatter_class = Formatter


class Command(click.Command):
    context_class = Context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", _("[OPTIONS]"))
        super().__init__(*args, **kwargs)

    def get_short_help_str(self, limit: int = 45) -> str:
        """click cuts the summary in the command list by characters, at spaces: cut a wide one by columns, at its
        first full stop."""
        text = super().get_short_help_str(limit)
        if console.columns(text) <= limit:
            return text
        first = (self.help or "").split("\n\n")[0].replace("\n", " ").split("。")[0]
        cut = ""
        for c in first:
            if console.columns(cut + c) > limit - 3:
                return cut + "..."
            cut += c
        return cut


class Group(click.Group):
    context_class = Context
    command_class = Command

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", _("[OPTIONS]"))
        super().__init__(*args, **kwargs)
        # click's own words for the command and its arguments, in the usage line.
        self.subcommand_metavar = self.subcommand_metavar.replace("COMMAND", _("COMMAND")).replace("ARGS", _("ARGS"))
