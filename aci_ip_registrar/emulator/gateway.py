"""Application Gateway: PUT and DELETE as long-running operations, GET, PATCH of tags.

An operation is queued, then applying, then done (azure-wire-notes 12.2): while queued, GET still
shows the previous document as Succeeded; only while applying does it show the new body as
Updating (or Deleting). Any write (PUT, tags PATCH, DELETE) supersedes a running operation
(azure-cli#21156). Status is computed lazily from the clock when something looks (no timers).
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

from . import rbac
from .errors import ArmError, invalid_format, resource_not_found
from .faults import linked_authorization_failed
from .gateway_doc import TYPE, build, stamp
from .limits import check_tags
from .state import Operation, Resource, Store
from .wire import Request, Response, etag_matches, knob_retry_after, new_guid, paginate, weak_etag

OPERATION_NAME = "PutApplicationGatewayOperation"
DELETE_OPERATION_NAME = "DeleteApplicationGatewayOperation"
JOIN_ACTION = rbac.SUBNET_JOIN
WRITE_ACTION = "Microsoft.Network/applicationGateways/write"


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


def _timeline(store: Store, op: Operation):
    """(end of the queued phase, end of the operation) from the knobs, read when a status is computed."""
    total = store.knobs.scaled(store.knobs.op_duration)
    return op.started + total * store.knobs.queued_share, op.started + total


def due(store: Store, op: Operation) -> bool:
    return store.now() >= _timeline(store, op)[1]


def queued(store: Store, op: Operation) -> bool:
    return op.final is None and store.now() < _timeline(store, op)[0]


def settle(store: Store, res: Resource) -> Optional[Resource]:
    """Apply the in-flight operation's outcome once it is due. None if a delete removed the gateway."""
    if not res.op_id:
        return res
    op = store.ops[res.op_id]
    if op.final is None and not due(store, op):
        return res
    if op.final is None:
        _finish(op, op.outcome, op.error)
    if op.final == "Succeeded" and op.kind == "delete":
        store.resources.pop(op.key, None)
        return None
    if op.final == "Succeeded":
        stamp(res.doc, res.doc["etag"], "Succeeded")
    elif res.prev_doc is not None:
        # A failed or cancelled operation leaves the earlier configuration in place.
        res.doc = res.prev_doc
        stamp(res.doc, weak_etag(), "Failed" if op.final == "Failed" else "Succeeded")
    else:  # a create that did not complete
        stamp(res.doc, res.doc["etag"], "Failed" if op.final == "Failed" else "Canceled")
    res.op_id, res.prev_doc = None, None
    return res


def visible(store: Store, res: Resource) -> Dict[str, Any]:
    """The document a GET shows: the previous one while an operation is still queued."""
    if res.op_id and res.prev_doc is not None and queued(store, store.ops[res.op_id]):
        return res.prev_doc
    return res.doc


def in_flight(store: Store, res: Optional[Resource]) -> Optional[Operation]:
    if res is None or not res.op_id:
        return None
    if settle(store, res) is None:
        return None
    return store.ops[res.op_id] if res.op_id else None


def op_url(req: Request, sub: str, location: str, op_id: str) -> str:
    loc = location.replace(" ", "").lower()
    return (
        f"{req.base_url}/subscriptions/{sub}/providers/Microsoft.Network/locations/{loc}"
        f"/operations/{op_id}?api-version={req.api_version}"
    )


def result_url(req: Request, sub: str, location: str, op_id: str) -> str:
    return op_url(req, sub, location, op_id).replace("/operations/", "/operationResults/")


