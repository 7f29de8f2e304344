"""Model ids and keys as a user types or pastes them, with a Chinese input method too (properties)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from cherryconf.wizard.questions import _split_ids, _without_bearer

_id = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/@-]{0,30}", fullmatch=True)
# ASCII and full-width commas, the enumeration comma 、, spaces (the ideographic one too) and mixes of them.
_separator = st.lists(st.sampled_from([",", "，", "、", " ", "\u3000", "\t"]), min_size=1, max_size=3).map("".join)


@given(st.lists(_id, min_size=1, max_size=6), st.data())
@example(["gpt-4.1", "deepseek-r1"], None)
def test_any_separator_splits_the_ids_each_kept_once_in_order(ids: list[str], data: st.DataObject | None) -> None:
    seps = [data.draw(_separator) for _ in ids] if data else ["，", ""]
    typed = "".join(i + s for i, s in zip(ids, seps, strict=True))
    lead = data.draw(st.sampled_from(["", " ", "、"])) if data else ""
    assert _split_ids(lead + typed) == list(dict.fromkeys(ids))


@given(_separator)
def test_only_separators_are_no_ids(typed: str) -> None:
    assert _split_ids(typed) == []


_key = st.from_regex(r"sk-[A-Za-z0-9_-]{4,40}", fullmatch=True)


@given(_key, st.sampled_from(["Bearer ", "bearer ", "BEARER  ", "Bearer\t"]))
@example("sk-0123456789", "Bearer ")
def test_a_pasted_bearer_prefix_is_taken_off(key: str, prefix: str) -> None:
    assert _without_bearer(prefix + key) == key
    assert _without_bearer(key) == key  # idempotent: a key without it is kept as is


@given(st.lists(_key, min_size=2, max_size=4))
def test_each_of_several_keys_loses_its_prefix(keys: list[str]) -> None:
    assert _without_bearer(",".join(f"Bearer {k}" for k in keys)) == ",".join(keys)
    assert _without_bearer(",".join(keys)) == ",".join(keys)
