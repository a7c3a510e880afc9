"""The request log and its counts by kind."""

from __future__ import annotations

import collections
import copy
import threading
import time
from typing import Any, Callable, Dict, List, Optional

KINDS = ("read", "write", "poll", "token", "other")
_COUNT_KEY = {"read": "reads", "write": "writes", "poll": "polls", "token": "tokens", "other": "other"}

FIELDS = (
    "time", "method", "path", "query", "status", "kind", "resource_id", "if_match",
    "if_none_match", "etag_at_arrival", "etag", "fault", "error_code", "op_id", "op_status",
    "client_request_id", "user_agent",
)
# Only with the log_bodies knob: request_body, response_body, response_headers (never for tokens).


class RequestLog:
    """Thread-safe; bounded so a long-running `emulator` command cannot grow without limit."""

    def __init__(self, maxlen: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._entries: "collections.deque[Dict[str, Any]]" = collections.deque(maxlen=maxlen)
        self._counts = self._zero()
        self.listeners: List[Callable[[Dict[str, Any]], None]] = []

    @staticmethod
    def _zero() -> Dict[str, int]:
        counts = {key: 0 for key in _COUNT_KEY.values()}
        counts.update(faults=0, total=0)
        return counts

    def add(self, entry: Dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)
            self._counts[_COUNT_KEY.get(entry.get("kind") or "other", "other")] += 1
            self._counts["total"] += 1
            if entry.get("fault"):
                self._counts["faults"] += 1
            self._cond.notify_all()
        for listener in list(self.listeners):
            listener(entry)

    def entries(self, since: Optional[float] = None) -> List[Dict[str, Any]]:
        with self._lock:
            items = [e for e in self._entries if since is None or e["time"] >= since]
            return copy.deepcopy(items)

    def wait_for(self, predicate: Callable[[Dict[str, Any]], bool], timeout: float) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = 0
            while True:
                items = list(self._entries)
                for entry in items[seen:]:
                    if predicate(entry):
                        return copy.deepcopy(entry)
                seen = len(items)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no request in the emulator's log matched within the timeout")
                self._cond.wait(left)

    def counts(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts = self._zero()
