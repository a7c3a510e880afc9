"""The request pipeline: auth, faults, routing, ARM headers and the request log."""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable, Dict, List, Optional

from . import aci, dns, gateway, meta, operations, rbac, routes
from .errors import ArmError, invalid_resource_type, method_not_allowed
from .faults import Fault, FaultContext, authorization_failed, fault_error
from .reqlog import RequestLog
from .state import Store
from .tokens import claims_of, imds_token_response, token_response
from .wire import Request, Response, error_response, new_guid

logger = logging.getLogger(__name__)

Handler = Callable[[Store, Request, routes.Route], Response]
HANDLERS: Dict[tuple, Handler] = {
    ("metadata", "GET"): meta.metadata_endpoints,
    ("tenants", "GET"): meta.list_tenants,
    ("subscriptions", "GET"): meta.list_subscriptions,
    ("subscription", "GET"): meta.get_subscription,
    ("operation", "GET"): operations.poll,
    ("operation_result", "GET"): operations.result,
    ("gateway", "GET"): gateway.get,
    ("gateway", "PUT"): gateway.put,
    ("gateway", "PATCH"): gateway.patch,
    ("gateway", "DELETE"): gateway.delete,
    ("gateways", "GET"): gateway.list_,
    ("cgroup", "GET"): aci.get,
    ("cgroups", "GET"): aci.list_,
    ("cgroup_action", "POST"): aci.action,
    ("permissions", "GET"): rbac.permissions,
}
for _z, _r in (("pzone", "precord"), ("zone", "record")):
    HANDLERS.update({
        (_z, "GET"): dns.get_zone, (_z, "PUT"): dns.put_zone, (_z, "DELETE"): dns.delete_zone,
        (_z + "s", "GET"): dns.list_zones,
        (_r, "GET"): dns.get_record, (_r, "PUT"): dns.put_record, (_r, "PATCH"): dns.patch_record,
        (_r, "DELETE"): dns.delete_record, (_r + "s", "GET"): dns.list_records,
    })

ANONYMOUS_OID = rbac.ANONYMOUS_OID


def classify(method: str, route: routes.Route, path: str) -> str:
    if route.kind in ("operation", "operation_result") and method == "GET":
        return "poll"
    if path.lower().startswith("/subscriptions"):
        if method == "GET":
            return "read"
        if method in ("PUT", "PATCH", "DELETE", "POST"):
            return "write"
    return "other"


