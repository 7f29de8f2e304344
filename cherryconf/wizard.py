"""The interactive set-up: install -> preset -> name -> base URL -> key -> models -> check -> preview -> write.

This is the only module that prompts. Its logic asks through an injected `ask` function, so tests drive
every branch with scripted answers; `questionary_ask` (the only questionary call site) serves a terminal.
Every answer can also come from a flag, so a fully specified run asks nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cherryconf import apply, deeplink, install, presets, profile, render, runlock
from cherryconf.endpoints import AppVersion, chat_url, normalise_api_host, parse_version, request_url
from cherryconf.errors import BadInput
from cherryconf.fsutil import atomic_write
from cherryconf.paths import Context
from cherryconf.spec import BUILT_IN_PROVIDER_IDS, default_group

Kind = Literal["select", "text", "password", "checkbox", "confirm"]


@dataclass(frozen=True)
class Choice:
    title: str
    value: Any
    checked: bool = False
    group: str | None = None  # choices with a group are shown under that heading


@dataclass(frozen=True)
class Question:
    name: str  # stable key: scripted answers and flags refer to it
    kind: Kind
    message: str
    choices: list[Choice] = field(default_factory=list)
    default: Any = None
    validate: Callable[[Any], str | None] | None = None  # the reason an answer is refused, or None


Ask = Callable[[Question], Any]
Say = Callable[[str], None]


@dataclass(frozen=True)
class Flags:
    """Answers given on the command line; None means "ask"."""

    preset: str | None = None
    name: str | None = None
    provider_id: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    models: tuple[str, ...] = ()
    default_model: str | None = None
    check: bool | None = None
    save_profile: Path | None = None
    yes: bool = False


@dataclass(frozen=True)
class Outcome:
    """What the wizard did: wrote the store (written), printed import links (links), or nothing."""

    written: apply.Written | None = None
    links: list[str] = field(default_factory=list)
    saved_profile: Path | None = None


class _Stop(Exception):
    """The user chose to stop: nothing is written."""


ModelLister = Callable[[str, str, AppVersion | None], list[str]]
ModelChecker = Callable[[dict[str, Any], list[str], AppVersion | None], list[tuple[str, bool, str]]]


@dataclass
class Wizard:
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

    # --- asking -----------------------------------------------------------------------------------

    def _ask(self, q: Question) -> Any:
        """Ask until the answer passes validation; without a terminal, explain how to answer by flag."""
        if not self.interactive:
            raise _cannot_ask(q)
        while True:
            answer = self.ask(q)
            problem = q.validate(answer) if q.validate else None
            if problem is None:
                return answer
            self.say(f"  {problem}; please try again")

    def _given(self, value: Any, q: Question, preset_default: bool = False) -> Any:
        """A flag's answer, validated like a typed one (but a bad flag is an error, not a re-ask).

        Without a terminal, a question the preset answers (`preset_default`: name, base URL) takes the preset's
        value, as `cherryconf apply` of the template would; a terminal shows it pre-filled instead.
        """
        if value is None and preset_default and not self.interactive and q.default:
            value = q.default
        if value is None:
            return self._ask(q)
        problem = q.validate(value) if q.validate else None
        if problem:
            raise BadInput(f"{_FLAG_FOR.get(q.name, q.name)}: {problem}")
        return value

    # --- the flow ---------------------------------------------------------------------------------

    def run(self, data_dir: Path | None, flags: Flags) -> Outcome:
        try:
            return self._run(data_dir, flags)
        except _Stop:
            self.say("Stopped: nothing was written.")
            return Outcome()

    def _run(self, data_dir: Path | None, flags: Flags) -> Outcome:
        inst = self._choose_install(data_dir)
        use_link = inst is None or self._app_running(inst)
        store_providers = self._store_providers(inst) if inst and not use_link else []
        version = parse_version(inst.app_version) if inst else None

        preset = self._choose_preset(flags)
        blank = preset.is_blank

        def check_name(value: Any) -> str | None:
            # The import link cannot carry ' ( ): the app deletes them before reading it.
            return _check_name(value) or (_link_chars("name", str(value)) if use_link else None)

        # Stripped: the check counts the name without its padding, so the stored name must not keep it.
        name = str(self._given(flags.name, Question(
            "name", "text", "Provider name (shown in Cherry Studio)",
            default=None if blank else str(preset.provider.get("name", "")), validate=check_name),
            preset_default=True)).strip()
        pid = self._provider_id(flags, preset, name, store_providers)
        api_host = self._base_url(flags, preset, version)
        key_ref, key = self._api_key(flags, preset, use_link)
        self._secret = key
        models = self._models(flags, preset, api_host, key, version, pid)
        provider_doc: dict[str, Any] = {"id": pid, "name": name, "type": "openai", "apiHost": api_host,
                                        "apiKey": key, "models": models}
        if self._wants_check(flags, models):
            self._check(provider_doc, models, version)
        default = self._default_model(flags, pid, models)
        data: dict[str, Any] = {"version": 1, "providers": [provider_doc]}
        if default:
            data["defaultModel"] = f"{pid}/{default}"
        loaded = profile.parse(data, "wizard", env={}, app_version=version)

        if use_link or inst is None:
            links = [deeplink.build(p.new_provider) for p in loaded.providers]
            self.say("Import link (open it on this computer; Cherry Studio asks before adding the provider):")
            for link in links:
                self.say(link)
            self.say("The link carries no models: add them in the app after importing, or quit the app and "
                     "run the wizard again so cherryconf writes them too.")
            saved = self._save_profile(flags, data, key_ref, preset)
            return Outcome(links=links, saved_profile=saved)

        # From the plan to its read-back no other cherryconf writes this install.
        with runlock.hold(self.ctx, inst):
            prepared = apply.prepare(inst, loaded)
            if not prepared.plan.changed:
                self.say("No changes: Cherry Studio already holds exactly this provider.")
                return Outcome(written=apply.Written(inst, prepared.plan, None),
                               saved_profile=self._save_profile(flags, data, key_ref, preset))
            self.say("Cherry Studio's settings will change like this:")
            self.say(render.plan_text(prepared.plan))
            if not flags.yes and not self._ask(Question("confirm", "confirm", f"Write this to {inst.data_dir}?",
                                                        default=True)):
                raise _Stop
            written = apply.write(self.ctx, prepared, "wizard")
        self.say(f"Done: provider {pid!r} is in {inst.data_dir}.")
        self.say(f"Backup of the previous state: {written.backup.path if written.backup else '(none needed)'}")
        self.say("Restart Cherry Studio to see it.")
        return Outcome(written=written, saved_profile=self._save_profile(flags, data, key_ref, preset))

    def _choose_install(self, data_dir: Path | None) -> install.Install | None:
        env_dir = self.ctx.env.get("CHERRYCONF_DATA_DIR")
        if data_dir is not None:
            found = [install.inspect(data_dir, "--data-dir")]
        elif env_dir:
            found = [install.inspect(Path(env_dir), "CHERRYCONF_DATA_DIR")]
        else:
            found = install.find_installs(self.ctx)
        if len(found) == 1:
            self.say(f"Cherry Studio data: {found[0].data_dir} ({found[0].kind} store)")
            return found[0]
        if found:
            chosen: install.Install = self._ask(Question(
                "install", "select", "Several Cherry Studio installs found; which one?",
                [Choice(f"{i.data_dir} ({i.kind}, {i.found_by})", i) for i in found]))
            return chosen
        looked = ", ".join(str(d) for d, _ in [*self.ctx.custom_user_data_dirs(),
                                                *self.ctx.default_user_data_dirs()])
        self.say(f"No Cherry Studio data found (looked in {looked}).")
        if not self._ask(Question("use_link", "confirm",
                                  "Make an import link instead (Cherry Studio adds the provider when you open it)?",
                                  default=True)):
            raise _Stop
        return None

    def _app_running(self, inst: install.Install) -> bool:
        """True when the app runs and the user chose the import link; re-checks after they quit it."""
        if not self.interactive:
            install.ensure_not_running(inst)  # exit 3, as every other command that writes
            return False
        while (reason := install.running_reason(inst)) is not None:
            self.say(f"Cherry Studio is running ({reason}): cherryconf cannot write its settings while it runs.")
            choice = self._ask(Question("running", "select", "What now?", [
                Choice("I have quit it (including from the tray): check again", "retry"),
                Choice("Make an import link instead (works while the app runs; no models)", "link"),
                Choice("Stop", "stop"),
            ]))
            if choice == "link":
                return True
            if choice == "stop":
                raise _Stop
        return False

    def _store_providers(self, inst: install.Install) -> list[dict[str, Any]]:
        from cherryconf import backup
        from cherryconf.stores import open_store

        # Like every other command: finish what a killed run left before reading the store. Only done once the
        # app is known not to run, since it may rename the store's directory.
        for note in backup.finish_interrupted(self.ctx, inst):
            self.say(f"Note: {note}.")
        return open_store(inst).read().providers

    def _choose_preset(self, flags: Flags) -> presets.Preset:
        if flags.preset is not None:
            return presets.get(flags.preset)
        picked: presets.Preset = self._ask(Question("preset", "select", "Which gateway?", [
            Choice(f"{p.title}: {p.description}" if p.description else p.title, p) for p in presets.presets()
        ]))
        return picked

    def _provider_id(self, flags: Flags, preset: presets.Preset, name: str,
                     existing: list[dict[str, Any]]) -> str:
        taken = {str(p.get("id")): p for p in existing}
        # A built-in id must never be written over by a custom provider: the store marks the ones it holds
        # (isSystem); the app's own list covers the import link and stores that do not hold every built-in yet.
        builtin = {i for i, p in taken.items() if p.get("isSystem")} | BUILT_IN_PROVIDER_IDS

        def own(value: Any) -> str | None:
            return _check_id(value) or (
                f"{value!r} is one of Cherry Studio's built-in providers" if str(value) in builtin else None)

        if flags.provider_id is not None:
            # Naming an existing id on the command line is asking to update that provider.
            return str(self._given(flags.provider_id, Question("provider_id", "text", "Provider id", validate=own)))
        suggested = str(preset.provider.get("id")) if not preset.is_blank else _slug(name)
        if suggested not in taken and suggested not in builtin:
            return suggested
        if suggested in builtin:
            self.say(f"{suggested!r} is one of Cherry Studio's built-in providers; choose an id of your own.")
        elif flags.yes:
            # --yes answers "update it?" too, so the one-line set-up can be run again (and then changes nothing).
            self.say(f"Updating the existing provider {suggested!r} ({taken[suggested].get('name')}).")
            return suggested
        elif self._ask(Question("update_existing", "confirm",
                                f"A provider with id {suggested!r} ({taken[suggested].get('name')}) exists: "
                                "update it?", default=True)):
            return suggested

        def free(value: Any) -> str | None:
            return own(value) or (f"{value!r} is taken" if str(value) in taken else None)

        return str(self._ask(Question("provider_id", "text", "Provider id (letters, digits, - and _)",
                                      default=_next_free(suggested, taken.keys() | builtin), validate=free)))

    def _base_url(self, flags: Flags, preset: presets.Preset, version: AppVersion | None) -> str:
        def check(value: Any) -> str | None:
            try:
                normalise_api_host(str(value), version)
            except BadInput as e:
                return e.message
            return None

        raw = self._given(flags.base_url, Question(
            "base_url", "text", "Base URL of the gateway (any form: https://host, .../v1, .../v1/chat/completions)",
            default=None if preset.is_blank else str(preset.provider.get("apiHost", "")), validate=check),
            preset_default=True)
        api_host = normalise_api_host(str(raw), version)
        self.say(f"  Chats will go to {chat_url(api_host, 'openai', version)}")
        return api_host

    def _api_key(self, flags: Flags, preset: presets.Preset, use_link: bool) -> tuple[str, str]:
        """(what a saved profile holds: ${VAR} or the key, the key itself)."""
        def key_problem(key: str, what: str) -> str | None:
            # Refused here, not by the profile check after every other question.
            if not key:
                return f"{what} is empty"
            if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
                return f"{what} contains a line break or another control character"
            return _link_chars("API key", key) if use_link else None

        def env_set(value: Any) -> str | None:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(value)):
                return f"{value!r} is not an environment variable name"
            if str(value) not in self.env:
                return f"environment variable {value} is not set"
            return key_problem(self.env[str(value)].strip(), f"environment variable {value}")

        if flags.api_key_env is not None:
            var = str(self._given(flags.api_key_env, Question("api_key_env", "text", "", validate=env_set)))
            return f"${{{var}}}", self.env[var].strip()
        env_var = preset.env_var
        choices = [Choice("Type or paste it (hidden)", "type")]
        if env_var and env_set(env_var) is None:
            choices.insert(0, Choice(f"Use ${env_var} from the environment", "preset_env"))
        choices.append(Choice("Read it from another environment variable", "env"))
        if not self.interactive and choices[0].value == "preset_env" and not preset.is_blank:
            # The variable the preset's template reads, as `cherryconf apply` of the template would.
            self.say(f"  API key: from ${env_var}")
            how = "preset_env"
        else:
            how = self._ask(Question("api_key_source", "select", "Where does the API key come from?", choices))
        if how == "preset_env" and env_var:
            return f"${{{env_var}}}", self.env[env_var].strip()
        if how == "env":
            var = str(self._ask(Question("api_key_env", "text", "Environment variable name", validate=env_set)))
            return f"${{{var}}}", self.env[var].strip()
        key = str(self._ask(Question("api_key", "password", "API key",
                                     validate=lambda v: key_problem(str(v).strip(), "the key")))).strip()
        return key, key

    def _models(self, flags: Flags, preset: presets.Preset, api_host: str, key: str,
                version: AppVersion | None, pid: str) -> list[str]:
        if flags.models:
            return list(dict.fromkeys(m.strip() for m in flags.models if m.strip()))
        suggested = [] if preset.is_blank else preset.model_ids
        if not self.interactive:
            # The preset's models, as `cherryconf apply` of its template would; else fail before sending the key
            # to the gateway for a list nobody can tick.
            if not suggested:
                raise _cannot_ask(Question("models", "checkbox", "Models to add"))
            self.say(f"  Models: the preset's {', '.join(suggested)}")
            return suggested
        listed: list[str] = []
        url = request_url(api_host, "models", version)
        try:
            with self.spinner(f"Fetching the model list from {url}"):
                listed = self.list_models(api_host, key, version)
        except BadInput as e:
            self.say(f"  Could not fetch the model list from {url}: {self._scrub(e.message)}")
            self.say("  Type the model ids instead (as the gateway names them).")
        if listed:
            self.say(f"  The gateway lists {len(listed)} models.")
            extra = [m for m in suggested if m not in listed]
            choices = [Choice(m, m, checked=m in suggested, group=default_group(m, pid)) for m in listed]
            # Offered, not ticked: a model the gateway does not list most likely fails in the app.
            choices += [Choice(f"{m} (suggested, not listed by the gateway)", m, checked=False,
                               group="suggested") for m in extra]
            choices.sort(key=lambda c: (c.group or "", c.value))
            picked = list(self._ask(Question("models", "checkbox", "Models to add (type to search, space to tick)",
                                             choices)))
            more = str(self._ask(Question("extra_models", "text",
                                          "More model ids, comma-separated (Enter for none)", default="")))
            picked += [m for m in _split_ids(more) if m not in picked]
            if picked:
                return picked
            self.say("  No model chosen; type at least one id.")
        typed = self._ask(Question("model_ids", "text", "Model ids, comma-separated",
                                   default=", ".join(suggested),
                                   validate=lambda v: None if _split_ids(str(v)) else "give at least one model id"))
        return _split_ids(str(typed))

    def _wants_check(self, flags: Flags, models: list[str]) -> bool:
        if flags.check is not None:
            return flags.check
        if not self.interactive:
            return False
        return bool(self._ask(Question("check", "confirm",
                                       f"Send each of the {len(models)} models a one-line test chat now?",
                                       default=True)))

    def _check(self, provider: dict[str, Any], models: list[str], version: AppVersion | None) -> None:
        with self.spinner(f"Testing {len(models)} models on chat/completions"):
            results = self.check_models(provider, models, version)
        for model, ok, reason in results:
            self.say(f"  {'ok  ' if ok else 'FAIL'} {model}{'' if ok else ': ' + self._scrub(reason)}")
        failed = [m for m, ok, _ in results if not ok]
        if failed:
            self.say(f"  {len(failed)} of {len(results)} models did not answer; "
                     "`cherryconf verify` explains more. They are added anyway: remove them in the app if needed.")

    def _default_model(self, flags: Flags, pid: str, models: list[str]) -> str | None:
        if flags.default_model is not None:
            if flags.default_model not in models:
                raise BadInput(f"--default-model {flags.default_model!r} is not one of the chosen models")
            return flags.default_model
        if not self.interactive:
            return None
        choices = [Choice("Keep Cherry Studio's current default model", None)]
        choices += [Choice(m, m) for m in models]
        picked = self._ask(Question("default_model", "select", "Make one of them Cherry Studio's default model?",
                                    choices))
        return str(picked) if picked else None

    def _save_profile(self, flags: Flags, data: dict[str, Any], key_ref: str, preset: presets.Preset) -> Path | None:
        def writable(value: Any) -> str | None:
            return _check_new_file(self._expand(str(value)))

        if flags.save_profile is not None:
            path = self._expand(str(self._given(flags.save_profile, Question(
                "save_path", "text", "Save to", validate=writable))))
        else:
            if not self.interactive or not self._ask(Question(
                    "save", "confirm", "Save these settings as a profile (to apply on other machines)?",
                    default=False)):
                return None
            path = self._expand(str(self._ask(Question("save_path", "text", "Save to",
                                                       default="cherryconf-profile.yaml", validate=writable))))
            if path.exists() and not self._ask(Question("overwrite", "confirm", f"{path} exists: replace it?",
                                                        default=False)):
                self.say("  Profile not saved.")
                return None
        doc = {**data, "providers": [dict(p) for p in data["providers"]]}
        literal = not key_ref.startswith("${")
        if literal and not (self.interactive and self._ask(Question(
                "save_key", "confirm", "Write the API key itself into the file (it will be readable only by you)?",
                default=False))):
            key_ref = "${" + (preset.env_var or profile.key_env_name(str(doc["providers"][0]["id"]))) + "}"
            self.say(f"  The key is not written to the file: set {key_ref[2:-1]} before applying it.")
        doc["providers"][0]["apiKey"] = key_ref
        import yaml

        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        atomic_write(path, text.encode("utf-8"))  # 0600: it may hold the key
        self.say(f"Profile saved to {path}" + ("" if key_ref.startswith("${") else " (with the key, mode 0600)")
                 + f"; apply it elsewhere with `cherryconf apply {path}`.")
        return path

    def _expand(self, text: str) -> Path:
        """`~` means the context's home (as everywhere in cherryconf), not whatever $HOME says."""
        text = text.strip()
        if text == "~" or text.startswith(("~/", "~\\")):
            return self.ctx.home / text[2:]
        return Path(text)

    def _scrub(self, text: str) -> str:
        return render.scrub(text, [self._secret])


