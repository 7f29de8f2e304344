"""Key references: `apiKey: keyring:<service>/<name>` names an entry of the OS credential store.

Grammar (the whole value, surrounding blanks ignored):

    keyring:<service>/<name>

`<service>` is 1 to 128 characters, no `/`; `<name>` is 1 to 128 characters and may hold `/`; neither holds a
control character. The entry is the `keyring` library's (service, username) pair: macOS Keychain's generic
password, Windows Credential Manager's generic credential `<name>@<service>`, the Secret Service item with the
attributes `service` and `username` (GNOME Keyring, KWallet). cherryconf's own entries use the service
`cherryconf` and the provider id as name (`keyring:cherryconf/my-gw`).

As `GH_TOKEN` wins over the credential `gh auth login` stored, the provider's environment variable
(`<ID>_API_KEY`, as `cherryconf export` names it) wins over the entry when it is set and not empty.

The `keyring` library is used rather than hand-written keychain code: it has the three OS backends, maintained,
and picks the one the desktop offers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cherryconf.errors import BadInput
from cherryconf.i18n import _

_REF = re.compile(r"keyring:([^/\x00-\x1f\x7f]{1,128})/([^\x00-\x1f\x7f]{1,128})")
DEFAULT_SERVICE = "cherryconf"


@dataclass(frozen=True)
class KeyRef:
    service: str
    name: str

    def __str__(self) -> str:
        return f"keyring:{self.service}/{self.name}"


class KeychainError(BadInput):
    """The keychain cannot give a referenced key: exit 2, one sentence naming the entry and what to do."""


class KeychainUnavailable(KeychainError):
    """No usable keychain here, or it is locked: the entry may well exist."""


def parse(value: object) -> KeyRef | None:
    """The reference `value` is, or None when it is not one (a key, `${VAR}`)."""
    if not isinstance(value, str):
        return None
    m = _REF.fullmatch(value.strip())
    return KeyRef(m.group(1), m.group(2)) if m else None


def parse_arg(value: str) -> KeyRef:
    """A reference given on the command line: `keyring:svc/name`, `svc/name`, or a bare name in `cherryconf`."""
    text = value.strip()
    if not text.startswith("keyring:"):
        text = "keyring:" + (text if "/" in text else f"{DEFAULT_SERVICE}/{text}")
    ref = parse(text)
    if ref is None:
        raise BadInput(_("{value!r} is not a key reference: write keyring:<service>/<name>, like "
                         "keyring:cherryconf/my-gw").format(value=value))
    return ref


def _backend() -> object:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise KeychainUnavailable(_("no system keychain is available here (no Secret Service, Keychain or "
                                    "Credential Manager answered)"))
    return backend


def usable() -> bool:
    """Whether a keychain backend is there to keep keys in (the wizard's default)."""
    try:
        _backend()
    except KeychainError:
        return False
    return True


def _unavailable(ref: KeyRef, e: Exception, hint: str, writing: bool = False) -> KeychainUnavailable:
    from keyring.errors import KeyringLocked

    if isinstance(e, KeyringLocked):
        return KeychainUnavailable((_("the system keychain is locked, so {ref} cannot be written: unlock it and run "
                                      "the command again") if writing else
                                    _("the system keychain is locked, so {ref} cannot be read: unlock it{hint} and "
                                      "run the command again")).format(ref=ref, hint=hint))
    why = e.message if isinstance(e, KeychainError) else str(e).strip() or type(e).__name__
    return KeychainUnavailable((_("{ref} cannot be written: {why}") if writing else
                                _("{ref} cannot be read: {why}{hint}")).format(ref=ref, why=why, hint=hint))


def read(ref: KeyRef, hint: str = "") -> str:
    """The secret the entry holds; KeychainError when it is missing or the keychain cannot be read. `hint` is
    appended to the sentence (`, or set GW_API_KEY`)."""
    from keyring.errors import KeyringError

    try:
        backend = _backend()
        secret = backend.get_password(ref.service, ref.name)  # type: ignore[attr-defined]
    except (KeyringError, KeychainError) as e:
        raise _unavailable(ref, e, hint) from None
    except Exception as e:  # a backend's D-Bus or OS error: still one sentence, never a traceback
        raise _unavailable(ref, e, hint) from None
    if not isinstance(secret, str) or not secret.strip():
        raise KeychainError(_("the keychain has no entry {ref}: create it with `cherryconf key set {ref}`{hint}")
                            .format(ref=ref, hint=hint))
    return secret.strip()


def resolve(ref: KeyRef, env_name: str, env: Mapping[str, str]) -> str:
    """The key a provider's reference stands for: the environment variable `env_name` when set, else the entry."""
    if env.get(env_name, "").strip():
        return env[env_name].strip()
    return read(ref, _(" (or set {var})").format(var=env_name))


def resolve_profile(data: object, env: Mapping[str, str], env_name: Callable[[str], str], keep_unread: bool = False
                    ) -> tuple[object, dict[str, str], frozenset[str]]:
    """(the profile document with every provider's key reference resolved, provider id -> reference, the ids whose
    keychain could not be read). With `keep_unread` (apply --check), a locked or absent keychain leaves the
    reference in place instead of refusing; a missing entry is refused either way. `env_name` gives a provider's
    environment variable."""
    providers = data.get("providers") if isinstance(data, dict) else None
    if not isinstance(providers, list):
        return data, {}, frozenset()
    refs: dict[str, str] = {}
    unread: set[str] = set()
    out = []
    for p in providers:
        ref = parse(p.get("apiKey")) if isinstance(p, dict) and isinstance(p.get("id"), str) else None
        if ref is None:
            out.append(p)
            continue
        pid = str(p["id"])
        refs[pid] = str(ref)
        try:
            key = resolve(ref, env_name(pid), env)
        except KeychainUnavailable:
            if not keep_unread:
                raise
            unread.add(pid)
            key = str(ref)
        out.append({**p, "apiKey": key})
    return {**data, "providers": out}, refs, frozenset(unread)  # type: ignore[dict-item]


def write(ref: KeyRef, secret: str) -> None:
    """Keep `secret` in the entry (replacing what it held)."""
    try:
        _backend().set_password(ref.service, ref.name, secret)  # type: ignore[attr-defined]
    except Exception as e:  # locked, refused, no backend: one sentence
        raise _unavailable(ref, e, "", writing=True) from None


def delete(ref: KeyRef) -> None:
    """Remove the entry; KeychainError when there is none."""
    from keyring.errors import PasswordDeleteError

    try:
        backend = _backend()
        if backend.get_password(ref.service, ref.name) is None:  # type: ignore[attr-defined]
            raise PasswordDeleteError(str(ref))
        backend.delete_password(ref.service, ref.name)  # type: ignore[attr-defined]
    except PasswordDeleteError:
        raise KeychainError(_("the keychain has no entry {ref}").format(ref=ref)) from None
    except Exception as e:
        raise _unavailable(ref, e, "", writing=True) from None
