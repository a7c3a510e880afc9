"""Azure RBAC for the caller: role assignments, the check ARM makes on every request, the linked
checks on an App Gateway write, and the Authorization Permissions API.

An assignment is ``{"scope": str, "actions": [str], "notActions": [str]}`` (plus optional
``dataActions``/``notDataActions``, echoed by the permissions API). ``None`` means RBAC is off:
everything is allowed (the default). An assignment covers a scope equal to its own or beneath it
(case-insensitive, at a ``/`` boundary); a request is allowed when some covering assignment's
``actions`` match its action and that same assignment's ``notActions`` do not; ``*`` matches any
characters (wire notes 12.6; learn.microsoft.com role-definitions "Actions"/"NotActions").

The permissions API (authorization-RoleDefinitionsCalls.json 2022-04-01, operations
Permissions_ListForResourceGroup and Permissions_ListForResource) answers one entry per assignment
that covers the scope, paged like every list.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Tuple

from .errors import ArmError
from .wire import Request, Response, paginate

SUBNET_JOIN = "Microsoft.Network/virtualNetworks/subnets/join/action"
PUBLIC_IP_JOIN = "Microsoft.Network/publicIPAddresses/join/action"
WAF_POLICY_JOIN = "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/join/action"

# Routes ARM does not authorize here (ours): cloud metadata, tenants, the subscription list and
# GET, operation polls (Azure wants .../locations/operations/read; the emulator lets any caller
# poll the operation it was handed) and the permissions API itself (any caller may ask what it holds).
EXEMPT = frozenset({"metadata", "tenants", "subscriptions", "subscription", "operation",
                    "operation_result", "permissions"})
# The answer when RBAC is off: the caller may do everything.
ALLOW_ALL = {"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}

ANONYMOUS_OID = "00000000-0000-0000-0000-000000000000"
_KEYS = ("scope", "actions", "notActions", "dataActions", "notDataActions")
Assignment = Dict[str, Any]


# -- assignments ---------------------------------------------------------------------------------
def _strings(value: Any, what: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of strings, not {value!r}")
    return list(value)


def normalize_scope(scope: str) -> str:
    """Lower case, no trailing slash ("/" stays "/")."""
    return "/" + scope.strip().strip("/").lower() if scope.strip("/ ") else "/"


def normalize(assignments: Optional[Iterable[Any]]) -> Optional[List[Assignment]]:
    """Validate and copy a list of assignments (None: RBAC off). notActions defaults to []."""
    if assignments is None:
        return None
    if isinstance(assignments, (str, bytes, dict)) or not hasattr(assignments, "__iter__"):
        raise ValueError("role assignments must be a list of {'scope', 'actions', 'notActions'} objects or None")
    out: List[Assignment] = []
    for item in assignments:
        if not isinstance(item, dict):
            raise ValueError(f"a role assignment must be an object, not {item!r}")
        unknown = set(item) - set(_KEYS)
        if unknown:
            raise ValueError(f"a role assignment has unknown keys {sorted(unknown)}; known: {list(_KEYS)}")
        scope = item.get("scope")
        if not isinstance(scope, str) or not scope.startswith("/"):
            raise ValueError(f"a role assignment needs a 'scope' starting with '/': {item!r}")
        if "actions" not in item:
            raise ValueError(f"a role assignment needs 'actions': {item!r}")
        entry: Assignment = {
            "scope": scope,
            "actions": _strings(item.get("actions"), "actions"),
            "notActions": _strings(item.get("notActions"), "notActions"),
        }
        for key in ("dataActions", "notDataActions"):
            if key in item:
                entry[key] = _strings(item.get(key), key)
        out.append(entry)
    return out


def _get_ci(doc: Dict[str, Any], name: str) -> Any:
    """`az role definition create` reads PascalCase keys; accept any casing."""
    for key, value in doc.items():
        if key.lower() == name.lower():
            return value
    return None


def from_role(role_definition: Dict[str, Any], scopes: Iterable[str]) -> List[Assignment]:
    """One assignment per scope from a custom role in `az role definition create` JSON form
    (Name, IsCustom, Description, Actions, NotActions, DataActions, NotDataActions, AssignableScopes).
    A scope outside the role's AssignableScopes is refused, as Azure refuses such an assignment."""
    if not isinstance(role_definition, dict):
        raise ValueError("a role definition must be a JSON object")
    if isinstance(scopes, str) or not all(isinstance(s, str) for s in scopes):
        raise ValueError("scopes must be a list of scope strings")
    scopes = list(scopes)
    if not scopes:
        raise ValueError("apply_role needs at least one scope")
    name = _get_ci(role_definition, "Name") or "(unnamed role)"
    assignable = _strings(_get_ci(role_definition, "AssignableScopes"), "AssignableScopes")
    for scope in scopes:
        if assignable and not any(covers(a, scope) for a in assignable):
            raise ValueError(f"role {name!r} cannot be assigned at {scope}: not within its AssignableScopes {assignable}")
    base = {
        "actions": _strings(_get_ci(role_definition, "Actions"), "Actions"),
        "notActions": _strings(_get_ci(role_definition, "NotActions"), "NotActions"),
        "dataActions": _strings(_get_ci(role_definition, "DataActions"), "DataActions"),
        "notDataActions": _strings(_get_ci(role_definition, "NotDataActions"), "NotDataActions"),
    }
    return normalize([dict(copy.deepcopy(base), scope=scope) for scope in scopes]) or []