# --- validation and small helpers ---------------------------------------------------------------------


def _check_name(value: Any) -> str | None:
    text = str(value or "").strip()
    if not text:
        return "the name is empty"
    if len(text) > 32:
        return "the name is longer than 32 characters (Cherry Studio's limit)"
    return None


def _check_id(value: Any) -> str | None:
    text = str(value or "")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", text):
        return "use letters, digits, '-', '_' or '.', starting with a letter or digit"
    return None


def _check_new_file(path: Path) -> str | None:
    if not str(path).strip() or str(path) == ".":
        return "give a file name"
    if path.is_dir():
        return f"{path} is a directory"
    if not path.parent.exists():
        return f"{path.parent} does not exist"
    return None


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    # Not "gateway": that is a built-in provider's id. "my-gateway" is what the custom template uses.
    return slug or "my-gateway"


def _link_chars(what: str, value: str) -> str | None:
    bad = sorted({c for c in value if c in "'()"})
    if not bad:
        return None
    return f"the {what} contains {' '.join(bad)}, which Cherry Studio deletes from import links"


def _cannot_ask(q: Question) -> BadInput:
    # Name the flag that answers this very question: "give it by flag" alone leaves the user guessing.
    how = _FLAG_FOR.get(q.name, "the matching flag (see `cherryconf wizard --help`)")
    return BadInput(f"not a terminal, so the wizard cannot ask {q.message.rstrip('?')!r}: give {how}, "
                    "or use `cherryconf apply PROFILE`")


