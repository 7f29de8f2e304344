"""Make a store hold a profile's providers: plan, then back up, write and read back as one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cherryconf import faults
from cherryconf.domain import plan, undo
from cherryconf.errors import BadInput, CherryconfError, ReadBackFailed, StoreError, WriteFailed
from cherryconf.i18n import _
from cherryconf.ops.session import write_session
from cherryconf.stores import backup, owners

if TYPE_CHECKING:
    from cherryconf.domain.patch import LoadedProfile
    from cherryconf.paths import Context
    from cherryconf.stores import Store
    from cherryconf.stores.install import Install


@dataclass(frozen=True)
class Prepared:
    install: Install
    store: Store
    plan: plan.Plan
    claim: owners.Claim | None = None  # the profile's owner and the record to keep once the write is read back


@dataclass(frozen=True)
class Written:
    install: Install
    plan: plan.Plan
    backup: backup.Backup | None  # None when there was nothing to write


def prepare(install: Install, loaded: LoadedProfile, ctx: Context | None = None) -> Prepared:
    """Read the store and plan the change; nothing is written.

    A profile with an owner also removes the providers that owner added before and no longer lists; its record
    lives in cherryconf's own directory, so such a profile needs `ctx`.
    """
    from cherryconf.stores import open_store

    _check_edition(loaded)
    store = open_store(install)
    state = store.read()
    loaded = _as_sealed(loaded, state.providers, install)
    claim = None
    # Providers an owner manages are that owner's profile's exactly: no other profile takes one over as a twin.
    owned = ({pid for o in owners.load(ctx, install).owners.values() for pid in o.ids}
             if ctx is not None and loaded.owner is None else set())
    if loaded.owner is not None:
        if ctx is None:
            raise ValueError("applying an owner's profile needs the context that locates the owners' record")
        claim = owners.claim(owners.load(ctx, install), loaded.owner, [p.id for p in loaded.providers],
                             {str(p.get("id")) for p in state.providers})
    p = plan.make(state.providers, loaded.providers, loaded.default_model, state.default_model, state.model_refs,
                  remove=claim.remove if claim else (), base=store.catalog_capabilities,
                  # An owner's providers are its profile's ids exactly: no twin is taken over for it.
                  match_twins=claim is None, keep_apart=owned)
    if p.changed:
        store.check(p)
    return Prepared(install, store, p, claim)


def turned_off(loaded: LoadedProfile, p: plan.Plan) -> list[str]:
    """The profile's providers that stay turned off in the app because the profile does not say `enabled`: applying
    leaves the user's choice alone, and the store is as the profile says, yet chats cannot use them."""
    after = {str(q.get("id")): q for q in p.after}
    return [patch.id for patch in loaded.providers
            if "enabled" not in patch.fields and after.get(patch.id, {}).get("enabled") is False]


def _as_sealed(loaded: LoadedProfile, held: list[dict[str, Any]], install: Install) -> LoadedProfile:
    """The profile with each key the store already holds sealed (Cherry Studio encrypts a plaintext key at its
    next start) given as the store holds it: the same key is then no change, and apply stays idempotent."""
    import dataclasses

    from cherryconf.stores import sealed

    stored = {str(p.get("id")): str(p.get("apiKey") or "") for p in held}
    patches = []
    for patch in loaded.providers:
        key, now = patch.fields.get("apiKey"), stored.get(patch.id, "")
        if isinstance(key, str) and key and sealed.is_sealed(now):
            try:
                same = sealed.unseal(now, install.data_dir) == key
            except CherryconfError:
                same = False  # cannot be read here: the profile's key is written, as before
            if same:
                patch = dataclasses.replace(patch, fields={**patch.fields, "apiKey": now},
                                            new_provider={**patch.new_provider, "apiKey": now})
        patches.append(patch)
    return dataclasses.replace(loaded, providers=patches)


def _check_edition(loaded: LoadedProfile) -> None:
    """BadInput for a provider under a preset the installed China edition hides (its OpenAI, Anthropic, Gemini)."""
    from cherryconf.stores import edition

    hidden = [p.id for p in loaded.providers if p.id in edition.GLOBAL_ONLY_PRESETS]
    found = edition.detect() if hidden else None
    if found is not None and found.edition == "cn":
        raise BadInput(_("{source}: {ids}: Cherry Studio 中国版 (installed in {where}) hides its {ids} provider, so "
                         "nothing written there would show; give the gateway a provider id of its own").format(
            source=loaded.source, ids=", ".join(hidden), where=found.resources))


