"""In-memory ARM state: subscriptions, resources, gateway operations and the knobs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional

from .faults import FaultTable
from .tokens import DEFAULT_TENANT_ID

DEFAULT_SUBSCRIPTION_ID = "5f0c2a6e-3d1b-4c8e-9a7f-2b4d6e8f0a1c"
CONCURRENT_PUT_MODES = ("supersede", "reject")


@dataclass
class Resource:
    kind: str  # gateway | pzone | precord | zone | record | cgroup
    doc: Dict[str, Any]
    op_id: Optional[str] = None  # gateway: the operation in flight
    prev_doc: Optional[Dict[str, Any]] = None  # gateway: body before that operation


@dataclass
class Operation:
    """One App Gateway PUT. Its status is computed lazily from the clock (no timer threads)."""

    id: str
    key: str  # lower-cased gateway id
    resource_id: str
    started: float
    outcome: str = "Succeeded"  # what it ends as when due: Succeeded | Failed | Canceled
    error: Optional[Dict[str, Any]] = None  # error body for a Failed/Canceled outcome
    final: Optional[str] = None  # set once terminal
    final_error: Optional[Dict[str, Any]] = None
    fault: Optional[str] = None


@dataclass
class Knobs:
    op_duration: float = 0.0
    retry_after: float = 1.0
    enforce_if_match: bool = True
    on_concurrent_put: str = "supersede"
    page_size: int = 100
    integer_retry_after: bool = False

    def update(self, **values: Any) -> None:
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise TypeError(f"unknown knob {name!r}; known: {sorted(self.__dataclass_fields__)}")
            if name == "on_concurrent_put" and value not in CONCURRENT_PUT_MODES:
                raise ValueError(f"on_concurrent_put must be one of {CONCURRENT_PUT_MODES}")
            if name in ("op_duration", "retry_after"):
                value = float(value)
                if value < 0:
                    raise ValueError(f"{name} must not be negative")
            if name == "page_size":
                value = int(value)
                if value < 1:
                    raise ValueError("page_size must be at least 1")
            if name in ("enforce_if_match", "integer_retry_after"):
                value = bool(value)
            setattr(self, name, value)


class Store:
    """All mutable state. Every access holds `lock`; handlers run entirely under it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.knobs = Knobs()
        self.faults = FaultTable()
        self.subscriptions: Dict[str, Dict[str, Any]] = {}
        self._placeholder_subscription = True
        self.resources: Dict[str, Resource] = {}
        self.ops: Dict[str, Operation] = {}
        self.remaining: Dict[str, Dict[str, int]] = {}
        self.add_subscription(DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID, "Emulated subscription")
        self._placeholder_subscription = True

    # -- subscriptions ---------------------------------------------------------------------
    def add_subscription(self, sub_id: str, tenant_id: Optional[str] = None, name: Optional[str] = None) -> None:
        with self.lock:
            if self._placeholder_subscription:
                # The built-in default only stands in until a real one is seeded.
                self.subscriptions.clear()
                self._placeholder_subscription = False
            current = self.subscriptions.get(sub_id.lower(), {})
            self.subscriptions[sub_id.lower()] = {
                "subscriptionId": sub_id,
                "tenantId": tenant_id or current.get("tenantId") or self.tenant_id(),
                "displayName": name or current.get("displayName") or f"Subscription {sub_id[:8]}",
            }

    def ensure_subscription(self, sub_id: str) -> None:
        """Seeding a resource registers its subscription (and retires the placeholder)."""
        if self._placeholder_subscription or sub_id.lower() not in self.subscriptions:
            self.add_subscription(sub_id)

    def tenant_id(self) -> str:
        for sub in self.subscriptions.values():
            return sub["tenantId"]
        return DEFAULT_TENANT_ID

    def first_subscription(self) -> str:
        for sub in self.subscriptions.values():
            return sub["subscriptionId"]
        return DEFAULT_SUBSCRIPTION_ID

    # -- resources -------------------------------------------------------------------------
    def get(self, key: Optional[str], kind: Optional[str] = None) -> Optional[Resource]:
        if key is None:
            return None
        res = self.resources.get(key)
        if res is None or (kind is not None and res.kind != kind):
            return None
        return res

    def of_kind(self, kind: str, prefix: str = "") -> Iterator[Resource]:
        prefix = prefix.lower()
        for key, res in list(self.resources.items()):
            if res.kind == kind and key.startswith(prefix):
                yield res

    def children(self, parent_key: str, kind: str) -> List[Resource]:
        return list(self.of_kind(kind, parent_key + "/"))

    # -- rate-limit headers ------------------------------------------------------------------
    def count_down(self, sub_id: str, bucket: str) -> int:
        """x-ms-ratelimit-remaining-subscription-{reads,writes}: a decrementing counter."""
        start = {"reads": 12000, "writes": 1200}[bucket]
        counters = self.remaining.setdefault(sub_id.lower(), {})
        counters[bucket] = max(0, counters.get(bucket, start) - 1)
        return counters[bucket]

    @staticmethod
    def now() -> float:
        return time.monotonic()
