"""render.table: aligned to the terminal, names and URLs cut short to fit, ids never; blocks when nothing fits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cherryconf.console import columns
from cherryconf.render import table

HEADERS = ["ID", "NAME", "CHAT URL"]
ROWS = [["relay", "我的中转 🚀 for the whole team", "https://vip.apiyi.com/v1/chat/completions"],
        ["8c2a0e5e-4d7b-4f3c-9a1e-5b6c7d8e9f00", "GW", "https://gw.example.com/v1/chat/completions"]]


def test_a_table_that_fits_is_shown_whole() -> None:
    shown = table(HEADERS, ROWS, fit=None)
    assert all(cell in shown for row in ROWS for cell in row) and "…" not in shown


def test_names_and_urls_are_cut_short_to_fit_and_ids_stay_whole() -> None:
    shown = table(HEADERS, ROWS, fit=90, shrink=(1, 2))
    lines = shown.splitlines()
    assert len(lines) == 3 and all(columns(line) <= 90 for line in lines)
    assert "8c2a0e5e-4d7b-4f3c-9a1e-5b6c7d8e9f00" in shown and "…" in shown
    assert "https://vip.apiyi.com/v1/chat/completions" not in shown  # the widest column gave way first


def test_too_narrow_even_cut_short_is_one_block_per_row() -> None:
    shown = table(HEADERS, ROWS, fit=50, shrink=(1, 2))
    assert shown.count("\n\n") == 1 and "https://vip.apiyi.com/v1/chat/completions" in shown


@given(st.lists(st.lists(st.text(alphabet="ab中-/.:", max_size=60), min_size=3, max_size=3), min_size=1, max_size=5),
       st.integers(min_value=20, max_value=160))
def test_a_table_never_passes_its_width_and_keeps_every_id(rows: list[list[str]], fit: int) -> None:
    shown = table(HEADERS, rows, fit=fit, shrink=(1, 2))
    lines = shown.split("\n")
    if len(lines) == len(rows) + 1:  # a table (blocks take 3 lines a row): within the width
        assert all(columns(line) <= fit for line in lines)
    else:  # blocks: every value whole
        assert all(cell in shown for row in rows for cell in row)
    assert all(r[0] in shown for r in rows)