# Which flag answers each question, for the errors of a run without a terminal.
_FLAG_FOR = {
    "install": "--data-dir", "use_link": "--data-dir (no install was found)",
    "preset": "--preset",
    "name": "--name", "provider_id": "--id", "update_existing": "--yes to update it, or --id for another id",
    "base_url": "--base-url", "api_key_source": "--api-key-env", "api_key": "--api-key-env",
    "api_key_env": "--api-key-env", "models": "--model (repeated)", "extra_models": "--model (repeated)",
    "model_ids": "--model (repeated)", "confirm": "--yes", "save_path": "--save-profile",
}


def _next_free(base: str, taken: Collection[str]) -> str:
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _split_ids(text: str) -> list[str]:
    return list(dict.fromkeys(p.strip() for p in re.split(r"[,\s]+", text) if p.strip()))


# --- the real gateway, through the verify feature -----------------------------------------------------


def gateway_models(api_host: str, key: str, version: AppVersion | None) -> list[str]:
    from cherryconf import probe

    return probe.list_models({"id": "wizard", "type": "openai", "apiHost": api_host, "apiKey": key},
                             app_version=version)


def gateway_check(provider: dict[str, Any], models: list[str],
                  version: AppVersion | None) -> list[tuple[str, bool, str]]:
    from cherryconf import probe

    report = probe.verify(provider, models=models, endpoints="chat", timeout=30.0, app_version=version)
    return [(r.model, r.outcome == "pass", r.detail or r.reason) for r in report.results]


