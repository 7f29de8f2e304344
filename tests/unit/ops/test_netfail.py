"""Network failures become one sentence of cherryconf's own, whatever the platform's error says."""

from __future__ import annotations

import errno
import socket
import ssl

import httpx
import pytest

from cherryconf.ops import netfail


def wrapped(os_error: BaseException) -> httpx.ConnectError:
    """As httpx raises it: its ConnectError, caused by the OS's error (through httpcore's)."""
    try:
        try:
            raise os_error
        except BaseException as e:
            raise httpx.ConnectError("All connection attempts failed") from e
    except httpx.ConnectError as outer:
        return outer


def windows(code: int, text: str) -> OSError:
    """An OSError as Windows' socket layer gives it: the WinError code, in the system's language."""
    error = OSError(text)
    error.winerror = code  # type: ignore[attr-defined]  # set by CPython on Windows only
    return error


@pytest.mark.parametrize(("error", "kind"), [
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"), "refused"),
    (socket.gaierror(-2, "Name or service not known"), "no_host"),
    (ssl.SSLCertVerificationError(1, "certificate verify failed"), "certificate"),
    (ssl.SSLError(1, "wrong version number"), "tls"),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "unreachable"),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "dropped"),
    (windows(10061, "由于目标计算机积极拒绝，无法连接。"), "refused"),
    (windows(1225, "The remote computer refused the network connection"), "refused"),
    (windows(11001, "不知道这样的主机。"), "no_host"),
    (windows(10065, "A socket operation was attempted to an unreachable host"), "unreachable"),
    (OSError("something else"), "other"),
])
def test_each_failure_is_named_from_the_os_error_under_httpx(error: BaseException, kind: str) -> None:
    assert netfail.kind(wrapped(error)) == kind


def test_the_sentence_names_host_and_port_never_the_os_text_or_credentials() -> None:
    said = netfail.describe(wrapped(windows(10061, "由于目标计算机积极拒绝，无法连接。")),
                            "https://user:secret@gw.example:8443/v1/models")
    assert said == "connection refused: nothing listens at gw.example:8443; check the port and host in the URL"
    assert netfail.describe(httpx.RemoteProtocolError("Server disconnected"), "http://[::1]/v1").startswith(
        "the connection to [::1]:80 was closed before an answer")
