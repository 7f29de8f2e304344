"""errors.closest: the "did you mean" every provider lookup offers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cherryconf.errors import closest


def test_a_typo_finds_its_name_ignoring_case() -> None:
    assert closest("relya", ["openai", "relay", "Team Relay"]) == "relay"
    assert closest("TEAM RELY", ["openai", "relay", "Team Relay"]) == "Team Relay"
    assert closest("zzz", ["openai", "relay"]) is None
    assert closest("relay", []) is None


@given(st.text(max_size=20), st.lists(st.text(max_size=20), max_size=8))
def test_the_answer_is_one_of_the_names_or_none(wanted: str, known: list[str]) -> None:
    found = closest(wanted, known)
    assert found is None or found in known
    if wanted and wanted in known and wanted.casefold() == wanted:
        assert found is not None and found.casefold() == wanted.casefold()
