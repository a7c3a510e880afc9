"""In-memory ARM state: subscriptions, resources, gateway operations and the knobs."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .faults import FaultTable
from .tokens import DEFAULT_TENANT_ID

DEFAULT_SUBSCRIPTION_ID = "5f0c2a6e-3d1b-4c8e-9a7f-2b4d6e8f0a1c"
CONCURRENT_PUT_MODES = ("supersede", "reject")
# The three answers Azure gives a write while another operation holds the resource
# (azure-wire-notes 12.2): 429 RetryableError/RetryableErrorDueToAnotherOperation
# (bosh-azure-cpi#179), the same with capitalised keys (cloud-provider-azure#792), and an
# immediate 409 AnotherOperationInProgress (azure-cli#2120).
BUSY_SHAPES = ("retryable", "retryable_caps", "conflict")
IDENTITY_FORMS = ("imds", "appservice")


@dataclass
class Resource:
    kind: str  # gateway | pzone | precord | zone | record | cgroup
    doc: Dict[str, Any]
    op_id: Optional[str] = None  # gateway: the operation in flight
    prev_doc: Optional[Dict[str, Any]] = None  # gateway: body before that operation
    last_ip: Optional[str] = None  # container group: the address it held before a stop


@dataclass
class Operation:
    """One App Gateway PUT. Its status is computed lazily from the clock (no timer threads)."""

    id: str
    key: str  # lower-cased resource id
    resource_id: str
    started: float
    kind: str = "put"  # put | delete (gateway); start | restart (container group)
    new_ip: Optional[str] = None  # container group start/restart: the address it comes back with
    outcome: str = "Succeeded"  # what it ends as when due: Succeeded | Failed | Canceled
    error: Optional[Dict[str, Any]] = None  # error body for a Failed/Canceled outcome
    final: Optional[str] = None  # set once terminal
    final_error: Optional[Dict[str, Any]] = None
    fault: Optional[str] = None


@dataclass
class Knobs:
    """Defaults are Azure's, unkind ones included (docs/emulator.md, "Knobs")."""

    # A v2 gateway update takes 45-90 s (azure-cli#32961).
    op_duration: float = 60.0
    # Share of an operation spent queued before it applies; GET shows Updating only while
    # applying (azure-wire-notes 12.2).
    queued_share: float = 0.5
    retry_after: float = 10.0
    # Multiplies op_duration, aci_op_duration and retry_after (tests run Azure's timeline fast).
    time_scale: float = 1.0
    # If-Match on gateway PUT is not in the spec and not proven enforced (azure-cli#28615).
    enforce_if_match: bool = False
    on_concurrent_put: str = "supersede"
    busy_shapes: Tuple[str, ...] = BUSY_SHAPES
    busy_seed: Optional[int] = None
    page_size: int = 100
    # The spec types Retry-After as int32 seconds.
    integer_retry_after: bool = True
    aci_op_duration: float = 20.0
    identity_form: str = "imds"
    log_bodies: bool = False

    def update(self, **values: Any) -> None:
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise TypeError(f"unknown knob {name!r}; known: {sorted(self.__dataclass_fields__)}")
            if name == "on_concurrent_put" and value not in CONCURRENT_PUT_MODES:
                raise ValueError(f"on_concurrent_put must be one of {CONCURRENT_PUT_MODES}")
            if name == "identity_form" and value not in IDENTITY_FORMS:
                raise ValueError(f"identity_form must be one of {IDENTITY_FORMS}")
            if name in ("op_duration", "retry_after", "time_scale", "aci_op_duration", "queued_share"):
                value = float(value)
                if value < 0:
                    raise ValueError(f"{name} must not be negative")
                if name == "queued_share" and value > 1:
                    raise ValueError("queued_share must be between 0 and 1")
            if name == "page_size":
                value = int(value)
                if value < 1:
                    raise ValueError("page_size must be at least 1")
            if name == "busy_shapes":
                value = tuple([value] if isinstance(value, str) else value)
                if not value or any(v not in BUSY_SHAPES for v in value):
                    raise ValueError(f"busy_shapes must be a non-empty subset of {BUSY_SHAPES}")
            if name == "busy_seed" and value is not None:
                value = int(value)
            if name in ("enforce_if_match", "integer_retry_after", "log_bodies"):
                value = bool(value)
            setattr(self, name, value)

    def scaled(self, seconds: float) -> float:
        return seconds * self.time_scale


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
        self.busy_rng = random.Random()
        self.hooks: List[Any] = []  # called with each ARM request's log entry before it is handled
        # The caller's role assignments (rbac.py); None: RBAC off, everything allowed.
        self.role_assignments: Optional[List[Dict[str, Any]]] = None
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
