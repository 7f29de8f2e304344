"""One error tree. Every error carries the exit code the command line contract gives it."""

from __future__ import annotations

from enum import IntEnum


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
        super().__init__(message)
        self.message = message


class BadInput(CherryconfError):
    """Usage, profile, schema or URL errors: the user can fix the input."""

    exit_code = ExitCode.BAD_INPUT


class KeyRejected(BadInput):
    """The gateway answered 401 or 403 to the key: a provider holding it could not work, so it is not written."""


class AppRunning(CherryconfError):
    """Cherry Studio is running, so writing its store would be lost or worse."""

    exit_code = ExitCode.APP_RUNNING


class StoreError(CherryconfError):
    """Install not found, unsupported or damaged store, damaged backup."""

    exit_code = ExitCode.STORE


class WriteFailed(CherryconfError):
    """An OS-level failure while writing (disk full, permission denied); the store was left as it was."""

    exit_code = ExitCode.UNEXPECTED