def busy_error(store: Store, req: Request, sub: str, rid: str, running: Operation, location: str,
               shape: Optional[str] = None) -> ArmError:
    """One of Azure's three answers to a write while another operation holds the gateway."""
    if shape is None:
        shape = store.busy_rng.choice(list(store.knobs.busy_shapes))
    name = DELETE_OPERATION_NAME if running.kind == "delete" else OPERATION_NAME
    if shape == "conflict":  # azure-cli#2120
        return ArmError(
            409, "AnotherOperationInProgress",
            "Another operation on this or dependent resource is in progress. To retrieve status "
            f"of the operation use uri: {op_url(req, sub, location, running.id)}.",
            details=[],
        )
    # bosh-azure-cpi#179; capitalised keys: cloud-provider-azure#792
    return ArmError(
        429, "RetryableError", "A retryable error occurred.",
        details=[{
            "code": "RetryableErrorDueToAnotherOperation",
            "message": f"Operation {OPERATION_NAME} (00000000-0000-0000-0000-000000000000) on resource "
            f"{rid} is not allowed because operation {name} ({running.id}) is in progress on the "
            "resource. Retry the request after the time specified in Retry-After header.",
        }],
        headers=knob_retry_after(store.knobs),
        capitalised=shape == "retryable_caps",
    )


# -- handlers -----------------------------------------------------------------------------------------
def _current(store: Store, route: Any) -> Optional[Resource]:
    res = store.get(route.key, "gateway")
    return settle(store, res) if res is not None else None


def _require(store: Store, route: Any) -> Resource:
    res = _current(store, route)
    if res is None:
        raise resource_not_found(TYPE, route.name, route.rg)
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
    return _ok(200, visible(store, _require(store, route)))


def _supersede(store: Store, req: Request, route: Any, res: Resource, running: Optional[Operation],
               new_id: str) -> None:
    """Reject (on_concurrent_put=reject) or cancel the running operation."""
    if running is None:
        return
    if store.knobs.on_concurrent_put == "reject":
        raise busy_error(store, req, route.sub, res.doc["id"], running, res.doc.get("location") or "")
    _finish(running, "Canceled", _superseded_error(running.id, new_id))


def _op_headers(store: Store, req: Request, route: Any, location: str, op: Operation,
                with_location: bool = False) -> Dict[str, str]:
    headers = {
        "Azure-AsyncOperation": op_url(req, route.sub, location, op.id),
        "Azure-AsyncNotification": "Enabled",
        **knob_retry_after(store.knobs),
    }
    if with_location:
        headers["Location"] = result_url(req, route.sub, location, op.id)
    return headers


def _linked_check(store: Store, req: Request, rid: str, doc: Dict[str, Any]) -> List[str]:
    """The linked permissions a gateway write needs (rbac.linked_actions). A missing join on a
    public IP or WAF policy is ARM's immediate 403 LinkedAuthorizationFailed; the subnets whose join
    is missing are returned, for NRP to fail the operation with."""
    if store.role_assignments is None:
        return []
    missing = rbac.missing_linked(store.role_assignments, doc)
    refused = [(scope, action) for scope, action in missing if action != rbac.SUBNET_JOIN]
    if refused:
        raise linked_authorization_failed(rbac.oid_of(req), WRITE_ACTION, rid, refused)
    return [scope for scope, action in missing if action == rbac.SUBNET_JOIN]


