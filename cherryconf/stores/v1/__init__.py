"""Cherry Studio 1.x: providers in localStorage["persist:cherry-studio"] -> llm slice, in Chromium's LevelDB."""

from __future__ import annotations

import dataclasses
import weakref
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cherryconf.errors import StoreError
from cherryconf.fsutil import copy_file
from cherryconf.i18n import _
from cherryconf.stores import StoreState, shape, swap
from cherryconf.stores.v1 import leveldb, localstorage, persist

if TYPE_CHECKING:
    from cherryconf.domain.plan import Plan
    from cherryconf.stores.install import Install

PERSIST_KEY = "persist:cherry-studio"
# llm-slice fields that embed a whole Model; the provider they name must keep existing.
MODEL_REFS = ("defaultModel", "topicNamingModel", "quickModel", "translateModel")
_WHERE = _("Cherry Studio's saved llm state")


@dataclass(frozen=True)
class _Located:
    """Where the llm slice is in the blob of one LevelDB snapshot; what a second read of it needs, not the blob."""

    snapshot: weakref.ref[leveldb.LevelDB]  # weak: a snapshot nobody else keeps (an unlocked read's) goes
    spans: dict[str, tuple[int, int]]  # every slice's value text, in characters of the decoded blob
    cut: tuple[int, int] | None  # the llm slice in the stored bytes, when a new slice can be spliced in (utf16_span)

    @property
    def span(self) -> tuple[int, int]:
        return self.spans["llm"]

    def after(self, replacements: dict[tuple[int, int], str], cut: tuple[int, int] | None) -> _Located:
        """Where the slices are once `replacements` are made (spans that do not overlap, among self.spans)."""
        shifted: dict[str, tuple[int, int]] = {}
        for name, (start, end) in self.spans.items():
            delta = sum(len(new) - (e - s) for (s, e), new in replacements.items() if e <= start)
            size = len(replacements[(start, end)]) if (start, end) in replacements else end - start
            shifted[name] = (start + delta, start + delta + size)
        return _Located(self.snapshot, shifted, cut)


def _repoint(model: Any, moved: dict[tuple[str, str], str]) -> bool:
    """Point an embedded Model at the provider its model moved to; whether it changed."""
    if not isinstance(model, dict):
        return False
    target = moved.get((str(model.get("provider")), str(model.get("id"))))
    if target is None:
        return False
    model["provider"] = target
    return True


def repoint_assistants(assistants: dict[str, Any], moved: dict[tuple[str, str], str]) -> bool:
    """Re-point the models the assistants slice names (the default assistant's, each assistant's model and
    default model: what the 1.x app reads to pick a provider for a chat); whether anything changed."""
    holders = [assistants.get("defaultAssistant"), *(assistants.get("assistants") or [])]
    changed = False
    for holder in holders:
        if isinstance(holder, dict):
            for field in ("model", "defaultModel"):
                changed |= _repoint(holder.get(field), moved)
    return changed


def _state_of(llm: dict[str, Any]) -> StoreState:
    """The providers and Model settings of an llm slice, refused as a damaged store where they have the wrong shape."""
    providers = shape.check_providers(llm.get("providers"), _WHERE)
    refs = {name: ref for name in MODEL_REFS if (ref := shape.check_model_ref(llm.get(name), name, _WHERE))}
    return StoreState(providers, refs.get("defaultModel"), refs)


