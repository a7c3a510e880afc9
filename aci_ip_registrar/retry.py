"""The one retry policy: re-run a whole read-plan-write cycle on a Retryable error.

Exponential backoff with jitter, the service's Retry-After honoured (capped), one overall time
budget, and a log line before each sleep naming the target and the Azure error code.
"""
from __future__ import annotations

import logging
import random
import time
from typing import Callable, Optional, TypeVar

from .errors import RegistrationFailed, Retryable

log = logging.getLogger("aci_ip_registrar.retry")
T = TypeVar("T")
MAX_RETRY_AFTER = 30.0   # a throttled service can ask for an hour; the budget decides instead
MAX_ATTEMPTS = 60
MIN_ATTEMPT = 0.1        # below this much time left, another attempt cannot finish
CONTENTION_CAP = 30.0    # the widest window contended writers spread over, seconds
_CONTENTION = {"readbackmismatch", "canceled", "canceledandsupersededduetoanotheroperation",
               "anotheroperationinprogress", "retryableerror",
               "retryableerrorduetoanotheroperation", "updating", "preconditionfailed"}


def contended(exc) -> bool:
    """Another writer got there first: a 412, a cancelled or superseded operation, a busy
    gateway, or a read-back that lost our change."""
    return getattr(exc, "status", None) == 412 or \
        str(getattr(exc, "code", "") or "").lower() in _CONTENTION


class Budget:
    """The --timeout budget shared by every call of one run."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def call_kwargs(self) -> dict:
        # Per-request socket limits, so a hung connection cannot outlive the budget.
        left = max(0.5, self.remaining())
        return {"connection_timeout": min(left, 10.0), "read_timeout": left}


class _Policy:
    def __init__(self, budget: Budget, what: str, rng: random.Random):
        self.budget = budget
        self.what = what
        self.rng = rng
        self.planned = {}

    def _delay(self, state) -> float:
        exc = state.outcome.exception()
        retry_after = min(getattr(exc, "retry_after", None) or 0.0, MAX_RETRY_AFTER)
        if contended(exc):
            # Writers colliding on one gateway: with If-Match ignored every collision costs a
            # neighbour's write, so spread the next attempts over a window that doubles ("full
            # jitter"); a fixed small cap lets 50 writers livelock (benchmarks/duty.py).
            window = min(CONTENTION_CAP, 0.5 * (2 ** (state.attempt_number - 1)))
            return max(retry_after, self.rng.uniform(0, window))
        backoff = min(5.0, 0.25 * (2 ** (state.attempt_number - 1)))
        delay = backoff * (0.5 + self.rng.random() / 2)
        if retry_after:
            delay = retry_after + self.rng.random() * 0.1 * retry_after
        return delay

    def _planned(self, state) -> float:
        # tenacity asks for the wait and the stop decision in an order that changed between
        # releases; compute once per attempt so both see the same delay. A backoff longer than
        # the time left is cut to fit: the last attempt uses what remains, never more.
        if state.attempt_number not in self.planned:
            room = max(0.0, self.budget.remaining() - MIN_ATTEMPT)
            self.planned[state.attempt_number] = min(self._delay(state), room)
        return self.planned[state.attempt_number]

    def stop(self, state) -> bool:
        self._planned(state)
        return state.attempt_number >= MAX_ATTEMPTS or self.budget.remaining() <= MIN_ATTEMPT

    def wait(self, state) -> float:
        return self._planned(state)

    def before_sleep(self, state) -> None:
        exc = state.outcome.exception()
        log.warning("retrying target=%r code=%s attempt=%d sleep=%.2fs reason=%s", self.what,
                    getattr(exc, "code", None) or getattr(exc, "status", None) or "-",
                    state.attempt_number, state.next_action.sleep if state.next_action else 0,
                    getattr(exc, "message", str(exc)))


def with_retries(fn: Callable[[int], T], *, what: str, budget: Budget,
                 rng: Optional[random.Random] = None) -> T:
    """Call fn(attempt) until it returns. fn must re-read and re-plan on every attempt."""
    try:
        return fn(1)
    except Retryable as exc:
        first = exc
    # Only a retry pays for tenacity (it imports asyncio); its attempt 1 replays the failure.
    from tenacity import Retrying, retry_if_exception_type
    policy = _Policy(budget, what, rng or random.Random())
    retrying = Retrying(retry=retry_if_exception_type(Retryable), stop=policy.stop,
                        wait=policy.wait, before_sleep=policy.before_sleep, reraise=True)
    attempt = 0
    try:
        for attempt_state in retrying:
            with attempt_state:
                attempt += 1
                if attempt == 1:
                    raise first
                return fn(attempt)
    except Retryable as exc:
        elapsed = budget.timeout - budget.remaining()
        raise RegistrationFailed(
            f"{what}: gave up after {attempt} attempt(s) in {elapsed:.1f}s of the "
            f"{budget.timeout:g}s budget; pending: {what}; last error: {exc.message}",
            target=exc.target, status=exc.status, code=exc.code) from None
    raise AssertionError("unreachable")  # pragma: no cover
