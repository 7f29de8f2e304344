"""Properties of the importers' parsing: links decode to what was encoded, ids from names never collide."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cherryconf.domain.spec import BUILT_IN_PROVIDER_IDS
from cherryconf.formats import deeplink
from cherryconf.formats.importers import provider_id
from cherryconf.formats.importers.ccr import key_reference

# Values an import link can carry: no `'`, `(` or `)` (the app deletes them), no surrogates.
_value = st.text(st.characters(blacklist_characters="'()", blacklist_categories=("Cs",)), min_size=1,
                 max_size=40).filter(str.strip)


@given(pid=_value, name=_value, key=_value, host=st.sampled_from(["https://gw.example.com", "http://10.0.0.1:3000/v1"]),
       ptype=st.sampled_from(["openai", "anthropic", "openai-response"]))
def test_a_link_decodes_to_what_it_carries(pid: str, name: str, key: str, host: str, ptype: str) -> None:
    provider = {"id": pid, "name": name, "apiKey": key, "apiHost": host, "type": ptype}
    assert deeplink.decode(deeplink.build(provider)) == {"id": pid, "baseUrl": host, "apiKey": key, "name": name,
                                                          "type": ptype}


@given(st.lists(st.text(max_size=20), max_size=30))
def test_ids_from_names_are_unique_and_never_a_built_in_id(names: list[str]) -> None:
    taken: set[str] = set()
    ids = [provider_id(n, taken, "ccr") for n in names]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & BUILT_IN_PROVIDER_IDS
    assert all(i and i == i.lower() and " " not in i for i in ids)


@given(st.from_regex(r"[A-Z_][A-Z0-9_]{0,20}", fullmatch=True), st.booleans())
def test_a_ccr_env_reference_becomes_the_profiles_reference(name: str, braced: bool) -> None:
    raw = "${" + name + "}" if braced else "$" + name
    assert key_reference(f" {raw} ") == "${" + name + "}"


@given(st.text(max_size=30).filter(lambda t: "$" not in t))
def test_a_literal_ccr_key_stays_literal(raw: str) -> None:
    assert key_reference(raw) == raw.strip()
