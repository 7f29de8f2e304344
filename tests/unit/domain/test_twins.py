"""Which provider the store holds is the same gateway as a profile's, under another id."""

from __future__ import annotations

from typing import Any

from cherryconf.domain import twins


def p(pid: str, **fields: Any) -> dict[str, Any]:
    return {"id": pid, "name": "My Relay", "type": "openai", "apiHost": "https://relay.example", "apiKey": "sk-a",
            "isSystem": False} | fields


def test_same_host_and_name_or_key_is_a_twin() -> None:
    wanted = p("from-backup", apiHost="https://Relay.example/v1/chat/completions")
    twin = twins.find(wanted, [p("relay")], set())
    assert twin is not None and twin.held_id == "relay" and "same name and same key" in twin.why
    assert twins.find(p("x", name="Other"), [p("relay")], set()) == twins.Twin(
        "relay", "same host https://relay.example and same key")
    assert twins.find(p("x", apiKey="sk-b"), [p("relay")], set()) == twins.Twin(
        "relay", "same host https://relay.example and same name")


def test_not_a_twin() -> None:
    held = [p("relay")]
    assert twins.find(p("x", name="Other", apiKey="sk-b"), held, set()) is None  # neither name nor key
    assert twins.find(p("x", apiHost="https://other.example"), held, set()) is None
    assert twins.find(p("x", type="openai-response"), held, set()) is None  # the same gateway, another protocol
    assert twins.find(p("x"), [p("openai", isSystem=True)], set()) is None  # a built-in: the move's case
    assert twins.find(p("x"), held, {"relay"}) is None  # named by the profile itself, or an owner's
    assert twins.find(p("x"), [p("relay"), p("relay-2")], set()) is None  # two: the id decides
