"""Why a request got no answer, in one translated sentence that says what to do: the one place where httpx's and
the operating system's network errors become text.

The OS's own text (`[Errno -2] Name or service not known`, `[WinError 10061] ...`) never reaches the user, not
even in --json: it is in the system's language and code page rather than the user's, differs by platform for the
same failure, and may quote the address with its credentials. The sentence names the kind of failure instead.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from typing import Literal
from urllib.parse import urlsplit

import httpx

from cherryconf.i18n import _

Kind = Literal["refused", "no_host", "certificate", "tls", "unreachable", "dropped", "proxy", "other"]

# Windows Sockets codes, for an error that carries only `winerror` (Python maps most of them to errno, not these).
_WSA_NO_HOST = {11001, 11002, 11003, 11004}  # WSAHOST_NOT_FOUND, WSATRY_AGAIN, WSANO_RECOVERY, WSANO_DATA
# WSAECONNREFUSED; ERROR_CONNECTION_REFUSED, what the Proactor event loop's connect reports
_WSA_REFUSED = {10061, 1225}
# WSAENETUNREACH, WSAEHOSTUNREACH; ERROR_NETWORK_UNREACHABLE, ERROR_HOST_UNREACHABLE (the Proactor's)
_WSA_UNREACHABLE = {10051, 10065, 1231, 1232}
_WSA_DROPPED = {10053, 10054}  # WSAECONNABORTED, WSAECONNRESET
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH}


def _chain(e: BaseException) -> Iterator[BaseException]:
    """`e` and what caused it (httpx wraps httpcore's error, which wraps the OS's), each once."""
    seen: set[int] = set()
    current: BaseException | None = e
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def kind(e: BaseException) -> Kind:
    """What kind of network failure `e` is, from the most specific error in its chain."""
    chain = list(_chain(e))

    def codes(error: BaseException) -> set[int]:
        return {c for c in (getattr(error, "errno", None), getattr(error, "winerror", None)) if isinstance(c, int)}

    if any(isinstance(c, ssl.SSLCertVerificationError) for c in chain):
        return "certificate"
    if any(isinstance(c, ssl.SSLError) for c in chain):
        return "tls"
    if any(isinstance(c, httpx.ProxyError) for c in chain):
        return "proxy"
    for c in reversed(chain):  # the OS's error, at the end of the chain, says the most
        if isinstance(c, OSError):
            if isinstance(c, socket.gaierror) or codes(c) & _WSA_NO_HOST:
                return "no_host"
            if isinstance(c, ConnectionRefusedError) or codes(c) & _WSA_REFUSED:
                return "refused"
            if codes(c) & (_UNREACHABLE | _WSA_UNREACHABLE):
                return "unreachable"
            if isinstance(c, ConnectionResetError | ConnectionAbortedError) or codes(c) & _WSA_DROPPED:
                return "dropped"
    if any(isinstance(c, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError) for c in chain):
        return "dropped"
    return "other"


def describe(e: BaseException, url: str) -> str:
    """One sentence: what failed on the way to `url` (named by host and port, never the whole URL, which may
    carry credentials) and what to do about it."""
    parts = urlsplit(url)
    host = parts.hostname or url
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    where = f"[{host}]:{port}" if ":" in host and port else f"{host}:{port}" if port else host
    found = kind(e)
    if found == "refused":
        return _("connection refused: nothing listens at {where}; check the port and host in the URL").format(
            where=where)
    if found == "no_host":
        return _("host not found: {host} does not resolve; check the host name in the URL").format(host=host)
    if found == "certificate":
        return _("TLS failure: the certificate of {host} is not trusted (self-signed, expired, or for another "
                 "name); check the URL, or the certificates this system trusts").format(host=host)
    if found == "tls":
        return _("TLS failure: no secure connection to {where}; check that the URL's scheme (https or http) and "
                 "port are the gateway's").format(where=where)
    if found == "unreachable":
        return _("network unreachable: no route to {where}; check the network connection, VPN or proxy").format(
            where=where)
    if found == "dropped":
        return _("the connection to {where} was closed before an answer; run again, or check that the URL is the "
                 "gateway's").format(where=where)
    if found == "proxy":
        return _("the proxy refused the connection to {where}; check the proxy settings (HTTPS_PROXY, "
                 "HTTP_PROXY)").format(where=where)
    return _("could not connect to {where}; check the URL and the network").format(where=where)