def encode(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def new_entry(req: Request, kind: str) -> Dict[str, Any]:
    return {
        "time": time.time(), "method": req.method, "path": req.path,
        "query": dict(req.query), "status": None, "kind": kind, "resource_id": None,
        "if_match": req.header("If-Match"), "if_none_match": req.header("If-None-Match"),
        "etag_at_arrival": None, "etag": None, "fault": None, "error_code": None,
        "op_id": None, "op_status": None,
        "client_request_id": req.header("x-ms-client-request-id"),
        "user_agent": req.header("User-Agent"),
    }


def _finish_entry(entry: Dict[str, Any], resp: Response) -> None:
    body = resp.body
    entry["status"] = None if resp.drop else resp.status
    entry["fault"] = resp.fault
    entry["resource_id"] = resp.resource_id or entry["resource_id"]
    entry["op_id"], entry["op_status"] = resp.op_id, resp.op_status
    entry["error_code"] = resp.error_code
    if entry["error_code"] is None and isinstance(body, dict) and isinstance(body.get("error"), dict):
        entry["error_code"] = body["error"].get("code")
    entry["etag"] = resp.etag


def _decode(body: Any) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


class ArmApp:
    def __init__(self, store: Store, log: RequestLog) -> None:
        self.store = store
        self.log = log

    def handle(self, req: Request) -> Response:
        route = routes.parse(req.path)
        entry = new_entry(req, classify(req.method, route, req.path))
        try:
            resp = self._pipeline(req, route, entry)
        except ArmError as err:
            resp = error_response(err)
        except Exception:  # never a stack trace on the wire
            logger.exception("emulator handler failed: %s %s", req.method, req.path)
            resp = error_response(ArmError(500, "InternalServerError", "An error occurred."))
        if not isinstance(resp.body, bytes):
            resp.body = encode(resp.body)
        self._arm_headers(req, route, entry["kind"], resp)
        _finish_entry(entry, resp)
        if self.store.knobs.log_bodies:
            entry["request_body"] = _decode(req.body)
            entry["response_body"] = _decode(resp.body)
            entry["response_headers"] = dict(resp.headers)
        self.log.add(entry)
        return resp

    def _pipeline(self, req: Request, route: routes.Route, entry: Dict[str, Any]) -> Response:
        arm = req.path.lower().startswith(("/subscriptions", "/tenants"))
        if arm:
            self._authenticate(req)
            if not req.query.get("api-version"):
                raise ArmError(400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for all requests.")
        with self.store.lock:
            self._describe(route, entry)
            fault = self.store.faults.match(req.method, req.path)
            ctx = self._fault_context(req, route, entry) if fault else None
        for hook in list(self.store.hooks):
            hook(dict(entry))  # tests synchronise on the emulator's events, not on the clock
        if fault is not None:
            if fault.kind == "drop":
                return Response(0, drop=True, fault="drop", resource_id=entry["resource_id"])
            if fault.kind == "delay":
                time.sleep(float(fault.params["delay"]))
            else:
                resp = error_response(fault_error(fault, ctx))
                resp.fault = fault.kind
                return resp
        with self.store.lock:
            try:
                resp = self._dispatch(req, route)
            except ArmError as err:
                resp = error_response(err)
            if fault is not None and resp.fault is None:
                resp.fault = fault.kind
            resp.body = encode(resp.body)  # while the documents cannot change
        return resp

    def _authenticate(self, req: Request) -> None:
        auth = req.header("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ArmError(
                401, "InvalidAuthenticationToken",
                "The access token is missing or invalid: the request needs an "
                "'Authorization: Bearer <token>' header.",
                headers={"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/", '
                         'error="invalid_token", error_description="The authentication failed because of '
                         'missing \'Authorization\' header."'},
            )
        req.bearer_claims = claims_of(token.strip())

    def _describe(self, route: routes.Route, entry: Dict[str, Any]) -> None:
        """resource_id and etag_at_arrival for the log."""
        if route.kind in ("operation", "operation_result"):
            op = self.store.ops.get(route.op_id or "") or self.store.ops.get((route.op_id or "").lower())
            entry["resource_id"] = op.key if op else None
            return
        if route.kind not in routes.SINGLE:
            return
        entry["resource_id"] = route.key
        res = self.store.get(route.key)
        if res is not None and res.kind == "gateway":
            res = gateway.settle(self.store, res)
        if res is not None:
            # The newest accepted etag (NRP's data store), even while an operation is queued.
            entry["etag_at_arrival"] = res.doc.get("etag")

    def _fault_context(self, req: Request, route: routes.Route, entry: Dict[str, Any]) -> FaultContext:
        gw = self.store.get(route.key, "gateway") if route.kind == "gateway" else None
        op_id = gw.op_id if gw is not None and gw.op_id else new_guid()
        location = (gw.doc.get("location") if gw else None) or "westeurope"
        sub = route.sub or self.store.first_subscription()
        rtype = f"{route.namespace}/{route.rtype}" if route.rtype else None
        if rtype and route.record_type:
            rtype += f"/{route.record_type}"
        return FaultContext(
            method=req.method, path=req.path, base_url=req.base_url, api_version=req.api_version,
            oid=rbac.oid_of(req),
            resource_id=route.resource_id, resource_type=rtype,
            name=route.record_name or route.name, resource_group=route.rg, parent_name=route.name,
            action=routes.action_for(route, req.method),
            op_url=gateway.op_url(req, sub, location, op_id),
            subnet_id=gateway.subnet_of(gw.doc if gw else None),
            retry_after=self.store.knobs.scaled(self.store.knobs.retry_after),
            integer_retry_after=self.store.knobs.integer_retry_after,
            busy_shape=self.store.busy_rng.choice(list(self.store.knobs.busy_shapes)),
        )

    def _dispatch(self, req: Request, route: routes.Route) -> Response:
        if route.kind == "unknown":
            raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{req.path}'.")
        if route.kind == "unknown_type":
            raise invalid_resource_type(route.bad_type or "", route.namespace or "", req.api_version)
        allowed = routes.ALLOWED[route.kind]
        if req.method not in allowed:
            raise method_not_allowed(req.method, allowed)
        if route.sub and route.kind != "subscription" and route.sub.lower() not in self.store.subscriptions:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{route.sub}' could not be found.")
        self._authorize(req, route)
        return HANDLERS[(route.kind, req.method)](self.store, req, route)

    def _authorize(self, req: Request, route: routes.Route) -> None:
        """ARM's RBAC check (docs/emulator.md "RBAC"), before the handler changes anything."""
        assignments = self.store.role_assignments
        if assignments is None or route.kind in rbac.EXEMPT:
            return
        scope = rbac.request_scope(route) or req.path
        action = routes.action_for(route, req.method)
        if not rbac.allowed(assignments, scope, action):
            raise authorization_failed(rbac.oid_of(req), action, scope)

    def _arm_headers(self, req: Request, route: routes.Route, kind: str, resp: Response) -> None:
        request_id = new_guid()
        resp.headers.setdefault("x-ms-request-id", request_id)
        resp.headers.setdefault("x-ms-correlation-request-id", req.header("x-ms-correlation-request-id") or request_id)
        if route.sub and kind in ("read", "poll", "write"):
            bucket = "writes" if kind == "write" else "reads"
            with self.store.lock:
                remaining = self.store.count_down(route.sub, bucket)
            resp.headers[f"x-ms-ratelimit-remaining-subscription-{bucket}"] = str(remaining)


_TOKEN_FAULT_STATUS = {
    "throttle": 429, "another_operation": 429, "busy": 429, "conflict": 409, "unavailable": 503, "forbidden": 403,
    "linked_forbidden": 403, "not_found": 404, "parent_not_found": 404,
}


class IdentityApp:
    """Managed-identity tokens on plain HTTP loopback, in both forms.

    IMDS (what ACI containers use, MicrosoftDocs azure-docs container-instances-managed-identity.md):
    GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R with `Metadata: true`;
    azure-identity and msal read its base URL from AZURE_POD_IDENTITY_AUTHORITY_HOST.
    App Service (the option): GET /msi/token?api-version=2019-08-01&resource=R with X-IDENTITY-HEADER.
    """

    def __init__(self, store: Store, log: RequestLog, secret: str, path: str, issued: List[str]) -> None:
        self.store, self.log, self.secret, self.path, self.issued = store, log, secret, path, issued

    def handle(self, req: Request) -> Response:
        entry = new_entry(req, "token")
        fault: Optional[Fault] = self.store.faults.match(req.method, req.path, token=True)
        if fault is not None and fault.kind == "drop":
            resp = Response(0, drop=True)
        elif fault is not None and fault.kind != "delay":
            status = _TOKEN_FAULT_STATUS.get(fault.kind, 500)
            resp = Response(status, {"statusCode": status, "message": f"Injected fault: {fault.kind}"})
        else:
            if fault is not None:
                time.sleep(float(fault.params["delay"]))
            resp = self._token(req)
        resp.fault = fault.kind if fault else None
        if not isinstance(resp.body, bytes):
            resp.body = encode(resp.body)
        entry["status"] = None if resp.drop else resp.status
        entry["fault"] = resp.fault
        self.log.add(entry)
        return resp

    def _token(self, req: Request) -> Response:
        path = req.path.rstrip("/").lower()
        imds = path == IMDS_PATH
        if path != self.path.lower() and not imds:
            return Response(404, {"statusCode": 404, "message": f"No route for {req.path}."})
        if req.method != "GET":
            return Response(405, {"statusCode": 405, "message": f"The method {req.method} is not allowed."},
                            {"Allow": "GET"})
        with self.store.lock:
            tenant = self.store.tenant_id()
        if imds:
            status, body, token = imds_token_response(req.query, req.header("Metadata"), tenant)
        else:
            status, body, token = token_response(req.query, req.header("X-IDENTITY-HEADER"), self.secret, tenant)
        if token:
            with self.store.lock:
                self.issued.append(token)
        return Response(status, body)


IMDS_PATH = "/metadata/identity/oauth2/token"
