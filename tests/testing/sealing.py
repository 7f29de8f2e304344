"""Keys sealed as Cherry Studio 2.x seals them (facts and sources: cherryconf/stores/sealed.py), for tests.

`aes`: the app's key-file envelope. `safe_storage`: Electron's safeStorage on Linux, Chromium os_crypt `v11`,
with its password put into the Secret Service the way Chromium's libsecret key storage puts it there.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC


def aes(plain: str, data_dir: Path) -> str:
    """`v1:aes:` with `<data_dir>/secret.key` (made 0600, 32 random bytes, when missing)."""
    key_file = data_dir / "secret.key"
    if not key_file.exists():
        key_file.write_bytes(secrets.token_bytes(32))
        key_file.chmod(0o600)
    iv = secrets.token_bytes(12)
    sealed = AESGCM(key_file.read_bytes()).encrypt(iv, plain.encode("utf-8"), None)
    ciphertext, tag = sealed[:-16], sealed[-16:]
    return "v1:aes:" + base64.b64encode(iv + tag + ciphertext).decode("ascii")


def v11(plain: str, password: bytes) -> bytes:
    key = PBKDF2HMAC(hashes.SHA1(), 16, b"saltysalt", 1).derive(password)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(b" " * 16)).encryptor()
    return b"v11" + encryptor.update(data) + encryptor.finalize()


def safe_storage(plain: str, password: bytes) -> str:
    """`v1:ss:` as the app writes what safeStorage.encryptString gave."""
    return "v1:ss:" + base64.b64encode(v11(plain, password)).decode("ascii")


def store_safe_storage_password(env: dict[str, str], application: str = "CherryStudio") -> bytes:
    """Put an app's safeStorage password into the test Secret Service as Chromium does (base64 of 16 random bytes,
    schema chrome_libsecret_os_crypt_password_v2, attribute application, label "Chromium Safe Storage")."""
    password = base64.b64encode(secrets.token_bytes(16))
    code = ("import sys, secretstorage; c = secretstorage.dbus_init(); col = secretstorage.get_default_collection(c)\n"
            "col.create_item('Chromium Safe Storage', {'xdg:schema': 'chrome_libsecret_os_crypt_password_v2', "
            "'application': sys.argv[1]}, sys.argv[2].encode(), replace=True)")
    subprocess.run([sys.executable, "-c", code, application, password.decode()], env={**os.environ, **env},
                   check=True, timeout=30)
    return password
