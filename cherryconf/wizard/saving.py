"""The wizard's last step: saving the set-up as a profile, with the key as a reference (an environment variable,
the keychain) unless the user asks for the key itself in the file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cherryconf.console import set_variable_example
from cherryconf.errors import CherryconfError
from cherryconf.formats import profile
from cherryconf.fsutil import atomic_write
from cherryconf.i18n import _
from cherryconf.paths import Context
from cherryconf.wizard.questions import Flags, Question, Say, _check_new_file, _Draft


class ProfileSaving:
    """Mixed into the Wizard: what it uses of it is declared here."""

    ctx: Context
    say: Say
    interactive: bool
    env: Mapping[str, str]
    _ask: Callable[[Question], Any]
    _given: Callable[..., Any]

    def _save_profile(self, flags: Flags, d: _Draft) -> Path | None:
        def writable(value: Any) -> str | None:
            return _check_new_file(self._expand(str(value)))

        if flags.save_profile is not None:
            path = self._expand(str(self._given(flags.save_profile, Question(
                "save_path", "text", _("Save to"), validate=writable))))
        else:
            if not self.interactive or not self._ask(Question(
                    "save", "confirm", _("Save these settings as a profile (to apply on other machines)?"),
                    default=False)):
                return None
            path = self._expand(str(self._ask(Question("save_path", "text", _("Save to"),
                                                       default="cherryconf-profile.yaml", validate=writable))))
            if path.exists() and not self._ask(Question("overwrite", "confirm", _("{path} exists: replace it?").format(
                                                                                    path=path),
                                                        default=False)):
                self.say(_("  Profile not saved."))
                return None
        # Shown whole: "saved to cherryconf-profile.yaml" leaves the user to work out which directory that was.
        path = path.absolute()
        doc = d.profile_data()
        key_ref = self._keychain_ref(d) if not d.key_ref.startswith("${") else d.key_ref
        if not key_ref.startswith(("${", "keyring:")) and not (self.interactive and self._ask(Question(
                "save_key", "confirm", _("Write the API key itself into the file (it will be readable only by you)?"),
                default=False))):
            key_ref = "${" + (d.preset.env_var or profile.key_env_name(d.pid)) + "}"
        if key_ref.startswith("${"):  # typed, or read from a variable here: wherever it is applied, it must be set
            self.say("  " + _("The key is not written to the file: set {var} before applying it, in this shell "
                              "like this: {example}").format(
                var=key_ref[2:-1], example=set_variable_example(key_ref[2:-1], self.ctx.system, self.env)))
        doc["providers"][0]["apiKey"] = key_ref
        import yaml

        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        atomic_write(path, text.encode("utf-8"))  # 0600: it may hold the key
        self.say((_("Profile saved to {path}; apply it elsewhere with `cherryconf apply {path}`.")
                  if key_ref.startswith(("${", "keyring:")) else
                  _("Profile saved to {path} (with the key, mode 0600); apply it elsewhere with `cherryconf apply "
                    "{path}`.")).format(path=path))
        return path

    def _keychain_ref(self, d: _Draft) -> str:
        """Offer to keep a typed key in the system keychain (yes by default where there is one): the saved profile
        then names it (`keyring:cherryconf/<id>`) instead of holding it."""
        from cherryconf.formats import keyref
        from cherryconf.ops import keys

        ref = keyref.KeyRef(keyref.DEFAULT_SERVICE, d.pid)
        if not (self.interactive and keyref.usable() and self._ask(Question(
                "save_keychain", "confirm", _("Keep the API key in the system keychain, as {ref}?").format(ref=ref),
                default=True))):
            return d.key_ref
        try:
            keys.set_key(self.ctx, ref, d.key)
        except CherryconfError as e:
            self.say("  " + e.message)
            return d.key_ref
        return str(ref)

    def _expand(self, text: str) -> Path:
        """`~` means the context's home (as everywhere in cherryconf), not whatever $HOME says."""
        text = text.strip()
        if text == "~" or text.startswith(("~/", "~\\")):
            return self.ctx.home / text[2:]
        return Path(text)
