"""What a gateway's answer holds: its error message, whether it is a web page, whether it asks to be asked again
later, and the output of a chat or Responses answer (ops.probe judges with these)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from cherryconf.ops import pacing

DETAIL_CHARS = 160  # a gateway's message is quoted up to this long

UNKNOWN_MODEL = re.compile(
    r"model[^.\n]{0,80}?(not found|does not exist|not exist|unknown|no such|not available|invalid|not supported)"
    r"|(unknown|invalid|unsupported) model|模型[^。\n]{0,40}?(不存在|不支持|未找到)",
    re.IGNORECASE)
# "endpoint not supported", "model x is not supported on /v1/responses": the route, not the model, is refused.
ROUTE = re.compile(r"(endpoint|route)[^.\n]{0,40}?not (supported|found|implemented)"
                    r"|not supported[^.\n]{0,40}?(endpoint|route|/v1/|responses api)", re.IGNORECASE)
QUOTA = re.compile(r"insufficient_quota|quota|rate.?limit|too many requests|额度|余额不足", re.IGNORECASE)


# A 429 saying the account is out of money or quota: asking again will not help.
_OUT_OF_QUOTA = re.compile(r"insufficient_quota|exceeded your current quota|billing|balance|credit|额度|余额",
                           re.IGNORECASE)


def later(status: int, headers: httpx.Headers, text: str) -> float | None:
    """For a refusal worth asking again: the wait the gateway names, -1 when it names none; else None.

    A 429 is a rate limit unless its body says the quota is spent; a 503 only when it names a wait (a 503 without
    one is most often a gateway with no channel for the model, which no wait changes)."""
    if status not in (429, 503):
        return None
    told = pacing.told_delay(headers)
    if told is not None:
        return told
    if status == 429 and not _OUT_OF_QUOTA.search(text):
        return -1.0
    return None


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def is_json(headers: httpx.Headers, text: str) -> bool:
    return "json" in headers.get("content-type", "") or text.lstrip()[:1] in ("{", "[")


def looks_html(headers: httpx.Headers, text: str) -> bool:
    start = text.lstrip()[:15].lower()
    return "text/html" in headers.get("content-type", "") or start.startswith(("<!doctype", "<html"))


def error_message(text: str) -> str:
    """The message an error body carries ({"error": {"message"}}, {"error": "..."}, {"message"}, {"detail"})."""
    try:
        data = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:DETAIL_CHARS] if not text.lstrip().startswith("<") else ""
    if not isinstance(data, dict):
        return ""
    err = data.get("error", data)
    if isinstance(err, str):
        return err
    if isinstance(err, dict):
        for field in ("message", "msg", "detail", "code", "type"):
            if isinstance(err.get(field), str) and err[field]:
                code = err.get("code") if field == "message" and isinstance(err.get("code"), str) else None
                return f"{err[field]} ({code})" if code and code not in err[field] else str(err[field])
    return ""


def chat_delta(event: Any) -> tuple[bool, bool]:
    """(has output text, has finish_reason) of one chat.completion.chunk."""
    if not isinstance(event, dict) or not isinstance(event.get("choices"), list):
        return False, False
    text = finish = False
    for choice in event["choices"]:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta") or {}
        if isinstance(delta, dict):
            # `reasoning` is OpenRouter's name for reasoning_content.
            text = text or any(isinstance(delta.get(k), str) and delta[k] != ""
                               for k in ("content", "reasoning_content", "reasoning"))
        finish = finish or bool(choice.get("finish_reason"))
    return text, finish


def chat_output(data: Any) -> bool:
    """A non-streamed chat.completion holds a message with content or reasoning_content."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list):
        return False
    for c in choices:
        msg = c.get("message") if isinstance(c, dict) else None
        if isinstance(msg, dict) and (msg.get("content") or msg.get("reasoning_content")):
            return True
        if isinstance(c, dict) and c.get("finish_reason"):
            return True
    return False


def responses_output(data: Any) -> bool:
    """A Responses API answer holds output items (a reasoning item counts: the model ran) or output_text."""
    if not isinstance(data, dict):
        return False
    return bool(data.get("output")) or bool(data.get("output_text"))
