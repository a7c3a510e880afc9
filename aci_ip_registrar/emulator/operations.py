"""Operation status (Azure-AsyncOperation) and operation result (Location) polls, for every LRO."""

from __future__ import annotations

from typing import Any, Dict

from . import aci, gateway
from .errors import ArmError
from .state import Operation, Store
from .wire import Request, Response, knob_retry_after


def _find(store: Store, route: Any) -> Operation:
    op = store.ops.get(route.op_id) or store.ops.get(route.op_id.lower())
    if op is None or not op.resource_id.lower().startswith(f"/subscriptions/{route.sub}/".lower()):
        raise ArmError(404, "OperationNotFound", f"The operation '{route.op_id}' could not be found.")
    if op.kind in ("start", "restart"):
        aci.finish_due(store, op)
    else:
        gateway.finish_due(store, op)
    return op


def poll(store: Store, req: Request, route: Any) -> Response:
    """{"status": InProgress|Succeeded|Failed|Canceled[, "error"]}; Retry-After while in progress."""
    op = _find(store, route)
    status = op.final or "InProgress"
    body: Dict[str, Any] = {"status": status}
    headers: Dict[str, str] = {}
    if op.final_error and status != "Succeeded":
        body["error"] = op.final_error
    if op.final is None:
        headers = knob_retry_after(store.knobs)
    return Response(
        200, body, headers, resource_id=op.key, op_id=op.id, op_status=status,
        error_code=(op.final_error or {}).get("code") if status != "Succeeded" else None,
    )


def result(store: Store, req: Request, route: Any) -> Response:
    """The Location poll: 202 while the operation runs, then 204 (ARM's LocationPolling contract)."""
    op = _find(store, route)
    if op.final is None:
        return Response(202, None, {"Location": f"{req.base_url}{req.path}?api-version={req.api_version}",
                                    **knob_retry_after(store.knobs)},
                        resource_id=op.key, op_id=op.id, op_status="InProgress")
    if op.final != "Succeeded":
        error = op.final_error or {"code": op.final, "message": f"The operation ended {op.final}."}
        raise ArmError(409 if op.final == "Canceled" else 400, error.get("code", op.final),
                       error.get("message", ""), details=error.get("details"))
    return Response(204, None, resource_id=op.key, op_id=op.id, op_status=op.final)