def put(store: Store, req: Request, route: Any) -> Response:
    res = _current(store, route)
    running = in_flight(store, res)
    rid = res.doc["id"] if res else route.resource_id
    _check_preconditions(store, req, res, rid)
    body = req.json_object()
    check_tags(body.get("tags"))
    doc = build(body, rid, res.doc if res else None)
    subnets_missing = _linked_check(store, req, rid, doc)
    op = Operation(id=new_guid(), key=rid.lower(), resource_id=rid, started=store.now())
    if res is not None:
        _supersede(store, req, route, res, running, op.id)
    fault = store.faults.match(req.method, req.path, operation=True)
    oid = rbac.oid_of(req)
    if fault is not None:
        op.fault = fault.kind
        if fault.kind == "op_failed_permission":
            subnet = fault.params.get("subnet") or subnet_of(doc) or subnet_of(res.doc if res else None)
            op.outcome, op.error = "Failed", _permission_error(oid, subnet or f"{rid}/subnet")
        else:
            op.outcome, op.error = "Canceled", _superseded_error(op.id, new_guid())
    elif subnets_missing:
        # NRP checks subnets/join/action on every create or update; a missing one fails the
        # operation, not the PUT (wire notes 2.6): the op_failed_permission fault's outcome.
        op.outcome, op.error = "Failed", _permission_error(oid, subnets_missing[0])
    prev = None
    if res is not None:
        prev = res.prev_doc if running is not None and res.prev_doc is not None else res.doc
    stamp(doc, weak_etag(), "Updating")
    store.ops[op.id] = op
    created = res is None
    if created:
        res = Resource("gateway", doc)
        store.resources[op.key] = res
    res.doc, res.op_id, res.prev_doc = doc, op.id, copy.deepcopy(prev) if prev else None
    headers = _op_headers(store, req, route, doc["location"], op)
    return _ok(201 if created else 200, doc, headers=headers, op_id=op.id, op_status="InProgress", fault=op.fault)


def patch(store: Store, req: Request, route: Any) -> Response:
    res = _require(store, route)
    _check_preconditions(store, req, res, res.doc["id"])
    body = req.json_object()
    tags = body.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise invalid_format("tags", "Tags must be an object of string values.")
    check_tags(tags)
    running = in_flight(store, res)
    if store.role_assignments is not None:
        written = dict(res.prev_doc if running is not None and res.prev_doc is not None else res.doc, tags=tags)
        subnets_missing = _linked_check(store, req, res.doc["id"], written)
        if subnets_missing:
            # No operation to fail: the update is refused at once (ours; Azure's answer to a tags
            # PATCH without subnets/join/action is unconfirmed).
            error = _permission_error(rbac.oid_of(req), subnets_missing[0])
            raise ArmError(403, error["code"], error["message"], details=[])
    # A tags-only PATCH supersedes a running update too (azure-cli#21156).
    _supersede(store, req, route, res, running, new_guid())
    res = settle(store, res)
    if res is None:
        raise resource_not_found(TYPE, route.name, route.rg)
    res.doc["tags"] = dict(tags)
    stamp(res.doc, weak_etag(), res.doc["properties"]["provisioningState"])
    return _ok(200, res.doc)


def delete(store: Store, req: Request, route: Any) -> Response:
    """DELETE is a long-running operation in the spec (202, polled; final state via Location)."""
    res = _current(store, route)
    if res is None:
        return Response(204, resource_id=route.key)
    _check_preconditions(store, req, res, res.doc["id"])
    running = in_flight(store, res)
    op = Operation(id=new_guid(), key=route.key, resource_id=res.doc["id"], started=store.now(), kind="delete")
    _supersede(store, req, route, res, running, op.id)
    prev = res.prev_doc if running is not None and res.prev_doc is not None else res.doc
    doc = copy.deepcopy(prev)
    stamp(doc, doc["etag"], "Deleting")
    store.ops[op.id] = op
    res.doc, res.op_id, res.prev_doc = doc, op.id, copy.deepcopy(prev)
    headers = _op_headers(store, req, route, doc.get("location") or "", op, with_location=True)
    return Response(202, None, headers, resource_id=route.key, op_id=op.id, op_status="InProgress")


def list_(store: Store, req: Request, route: Any) -> Response:
    prefix = f"/subscriptions/{route.sub}/" + (f"resourceGroups/{route.rg}/" if route.rg else "")
    items = []
    for res in store.of_kind("gateway", prefix):
        res = settle(store, res)
        if res is not None:
            items.append(visible(store, res))
    return Response(200, paginate(req, items, store.knobs.page_size))


def finish_due(store: Store, op: Operation) -> None:
    """Settle the operation's gateway (if it still runs it) and mark the operation final when due."""
    res = store.get(op.key, "gateway")
    if res is not None and res.op_id == op.id:
        settle(store, res)
    if op.final is None and due(store, op):
        _finish(op, op.outcome, op.error)