class V1Store:
    def __init__(self, install: Install, root: Path | None = None) -> None:
        self.install = install
        self._root = root or install.leveldb_dir
        # The blob last located. A write reads the store several times under LevelDB's lock and gets the same
        # snapshot (LevelDB.open), so decoding and scanning megabytes of state happens once per snapshot.
        self._located: _Located | None = None
        # The value this store last wrote and where its slices are: the read-back after a write reads the store
        # from disk again and compares its bytes with these, instead of decoding and scanning it all again.
        self._written: tuple[bytes, _Located] | None = None
        # What read() made of the blob last located, the parsed llm slice with it: an apply reads one snapshot
        # three times (plan, the check under the lock, the backup's manifest) and then writes it, and a store of
        # 1,000 providers takes a tenth of a second and ~10 MB to parse and check. Callers do not modify a
        # StoreState; write() copies what it changes.
        self._state: tuple[_Located, dict[str, Any], StoreState] | None = None
        # The slice and state write() made, for the read-back: the bytes on disk are compared with the bytes
        # written, which were serialized from this very slice, so parsing them again would only cost a second
        # copy of every provider at the run's peak of memory.
        self._written_state: tuple[dict[str, Any], StoreState] | None = None

    @property
    def root(self) -> Path:
        return self._root

    def catalog_capabilities(self, provider_id: str, model_id: str) -> list[str] | None:
        return None  # 1.x stores a model's capabilities whole, and infers more from its id at run time

    def _files(self, root: Path) -> list[Path]:
        # LevelDB keeps everything flat in one directory; LOCK is recreated by whoever opens it.
        return sorted(p.relative_to(root) for p in root.iterdir() if p.is_file() and p.name != "LOCK")

    def snapshot(self, dest: Path) -> None:
        for rel in self._files(self.root):
            copy_file(self.root / rel, dest / rel)

    def replace_with(self, source: Path) -> None:
        swap.replace_dir(self.root, source, self._files(source))

    def recover(self) -> str | None:
        return swap.recover(self.root)

    def interrupted(self) -> bool:
        return swap.pending(self.root)

    def _stored(self, db: leveldb.LevelDB) -> bytes:
        """The blob as stored (encoded): the state is megabytes, so it is decoded only where needed."""
        stored = localstorage.read_item(db, PERSIST_KEY)
        if stored is None:
            raise StoreError(
                _("{root} holds no Cherry Studio settings yet (no {persist_key}); start the app once, then "
                  "retry").format(
                    root=self.root, persist_key=PERSIST_KEY)
            )
        return stored

    def _locate(self) -> tuple[_Located, bytes, str | None]:
        """The llm slice, the stored blob, and the decoded blob unless this snapshot was located before."""
        db = leveldb.LevelDB.open(self.root)
        stored = self._stored(db)
        if self._located is not None and self._located.snapshot() is db:
            return self._located, stored, None
        if self._written is not None and self._written[0] == stored:
            self._located = dataclasses.replace(self._written[1], snapshot=weakref.ref(db))
            if self._written_state is not None:
                self._state = (self._located, *self._written_state)
            return self._located, stored, None
        blob = localstorage.decode(stored)
        spans = persist.slice_spans(blob)
        span = spans.get("llm")
        if span is None:
            raise StoreError(_("Cherry Studio's saved state has no 'llm' settings; start the app once, then retry"))
        cut = localstorage.utf16_span(stored, blob, span)
        self._located = _Located(weakref.ref(db), spans, cut)
        return self._located, stored, blob

    def read(self) -> StoreState:
        return self._parsed(*self._locate())[1]

    def _parsed(self, located: _Located, stored: bytes, blob: str | None) -> tuple[dict[str, Any], StoreState]:
        """The llm slice of what _locate() found, and the state read from it (parsed once per snapshot)."""
        if self._state is not None and self._state[0] is located:
            return self._state[1], self._state[2]
        # The slice's text is not kept (megabytes with 1,000 providers): taken from the blob while it is decoded.
        blob = blob if blob is not None else localstorage.decode(stored)
        llm = persist.parse_slice(blob[located.span[0] : located.span[1]], "llm")
        del stored, blob
        state = _state_of(llm)
        self._state = (located, llm, state)
        return llm, state

    def inventory(self) -> dict[str, dict[str, int]]:
        # Topics live in the assistants slice (`assistants[].topics[]`, names included), the rest of the app's
        # settings in the other slices and in localStorage keys of their own (cherry-studio-format.md section 9).
        items = localstorage.read_origin(leveldb.LevelDB.open(self.root))
        blob = items.pop(PERSIST_KEY, "")
        spans = persist.slice_spans(blob) if blob else {}
        topics: dict[str, int] = {}
        if "assistants" in spans:
            assistants = persist.parse_slice(blob[slice(*spans["assistants"])], "assistants")
            for holder in [assistants.get("defaultAssistant"), *(assistants.get("assistants") or [])]:
                for topic in (holder.get("topics") or []) if isinstance(holder, dict) else []:
                    if isinstance(topic, dict):
                        topics[f"{holder.get('id')}/{topic.get('id')}"] = hash(persist.stringify(topic))
        settings = {f"{PERSIST_KEY}/{name}": hash(blob[start:end]) for name, (start, end) in spans.items()
                    if name not in ("llm", "assistants", "_persist")}
        settings |= {key: hash(value) for key, value in items.items()}
        return {"topics": topics, "settings": settings}

    def exclusive(self) -> AbstractContextManager[None]:
        return leveldb.locked(self.root)

    def check(self, plan: Plan) -> None:
        # Any 1.x Provider round-trips through the JSON blob: nothing to refuse.
        pass

    def write(self, plan: Plan) -> None:
        located, stored, blob = self._locate()
        old_llm, _state = self._parsed(located, stored, blob)
        # A copy of what changes, down to the embedded Models _repoint changes: the parsed slice stays as read.
        llm = {name: dict(value) if name in MODEL_REFS and isinstance(value, dict) else value
               for name, value in old_llm.items()}
        del old_llm
        llm["providers"] = plan.after
        if plan.default_model_after is not None:
            llm["defaultModel"] = plan.default_model_after
        for name in MODEL_REFS:
            _repoint(llm.get(name), plan.moved)
        new = persist.slice_text(llm)
        # Checked as read() checks what it reads: the read-back takes this state when the bytes match.
        written_state = (llm, _state_of(llm))
        replacements = {located.span: new}
        cut = None
        # Only the changed slices are encoded anew; the rest of the value keeps its stored bytes. The old value and
        # its text are let go before the write, which holds the new value, encoded, and the batch around it.
        if plan.moved:
            blob = blob or localstorage.decode(stored)
            replacements |= self._assistants_repointed(blob, located, plan.moved)
            value = localstorage.encode_replacing_spans(stored, blob, replacements)
        elif located.cut is not None:
            value = localstorage.splice_utf16(stored, located.cut, new)
            # The value stays UTF-16 with the same bytes before the slice: the new slice is as easily cut again.
            cut = (located.cut[0], len(value) - (len(stored) - located.cut[1]))
        else:
            value = localstorage.encode_replacing(stored, blob or localstorage.decode(stored), located.span, new)
        after = located.after(replacements, cut)
        del stored, blob, new, replacements
        self._written = self._written_state = self._state = None
        localstorage.write_encoded(self.root, {PERSIST_KEY: value})
        self._written = (value, after)
        self._written_state = written_state

    @staticmethod
    def _assistants_repointed(blob: str, located: _Located, moved: dict[tuple[str, str], str]
                              ) -> dict[tuple[int, int], str]:
        """The assistants slice re-pointed where it names a moved model, as a replacement of its span (or none)."""
        span = located.spans.get("assistants")
        if span is None:
            return {}
        assistants = persist.parse_slice(blob[span[0] : span[1]], "assistants")
        return {span: persist.slice_text(assistants)} if repoint_assistants(assistants, moved) else {}
