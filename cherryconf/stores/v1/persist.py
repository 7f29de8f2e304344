"""The redux-persist blob `persist:cherry-studio`: a JSON object whose values are JSON-encoded slice strings.

Only the byte span of one slice's string is ever replaced, so every other slice (and `_persist`) stays byte
for byte, whatever escapes the app's JSON.stringify chose for it.
"""

from __future__ import annotations

import json
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from cherryconf.errors import StoreError
from cherryconf.i18n import _
from cherryconf.stores.shape import RESTORE, kind

_WS = " \t\n\r"
# Characters of a slice string scanned at a time: a piece's copy stays in memory malloc reuses.
_PIECE = 1 << 14
_ESCAPE_MAX = 6  # the longest JSON escape, \uXXXX


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def slice_spans(blob: str) -> dict[str, tuple[int, int]]:
    """Top-level key -> (start, end) of its JSON value text in `blob`."""
    decoder = json.JSONDecoder()
    spans: dict[str, tuple[int, int]] = {}
    try:
        i = _skip(blob, 0)
        if blob[i] != "{":
            raise ValueError(_("not an object"))
        i = _skip(blob, i + 1)
        if blob[i] == "}":
            return _end(blob, i, spans)
        while True:
            if blob[i] != '"':
                raise ValueError(_("expected a key"))
            key, i = scanstring(blob, i + 1)
            i = _skip(blob, i)
            if blob[i] != ":":
                raise ValueError(_("expected ':'"))
            start = _skip(blob, i + 1)
            # The C scanner finds where a slice string ends (building it, and letting it go) at several times
            # the speed of a regex over its escapes: a state is megabytes of escaped JSON. Anything but a string
            # is decoded as JSON.
            end = _string_end(blob, start + 1) if blob[start] == '"' else decoder.raw_decode(blob, start)[1]
            spans[key] = (start, end)
            i = _skip(blob, end)
            if blob[i] == "}":
                return _end(blob, i, spans)
            if blob[i] != ",":
                raise ValueError(_("expected ',' or '}'"))
            i = _skip(blob, i + 1)
    except (ValueError, IndexError) as e:
        raise StoreError(
            _("Cherry Studio's saved state (persist:cherry-studio) is not valid JSON ({e}); {restore}").format(
                e=e, restore=RESTORE)) from None


def _string_end(text: str, start: int) -> int:
    """scanstring(text, start)[1] (the end of the JSON string whose text starts at `start`), checked as strictly.

    scanstring builds the string it checks: megabytes for the assistants slice, in fresh memory that costs more to
    touch than to scan. Scanned a piece at a time instead, each closed with a quote. A piece cut inside an escape
    cannot end at that quote (it fails, or the quote is escaped and the piece is unterminated), and anything but a
    clean end is settled by the scan of the whole, so the result, and any error's message and position, are
    json's own wherever the cut falls; cutting before a run of backslashes near a piece's end (in valid JSON such
    a run starts an escape) only keeps valid text off that slow path.
    """
    pos, n = start, len(text)
    while True:
        cut = min(pos + _PIECE, n)
        if cut < n:
            last = text.rfind("\\", max(pos, cut - _ESCAPE_MAX + 1), cut)  # never before pos: always on
            if last >= 0:
                while last > pos and text[last - 1] == "\\":
                    last -= 1
                if last == pos:  # the piece is one run of backslashes: the rest is scanned whole
                    return scanstring(text, pos)[1]  # type: ignore[no-any-return]
                cut = last
        piece = text[pos:cut] + '"'
        try:
            end: int = scanstring(piece, 0)[1]
        except ValueError:
            end = -1
        if end < 0 or (end == len(piece) and cut == n):  # invalid, or unterminated: json says how
            return scanstring(text, start)[1]  # type: ignore[no-any-return]
        if end < len(piece):
            return pos + end
        pos = cut


def _end(blob: str, i: int, spans: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    # JSON.parse refuses anything after the object but whitespace, and so the app would lose the whole state.
    if _skip(blob, i + 1) != len(blob):
        raise ValueError(_("text after the end of the object"))
    return spans


def parse_slice(text: str, name: str) -> dict[str, Any]:
    """The slice `name` from its value text (a span slice_spans found): a JSON string holding the slice's JSON."""
    try:
        inner = json.loads(text)
        value = json.loads(inner) if isinstance(inner, str) else inner
    except ValueError as e:
        raise StoreError(_("Cherry Studio's saved '{name}' settings are not valid JSON ({e}); {restore}").format(
                             name=name, e=e, restore=RESTORE)) from None
    if not isinstance(value, dict):
        raise StoreError(_("Cherry Studio's saved '{name}' settings are {found}, not a JSON object; {restore}").format(
                             name=name, found=kind(value), restore=RESTORE))
    return value


def stringify(value: Any) -> str:
    """JSON the way JavaScript's JSON.stringify writes it: no spaces, non-ASCII as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def slice_text(value: dict[str, Any]) -> str:
    """A slice's value text as redux-persist writes it: the JSON of the slice, as a JSON string."""
    return stringify(stringify(value))
