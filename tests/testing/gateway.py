"""A loopback OpenAI-compatible gateway for probe tests and the benchmark: a real HTTP server on 127.0.0.1.

Each model is configured per endpoint with one behaviour, modelled on what real gateways (OpenAI, new-api and
one-api forks, nginx in front) answer. Every request is recorded so tests can check what was sent, and where.
"""

from __future__ import annotations

import json
import math
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Behaviour = Literal[
    "ok",
    "reasoning",  # chat: streams reasoning_content deltas only, then finish_reason "length"
    "finish_only",  # chat: a stream with no text, only a finish_reason
    "json_no_stream",  # chat: ignores stream=true, answers one chat.completion JSON
    "empty",  # chat: a stream with no text and no finish_reason; responses: output []
    "stream_error",  # chat: 200 stream whose first event is an error
    "invalid_url",  # 404 Invalid URL (POST /v1/responses), OpenAI's answer for a route it does not serve
    "convert_failed",  # 500 convert_request_failed (new-api cannot translate the request for that channel)
    "not_supported",  # 400 "... is not supported on /v1/responses"
    "model_not_found",  # 404 model_not_found
    "no_channel",  # 503 "无可用渠道" with code model_not_found (new-api)
    "no_channel_en",  # 503 "no channel for this model in your group"
    "unauthorized",  # 401, echoing part of the key as some gateways do
    "forbidden",  # 403
    "quota",  # 402
    "quota_403",  # 403 with "额度不足" (new-api's out-of-quota)
    "rate_limit",  # 429
    "server_error",  # 500 with a generic message
    "bad_gateway",  # 502 HTML page from a proxy in front
    "html",  # 200 with the web UI's HTML page
    "redirect",  # 307 to Gateway.redirect_to
    "slow",  # sleeps Gateway.slow_seconds before answering
    "busy_once",  # the first request: 503 with Retry-After (an HTTP date); then as "ok"
    "quota_429",  # 429 insufficient_quota (OpenAI's out-of-credit answer): no wait helps
]


@dataclass
class ModelSpec:
    chat: Behaviour = "ok"
    responses: Behaviour = "ok"
    listed: bool = True  # appears in /v1/models
    endpoint_types: list[str] | None = None  # supported_endpoint_types in /v1/models


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any] | None


