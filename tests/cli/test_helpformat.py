"""--help text wrapped by terminal columns, a CJK character taking two."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cherryconf.console import columns, wrap

# Chinese and ASCII words, spaces, Chinese punctuation: what the help texts are made of.
_TEXT = st.text(alphabet=st.sampled_from(list("探测网关模型服务商（），。abc-/ ")), max_size=200)


@given(_TEXT, st.integers(min_value=4, max_value=80))
def test_lines_fit_and_nothing_but_spaces_is_lost(text: str, width: int) -> None:
    lines = wrap(text, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    # A line is longer only when it is one unbreakable run (an ASCII word longer than the width).
    assert all(columns(line) <= width or (" " not in line.strip() and columns(line) == len(line))
               for line in lines)


def test_chinese_breaks_between_characters_but_not_before_its_punctuation() -> None:
    assert wrap("探测网关，哪些模型能应答", 10) == ["探测网关，", "哪些模型能", "应答"]
    assert wrap("use chat/completions or responses", 12) == ["use", "chat/completions", "or responses"]
