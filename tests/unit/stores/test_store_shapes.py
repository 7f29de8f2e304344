"""Every value read from a store goes through a shape check (issue 13): a slice, row or JSON column of the wrong
shape is refused as a damaged store (exit 4, one line naming the provider and the field), never an exception, and
text that does not decode says what to do. Each kind of damage store_fuzz knows is run here once, through the CLI.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from testing import store_fuzz as fz
from testing import v2db
from testing.cli import RunCli
from testing.v1state import PERSIST_KEY, blob, cherry_state, llm_slice, make_userdata

# Damage the app would also show (or ignore): read as it is. Everything else is refused, naming the field.
V1_READABLE = {"defaultModel a string", "lone surrogate in a name", "control characters in a name"}
V1_NAMED = {
    "providers not a list": "its providers are an object, not a list",
    "provider not an object": "provider #1 is text, not an object",
    "provider without id": "provider #1 has id as null, not non-empty text",
    "models not a list": "provider 'openai' has models as text, not a list",
    "models null": "provider 'openai' has models as null, not a list",
    "model not an object": "provider 'openai' has model #1 as a number, not an object",
    "model id a number": "provider 'openai', model #1 has id as a number, not non-empty text",
    "model type a number": "provider 'openai', model 'm' has type as a number, not a list",
    "name a number": "provider 'openai' has name as a number, not text",
    "apiHost a list": "provider 'openai' has apiHost as a list, not text",
    "extra_headers a list": "provider 'openai' has extra_headers as a list, not an object",
    "defaultModel provider a list": "defaultModel has provider as a list, not text",
    "llm a list": "saved 'llm' settings are a list, not a JSON object",
}
# SQLite stores a number put in a TEXT column as text (column affinity): those read as the app would read them.
V2_READABLE = {"huge integer", "order_key odd", "name a number", "order_key a number", "model_id a number"}


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cherryconf: ") and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("damage", sorted(fz.llm_damage(llm_slice())))
def test_a_1x_state_of_the_wrong_shape(tmp_path: Path, run_cli: RunCli, damage: str) -> None:
    items = cherry_state()
    items[PERSIST_KEY] = blob(fz.llm_damage(llm_slice())[damage]())
    data_dir = make_userdata(tmp_path, items)
    result = run_cli("--data-dir", str(data_dir), "providers", "--json")
    if damage in V1_READABLE:
        assert result.code == 0, result.err
        names = [p["name"] for p in json.loads(result.out)["providers"]]
        assert names[0] in ("OpenAI", "a\ud800b", "a\nb\x07")  # the JSON escapes a lone surrogate
        text = run_cli("--data-dir", str(data_dir), "providers")
        assert text.code == 0, text.err  # and the table shows it escaped, instead of failing to print it
        return
    message = one_line(result.err)
    assert result.code == 4
    assert V1_NAMED[damage] in message and "cherryconf restore" in message


@pytest.mark.parametrize("damage", sorted(fz.ROW_EDITS))
def test_a_2x_row_of_the_wrong_shape(tmp_path: Path, run_cli: RunCli, damage: str) -> None:
    install = v2db.build(tmp_path / "ud")
    conn = sqlite3.connect(install.sqlite_path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(fz.ROW_EDITS[damage])
    conn.close()
    result = run_cli("--data-dir", str(install.data_dir), "providers", "--json")
    if damage in V2_READABLE:
        assert result.code == 0, result.err
        return
    message = one_line(result.err)
    assert result.code == 4
    table, column = re.search(r"UPDATE (\w+) SET (\w+)", fz.ROW_EDITS[damage]).groups()  # type: ignore[union-attr]
    assert f"{table}.{column}" in message and "cherryconf restore" in message
    assert re.search(r"\((provider|model) '[^']+'\)", message)


def test_a_1x_state_with_text_after_it_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    """JSON.parse refuses it, so the app would start without any of it: nothing to write over."""
    items = cherry_state()
    items[PERSIST_KEY] += " x"
    data_dir = make_userdata(tmp_path, items)
    result = run_cli("--data-dir", str(data_dir), "providers")
    assert result.code == 4
    assert "not valid JSON (text after the end of the object)" in one_line(result.err)