def write(ctx: Context, prepared: Prepared, reason: str, keep: int = backup.DEFAULT_KEEP) -> Written:
    """Back up the store, write the plan, read it back; if the write reached the store and failed, put the backup back.

    Call it inside session.held() taken before prepare(), so that no other cherryconf writes between the plan and
    the read-back; its write session takes the lock itself too, for callers that planned without it.
    """
    install, store, p, claim = prepared.install, prepared.store, prepared.plan, prepared.claim
    if not p.changed:
        # The store already holds the profile; the owner's record may still change (a provider it now manages).
        if claim is not None and claim.changed:
            owners.save(ctx, install, claim.record)
        return Written(install, p, None)
    def unchanged() -> None:
        if store.read().providers != p.before:
            raise StoreError(_("the store changed while cherryconf was planning; run the command again"))

    owners_changed = owner_changes(owners.load(ctx, install), claim.record) if claim and claim.changed else {}
    changes = undo.record_of(p, reason, owners_changed)
    with write_session(ctx, install, store, reason, keep, last_look=unchanged, changes=changes) as snap:
        written = False
        try:
            store.write(p)
            written = True
            faults.step("store written")
            after = store.read()
            if after.providers != p.after or (
                p.default_model_after is not None and _ref(after.default_model) != _ref(p.default_model_after)
            ):
                raise ReadBackFailed(_("what cherryconf wrote did not read back the same"))
            if claim is not None and claim.changed:
                owners.save(ctx, install, claim.record)
                faults.step("owners recorded")
        except BaseException as e:
            # A store that reports its own failure (a CherryconfError from write()) has undone it: SQLite rolled
            # the transaction back, the LevelDB log was cut back. Putting the backup back then could only wipe
            # a write this run did not make. Anything else may have reached the store, and is undone.
            if written or isinstance(e, ReadBackFailed) or not isinstance(e, CherryconfError):
                _put_back(store, snap, p.before, e)
            raise
        faults.step("store checked")
    return Written(install, p, snap)


def owner_changes(old: owners.Record, new: owners.Record) -> dict[str, undo.Change]:
    """Each owner's entry before and after, where it changes (for the record of the write)."""
    def entry(record: owners.Record, name: str) -> Any:
        owned = record.owners.get(name)
        return undo.ABSENT if owned is None else {"added": owned.added, "adopted": owned.adopted}

    names = dict.fromkeys([*old.owners, *new.owners])
    return {n: undo.Change(entry(old, n), entry(new, n)) for n in names if entry(old, n) != entry(new, n)}


def _ref(model: dict[str, Any] | None) -> tuple[Any, Any] | None:
    # 2.x keeps only "provider::model" for the default model, so which model it is is what can be compared.
    return None if model is None else (model.get("provider"), model.get("id"))


def _reads_as(store: Store, providers: list[dict[str, Any]]) -> bool:
    try:
        return store.read().providers == providers
    except CherryconfError:
        return False


def _put_back(store: Store, snap: backup.Backup, before: list[dict[str, Any]], cause: BaseException) -> None:
    """Undo a write that reached the store from the backup just taken; if even that fails, say where the backup is."""
    # Files still byte for byte those of the backup mean the failed write left no trace (the LevelDB log was
    # cut back): swapping them in again would only add a way to fail, on a full disk above all.
    if backup.matches(snap, store.root) is not None:
        try:
            store.replace_with(snap.files_dir)
        except (OSError, CherryconfError) as e:
            # When the store still reads as before, the write's own error is the one to report, not a put-back
            # that could not run (on the same full disk, typically) and changed nothing.
            if not _reads_as(store, before):
                why = e.strerror if isinstance(e, OSError) else e.message
                raise StoreError(
                    _("writing failed and so did putting the backup back ({why}); run `cherryconf restore {id}` once "
                      "the problem is fixed").format(why=why, id=snap.id)
                ) from cause
    if isinstance(cause, OSError):
        raise WriteFailed(
            _("could not write {root} ({strerror}); the store was left as it was").format(
                root=store.root, strerror=cause.strerror)
        ) from cause
