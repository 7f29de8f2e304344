"""slice_spans scans a slice string a piece at a time: it must end, and refuse, exactly where json's scanner does."""

from __future__ import annotations

import json
from json.decoder import scanstring  # type: ignore[attr-defined]

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cherryconf.errors import StoreError
from cherryconf.stores.v1 import persist

# Escapes, broken escapes, runs of backslashes, quotes, control characters and astral characters: the cases
# around a cut. Tiny pieces put a cut at every position.
_ATOMS = st.sampled_from(['\\\\', '\\"', "\\n", "\\u00e9", "\\u12", "\\x", "\\", '"', "a", "话", "🚀", "\x01", "\n"])
_TEXT = st.lists(_ATOMS, max_size=40).map("".join)


def _expected(text: str, start: int) -> int | None:
    try:
        return int(scanstring(text, start)[1])
    except ValueError:
        return None


@given(text=_TEXT, piece=st.integers(1, 9))
@settings(max_examples=600)
def test_the_piecewise_scan_is_json_s(text: str, piece: int) -> None:
    expected = _expected(text, 0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(persist, "_PIECE", piece)
        if expected is None:
            with pytest.raises(ValueError):
                persist._string_end(text, 0)
        else:
            assert persist._string_end(text, 0) == expected


@given(value=st.text(), piece=st.integers(1, 9))
def test_every_string_json_writes_ends_where_it_does(value: str, piece: int) -> None:
    blob = json.dumps({"a": json.dumps({"s": value}), "llm": "{}"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(persist, "_PIECE", piece)
        spans = persist.slice_spans(blob)
    assert json.loads(blob[slice(*spans["a"])]) == json.dumps({"s": value})


def test_a_broken_escape_deep_in_a_big_slice_is_refused() -> None:
    blob = '{"assistants":"' + "x" * 100_000 + "\\q" + "y" * 100_000 + '","llm":"{}"}'
    with pytest.raises(StoreError, match="not valid JSON"):
        persist.slice_spans(blob)
