"""Owners: a profile's `owner` makes that owner's providers exactly the profile's, and nobody else's change.

Unit tests of the record (owners.claim, load, save), then the real CLI on every store (1.x LevelDB written by
plyvel, both 2.x database shapes): the drift check, removal, the guards, `providers` showing the owner.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testing import v2db
from testing.privacy import assert_private
from testing.stores import IT, KEY, apply, data_dir, providers, store_bytes, write_profile

from cherryconf.errors import BadInput, StoreError
from cherryconf.paths import Context
from cherryconf.stores import owners
from cherryconf.stores.install import Install

__all__ = ["data_dir"]  # the shared suite's fixture: every test below runs on every store


def record(**owned: tuple[list[str], list[str]]) -> owners.Record:
    return owners.Record(install="/x", owners={name: owners.Owned(added=a, adopted=d) for name, (a, d) in
                                               owned.items()})


def test_a_first_claim_adds_what_is_new_and_adopts_what_the_store_already_holds() -> None:
    c = owners.claim(record(), "it", ["new", "mine"], in_store={"mine", "other"})
    assert c.remove == [] and c.changed
    assert c.record.owners["it"] == owners.Owned(added=["new"], adopted=["mine"])


def test_a_dropped_provider_is_removed_when_the_owner_added_it_and_let_go_when_it_was_adopted() -> None:
    c = owners.claim(record(it=(["a", "b", "gone"], ["adopted"])), "it", ["a"], in_store={"a", "b", "adopted"})
    assert c.remove == ["b"]  # "gone" is no longer in the store: nothing to remove, only forgotten
    assert c.record.owners["it"] == owners.Owned(added=["a"], adopted=[])


def test_another_owners_provider_is_refused() -> None:
    with pytest.raises(BadInput, match="provider 'x' is managed by owner 'hr'"):
        owners.claim(record(hr=(["x"], [])), "it", ["x"], in_store={"x"})


def test_an_unchanged_claim_says_so_and_an_empty_owner_disappears() -> None:
    r = record(it=(["a"], []), hr=(["h"], []))
    assert not owners.claim(r, "it", ["a"], in_store={"a", "h"}).changed
    assert set(owners.claim(r, "it", [], in_store={"a", "h"}).record.owners) == {"hr"}


names = st.sampled_from(["a", "b", "c", "d", "e", "f"])


@settings(max_examples=300)
@given(added=st.sets(names), adopted=st.sets(names), others=st.sets(names), wanted=st.lists(names, unique=True),
       in_store=st.sets(names))
def test_claim_properties(added: set[str], adopted: set[str], others: set[str], wanted: list[str],
                          in_store: set[str]) -> None:
    adopted -= added
    others -= added | adopted
    before = record(it=(sorted(added), sorted(adopted)), hr=(sorted(others), []))
    if set(wanted) & others:
        with pytest.raises(BadInput):
            owners.claim(before, "it", wanted, in_store)
        return
    c = owners.claim(before, "it", wanted, in_store)
    after = c.record.owners.get("it", owners.Owned())
    assert sorted(after.ids) == sorted(wanted)  # the owner's set is exactly the profile's
    assert c.record.owners["hr"] == before.owners["hr"]  # another owner's record is untouched
    assert set(c.remove) == (added - set(wanted)) & in_store  # only what it added, still there, no longer listed
    assert not set(after.added) & (set(wanted) & in_store - added)  # what was there before is never its own
    again = owners.claim(c.record, "it", wanted, (in_store - set(c.remove)) | set(wanted))
    assert not again.changed and again.remove == []


def test_the_record_is_private_and_a_damaged_one_is_refused(tmp_path: Path) -> None:
    ctx = Context(home=tmp_path / "h", env={"CHERRYCONF_HOME": str(tmp_path / "cc")}, system="linux")
    inst = Install(data_dir=tmp_path / "CherryStudio", kind="v1", app_version=None, found_by="test")
    assert owners.load(ctx, inst).owners == {}
    owners.save(ctx, inst, record(it=(["a"], [])))
    file = owners.path(ctx, inst)
    assert_private(file)
    assert_private(file.parent)
    assert owners.load(ctx, inst).owner_of("a") == "it"
    file.write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match="damaged"):
        owners.load(ctx, inst)


# --- the real CLI on every store ---------------------------------------------------------------------------

HR = """\
version: 1
owner: hr
providers:
  - id: hr-gw
    apiHost: https://hr.example.com
    apiKey: ${GW_KEY}
    models: [deepseek-r1]
