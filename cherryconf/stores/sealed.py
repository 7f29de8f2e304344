"""Keys Cherry Studio keeps encrypted at rest (2.x, PR #19138): read them back, or say why not.

Facts, from the app's `src/main/core/security/secretCipher.ts` at 7653871e1ca82089d89715cb337aa3e0672c52d4
(the sweep that encrypts plaintext rows at each start: `src/main/services/ProviderCredentialSweepService.ts` at
4069537f866bdfb6838b264b4704afaa688abc46):
- a stored `api_keys[].key` that starts with `v1:` is an envelope; any other value is plaintext;
- `v1:ss:<base64>`: Electron's `safeStorage.encryptString` buffer, base64 (used when safeStorage is available);
- `v1:aes:<base64 of iv(12) | tag(16) | ciphertext>`: AES-256-GCM, no associated data, with the 32-byte key
  in `<userData>/secret.key` (made 0600 by the app when safeStorage is not available: Linux without a keyring);
- any other `v1:<method>:` is refused by the app too (never handed to the network as the credential).

Electron's safeStorage on Linux is Chromium's os_crypt:
- the password is a Secret Service item of schema `chrome_libsecret_os_crypt_password_v2` with the attribute
  `application` = the app's name (Chromium `components/os_crypt/sync/key_storage_libsecret.cc` at
  4c9bd5d27d3463c24b7d97a133938c539e005348; Electron passes its app name as `application_name`:
  `shell/browser/net/system_network_context_manager.cc` at 672c61b9217fd4d820fab91acab5200b727f8011);
- a sealed value is `v11` + AES-128-CBC (PKCS#7) with an IV of 16 spaces and the key PBKDF2-HMAC-SHA1(password,
  salt `saltysalt`, 1 iteration, 16 bytes) (`components/os_crypt/sync/os_crypt_linux.cc` at
  1e626b1b898f56322a5c1b1db047a65100dbc917; `v10` is the same with the password `peanuts`, which Electron's
  isEncryptionAvailable() does not count as available, so the app never seals with it).
The app's name is Electron's `app.getName()`: package.json's `name` `CherryStudio` (also the default userData
directory's name); `Cherry Studio` (the installers' product name) is tried too. macOS and Windows seal with their
own facilities (Keychain, DPAPI), which cherryconf does not read: there the key has to be given.

`cryptography` does the AES (a well-kept library; no hand-written cipher), `secretstorage` (the Secret Service
client the `keyring` library itself uses on Linux) finds the password item, whose attributes `keyring` cannot
search by.
"""

from __future__ import annotations

import base64
import binascii
import sys
from pathlib import Path
from typing import Any, NoReturn

from cherryconf.errors import BadInput
from cherryconf.i18n import _

_PREFIX = "v1:"
_SS = "v1:ss:"
_AES = "v1:aes:"
_IV, _TAG, _KEY = 12, 16, 32
KEY_FILE = "secret.key"
_SCHEMA = "chrome_libsecret_os_crypt_password_v2"
APP_NAMES = ("CherryStudio", "Cherry Studio")
_MAX = 64 * 1024  # a sealed key is well under a kilobyte


class SealedKey(BadInput):
    """A key the app encrypted that cherryconf cannot read here."""


def is_sealed(key: str) -> bool:
    """Whether a provider's apiKey (several keys comma-separated) holds any envelope of the app's."""
    return any(k.strip().startswith(_PREFIX) for k in key.split(","))


def _cannot() -> SealedKey:
    # cherryconf has no --key flag (a key on the command line shows in `ps`): a profile gives it.
    return SealedKey(_("encrypted by Cherry Studio; give the key in a profile, as ${VAR} or keyring:<service>/<name>"))


def refuse() -> NoReturn:
    raise _cannot()


def _b64(text: str) -> bytes:
    if len(text) > _MAX:
        raise _cannot()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _cannot() from None


def _aes(blob: bytes, data_dir: Path | None) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if data_dir is None:  # a backup or a database on its own: the key file stayed with the install
        raise _cannot()
    try:
        key = (data_dir / KEY_FILE).read_bytes()[: _KEY + 1]
    except OSError:
        raise _cannot() from None
    if len(key) != _KEY or len(blob) <= _IV + _TAG:
        raise _cannot()
    iv, tag, ciphertext = blob[:_IV], blob[_IV:_IV + _TAG], blob[_IV + _TAG:]
    try:
        # cryptography takes the tag at the end of the ciphertext; the app stores it before.
        return AESGCM(key).decrypt(iv, ciphertext + tag, None).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise _cannot() from None


def safe_storage_password(app_names: tuple[str, ...] = APP_NAMES) -> bytes | None:
    """The password Electron's safeStorage keeps in the Secret Service for the app, or None (not Linux, no
    Secret Service, locked, no such item)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import secretstorage

        with secretstorage.dbus_init() as conn:
            for name in app_names:
                for item in secretstorage.search_items(conn, {"xdg:schema": _SCHEMA, "application": name}):
                    if item.is_locked():
                        item.unlock()  # the desktop's prompt; without one the search fails at once
                    secret = item.get_secret()
                    if secret:
                        return bytes(secret)
    except Exception:  # no D-Bus, no Secret Service, locked, refused: the one sentence says what to do
        return None
    return None


def _v11(blob: bytes, password: bytes) -> str:
    from cryptography.hazmat.primitives import hashes, padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    if not blob.startswith(b"v11") or (len(blob) - 3) % 16 or len(blob) == 3:
        raise _cannot()
    key = PBKDF2HMAC(hashes.SHA1(), 16, b"saltysalt", 1).derive(password)  # os_crypt's own KDF, not a choice
    decryptor = Cipher(algorithms.AES(key), modes.CBC(b" " * 16)).decryptor()
    padded = decryptor.update(blob[3:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise _cannot() from None


def _one(key: str, data_dir: Path | None, password: list[bytes | None]) -> str:
    if key.startswith(_AES):
        return _aes(_b64(key[len(_AES):]), data_dir)
    if key.startswith(_SS):
        blob = _b64(key[len(_SS):])
        if not password:
            password.append(safe_storage_password())
        if password[0] is None:
            raise _cannot()
        return _v11(blob, password[0])
    if key.startswith(_PREFIX):
        raise _cannot()  # a method this cherryconf does not know: the app refuses it too
    return key


def unseal(key: str, data_dir: Path | None) -> str:
    """The plaintext of a provider's apiKey as the app stores it (comma-separated keys, each perhaps sealed);
    SealedKey (exit 2) with the one sentence when a sealed one cannot be read here."""
    password: list[bytes | None] = []  # looked up once, and only when a `v1:ss:` key needs it
    return ",".join(_one(k.strip(), data_dir, password) for k in key.split(","))


def opened(providers: list[dict[str, Any]], data_dir: Path | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The providers with every sealed key read back; a key that cannot be is left out (empty), never passed on
    as ciphertext, and a note names its provider."""
    out, notes = [], []
    for p in providers:
        key = str(p.get("apiKey") or "")
        if not is_sealed(key):
            out.append(p)
            continue
        try:
            out.append({**p, "apiKey": unseal(key, data_dir)})
        except SealedKey as e:
            out.append({**p, "apiKey": ""})
            notes.append(_("{pid}: the key is {reason}").format(pid=p.get("id"), reason=e.message))
    return out, notes
