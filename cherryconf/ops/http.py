"""Reading a gateway's answers with bounds: a body never beyond a byte cap (counted after decompression), a
server-sent event line never beyond a line cap, and the text shown of it cut before it is scrubbed of secrets.

A gateway is someone else's server: a 2 MB gzip body that inflates to gigabytes, an endless body or an event
line with no end must cost cherryconf no more than the cap. So bodies are read raw (`aiter_raw`) and inflated
here, a bounded amount at a time, instead of by httpx, whose decoders inflate a whole network chunk at once.
"""

from __future__ import annotations

import functools
import ssl
import zlib
from collections.abc import AsyncIterator

import httpx

from cherryconf.i18n import _
from cherryconf.redact import scrub

BODY_LIMIT = 4 * 1024 * 1024  # a /models list of a few thousand models is well under 1 MB
LINE_LIMIT = 256 * 1024  # one event of a chat stream is a few hundred bytes
SHOWN_LIMIT = 2048  # characters of a gateway's text that can reach a message, before scrubbing
# What the reader can inflate; asked for explicitly, so that a gateway has no reason to send another coding.
ACCEPT_ENCODING = "gzip, deflate"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every client of this process shares: building one reads the CA bundle (about
    20 ms), and the wizard and a verify of several providers open a client each."""
    return httpx.create_ssl_context()


class BodyRefused(Exception):
    """The body (or one line of a stream) passed its cap, or is coded in a way nobody asked for: the answer is no
    API's answer. Its text is a sentence for people."""


def _too_large(limit: int) -> BodyRefused:
    return BodyRefused(_("the answer is larger than {size}, more than any API answer").format(size=_size(limit)))


def _too_long(limit: int) -> BodyRefused:
    return BodyRefused(_("the answer holds a line longer than {size}, longer than any event of a stream").format(
                           size=_size(limit)))


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def _inflater(coding: str) -> zlib._Decompress | None:
    if coding in ("", "identity"):
        return None
    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return zlib.decompressobj()  # zlib-wrapped, as RFC 9110 says; raw deflate is the fallback below
    raise BodyRefused(_("the answer is coded as {coding!r}, which was not asked for").format(coding=coding[:40]))


async def aiter_body(resp: httpx.Response, limit: int = BODY_LIMIT) -> AsyncIterator[bytes]:
    """The body's bytes, inflated, in pieces; BodyRefused as soon as more than `limit` bytes came out."""
    codings = [c.strip().lower() for c in resp.headers.get("content-encoding", "").split(",") if c.strip()]
    if len(codings) > 1:
        raise BodyRefused(_("the answer is coded several times over, which was not asked for"))
    coding = codings[0] if codings else ""
    inflater = _inflater(coding)
    size = 0
    async for raw in resp.aiter_raw():
        if inflater is None:
            size += len(raw)
            if size > limit:
                raise _too_large(limit)
            yield raw
            continue
        data = raw
        while data and not inflater.eof:
            try:
                # At most what is left of the cap, plus one byte to notice passing it, per call.
                out = inflater.decompress(data, limit - size + 1)
            except zlib.error:
                if coding != "deflate" or size:
                    raise BodyRefused(_("the answer's compressed body is damaged")) from None
                coding, inflater = "raw deflate", zlib.decompressobj(-zlib.MAX_WBITS)  # what some servers send
                continue
            size += len(out)
            if size > limit:
                raise _too_large(limit)
            if out:
                yield out
            data = inflater.unconsumed_tail


async def read_body(resp: httpx.Response, limit: int = BODY_LIMIT) -> bytes:
    """The whole body, inflated; BodyRefused past `limit` bytes."""
    return b"".join([piece async for piece in aiter_body(resp, limit)])


async def read_text(resp: httpx.Response, limit: int = BODY_LIMIT) -> str:
    return (await read_body(resp, limit)).decode(resp.encoding or "utf-8", errors="replace")


async def read_prefix(resp: httpx.Response, limit: int) -> str:
    """At most the first `limit` bytes of the body as text (an error page is judged by its start)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for piece in aiter_body(resp, limit):
            chunks.append(piece)
            size += len(piece)
            if size >= limit:
                break
    except BodyRefused:
        pass  # the part read is what is judged
    return b"".join(chunks)[:limit].decode(resp.encoding or "utf-8", errors="replace")


async def aiter_lines(resp: httpx.Response, limit: int = LINE_LIMIT) -> AsyncIterator[str]:
    """The body's lines (without their ends), each at most `limit` bytes; BodyRefused for a longer one.

    A stream has no total cap: what is kept is one line at a time, and the caller's timeout ends an endless one.
    """
    pending = b""
    async for piece in aiter_body(resp, 1 << 62):
        pending += piece
        *lines, pending = pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        for line in lines:
            if len(line) > limit:
                raise _too_long(limit)
            yield line.decode("utf-8", errors="replace")
        if len(pending) > limit:
            raise _too_long(limit)
    if pending:
        yield pending.decode("utf-8", errors="replace")


def shown(text: str, secrets: list[str], limit: int = SHOWN_LIMIT) -> str:
    """`text` cut to `limit` characters, then scrubbed of every secret: scrubbing costs in proportion to the text,
    so it only ever sees what can be shown (a secret cut at the edge keeps fewer characters than `mask` shows)."""
    return scrub(text[:limit], secrets)