"""


def ids(run_cli: Any, data_dir: Path) -> list[str]:
    return [p["id"] for p in providers(run_cli, data_dir)]


def test_check_reports_drift_with_exit_5_writes_nothing_and_masks_keys(
        run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    profile = write_profile(tmp_path, IT)
    fingerprint = store_bytes(data_dir)
    drift = apply(run_cli, data_dir, profile, "--check", "--json")
    assert drift.code == 5, drift.err
    report = json.loads(drift.out)
    assert report["check"] and report["changed"] and report["backup"] is None and report["owner"] == "it-dept"
    assert [(c["id"], c["action"]) for c in report["changes"]] == [("corp-a", "add"), ("corp-b", "add")]
    assert report["changes"][0]["fields"]["apiKey"] == {"before": None, "after": "sk-sh…6789"}
    assert KEY not in drift.out + drift.err
    assert store_bytes(data_dir) == fingerprint
    assert not list((tmp_path / "_cherryconf_home").glob("backups/*/*"))
    assert not (tmp_path / "_cherryconf_home" / "owners").exists()

    assert apply(run_cli, data_dir, profile, "--yes").code == 0
    up_to_date = apply(run_cli, data_dir, profile, "--check")
    assert (up_to_date.code, up_to_date.out) == (0, "up to date: the store already holds this profile\n")

    rotated = run_cli("--data-dir", str(data_dir), "apply", str(profile), "--check",
                      env={"GW_KEY": "sk-new-0000000000"})
    assert rotated.code == 5 and "~ corp-a" in rotated.out and "sk-new-0000000000" not in rotated.out


def test_an_owner_drops_its_own_providers_and_keeps_everyone_elses(
        run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    users_own = ids(run_cli, data_dir)
    assert apply(run_cli, data_dir, write_profile(tmp_path, IT, "it.yaml"), "--yes").code == 0
    assert apply(run_cli, data_dir, write_profile(tmp_path, HR, "hr.yaml"), "--yes").code == 0
    listed = {p["id"]: p["owner"] for p in providers(run_cli, data_dir)}
    assert (listed["corp-a"], listed["corp-b"], listed["hr-gw"]) == ("it-dept", "it-dept", "hr")
    assert all(listed[pid] is None for pid in users_own)

    shrunk = write_profile(tmp_path, IT.split("  - id: corp-b")[0], "it2.yaml")
    check = apply(run_cli, data_dir, shrunk, "--check")
    assert check.code == 5 and "- corp-b" in check.out
    done = apply(run_cli, data_dir, shrunk, "--yes", "--json")
    assert done.code == 0, done.err
    report = json.loads(done.out)
    assert [c["id"] for c in report["changes"] if c["action"] == "remove"] == ["corp-b"]
    assert report["backup_id"] and Path(report["backup"]).name == report["backup_id"]
    assert ids(run_cli, data_dir) == ["hr-gw", "corp-a", *users_own]
    assert apply(run_cli, data_dir, shrunk, "--check").code == 0

    # Without an owner, applying is what it always was: nothing is removed.
    unowned = write_profile(tmp_path, HR.replace("owner: hr\n", "").replace("hr-gw", "plain"), "plain.yaml")
    assert apply(run_cli, data_dir, unowned, "--yes").code == 0
    assert ids(run_cli, data_dir) == ["plain", "hr-gw", "corp-a", *users_own]

    # The backup taken before the removal holds corp-b: restoring it brings it back.
    assert run_cli("--data-dir", str(data_dir), "restore", report["backup_id"], "--yes").code == 0
    assert "corp-b" in ids(run_cli, data_dir)


def test_an_owner_cannot_take_another_owners_provider(run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    assert apply(run_cli, data_dir, write_profile(tmp_path, HR, "hr.yaml"), "--yes").code == 0
    fingerprint = store_bytes(data_dir)
    grab = write_profile(tmp_path, HR.replace("owner: hr", "owner: it-dept"), "grab.yaml")
    result = apply(run_cli, data_dir, grab, "--yes")
    assert result.code == 2
    assert result.err == ("cherryconf: provider 'hr-gw' is managed by owner 'hr', so owner 'it-dept' cannot apply "
                          "it; remove it from one of the two profiles\n")
    assert store_bytes(data_dir) == fingerprint
    # --owner names the owner for a profile that does not, and must agree with one that does.
    plain = write_profile(tmp_path, HR.replace("owner: hr\n", ""), "plain.yaml")
    assert apply(run_cli, data_dir, plain, "--owner", "hr", "--check").code == 0
    assert apply(run_cli, data_dir, plain, "--owner", "it-dept", "--check").code == 2
    mismatch = apply(run_cli, data_dir, grab, "--owner", "hr", "--check")
    assert mismatch.code == 2 and "belongs to owner 'it-dept', not 'hr'" in mismatch.err


def test_a_provider_the_app_uses_is_not_removed(run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    with_default = IT + "defaultModel: corp-b/o3\n"
    assert apply(run_cli, data_dir, write_profile(tmp_path, with_default, "it.yaml"), "--yes").code == 0
    fingerprint = store_bytes(data_dir)
    shrunk = write_profile(tmp_path, IT.split("  - id: corp-b")[0], "it2.yaml")
    for extra in ("--check", "--yes"):
        result = apply(run_cli, data_dir, shrunk, extra)
        assert result.code == 2, result.err
        assert "provider 'corp-b' would be removed" in result.err and "defaultModel" in result.err
    assert store_bytes(data_dir) == fingerprint
    assert "corp-b" in ids(run_cli, data_dir)


def test_an_existing_provider_the_owner_takes_over_is_let_go_not_removed(
        run_cli: Any, data_dir: Path, tmp_path: Path) -> None:
    unowned = write_profile(tmp_path, IT.replace("owner: it-dept\n", ""), "before.yaml")
    assert apply(run_cli, data_dir, unowned, "--yes").code == 0  # corp-a and corp-b exist before any owner
    owned = write_profile(tmp_path, IT, "it.yaml")
    first = apply(run_cli, data_dir, owned, "--yes")
    assert (first.code, first.out) == (0, "no changes: the store already holds this profile\n")
    assert {p["id"]: p["owner"] for p in providers(run_cli, data_dir)}["corp-b"] == "it-dept"
    shrunk = write_profile(tmp_path, IT.split("  - id: corp-b")[0], "it2.yaml")
    assert apply(run_cli, data_dir, shrunk, "--check").code == 0
    assert apply(run_cli, data_dir, shrunk, "--yes").code == 0
    listed = {p["id"]: p["owner"] for p in providers(run_cli, data_dir)}
    assert listed["corp-b"] is None and listed["corp-a"] == "it-dept"


def test_removing_a_2x_provider_takes_its_models_and_pins_along(run_cli: Any, tmp_path: Path) -> None:
    pin = ("CREATE TABLE `pin` (`id` text PRIMARY KEY NOT NULL, `entity_type` text NOT NULL, `entity_id` text NOT "
           "NULL, `order_key` text NOT NULL, `created_at` integer NOT NULL, `updated_at` integer NOT NULL);")
    inst = v2db.build(tmp_path / "CherryStudio", "later", extra_sql=pin)
    data_dir = inst.data_dir
    assert apply(run_cli, data_dir, write_profile(tmp_path, IT, "it.yaml"), "--yes").code == 0
    conn = v2db.connect(inst)
    with conn:
        for i, uid in enumerate(["corp-b::o3", "corp-a::gpt-4.1", "relay::o3"]):
            conn.execute("INSERT INTO pin VALUES (?, 'model', ?, ?, 0, 0)", (f"p{i}", uid, f"a{i}"))
    conn.close()
    assert apply(run_cli, data_dir, write_profile(tmp_path, IT.split("  - id: corp-b")[0], "it2.yaml"),
                 "--yes").code == 0
    conn = v2db.connect(inst)
    try:
        assert conn.execute("SELECT count(*) FROM user_provider WHERE provider_id = 'corp-b'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM user_model WHERE provider_id = 'corp-b'").fetchone()[0] == 0
        assert [r[0] for r in conn.execute("SELECT entity_id FROM pin ORDER BY id")] == ["corp-a::gpt-4.1",
                                                                                         "relay::o3"]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def test_a_2x_built_in_provider_is_never_deleted(tmp_path: Path) -> None:
    from cherryconf.domain import plan
    from cherryconf.stores import open_store

    inst = v2db.build(tmp_path / "CherryStudio")
    store = open_store(inst)
    state = store.read()
    with pytest.raises(BadInput, match="built-in providers"):
        store.check(plan.make(state.providers, [], remove={"deepseek"}))