@dataclass
class Gateway:
    models: dict[str, ModelSpec]
    key: str = "sk-loopback-0123456789abcdefghijklmnopqrstuv"
    latency: float = 0.0  # added before every answer (before the first event of a stream)
    slow_seconds: float = 3.0
    serve_models: bool = True
    redirect_to: str = ""
    requests: list[Recorded] = field(default_factory=list)
    max_in_flight: int = 0
    # A per-key rate limit: a token bucket of `burst` requests (default: one second's worth) refilled at `rate`
    # per second; a request finding it empty gets an immediate 429 with Retry-After (whole seconds, as HTTP has it).
    rate: float = 0.0  # 0: no limit
    burst: int = 0
    latency_range: tuple[float, float] | None = None  # a uniform random latency instead of `latency`
    ratelimit_headers: bool = False  # x-ratelimit-limit/remaining/reset-requests on every answer
    throttled: int = 0  # 429s the bucket gave
    admitted: list[float] = field(default_factory=list)  # when each request the bucket let through arrived
    _tokens: float = -1.0
    _refilled: float = 0.0
    _busy: set[tuple[str, str]] = field(default_factory=set)
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def provider(self, type_: str = "openai", **fields: Any) -> dict[str, Any]:
        """A 1.x-format provider pointing at this gateway, holding every configured model."""
        provider: dict[str, Any] = {
            "id": "loop", "name": "Loopback", "type": type_, "apiHost": self.url, "apiKey": self.key,
            "models": [{"id": m, "name": m, "provider": "loop", "group": "loop"} for m in self.models],
        }
        provider.update(fields)
        return provider

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def _enter(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _take(self) -> tuple[float, int]:
        """One token from the bucket: (seconds until one is there, 0 when taken; tokens left)."""
        burst = self.burst or max(1, round(self.rate))
        with self._lock:
            now = time.monotonic()
            if self._tokens < 0:
                self._tokens, self._refilled = float(burst), now
            self._tokens = min(float(burst), self._tokens + (now - self._refilled) * self.rate)
            self._refilled = now
            if self._tokens >= 1:
                self._tokens -= 1
                self.admitted.append(now)
                return 0.0, int(self._tokens)
            self.throttled += 1
            return (1 - self._tokens) / self.rate, 0

    def max_admitted_per_second(self) -> int:
        """The most requests the bucket let through in any one-second window."""
        with self._lock:
            times = sorted(self.admitted)
        best, first = 0, 0
        for last, t in enumerate(times):
            while t - times[first] >= 1.0:
                first += 1
            best = max(best, last - first + 1)
        return best


def closed_port() -> int:
    """A loopback port nothing listens on (just released): a gateway that cannot be reached."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextmanager
def running(gateway: Gateway) -> Iterator[Gateway]:
    """Serve the gateway on an ephemeral loopback port for the duration of the block."""

    class Handler(_Handler):
        gw = gateway

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A slow handler must not hold up shutdown: the stop event wakes it, and nothing joins it.
    server.daemon_threads = True
    server.block_on_close = False
    gateway._server = server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        gateway._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


_HTML_404 = ("<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
             "<body><h1>Not Found</h1></body></html>")
_HTML_APP = "<!doctype html><html><head><title>Gateway Console</title></head><body><div id=app></div></body></html>"
_HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"


class _Handler(BaseHTTPRequestHandler):
    gw: Gateway
    protocol_version = "HTTP/1.0"  # one request per connection; a stream ends when the connection closes

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the recorded requests instead."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        rec = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        self._answered = False
        self.gw._enter(rec)
        try:
            self._route(rec)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer
        finally:
            self._leave()

    def send_response(self, code: int, message: str | None = None) -> None:
        # In flight ends when the answer starts: the client may send its next request before this thread
        # finishes closing the connection, and that tail must not count as overlap.
        self._leave()
        super().send_response(code, message)

    def _leave(self) -> None:
        if not self._answered:
            self._answered = True
            self.gw._leave()

    def _route(self, rec: Recorded) -> None:
        gw = self.gw
        self._limit_headers: dict[str, str] = {}
        if gw.rate and rec.headers.get("authorization") == f"Bearer {gw.key}":
            wait, left = gw._take()
            if gw.ratelimit_headers:
                self._limit_headers = {"x-ratelimit-limit-requests": str(gw.burst or round(gw.rate)),
                                       "x-ratelimit-remaining-requests": str(left),
                                       "x-ratelimit-reset-requests": f"{max(wait, 1 / gw.rate) * 1000:.0f}ms"}
            if wait:
                self._limit_headers["Retry-After"] = str(math.ceil(wait))
                return self._error(429, "Rate limit reached for requests", "rate_limit_exceeded")
        if gw.latency_range:
            time.sleep(random.uniform(*gw.latency_range))
        elif gw.latency:
            time.sleep(gw.latency)
        if not self.path.startswith("/v1/"):
            return self._send(404, _HTML_404, "text/html")
        if rec.headers.get("authorization") != f"Bearer {gw.key}":
            shown = rec.headers.get("authorization", "")[7:19]
            return self._error(401, f"Incorrect API key provided: {shown}...", "invalid_api_key")
        if self.path == "/v1/models" and self.command == "GET" and gw.serve_models:
            data = []
            for mid, listed in gw.models.items():
                if listed.listed:
                    entry: dict[str, Any] = {"id": mid, "object": "model", "owned_by": "loop"}
                    if listed.endpoint_types is not None:
                        entry["supported_endpoint_types"] = listed.endpoint_types
                    data.append(entry)
            return self._json(200, {"object": "list", "data": data})
        if self.command != "POST" or self.path not in ("/v1/chat/completions", "/v1/responses"):
            return self._error(404, f"Invalid URL ({self.command} {self.path})", None)
        model = str((rec.body or {}).get("model", ""))
        spec = gw.models.get(model)
        if spec is None:
            return self._error(404, f"The model `{model}` does not exist or you do not have access to it.",
                               "model_not_found")
        chat = self.path == "/v1/chat/completions"
        behaviour = spec.chat if chat else spec.responses
        if behaviour == "slow":
            gw._stopping.wait(gw.slow_seconds)
            behaviour = "ok"
        if behaviour == "busy_once":
            with gw._lock:
                first = (model, self.path) not in gw._busy
                gw._busy.add((model, self.path))
            if first:
                self._limit_headers["Retry-After"] = formatdate(time.time() + 1, usegmt=True)
                return self._error(503, "The server is busy, try again later", None)
            behaviour = "ok"
        if self._common(behaviour, model):
            return None
        if chat:
            return self._chat(behaviour, model)
        if behaviour == "empty":
            return self._json(200, {"id": "resp_1", "object": "response", "status": "completed", "output": []})
        return self._json(200, {"id": "resp_1", "object": "response", "status": "completed", "output": [
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]}]})

    def _common(self, behaviour: Behaviour, model: str) -> bool:
        """Answer the behaviours both endpoints share; False when the endpoint must answer itself."""
        errors: dict[str, tuple[int, str, str | None]] = {
            "invalid_url": (404, f"Invalid URL (POST {self.path})", None),
            "convert_failed": (500, "not implemented (request id: 2025)", "convert_request_failed"),
            "not_supported": (400, f"model {model} is not supported on {self.path}", None),
            "model_not_found": (404, f"The model `{model}` does not exist", "model_not_found"),
            "no_channel": (503, f"当前分组 default 下对于模型 {model} 无可用渠道", "model_not_found"),
            "no_channel_en": (503, f"no channel for model {model} in your group", None),
            "unauthorized": (401, f"Invalid token: {self.gw.key[:10]}…{self.gw.key[-6:]}", "invalid_api_key"),
            "forbidden": (403, "access denied for this token", None),
            "quota": (402, "Payment required: top up your balance", None),
            "quota_403": (403, "用户额度不足, 剩余额度: ＄0.000000", "insufficient_user_quota"),
            "rate_limit": (429, "Rate limit reached for requests", "rate_limit_exceeded"),
            "quota_429": (429, "You exceeded your current quota, please check your plan and billing details.",
                          "insufficient_quota"),
            "server_error": (500, "something broke upstream", None),
        }
        if behaviour in errors:
            status, message, code = errors[behaviour]
            self._error(status, message, code)
        elif behaviour == "bad_gateway":
            self._send(502, _HTML_502, "text/html")
        elif behaviour == "html":
            self._send(200, _HTML_APP, "text/html; charset=utf-8")
        elif behaviour == "redirect":
            self.send_response(307)
            self.send_header("Location", self.gw.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            return False
        return True

    def _chat(self, behaviour: Behaviour, model: str) -> None:
        if behaviour == "json_no_stream":
            return self._json(200, {"id": "c1", "object": "chat.completion", "model": model, "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self._send_limit_headers()
        self.end_headers()

        def event(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {"id": "c1", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        if behaviour == "stream_error":
            error = {"error": {"message": f"upstream: model {model} not found", "code": "model_not_found"}}
            self.wfile.write(f"data: {json.dumps(error)}\n\n".encode())
            return None
        event({"role": "assistant", "content": ""})
        if behaviour == "reasoning":
            for word in ("The", " user", " wants", " ok"):
                event({"reasoning_content": word})
            event({}, "length")
        elif behaviour == "finish_only":
            event({}, "stop")
        elif behaviour == "ok":
            event({"content": "ok"})
            event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        return None

    def _error(self, status: int, message: str, code: str | None) -> None:
        self._json(status, {"error": {"message": message, "type": "invalid_request_error", "code": code}})

    def _json(self, status: int, document: Any) -> None:
        self._send(status, json.dumps(document, ensure_ascii=False), "application/json")

    def _send(self, status: int, text: str, content_type: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self._send_limit_headers()
        self.end_headers()
        self.wfile.write(data)

    def _send_limit_headers(self) -> None:
        for name, value in getattr(self, "_limit_headers", {}).items():
            self.send_header(name, value)
