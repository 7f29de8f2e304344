"""How fast verify may ask a gateway: adaptive concurrency under a ceiling, and the waits the gateway asks for.

A gateway that rate-limits answers 429 (or 503) with `Retry-After`, or says ahead with `x-ratelimit-*` headers
how many requests are left until when. One `Pacer` is shared by every request of a run: a wait the gateway asks
for pauses every request, not only the one that was refused, and the number in flight follows AIMD (start
small, grow while answers come, halve on a 429 or a timeout), never above the ceiling the user gave.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Literal

# Requests in flight at the start: small enough for a strict gateway, big enough to reach the ceiling fast.
START = 4
# The longest single wait honoured: a gateway asking for more is out of quota for now, not pacing requests.
MAX_WAIT = 60.0
# Attempts per request (the first and its retries) before a 429 becomes the model's verdict.
MAX_RETRIES = 5
# A 429 that says nothing about when to come back: wait this long, doubled each retry of that request, and
# fewer retries (1 + 2 + 4 s): a gateway that names no wait is as likely out of quota as busy.
FALLBACK_WAIT = 1.0
MAX_UNTOLD_RETRIES = 3

Signal = Literal["ok", "slow", "throttled"]


class Pacer:
    """The concurrency window and the pause every request of one run honours (one asyncio loop)."""

    def __init__(self, ceiling: int, *, probes: int, start: int = START,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ceiling = ceiling
        self.window = float(min(start, ceiling))
        self.threshold = float(ceiling)  # below it the window grows by one per answer (slow start)
        self.clock = clock
        self.in_flight = 0
        self.resume_at = 0.0
        self.retries = 0  # requests sent again after a 429 or 503
        self.waited = 0.0  # seconds the run was paused by the gateway
        self.expect(probes)
        self._cut_at = -math.inf
        self._changed = asyncio.Event()

    def expect(self, probes: int) -> None:
        """The whole run's bounds: about one retry per probe, and a pause the gateway's own rate explains."""
        self.retry_budget = max(20, probes)
        self.wait_budget = max(120.0, 2.0 * probes)

    async def acquire(self) -> float:
        """Wait for a free place in the window and for any pause to end; the request's start time."""
        while True:
            wait = self.resume_at - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            if self.in_flight < max(1, int(self.window)):
                self.in_flight += 1
                return self.clock()
            self._changed.clear()
            await self._changed.wait()

    def release(self, started: float, signal: Signal) -> None:
        """A request ended: grow the window on an answer, halve it (once per round) on a 429 or a timeout."""
        self.in_flight -= 1
        if signal == "ok":
            self.window = min(float(self.ceiling),
                              self.window + (1.0 if self.window < self.threshold else 1.0 / self.window))
        elif started >= self._cut_at:
            # Requests sent before the last cut saw the old window: their 429s do not cut it again.
            self.threshold = max(1.0, self.window / 2)
            self.window = self.threshold
            self._cut_at = self.clock()
        self._changed.set()

    def pause(self, seconds: float) -> None:
        """No request starts for `seconds` from now (a longer pause already set stays)."""
        until = self.clock() + seconds
        if until > self.resume_at:
            self.waited += until - max(self.resume_at, self.clock())
            self.resume_at = until

    def may_retry(self, attempt: int, wait: float, told: bool = True) -> bool:
        """Whether a refused request is sent again after `wait` seconds: within its own and the run's bounds."""
        return (attempt < (MAX_RETRIES if told else MAX_UNTOLD_RETRIES) and wait <= MAX_WAIT
                and self.retries < self.retry_budget
                and self.waited + wait <= self.wait_budget)

    def waiting(self) -> float:
        """Seconds until requests may start again (0 when not paused)."""
        return max(0.0, self.resume_at - self.clock())


def exhausted_delay(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """After an answer: the wait until the key's request quota refills when the headers say none is left."""
    for remaining_name, reset_name in _QUOTA_HEADERS:
        remaining = headers.get(remaining_name)
        if remaining is None:
            continue
        try:
            left = float(remaining.strip())
        except ValueError:
            continue
        if left > 0:
            return None
        reset = headers.get(reset_name)
        return _reset_seconds(reset, now) if reset is not None else None
    return None


_QUOTA_HEADERS = (("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"),
                  ("x-ratelimit-remaining", "x-ratelimit-reset"),
                  ("ratelimit-remaining", "ratelimit-reset"))
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def told_delay(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait the gateway asks for in its headers, if it names one (Retry-After, retry-after-ms, x-ratelimit)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms.strip()) / 1000)
        except ValueError:
            pass
    after = headers.get("retry-after")
    if after is not None:
        seconds = _retry_after(after, now)
        if seconds is not None:
            return seconds
    for _remaining, reset_name in _QUOTA_HEADERS:
        reset = headers.get(reset_name)
        if reset is not None:
            seconds = _reset_seconds(reset, now)
            if seconds is not None:
                return seconds
    return None


def _retry_after(value: str, now: float | None) -> float | None:
    """Retry-After: delta-seconds, or an HTTP date."""
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _reset_seconds(value: str, now: float | None) -> float | None:
    """x-ratelimit-reset: `20ms`, `1s`, `6m0s` (OpenAI), plain seconds, or a Unix time (GitHub and others)."""
    value = value.strip().lower()
    try:
        number = float(value)
    except ValueError:
        parts = _DURATION.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            return None
        unit = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
        return sum(float(n) * unit[u] for n, u in parts)
    if number > 1e9:  # a Unix time, not a delay
        return max(0.0, number - (time.time() if now is None else now))
    return max(0.0, number)
