"""Scriptable faults: which requests they hit, and the error each kind answers with."""

from __future__ import annotations

import itertools
import random
import re
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from .errors import ArmError, parent_not_found, resource_not_found
from .wire import retry_after_headers

# Answered at request arrival, before routing.
REQUEST_KINDS = frozenset(
    {
        "throttle", "another_operation", "busy", "conflict", "server_error", "unavailable", "drop",
        "delay", "forbidden", "linked_forbidden", "not_found", "parent_not_found",
    }
)
# Applied when an App Gateway PUT starts its long-running operation.
OPERATION_KINDS = frozenset({"op_failed_permission", "op_canceled"})
KINDS = REQUEST_KINDS | OPERATION_KINDS

JOIN_ACTION = "Microsoft.Network/virtualNetworks/subnets/join/action"


@dataclass
class Fault:
    id: int
    kind: str
    method: Optional[str]
    path: Optional["re.Pattern[str]"]
    remaining: Optional[int]
    probability: Optional[float]
    rng: Optional[random.Random]
    params: Dict[str, Any]
    applied: int = 0

    def describe(self) -> Dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "method": self.method,
            "path": self.path.pattern if self.path else None, "remaining": self.remaining,
            "probability": self.probability, "params": dict(self.params), "applied": self.applied,
        }


@dataclass
class FaultContext:
    """What a fault's error message needs to name."""

    method: str
    path: str
    base_url: str
    api_version: str
    oid: str
    resource_id: Optional[str] = None
    resource_type: Optional[str] = None  # e.g. Microsoft.Network/applicationGateways
    name: Optional[str] = None
    resource_group: Optional[str] = None
    parent_name: Optional[str] = None
    action: Optional[str] = None
    op_url: Optional[str] = None
    subnet_id: Optional[str] = None
    retry_after: float = 1.0
    integer_retry_after: bool = True
    busy_shape: str = "retryable"  # drawn from the busy_shapes knob for a `busy` fault


class FaultTable:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: List[Fault] = []
        self._ids = itertools.count(1)

    def add(
        self,
        kind: str,
        *,
        method: Optional[str] = None,
        path: Optional[str] = None,
        count: Optional[int] = None,
        probability: Optional[float] = None,
        seed: Optional[int] = None,
        **params: Any,
    ) -> int:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if kind == "delay" and "delay" not in params:
            raise ValueError("a 'delay' fault needs delay=<seconds>")
        pattern = re.compile(path, re.IGNORECASE) if path is not None else None
        with self._lock:
            fault = Fault(
                id=next(self._ids), kind=kind, method=method.upper() if method else None,
                path=pattern, remaining=count, probability=probability,
                rng=random.Random(seed) if probability is not None else None, params=params,
            )
            self._faults.append(fault)
            return fault.id

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def match(self, method: str, path: str, *, operation: bool = False, token: bool = False) -> Optional[Fault]:
        """The first fault that applies to this request; consumes one of its count."""
        with self._lock:
            for fault in self._faults:
                if (fault.kind in OPERATION_KINDS) != operation:
                    continue
                if fault.method and fault.method != method.upper():
                    continue
                # The token endpoint is only hit by faults that name its path explicitly.
                if fault.path is None:
                    if token:
                        continue
                elif not fault.path.search(path):
                    continue
                if fault.rng is not None and fault.rng.random() >= (fault.probability or 0.0):
                    continue
                fault.applied += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None


def _retry(fault: Fault, ctx: FaultContext, always: bool) -> Dict[str, str]:
    if "retry_after" in fault.params:
        return retry_after_headers(float(fault.params["retry_after"]), ctx.integer_retry_after)
    if always:
        return retry_after_headers(ctx.retry_after, ctx.integer_retry_after)
    return {}


def authorization_failed(oid: str, action: str, scope: str) -> ArmError:
    """ARM's 403 for a missing direct permission (wire notes 2.6)."""
    return ArmError(
        403, "AuthorizationFailed",
        f"The client '{oid}' with object id '{oid}' does not have authorization to "
        f"perform action '{action}' over scope '{scope}' or the "
        "scope is invalid. If access was recently granted, please refresh your credentials.",
    )


