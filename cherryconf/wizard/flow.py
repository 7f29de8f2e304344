"""The interactive set-up, one step after another: install -> gateway (preset, name) -> URL -> provider id (new, or
one to update) -> key -> models -> check -> default model -> preview -> write (or the import link) -> profile.

This is the only module that prompts. Its logic asks through an injected `ask` function, so tests drive
every branch with scripted answers; `questionary_ask` (the only questionary call site) serves a terminal.
Every answer can also come from a flag, so a fully specified run asks nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cherryconf import render
from cherryconf.domain import routing
from cherryconf.domain.endpoints import near_miss, normalise_api_host, request_url
from cherryconf.domain.patch import LoadedProfile
from cherryconf.domain.spec import BUILT_IN_PROVIDER_IDS, default_group, setting_name
from cherryconf.errors import BadInput, Interrupted, KeyRejected, Unreachable
from cherryconf.formats import deeplink, presets, profile
from cherryconf.i18n import _, ngettext
from cherryconf.ops import apply
from cherryconf.paths import Context
from cherryconf.redact import mask, mask_url, scrub
from cherryconf.stores import StoreState, install, runlock
from cherryconf.wizard.questions import (
    _FLAG_FOR,
    Ask,
    Choice,
    Flags,
    Outcome,
    Question,
    Say,
    _Again,
    _cannot_ask,
    _check_id,
    _check_name,
    _Draft,
    _link_chars,
    _models_problem,
    _next_free,
    _same_family,
    _same_url,
    _slug,
    _split_ids,
    _Stop,
    _without_bearer,
)
from cherryconf.wizard.saving import ProfileSaving
from cherryconf.wizard.terminal import ModelChecker, ModelLister


@dataclass
class Wizard(ProfileSaving):
    ctx: Context
    ask: Ask
    say: Say
    interactive: bool
    list_models: ModelLister
    check_models: ModelChecker
    spinner: Callable[[str], AbstractContextManager[None]] = field(default=lambda _msg: nullcontext())
    env: Mapping[str, str] = field(default_factory=dict)
    # The key once known: scrubbed from every gateway message shown (some gateways echo part of it).
    _secret: str = field(default="", init=False, repr=False)
    _written: list[apply.Written] = field(default_factory=list, init=False, repr=False)
    # --yes on a terminal: a question with a default takes it unasked; only what has none is asked.
    _defaults: bool = field(default=False, init=False, repr=False)
    # The install whose gateway in a built-in provider the user chose not to move: said again at the end.
    _unmoved: install.Install | None = field(default=None, init=False, repr=False)

    # --- asking -----------------------------------------------------------------------------------

    def _ask(self, q: Question) -> Any:
        """Ask until the answer passes validation; without a terminal, explain how to answer by flag."""
        if not self.interactive:
            raise _cannot_ask(q)
        if self._defaults and q.default is not None and not (q.validate and q.validate(q.default)):
            return q.default
        while True:
            answer = self.ask(q)
            problem = q.validate(answer) if q.validate else None
            if problem is None:
                return answer
            self.say(_("  {problem}; please try again").format(problem=problem))

    def _given(self, value: Any, q: Question, use_default: bool = False) -> Any:
        """A flag's answer, validated like a typed one (but a bad flag is an error, not a re-ask).

        Without a terminal, a question with a known answer (`use_default`: the name and base URL of the preset, or
        of the provider being updated) takes it, as `cherryconf apply` of the template would; a terminal offers it
        as the default instead.
        """
        if value is None and use_default and not self.interactive and q.default:
            value = q.default
        if value is None:
            return self._ask(q)
        problem = q.validate(value) if q.validate else None
        if problem:
            raise BadInput(f"{_FLAG_FOR.get(q.name, q.name)}: {problem}")
        return value

    # --- the flow: one step after another -----------------------------------------------------------

    def run(self, data_dir: Path | None, flags: Flags) -> Outcome:
        try:
            outcome = self._run(data_dir, flags)
        except _Stop:
            self.say(_("Stopped; {kept}.").format(kept=self._kept()) if self._written
                     else _("Stopped: nothing was written."))
            outcome = Outcome(written=self._written[-1] if self._written else None)
        except KeyboardInterrupt:
            if self._written:
                raise Interrupted(_("interrupted; {kept}").format(kept=self._kept())) from None
            raise
        self._say_unmoved()
        return outcome

    def _say_unmoved(self) -> None:
        """After the move was declined, what still uses the built-in provider: "Done" must not be the last word."""
        from cherryconf.ops import doctor
        from cherryconf.stores import open_store

        if self._unmoved is None:
            return
        state = open_store(self._unmoved).read()
        for f in doctor.diagnose(state, self._unmoved.version, moves_only=True).findings:
            settings = [setting_name(s) for s, m in state.model_refs.items() if m.get("provider") == f.provider_id]
            self.say(render.unmoved_text(f.provider_id, settings))

    def _kept(self) -> str:
        """What stays written when the user stops after a write (the move, the new provider)."""
        first = next((w.backup for w in self._written if w.backup), None)
        undo = _("; `cherryconf restore {id}` puts back the state from before").format(id=first.id) if first else ""
        return _("what was written before stays{undo}").format(undo=undo)

    def _run(self, data_dir: Path | None, flags: Flags) -> Outcome:
        if not self.interactive and not flags.yes:
            # Nobody can confirm the write: say so before the gateway is sent the key.
            raise _cannot_ask(Question("confirm", "confirm", _("Write this?")))
        self._defaults = flags.yes
        d = self._install_step(data_dir)
        if self._move_step(flags, d):
            return Outcome(written=d.moved)
        self._gateway_step(flags, d)
        self._url_step(flags, d)
        if not d.pid:
            self._id_step(flags, d)  # a custom gateway's: it depends on the URL
        ask_key = True
        while True:
            if ask_key:
                self._key_step(flags, d)
            try:
                self._models_step(flags, d)
                self._check_step(flags, d)
                break
            except KeyRejected as e:
                self._key_rejected(e)
                ask_key = True
            except _Again as again:  # the gateway could not be reached: the URL or the models again, same key
                if again.what == "url":
                    self._url_step(replace(flags, base_url=None), d)
                ask_key = False
        self._default_model_step(flags, d)
        loaded = profile.parse(d.profile_data(), "wizard", env=None, app_version=d.version)
        if d.use_link or d.inst is None:
            return self._link_step(flags, d, loaded)
        # From the plan to its read-back no other cherryconf writes this install.
        with runlock.hold(self.ctx, d.inst):
            prepared = apply.prepare(d.inst, loaded)
            if not self._preview_step(flags, d, prepared):
                nothing = apply.Written(d.inst, prepared.plan, None)
                return Outcome(written=nothing, saved_profile=self._save_profile(flags, d))
            written = apply.write(self.ctx, prepared, "wizard")
            self._written.append(written)
        return self._write_step(flags, d, prepared, written)

    # --- install ------------------------------------------------------------------------------------

    def _install_step(self, data_dir: Path | None) -> _Draft:
        inst = self._choose_install(data_dir)
        use_link = inst is None or self._app_running(inst)
        state = self._store_state(inst) if inst and not use_link else None
        return _Draft(inst, use_link, inst.version if inst else None, state)

    def _choose_install(self, data_dir: Path | None) -> install.Install | None:
        env_dir = self.ctx.env.get("CHERRYCONF_DATA_DIR")
        if data_dir is not None:
            found = [install.inspect(data_dir, "--data-dir")]
        elif env_dir:
            found = [install.inspect(Path(env_dir), "CHERRYCONF_DATA_DIR")]
        else:
            found = install.find_installs(self.ctx)
        if len(found) == 1:
            self.say(_("Cherry Studio data: {data_dir} ({kind} store)").format(
                         data_dir=found[0].data_dir, kind=found[0].kind))
            return found[0]
        if found:
            chosen: install.Install = self._ask(Question(
                "install", "select", _("Several Cherry Studio installs found; which one?"),
                [Choice(f"{i.data_dir} ({i.kind}, {i.found_by})", i) for i in found]))
            return chosen
        looked = ", ".join(str(d) for d, _how in [*self.ctx.custom_user_data_dirs(),
                                                *self.ctx.default_user_data_dirs()])
        self.say(_("No Cherry Studio data found (looked in {looked}).").format(looked=looked))
        if not self._ask(Question("use_link", "confirm",
                                  _("Make an import link instead (Cherry Studio adds the provider when you open it)?"),
                                  default=True)):
            raise _Stop
        return None

    def _app_running(self, inst: install.Install) -> bool:
        """True when the app runs and the user chose the import link; re-checks after they quit it."""
        if not self.interactive:
            install.ensure_not_running(inst)  # exit 3, as every other command that writes
            return False
        while (reason := install.running_reason(inst)) is not None:
            self.say(_("Cherry Studio is running ({reason}): cherryconf cannot write its settings while it "
                       "runs.").format(
                         reason=reason))
            choice = self._ask(Question("running", "select", _("What now?"), [
                Choice(_("I have quit it (including from the tray): check again"), "retry"),
                Choice(_("Make an import link instead (works while the app runs; no models)"), "link"),
                Choice(_("Stop"), "stop"),
            ]))
            if choice == "link":
                return True
            if choice == "stop":
                raise _Stop
        return False

    def _store_state(self, inst: install.Install) -> StoreState:
        from cherryconf.stores import backup, open_store

        # Like every other command: finish what a killed run left before reading the store. Only done once the
        # app is known not to run, since it may rename the store's directory.
        for note in backup.finish_interrupted(self.ctx, inst):
            self.say(_("Note: {note}.").format(note=note))
        return open_store(inst).read()

    # --- a gateway already in a built-in provider the app routes by id: the user's real problem ------------

    def _move_step(self, flags: Flags, d: _Draft) -> bool:
        """Offer to move such a gateway to a provider of its own (doctor's fix); True when the wizard is done."""
        from cherryconf.ops import doctor
        from cherryconf.stores import open_store

        if d.state is None or d.inst is None:
            return False
        found = doctor.diagnose(d.state, d.version, moves_only=True)
        if not found.findings:
            return False
        for f in found.findings:
            self.say(_("First, a problem with what is set up already: {message}.").format(message=f.message))
        if not self.interactive or flags.yes:
            self.say(_("  `cherryconf doctor --fix` moves it to a provider of its own; the wizard goes on."))
            self._unmoved = d.inst
            return False
        self.say(_("The fix: ") + "; ".join(str(f.fix) for f in found.findings) + ".")
        self.say(render.plan_text(found.plan, d.version))
        if not self._ask(Question("move", "confirm", _("Move it now (backup first)?"), default=True)):
            self.say(_("  Left as it is; the wizard goes on with a new gateway."))
            self._unmoved = d.inst
            return False
        d.moved = apply.write(self.ctx, apply.Prepared(d.inst, open_store(d.inst), found.plan), "wizard")
        self._written.append(d.moved)
        self.say(_("Moved. Backup of the previous state: {path}").format(
            path=d.moved.backup.path if d.moved.backup else _("(none)")))
        self.say(_("Restart Cherry Studio to see it."))
        if not self._ask(Question("another", "confirm", _("Set up another gateway too?"), default=False)):
            return True
        d.state = self._store_state(d.inst)
        return False

    # --- gateway: preset and name ---------------------------------------------------------------------

    def _gateway_step(self, flags: Flags, d: _Draft) -> None:
        d.preset = self._choose_preset(flags)
        if not d.preset.is_blank or flags.provider_id is not None:
            # The id is known now (a preset names its own): whether it updates a provider decides the defaults.
            self._id_step(flags, d)
        default = d.current.get("name") if d.current else (None if d.preset.is_blank
                                                           else d.preset.provider.get("name"))

        def check_name(value: Any) -> str | None:
            # The import link cannot carry ' ( ): the app deletes them before reading it.
            return _check_name(value) or (_link_chars("name", str(value)) if d.use_link else None)

        # Stripped: the check counts the name without its padding, so the stored name must not keep it.
        d.name = str(self._given(flags.name, Question(
            "name", "text", _("Provider name (shown in Cherry Studio)"),
            default=str(default) if default else None, validate=check_name), use_default=True)).strip()

    def _choose_preset(self, flags: Flags) -> presets.Preset:
        if flags.preset is not None:
            return presets.get(flags.preset)
        picked: presets.Preset = self._ask(Question("preset", "select", _("Which gateway?"), [
            Choice(_("{title}: {description}").format(title=p.title, description=p.description) if p.description
                   else p.title, p) for p in presets.presets()
        ]))
        return picked

    # --- URL ------------------------------------------------------------------------------------------

    def _url_step(self, flags: Flags, d: _Draft) -> None:
        def check(value: Any) -> str | None:
            try:
                normalise_api_host(str(value), d.version)
            except BadInput as e:
                return e.message
            return None

        # The provider this run updates (a custom gateway's: the one named like it): its URL is the default.
        before = d.current if d.pid else d.stored(_slug(d.name))
        default = before.get("apiHost") if before else (None if d.preset.is_blank
                                                        else d.preset.provider.get("apiHost"))
        while True:
            raw = self._given(flags.base_url, Question(
                "base_url", "text",
                _("Base URL of the gateway (any form: https://host, .../v1, .../v1/chat/completions)"),
                default=str(default) if default else None, validate=check), use_default=True)
            mistyped = near_miss(str(raw))
            if mistyped is None:
                break
            self.say("  " + _("Note: {problem}.").format(problem=mistyped))
            # A URL given by flag is taken as given (as `apply` takes a profile's, with the same note).
            if flags.base_url is not None or self._ask(Question("near_miss", "confirm", _("Use it as typed?"),
                                                                default=False)):
                break
        d.api_host = normalise_api_host(str(raw), d.version)
        own = {"id": d.pid or "-", "type": "openai", "apiHost": d.api_host}  # the wizard's providers are custom
        self.say("  " + _("Chats will go to {url}").format(url=mask_url(routing.chat_url(own, d.version) or "")))

    # --- which provider: a new id, or one to update -----------------------------------------------------

    def _id_step(self, flags: Flags, d: _Draft) -> None:
        d.pid = self._provider_id(flags, d)
        d.current = d.stored(d.pid)

    def _provider_id(self, flags: Flags, d: _Draft) -> str:
        taken = {str(p.get("id")): p for p in d.providers}
        # A built-in id must never be written over by a custom provider: the store marks the ones it holds
        # (isSystem); the app's own list covers the import link and stores that do not hold every built-in yet.
        builtin = {i for i, p in taken.items() if p.get("isSystem")} | BUILT_IN_PROVIDER_IDS

        def own(value: Any) -> str | None:
            return _check_id(value) or (
                _("{value!r} is one of Cherry Studio's built-in "
                  "providers").format(value=value) if str(value) in builtin else None)

        def free(value: Any) -> str | None:
            return own(value) or (_("{value!r} is taken").format(value=value) if str(value) in taken else None)

        if flags.provider_id is not None:
            # Naming an existing id on the command line is asking to update that provider.
            return str(self._given(flags.provider_id, Question("provider_id", "text", _("Provider id"), validate=own)))
        suggested = _slug(d.name) if d.preset.is_blank else str(d.preset.provider.get("id"))
        if d.preset.is_blank:
            # A custom gateway is the one its URL names: a second gateway gets an id of its own, the same one again
            # updates the provider made for it before (so a re-run changes nothing).
            same = next((i for i in taken if _same_family(i, suggested) and _same_url(taken[i], d)), None)
            if same is not None:
                suggested = same
            elif suggested in taken and suggested not in builtin:
                self.say("  " + _("{id!r} ({name}) is another gateway ({host}); this one gets an id of its "
                                  "own.").format(id=suggested, name=taken[suggested].get("name"),
                                                 host=taken[suggested].get("apiHost")))
                return self._new_id(suggested, taken.keys() | builtin, free)
        if suggested not in taken and suggested not in builtin:
            return suggested
        if suggested in builtin:
            self.say(_("{suggested!r} is one of Cherry Studio's built-in providers; choose an id of your own.").format(
                         suggested=suggested))
            return self._new_id(suggested, taken.keys() | builtin, free)
        if flags.yes:
            # --yes answers "update it?" too, so the one-line set-up can be run again (and then changes nothing).
            self.say(_("Updating the existing provider {suggested!r} ({name}).").format(
                         suggested=suggested, name=taken[suggested].get('name')))
            return suggested
        if self._ask(Question("update_existing", "confirm",
                              _("A provider with id {suggested!r} ({name}) exists: update it?").format(
                                  suggested=suggested, name=taken[suggested].get('name')), default=True)):
            return suggested
        return self._new_id(suggested, taken.keys() | builtin, free)

    def _new_id(self, base: str, taken: Collection[str], free: Callable[[Any], str | None]) -> str:
        default = _next_free(base, taken)
        if not self.interactive:
            return default
        return str(self._ask(Question("provider_id", "text", _("Provider id (letters, digits, - and _)"),
                                      default=default, validate=free)))

    # --- key ------------------------------------------------------------------------------------------

    def _key_step(self, flags: Flags, d: _Draft) -> None:
        d.key_ref, d.key = self._api_key(flags, d)
        d.models_asked = False
        self._secret = d.key

    def _api_key(self, flags: Flags, d: _Draft) -> tuple[str, str]:
        """(what a saved profile holds: ${VAR} or the key, the key itself)."""
        def key_problem(key: str, what: str) -> str | None:
            # Refused here, not by the profile check after every other question.
            if not key:
                return _("{what} is empty").format(what=what)
            if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
                return _("{what} contains a line break or another control character").format(what=what)
            return _link_chars(_("API key"), key) if d.use_link else None

        def env_set(value: Any) -> str | None:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(value)):
                return _("{name!r} is not an environment variable name").format(name=value)
            if str(value) not in self.env:
                return _("environment variable {name} is not set").format(name=value)
            return key_problem(self.env[str(value)].strip(), _("environment variable {name}").format(name=value))

        if flags.api_key_env is not None:
            var = str(self._given(flags.api_key_env, Question("api_key_env", "text", "", validate=env_set)))
            return f"${{{var}}}", self.env[var].strip()
        env_var = d.preset.env_var
        current = str(d.current.get("apiKey") or "").strip() if d.current else ""
        choices = [Choice(_("Type or paste it (hidden)"), "type")]
        if env_var and env_set(env_var) is None:
            choices.insert(0, Choice(_("Use ${env_var} from the environment").format(env_var=env_var), "preset_env"))
        if current and key_problem(current, _("the key")) is None:
            choices.insert(0, Choice(_("Keep the current key "
                                       "({current})").format(current=mask(current)), "current"))
        choices.append(Choice(_("Read it from another environment variable"), "env"))
        offered = [c.value for c in choices]
        if (not self.interactive or flags.yes) and "preset_env" in offered and not d.preset.is_blank:
            # The variable the preset's template reads, as `cherryconf apply` of the template would.
            self.say(_("  API key: from ${env_var}").format(env_var=env_var))
            how = "preset_env"
        elif (not self.interactive or flags.yes) and "current" in offered:
            self.say(_("  API key: the provider's current one"))
            how = "current"
        else:
            how = self._ask(Question("api_key_source", "select", _("Where does the API key come from?"), choices))
        if how == "current":
            return current, current
        if how == "preset_env" and env_var:
            return f"${{{env_var}}}", self.env[env_var].strip()
        if how == "env":
            var = str(self._ask(Question("api_key_env", "text", _("Environment variable name (Enter to go back)"),
                                         validate=lambda v: env_set(v) if str(v).strip() else None))).strip()
            if not var:  # back to where the key comes from: a variable that is not set is no dead end
                return self._api_key(flags, d)
            return f"${{{var}}}", self.env[var].strip()
        typed = str(self._ask(Question("api_key", "password", _("API key"), validate=lambda v: key_problem(
            _without_bearer(str(v).strip()), _("the key"))))).strip()
        key = _without_bearer(typed)
        if key != typed:
            self.say("  " + _("The key was pasted with \"Bearer \" in front; it is taken off (the app sends it "
                              "itself)."))
        return key, key

    def _key_rejected(self, e: KeyRejected) -> None:
        """A rejected key is never written: without a terminal that is the end, on one the user may try another."""
        if not self.interactive:
            raise KeyRejected(_("{message}; nothing was written").format(message=e.message)) from None
        # Translators: a sentence said on its own: the message, and the full stop that ends it.
        self.say("  " + _("{message}.").format(message=e.message[:1].upper() + e.message[1:]))
        if self._ask(Question("key_rejected", "select", _("What now?"), [
                Choice(_("Give the key again"), "retry"), Choice(_("Stop (nothing is written)"), "stop")])) == "stop":
            raise _Stop

    # --- models ---------------------------------------------------------------------------------------

    def _models_step(self, flags: Flags, d: _Draft) -> None:
        d.exact_models = False
        if flags.models:
            d.models = list(dict.fromkeys(m.strip() for m in flags.models if m.strip()))
            return
        current = [str(m.get("id")) for m in d.current.get("models", [])] if d.current else []
        suggested = [] if d.preset.is_blank else d.preset.model_ids
        if not self.interactive or (flags.yes and (current or suggested)):
            # The provider's own models, else the preset's, as `cherryconf apply` of its template would; else fail
            # before sending the key to the gateway for a list nobody can tick.
            if current or suggested:
                d.models = current or suggested
                models = ", ".join(d.models)
                self.say("  " + (_("Models: the current {models}") if current
                                 else _("Models: the preset's {models}")).format(models=models))
                return
            raise _cannot_ask(Question("models", "checkbox", _("Models to add")))
        # Updating a provider, the list shown is its whole model list: unticking a model removes it.
        d.exact_models = d.current is not None
        listed = self._fetch_models(d)
        in_use = self._models_in_use(d)
        if listed:
            d.models = self._pick_models(d, listed, current, suggested, in_use)
            if d.models:
                return
            self.say(_("  No model chosen; type at least one id."))
        typed = self._ask(Question("model_ids", "text", _("Model ids, comma-separated"),
                                   default=", ".join(current or suggested),
                                   validate=lambda v: _models_problem(_split_ids(str(v)), in_use)))
        d.models = _split_ids(str(typed))

    def _fetch_models(self, d: _Draft) -> list[str]:
        """The gateway's model list ([] when it gives none: then the ids are typed); KeyRejected on 401/403."""
        url = mask_url(request_url(d.api_host, "models", d.version))
        try:
            with self.spinner(_("Fetching the model list from {url}").format(url=url)):
                listed = self.list_models(d.api_host, d.key, d.version)
        except KeyRejected:
            raise
        except Unreachable as e:
            self._unreachable(e, d, [Choice(_("Type the model ids instead"), "type")])
            return []
        except BadInput as e:
            self.say(_("  Could not fetch the model list from {url}: {message}").format(
                         url=url, message=self._scrub(e.message)))
            self.say(_("  Type the model ids instead (as the gateway names them)."))
            return []
        finally:
            d.models_asked = True
        self.say("  " + ngettext("The gateway lists {n} model.", "The gateway lists {n} models.", len(listed)).format(
            n=len(listed)))
        return listed

    def _pick_models(self, d: _Draft, listed: list[str], current: list[str], suggested: list[str],
                     in_use: dict[str, str]) -> list[str]:
        ticked = current if d.current else suggested
        choices = [Choice(m, m, checked=m in ticked, group=default_group(m, d.pid)) for m in listed]
        # The provider's models stay ticked even when the gateway does not list them: only unticking removes one.
        choices += [Choice(_("{m} (in the provider, not listed by the "
                             "gateway)").format(m=m), m, checked=True, group="current")
                    for m in current if m not in listed]
        # Offered, not ticked: a model the gateway does not list most likely fails in the app.
        choices += [Choice(_("{m} (suggested, not listed by the "
                             "gateway)").format(m=m), m, checked=False, group="suggested")
                    for m in suggested if m not in listed and m not in current]
        choices.sort(key=lambda c: (c.group or "", c.value))
        what = _("The provider's models, unticked ones are removed") if d.current else _("Models to add")
        picked = list(self._ask(Question(
            "models", "checkbox", _("{what} (type to search, space to tick)").format(what=what), choices,
            validate=lambda v: _models_problem(list(v), in_use, allow_empty=True))))
        more = str(self._ask(Question("extra_models", "text",
                                      _("More model ids, comma-separated (Enter for none)"), default="")))
        return picked + [m for m in _split_ids(more) if m not in picked]

    def _models_in_use(self, d: _Draft) -> dict[str, str]:
        """This provider's models that a Cherry Studio setting uses -> that setting (they must not be removed)."""
        refs = d.state.model_refs if d.state and d.current else {}
        return {str(m.get("id")): setting for setting, m in refs.items() if m.get("provider") == d.pid}

    # --- check ----------------------------------------------------------------------------------------

    def _check_step(self, flags: Flags, d: _Draft) -> None:
        """Test chats when asked for; else at least make sure the gateway takes the key (only --no-check skips)."""
        if flags.check is False:
            return
        if flags.check or (flags.check is None and self.interactive and self._ask(Question(
                "check", "confirm", _("Send the model a one-line test chat now?") if len(d.models) == 1 else
                _("Send each of the {n} models a one-line test chat now?").format(n=len(d.models)),
                default=True))):
            self._test_chats(flags, d)
        elif not d.models_asked:
            self._check_key(d)

    def _unreachable(self, e: Unreachable, d: _Draft, choices: list[Choice]) -> None:
        """The gateway did not answer at all: one sentence, then the URL again, `choices` (going on), or stop."""
        self.say("  " + _("The gateway at {url} cannot be reached ({detail}).").format(
            url=mask_url(d.api_host), detail=self._scrub(e.message)))
        if not self.interactive:
            return
        picked = self._ask(Question("unreachable", "select", _("What now?"), [
            Choice(_("Enter the URL again"), "url"), *choices, Choice(_("Stop (nothing is written)"), "stop")]))
        if picked == "stop":
            raise _Stop
        if picked in ("url", "models"):
            raise _Again(picked)

    def _check_key(self, d: _Draft) -> None:
        url = mask_url(request_url(d.api_host, "models", d.version))
        try:
            with self.spinner(_("Checking the key at {url}").format(url=url)):
                self.list_models(d.api_host, d.key, d.version)
        except KeyRejected:
            raise
        except Unreachable as e:
            self._unreachable(e, d, [Choice(_("Add it anyway"), "add")])
            return
        except BadInput as e:
            # Not every gateway serves /models: the key is then unknown, not refused.
            self.say(_("  Could not check the key at {url}: {message}").format(
                         url=url, message=self._scrub(e.message)))
            return
        self.say(_("  The gateway accepts the key."))

    def _test_chats(self, flags: Flags, d: _Draft) -> None:
        with self.spinner(ngettext("Testing {n} model on chat/completions", "Testing {n} models on chat/completions",
                                   len(d.models)).format(n=len(d.models))):
            try:
                results = self.check_models(d.provider_doc(), d.models, d.version)
            except Unreachable as e:
                again = [] if flags.models else [Choice(_("Enter the model ids again"), "models")]
                self._unreachable(e, d, [*again, Choice(_("Add them anyway"), "add")])
                if not self.interactive:
                    raise BadInput(_("the gateway cannot be reached (see above), so nothing was written")) from None
                return
        for model, ok, reason in results:
            mark = _("ok  ") if ok else _("FAIL")
            self.say(f"  {mark} " + (model if ok else _("{model}: {reason}").format(model=model,
                                                                                  reason=self._scrub(reason))))
        failed = [m for m, ok, _reason in results if not ok]
        if not failed:
            return
        # "The model" and "none of the N models" are worded apart, not one message's plural forms: in Chinese, with
        # one form for every count, "none of them" was said of a single model.
        one = len(failed) == 1
        if len(failed) == len(results):
            if not self.interactive:
                raise BadInput(_("the model did not answer a test chat (see above; `cherryconf verify` explains "
                                 "more), so nothing was written") if one else
                               _("none of the {n} models answered a test chat (see above; `cherryconf verify` "
                                 "explains more), so nothing was written").format(n=len(failed)))
            self.say("  " + (_("The model did not answer; `cherryconf verify` explains more.") if one else
                             _("None of the {n} models answered; `cherryconf verify` explains more.").format(
                                 n=len(failed))))
            if not self._ask(Question("add_failing", "confirm", _("Add them anyway?"), default=False)):
                raise _Stop
            return
        self.say("  " + ngettext("{n} of {total} model did not answer; `cherryconf verify` explains more.",
                                 "{n} of {total} models did not answer; `cherryconf verify` explains more.",
                                 len(results)).format(n=len(failed), total=len(results)))
        in_use = self._models_in_use(d)
        droppable = [m for m in failed if m not in in_use]
        if self.interactive and droppable and self._ask(Question(
                "drop_failing", "confirm", _("Leave out {models}?").format(models=", ".join(droppable)),
                default=True)):
            d.models = [m for m in d.models if m not in droppable]
            if flags.yes:  # taken as the default, unasked: say what was left out
                self.say("  " + _("Left out: {models}.").format(models=", ".join(droppable)))
        else:
            self.say(_("  They are added anyway."))

    # --- default model ----------------------------------------------------------------------------------

    def _default_model_step(self, flags: Flags, d: _Draft) -> None:
        if flags.default_model is not None:
            if flags.default_model not in d.models:
                raise BadInput(_("--default-model {default_model!r} is not one of the chosen models").format(
                                   default_model=flags.default_model))
            d.default_model = flags.default_model
            return
        if not self.interactive or flags.yes:
            return
        now = d.state.default_model if d.state else None
        choices = [Choice(_("Keep Cherry Studio's current default model ({model})").format(
            model=f"{now.get('provider')}/{now.get('id')}") if now else _("Keep Cherry Studio's current default model"),
            None)]
        choices += [Choice(m, m) for m in d.models]
        picked = self._ask(Question("default_model", "select", _("Make one of them Cherry Studio's default model?"),
                                    choices))
        d.default_model = str(picked) if picked else None

    # --- the import link (no store to write) ------------------------------------------------------------

    def _link_step(self, flags: Flags, d: _Draft, loaded: LoadedProfile) -> Outcome:
        links = [deeplink.build(p.new_provider) for p in loaded.providers]
        self.say(_("Import link (open it on this computer; Cherry Studio asks before adding the provider):"))
        for link in links:
            self.say(link)
        self.say(deeplink.KEY_WARNING)
        self.say(_("The link carries no models: add them in the app after importing, or quit the app and "
                 "run the wizard again so cherryconf writes them too."))
        return Outcome(links=links, saved_profile=self._save_profile(flags, d))

    # --- preview and write ------------------------------------------------------------------------------

    def _preview_step(self, flags: Flags, d: _Draft, prepared: apply.Prepared) -> bool:
        """Show the plan and have it confirmed; False when the store already holds exactly this."""
        if not prepared.plan.changed:
            self.say(_("No changes: Cherry Studio already holds exactly this provider."))
            return False
        self.say(_("Cherry Studio's settings will change like this:"))
        self.say(render.plan_text(prepared.plan, d.version))
        where = prepared.install.data_dir
        if not flags.yes and not self._ask(Question("confirm", "confirm", _("Write this to {where}?").format(
                                                                              where=where), default=True)):
            raise _Stop
        return True

    def _write_step(self, flags: Flags, d: _Draft, prepared: apply.Prepared, written: apply.Written) -> Outcome:
        self.say(_("Done: provider {pid!r} is in {data_dir}.").format(pid=d.pid, data_dir=prepared.install.data_dir))
        self.say(_("Backup of the previous state: {path}").format(
            path=written.backup.path if written.backup else _("(none needed)")))
        self.say(_("Restart Cherry Studio to see it."))
        return Outcome(written=written, saved_profile=self._save_profile(flags, d))

    def _scrub(self, text: str) -> str:
        return scrub(text, [self._secret])