# --- the terminal: the only questionary call site -----------------------------------------------------


def questionary_ask(q: Question) -> Any:
    """Ask one question on the terminal; Ctrl-C raises KeyboardInterrupt (exit 130, nothing written)."""
    import questionary

    if q.kind == "confirm":
        return questionary.confirm(q.message, default=bool(q.default)).unsafe_ask()
    if q.kind == "password":
        return questionary.password(q.message).unsafe_ask()
    if q.kind == "text":
        return questionary.text(q.message, default=str(q.default or "")).unsafe_ask()
    # questionary gets each choice's position, not its value: it replaces a None value by the title (so "keep
    # the current default" came back as that sentence), and positions are always plain and distinct.
    if q.kind == "select":
        picked = questionary.select(q.message, [questionary.Choice(c.title, i) for i, c in enumerate(q.choices)],
                                    use_search_filter=len(q.choices) > 8, use_jk_keys=False).unsafe_ask()
        return q.choices[picked].value
    items: list[Any] = []
    group = None
    for i, c in enumerate(q.choices):
        if c.group != group and c.group is not None:
            items.append(questionary.Separator(f"── {c.group}"))
            group = c.group
        items.append(questionary.Choice(c.title, i, checked=c.checked))
    ticked = questionary.checkbox(q.message, items, use_search_filter=True, use_jk_keys=False).unsafe_ask()
    return [q.choices[i].value for i in ticked]


def no_spinner(_message: str) -> AbstractContextManager[None]:
    return nullcontext()


@contextmanager
def terminal_spinner(message: str) -> Iterator[None]:
    """A spinner on stderr while a request runs (only the wizard on a terminal uses it)."""
    import itertools
    import sys
    import threading

    done = threading.Event()

    def spin() -> None:
        for frame in itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"):
            sys.stderr.write(f"\r{frame} {message}…")
            sys.stderr.flush()
            if done.wait(0.1):
                break
        sys.stderr.write("\r" + " " * (len(message) + 4) + "\r")
        sys.stderr.flush()

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
