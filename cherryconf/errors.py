"""One error tree. Every error carries the exit code the command line contract gives it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from enum import IntEnum

# Line breaks and other control characters; a message quoting damaged data must still be one line.
# Bidirectional overrides and isolates too: they reorder what follows them on a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def one_line(text: str) -> str:
    """`text` with every control character written as an escape (\\n, \\x07...), so it prints as one line."""
    return _CONTROL.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


def closest(wanted: str, known: Iterable[str]) -> str | None:
    """The one of `known` a mistyped `wanted` most likely meant (ignoring case), for a "did you mean" in a
    message; None when none is close."""
    by_folded = {k.casefold(): k for k in known if k}
    match = difflib.get_close_matches(wanted.casefold(), list(by_folded), n=1, cutoff=0.6)
    return by_folded[match[0]] if match else None


class ExitCode(IntEnum):
    OK = 0
    UNEXPECTED = 1
    BAD_INPUT = 2
    APP_RUNNING = 3
    STORE = 4
    PROBLEMS_FOUND = 5
    INTERRUPTED = 130


class CherryconfError(Exception):
    """Base of every error cherryconf reports; the message is one sentence for the user."""

    exit_code: ExitCode = ExitCode.UNEXPECTED

    def __init__(self, message: str) -> None:
        message = one_line(message)
        super().__init__(message)
        self.message = message


class BadInput(CherryconfError):
    """Usage, profile, schema or URL errors: the user can fix the input."""

    exit_code = ExitCode.BAD_INPUT


class KeyRejected(BadInput):
    """The gateway answered 401 or 403 to the key: a provider holding it could not work, so it is not written."""


class Unreachable(BadInput):
    """The gateway could not be reached at all (no such host, connection refused...): the URL is the likely cause,
    not the key or the models."""


class AppRunning(CherryconfError):
    """Cherry Studio is running, so writing its store would be lost or worse."""

    exit_code = ExitCode.APP_RUNNING


class Busy(CherryconfError):
    """Another cherryconf is writing this install: refused, like a running app, until it is done."""

    exit_code = ExitCode.APP_RUNNING


class StoreError(CherryconfError):
    """Install not found, unsupported or damaged store, damaged backup."""

    exit_code = ExitCode.STORE


class NotOpened(CherryconfError):
    """The operating system could not hand an import link to the app (no opener, none registered for the link): the
    environment lacks the app, as when no install is found."""

    exit_code = ExitCode.STORE


class ReadBackFailed(StoreError):
    """A write reached the store but the store does not read back as written: it must be undone from the backup."""


class Interrupted(CherryconfError):
    """Ctrl-C after something was already written: the message says what stays written."""

    exit_code = ExitCode.INTERRUPTED


class WriteFailed(CherryconfError):
    """An OS-level failure while writing (disk full, permission denied); the store was left as it was."""

    exit_code = ExitCode.UNEXPECTED
