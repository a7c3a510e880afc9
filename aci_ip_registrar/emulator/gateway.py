"""Application Gateway: whole-gateway PUT as a long-running operation, GET, PATCH of tags, DELETE.

Operation status is computed lazily from the clock when something looks (no timer threads).
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Optional

from .errors import ArmError, invalid_format, resource_not_found
from .gateway_doc import TYPE, build, stamp
from .state import Operation, Resource, Store
from .wire import Request, Response, etag_matches, new_guid, paginate, retry_after_headers, weak_etag

OPERATION_NAME = "PutApplicationGatewayOperation"
JOIN_ACTION = "Microsoft.Network/virtualNetworks/subnets/join/action"


def seed(store: Store, body: Dict[str, Any], gw_id: str, *, out_of_band: bool) -> None:
    key = gw_id.lower()
    doc = build(body, gw_id, body, seeding=True)
    etag = body.get("etag") if not out_of_band and isinstance(body.get("etag"), str) else weak_etag()
    state = (body.get("properties") or {}).get("provisioningState") or "Succeeded"
    stamp(doc, etag, "Succeeded" if out_of_band else state)
    res = store.resources.get(key)
    if res is not None and res.op_id:
        op = store.ops[res.op_id]
        if op.final is None:
            # An out-of-band write is another writer's PUT: it supersedes what is in flight.
            _finish(op, "Canceled", _superseded_error(op.id, new_guid()))
    store.resources[key] = Resource("gateway", doc)


# -- operations -------------------------------------------------------------------------------------
def _finish(op: Operation, status: str, error: Optional[Dict[str, Any]]) -> None:
    op.final, op.final_error = status, error


def _superseded_error(old_id: str, new_id: str) -> Dict[str, Any]:
    return {
        "code": "Canceled",
        "message": "Operation was canceled.",
        "details": [
            {
                "code": "CanceledAndSupersededDueToAnotherOperation",
                "message": f"Operation {OPERATION_NAME} ({old_id}) was canceled and superseded "
                f"by operation {OPERATION_NAME} ({new_id}).",
            }
        ],
    }


def _permission_error(oid: str, subnet_id: str) -> Dict[str, Any]:
    return {
        "code": "ApplicationGatewayInsufficientPermissionOnSubnet",
        "message": f"Client with object id {oid} does not have permission on the Virtual Network "
        f"resource {subnet_id} to perform action {JOIN_ACTION}. "
        "For details and steps to resolve please visit https://aka.ms/agsubnetjoin",
        "details": [],
    }


def subnet_of(doc: Optional[Dict[str, Any]]) -> Optional[str]:
    for ipc in ((doc or {}).get("properties") or {}).get("gatewayIPConfigurations") or []:
        subnet = ((ipc.get("properties") or {}).get("subnet") or {}).get("id")
        if subnet:
            return subnet
    return None


def due(store: Store, op: Operation) -> bool:
    return store.now() - op.started >= store.knobs.op_duration


def settle(store: Store, res: Resource) -> None:
    """Apply the in-flight operation's outcome once op_duration has passed (read lazily)."""
    if not res.op_id:
        return
    op = store.ops[res.op_id]
    if op.final is None and not due(store, op):
        return
    if op.final is None:
        _finish(op, op.outcome, op.error)
    if op.final == "Succeeded":
        stamp(res.doc, res.doc["etag"], "Succeeded")
    elif res.prev_doc is not None:
        # A failed or cancelled update leaves the earlier configuration in place.
        res.doc = res.prev_doc
        stamp(res.doc, weak_etag(), "Failed" if op.final == "Failed" else "Succeeded")
    else:  # a create that did not complete
        stamp(res.doc, res.doc["etag"], "Failed" if op.final == "Failed" else "Canceled")
    res.op_id, res.prev_doc = None, None


def in_flight(store: Store, res: Optional[Resource]) -> Optional[Operation]:
    if res is None or not res.op_id:
        return None
    settle(store, res)
    return store.ops[res.op_id] if res.op_id else None


def op_url(req: Request, sub: str, location: str, op_id: str) -> str:
    loc = location.replace(" ", "").lower()
    return (
        f"{req.base_url}/subscriptions/{sub}/providers/Microsoft.Network/locations/{loc}"
        f"/operations/{op_id}?api-version={req.api_version}"
    )


def busy_error(store: Store, rid: str, running: Operation) -> ArmError:
    return ArmError(
        429,
        "RetryableErrorDueToAnotherOperation",
        f"Operation {OPERATION_NAME} on resource {rid} cannot run while operation "
        f"{OPERATION_NAME} ({running.id}) is in progress on this resource. "
        "Retry the request after the time in Retry-After.",
        headers=retry_after_headers(store.knobs.retry_after, store.knobs.integer_retry_after),
    )


# -- handlers -----------------------------------------------------------------------------------------
def _require(store: Store, route: Any) -> Resource:
    res = store.get(route.key, "gateway")
    if res is None:
        raise resource_not_found(TYPE, route.name, route.rg)
    settle(store, res)
    return res