def load(data: Any) -> Optional[List[Assignment]]:
    """What `--roles FILE`, POST /_emulator/roles and the seed accept: the list form, null (off),
    {"roleAssignments": <list or null>}, or {"role": {...role definition...},
    "assignments": [{"scope": ...}, ...]} (also "scopes": [...])."""
    if data is None or isinstance(data, list):
        return normalize(data)
    if not isinstance(data, dict):
        raise ValueError("roles must be a list of assignments, null, or {'role': ..., 'assignments': [...]}")
    if set(data) == {"roleAssignments"}:
        return normalize(data["roleAssignments"])
    unknown = set(data) - {"role", "assignments", "scopes", "description", "$schema"}
    if unknown or "role" not in data:
        raise ValueError("a roles object needs 'role' and 'assignments' ([{'scope': ...}]) "
                         f"or 'scopes'; unknown keys: {sorted(unknown)}")
    scopes: List[str] = []
    for item in data.get("assignments") or []:
        scope = item.get("scope") if isinstance(item, dict) else item
        if not isinstance(scope, str):
            raise ValueError(f"each entry of 'assignments' needs a 'scope': {item!r}")
        scopes.append(scope)
    scopes.extend(_strings(data.get("scopes"), "scopes"))
    return from_role(data["role"], scopes)


def oid_of(req: Request) -> str:
    """The caller's object id, from the bearer token's claims (AuthorizationFailed names it)."""
    return str((req.bearer_claims or {}).get("oid") or ANONYMOUS_OID)


# -- matching ------------------------------------------------------------------------------------
def covers(assignment_scope: str, scope: str) -> bool:
    """True when `scope` equals `assignment_scope` or lies beneath it (at a '/' boundary)."""
    outer, inner = normalize_scope(assignment_scope), normalize_scope(scope)
    return outer == "/" or inner == outer or inner.startswith(outer + "/")


@lru_cache(maxsize=4096)
def _pattern(action_pattern: str) -> "re.Pattern[str]":
    return re.compile(".*".join(re.escape(part) for part in action_pattern.split("*")), re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """`*` matches any run of characters (slashes too); case-insensitive."""
    return _pattern(pattern).fullmatch(action) is not None


def grants(assignment: Assignment, action: str) -> bool:
    return any(action_matches(p, action) for p in assignment["actions"]) and not any(
        action_matches(p, action) for p in assignment["notActions"])


def allowed(assignments: Optional[List[Assignment]], scope: str, action: str) -> bool:
    if assignments is None:
        return True
    return any(covers(a["scope"], scope) and grants(a, action) for a in assignments)


def effective(assignments: Optional[List[Assignment]], scope: str) -> List[Dict[str, List[str]]]:
    """The permissions API's entries at `scope`: one per covering assignment."""
    if assignments is None:
        return [copy.deepcopy(ALLOW_ALL)]
    return [
        {"actions": list(a["actions"]), "notActions": list(a["notActions"]),
         "dataActions": list(a.get("dataActions", [])), "notDataActions": list(a.get("notDataActions", []))}
        for a in assignments if covers(a["scope"], scope)
    ]


# -- what a request needs ---------------------------------------------------------------------------
def request_scope(route: Any) -> Optional[str]:
    """The scope ARM authorizes a request at: the resource's id; for a list, the collection's parent
    (record sets of a zone: the zone; groups/gateways/zones of a resource group: the group;
    of a subscription: the subscription)."""
    if route.kind in ("precords", "records"):
        return route.parent_id
    if route.kind in ("gateways", "pzones", "zones", "cgroups"):
        if route.rg:
            return f"/subscriptions/{route.sub}/resourceGroups/{route.rg}"
        return f"/subscriptions/{route.sub}"
    return route.resource_id


def linked_actions(gateway_doc: Optional[Dict[str, Any]]) -> List[Tuple[str, str]]:
    """(scope, action) pairs a gateway write needs beyond applicationGateways/write, from the
    document being written (learn.microsoft.com application-gateway configuration-infrastructure
    "Permissions"; wire notes 2.6): join on each gateway IP configuration's subnet, on each frontend's
    public IP, and on the gateway's WAF policy."""
    props = ((gateway_doc or {}).get("properties") or {})
    pairs: List[Tuple[str, str]] = []

    def add(ref: Any, action: str) -> None:
        rid = ref.get("id") if isinstance(ref, dict) else None
        if isinstance(rid, str) and rid and (rid, action) not in pairs:
            pairs.append((rid, action))

    for ipc in props.get("gatewayIPConfigurations") or []:
        if isinstance(ipc, dict):
            add(((ipc.get("properties") or {}).get("subnet")), SUBNET_JOIN)
    for fip in props.get("frontendIPConfigurations") or []:
        if isinstance(fip, dict):
            add(((fip.get("properties") or {}).get("publicIPAddress")), PUBLIC_IP_JOIN)
    add(props.get("firewallPolicy"), WAF_POLICY_JOIN)
    return pairs


def missing_linked(assignments: Optional[List[Assignment]], gateway_doc: Dict[str, Any]) -> List[Tuple[str, str]]:
    return [(scope, action) for scope, action in linked_actions(gateway_doc)
            if not allowed(assignments, scope, action)]


# -- the permissions API ------------------------------------------------------------------------------
def permissions(store: Any, req: Request, route: Any) -> Response:
    """GET {scope}/providers/Microsoft.Authorization/permissions (resource group or resource scope)."""
    if route.scope is None:  # pragma: no cover - routes.parse only builds valid scopes
        raise ArmError(400, "InvalidScope", "The scope is invalid.")
    items = effective(store.role_assignments, route.scope)
    return Response(200, paginate(req, items, store.knobs.page_size))
