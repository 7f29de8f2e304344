"""`--help` that fits the terminal in Chinese too: click measures and wraps text by characters, at spaces; a CJK
character takes two columns and Chinese has few spaces. Text without wide characters goes to click unchanged."""

from __future__ import annotations

from collections.abc import Iterable

import click


def columns(text: str) -> int:
    """Terminal columns: CJK and other wide characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# Chinese punctuation that does not start a line, and brackets that do not end one.
_NO_START = frozenset("，。、；：！？）」』》")
_NO_END = frozenset("（「『《")


def _wide(text: str) -> bool:
    return columns(text) != len(text)


def _cut(line: str) -> int:
    """Where to break `line` (line[:i] | line[i:]): the last space or wide-character boundary, not before Chinese
    punctuation nor after an opening bracket unless there is no other; 0 when it cannot be broken."""
    anywhere = 0
    for i in range(len(line) - 1, 0, -1):
        before, after = line[i - 1], line[i]
        if before == " " or after == " " or _wide(before) or _wide(after):
            if after not in _NO_START and before not in _NO_END:
                return i
            anywhere = anywhere or i
    return anywhere


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns, broken at spaces or beside a wide character; only a run that
    cannot be broken (an ASCII word longer than the width) stays longer."""
    lines: list[str] = []
    line = ""
    for c in text:
        if not line and c == " ":
            continue
        line += c
        while columns(line) > width and (cut := _cut(line)):
            lines.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


class Formatter(click.HelpFormatter):
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
            for line in wrap(paragraph.replace("\n", " "), max(self.width - self.current_indent, 11)):
                self.write(f"{'':>{self.current_indent}}{line}\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if not any(_wide(second) for _, second in rows):
            super().write_dl(rows, col_max, col_spacing)
            return
        first_width = min(max(columns(first) for first, _ in rows), col_max)
        hang = " " * (self.current_indent + first_width + col_spacing)
        text_width = max(self.width - len(hang), 10)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if columns(first) <= first_width:
                self.write(" " * (first_width - columns(first) + col_spacing))
            else:
                self.write("\n" + hang)
            self.write(("\n" + hang).join(wrap(second, text_width)) + "\n")


class Context(click.Context):
    formatter_class = Formatter


class Command(click.Command):
    context_class = Context

    def get_short_help_str(self, limit: int = 45) -> str:
        """click cuts the summary in the command list by characters, at spaces: cut a wide one by columns, at its
        first full stop."""
        text = super().get_short_help_str(limit)
        if columns(text) <= limit:
            return text
        first = (self.help or "").split("\n\n")[0].replace("\n", " ").split("。")[0]
        cut = ""
        for c in first:
            if columns(cut + c) > limit - 3:
                return cut + "..."
            cut += c
        return cut


class Group(click.Group):
    context_class = Context
    command_class = Command