def _check_preconditions(store: Store, req: Request, res: Optional[Resource], rid: str) -> None:
    if not store.knobs.enforce_if_match:
        return
    current = res.doc["etag"] if res else None
    if_match, if_none = req.header("If-Match"), req.header("If-None-Match")
    if if_match is not None and not etag_matches(if_match, current):
        found = f"etag {current}" if current else "no etag (the resource does not exist)"
        raise ArmError(
            412, "PreconditionFailed", "Precondition failed.",
            details=[{
                "code": "PreconditionFailedEtagMismatch",
                "message": f"Etag provided in if-match header {if_match} does not match {found} "
                f"of resource {rid} in NRP data store.",
            }],
        )
    if if_none is not None and current is not None and etag_matches(if_none, current):
        raise ArmError(
            412, "PreconditionFailed", "Precondition failed.",
            details=[{
                "code": "PreconditionFailedEtagMatch",
                "message": f"Etag provided in if-none-match header {if_none} matches etag "
                f"{current} of resource {rid} in NRP data store.",
            }],
        )


def _ok(status: int, doc: Dict[str, Any], **extra: Any) -> Response:
    headers = extra.pop("headers", {})
    headers["ETag"] = doc["etag"]
    return Response(status, doc, headers, resource_id=doc["id"].lower(), etag=doc["etag"], **extra)


def get(store: Store, req: Request, route: Any) -> Response:
    return _ok(200, _require(store, route).doc)


def put(store: Store, req: Request, route: Any) -> Response:
    res = store.get(route.key, "gateway")
    running = in_flight(store, res)
    rid = res.doc["id"] if res else route.resource_id
    _check_preconditions(store, req, res, rid)
    body = req.json_object()
    doc = build(body, rid, res.doc if res else None)
    if running is not None and store.knobs.on_concurrent_put == "reject":
        raise busy_error(store, rid, running)
    op = Operation(id=new_guid(), key=rid.lower(), resource_id=rid, started=store.now())
    fault = store.faults.match(req.method, req.path, operation=True)
    if fault is not None:
        op.fault = fault.kind
        if fault.kind == "op_failed_permission":
            subnet = fault.params.get("subnet") or subnet_of(doc) or subnet_of(res.doc if res else None)
            oid = (req.bearer_claims or {}).get("oid") or "00000000-0000-0000-0000-000000000000"
            op.outcome, op.error = "Failed", _permission_error(oid, subnet or f"{rid}/subnet")
        else:
            op.outcome, op.error = "Canceled", _superseded_error(op.id, new_guid())
    prev = None
    if res is not None:
        prev = res.prev_doc if running is not None and res.prev_doc is not None else res.doc
        if running is not None:
            _finish(running, "Canceled", _superseded_error(running.id, op.id))
    stamp(doc, weak_etag(), "Updating")
    store.ops[op.id] = op
    created = res is None
    if created:
        res = Resource("gateway", doc)
        store.resources[op.key] = res
    res.doc, res.op_id, res.prev_doc = doc, op.id, copy.deepcopy(prev) if prev else None
    headers = {
        "Azure-AsyncOperation": op_url(req, route.sub, doc["location"], op.id),
        "Azure-AsyncNotification": "Enabled",
        **retry_after_headers(store.knobs.retry_after, store.knobs.integer_retry_after),
    }
    return _ok(201 if created else 200, doc, headers=headers, op_id=op.id, op_status="InProgress", fault=op.fault)


def patch(store: Store, req: Request, route: Any) -> Response:
    res = _require(store, route)
    _check_preconditions(store, req, res, res.doc["id"])
    body = req.json_object()
    tags = body.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise invalid_format("tags", "Tags must be an object of string values.")
    running = in_flight(store, res)
    if running is not None and store.knobs.on_concurrent_put == "reject":
        raise busy_error(store, res.doc["id"], running)
    res.doc["tags"] = dict(tags)
    stamp(res.doc, weak_etag(), res.doc["properties"]["provisioningState"])
    return _ok(200, res.doc)


def delete(store: Store, req: Request, route: Any) -> Response:
    res = store.get(route.key, "gateway")
    if res is None:
        return Response(204)
    _check_preconditions(store, req, res, res.doc["id"])
    running = in_flight(store, res)
    if running is not None:
        _finish(running, "Canceled", {"code": "Canceled", "message": "Operation was canceled."})
    del store.resources[route.key]
    return Response(200, resource_id=route.key)


def list_(store: Store, req: Request, route: Any) -> Response:
    prefix = f"/subscriptions/{route.sub}/" + (f"resourceGroups/{route.rg}/" if route.rg else "")
    items = []
    for res in store.of_kind("gateway", prefix):
        settle(store, res)
        items.append(res.doc)
    return Response(200, paginate(req, items, store.knobs.page_size))


def poll(store: Store, req: Request, route: Any) -> Response:
    op = store.ops.get(route.op_id) or store.ops.get(route.op_id.lower())
    if op is None or not op.resource_id.lower().startswith(f"/subscriptions/{route.sub}/".lower()):
        raise ArmError(404, "OperationNotFound", f"The operation '{route.op_id}' could not be found.")
    res = store.get(op.key, "gateway")
    if res is not None and res.op_id == op.id:
        settle(store, res)
    if op.final is None and due(store, op):
        _finish(op, op.outcome, op.error)
    status = op.final or "InProgress"
    body: Dict[str, Any] = {"status": status}
    headers: Dict[str, str] = {}
    if op.final_error and status != "Succeeded":
        body["error"] = op.final_error
    if op.final is None:
        headers = retry_after_headers(store.knobs.retry_after, store.knobs.integer_retry_after)
    return Response(
        200, body, headers, resource_id=op.key, op_id=op.id, op_status=status,
        error_code=(op.final_error or {}).get("code") if status != "Succeeded" else None,
    )