def linked_authorization_failed(oid: str, action: str, scope: str, linked: List[Tuple[str, str]]) -> ArmError:
    """ARM's 403 for missing permissions on linked scopes, `linked` = [(scope, action), ...];
    several are listed comma-separated, in the same order (MicrosoftDocs/azure-docs#47571)."""
    actions = ",".join(a for _, a in linked)
    scopes = ",".join(s for s, _ in linked)
    return ArmError(
        403, "LinkedAuthorizationFailed",
        f"The client '{oid}' with object id '{oid}' has permission to perform action "
        f"'{action}' on scope '{scope}'; however, it does not have permission to perform "
        f"action(s) '{actions}' on the linked scope(s) '{scopes}' (respectively) or the "
        "linked scope(s) are invalid.",
    )


def fault_error(fault: Fault, ctx: FaultContext) -> ArmError:
    """The ARM error a request-time fault answers with (not for drop/delay)."""
    kind = fault.kind
    scope = ctx.resource_id or ctx.path
    if kind == "throttle":
        return ArmError(
            429, "TooManyRequests",
            "The request is being throttled as the limit has been reached for operation type - "
            f"{'Read' if ctx.method == 'GET' else 'Write'}_ObservationWindow_00:05:00. "
            "For more information, see - https://aka.ms/srpthrottlinglimits",
            headers=_retry(fault, ctx, True),
        )
    if kind == "busy":
        shape = fault.params.get("shape") or ctx.busy_shape
        kind = "conflict" if shape == "conflict" else "another_operation"
        fault = Fault(fault.id, kind, fault.method, fault.path, fault.remaining, fault.probability,
                      fault.rng, dict(fault.params, capitalised=shape == "retryable_caps"))
    if kind == "another_operation":
        # NRP's busy 429: RetryableError with the detail RetryableErrorDueToAnotherOperation
        # (bosh-azure-cpi#179); capitalised=True spells the keys Error/Code/Message
        # (cloud-provider-azure#792).
        return ArmError(
            429, "RetryableError", "A retryable error occurred.",
            details=[{
                "code": "RetryableErrorDueToAnotherOperation",
                "message": f"Operation on resource {scope} is not allowed because another operation "
                "is in progress on the resource. Retry the request after the time specified in "
                "Retry-After header.",
            }],
            headers=_retry(fault, ctx, True),
            capitalised=bool(fault.params.get("capitalised")),
        )
    if kind == "conflict":
        # azure-cli#2120
        return ArmError(
            409, "AnotherOperationInProgress",
            "Another operation on this or dependent resource is in progress. To retrieve status "
            f"of the operation use uri: {ctx.op_url}.",
            details=[], headers=_retry(fault, ctx, False),
        )
    if kind == "server_error":
        return ArmError(500, "InternalServerError", "An error occurred.", headers=_retry(fault, ctx, False))
    if kind == "unavailable":
        return ArmError(
            503, "ServiceUnavailable",
            "The server is currently unable to handle the request due to a temporary "
            "overloading or maintenance of the server. Please try again later.",
            headers=_retry(fault, ctx, False),
        )
    if kind == "forbidden":
        action = fault.params.get("action") or ctx.action or "*/read"
        return authorization_failed(ctx.oid, action, fault.params.get("scope") or scope)
    if kind == "linked_forbidden":
        action = fault.params.get("action") or ctx.action or "*/write"
        linked = fault.params.get("linked_scope") or ctx.subnet_id or "(unknown subnet)"
        return linked_authorization_failed(ctx.oid, action, scope, [(linked, JOIN_ACTION)])
    if kind == "not_found":
        return resource_not_found(
            ctx.resource_type or "resource", ctx.name or ctx.path.rsplit("/", 1)[-1],
            ctx.resource_group or "(none)",
        )
    if kind == "parent_not_found":
        return parent_not_found(fault.params.get("parent") or ctx.parent_name or ctx.name or "(unknown)")
    raise ValueError(f"fault kind {kind!r} has no request-time error")
