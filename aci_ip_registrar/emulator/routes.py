"""Parse ARM paths (case-insensitively) into routes, and which methods each route answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

NETWORK = "Microsoft.Network"
ACI = "Microsoft.ContainerInstance"

# lower-case type segment -> (namespace, canonical type segment)
RESOURCE_TYPES: Dict[Tuple[str, str], str] = {
    ("microsoft.network", "applicationgateways"): "applicationGateways",
    ("microsoft.network", "privatednszones"): "privateDnsZones",
    ("microsoft.network", "dnszones"): "dnsZones",
    ("microsoft.containerinstance", "containergroups"): "containerGroups",
}
PRIVATE_RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "PTR", "SOA", "SRV", "TXT")
PUBLIC_RECORD_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT")

ALLOWED: Dict[str, List[str]] = {
    "metadata": ["GET"],
    "tenants": ["GET"],
    "subscriptions": ["GET"],
    "subscription": ["GET"],
    "operation": ["GET"],
    "operation_result": ["GET"],
    "gateway": ["GET", "PUT", "PATCH", "DELETE"],
    "gateways": ["GET"],
    "pzone": ["GET", "PUT", "DELETE"],
    "pzones": ["GET"],
    "precord": ["GET", "PUT", "PATCH", "DELETE"],
    "precords": ["GET"],
    "zone": ["GET", "PUT", "DELETE"],
    "zones": ["GET"],
    "record": ["GET", "PUT", "PATCH", "DELETE"],
    "records": ["GET"],
    "cgroup": ["GET"],
    "cgroups": ["GET"],
    "cgroup_action": ["POST"],
    "permissions": ["GET"],
}
# Kinds that address one resource (their id is the log's resource_id).
SINGLE = frozenset({"gateway", "pzone", "precord", "zone", "record", "cgroup", "cgroup_action"})


@dataclass
class Route:
    kind: str
    sub: Optional[str] = None
    rg: Optional[str] = None
    namespace: Optional[str] = None
    rtype: Optional[str] = None  # canonical type segment, e.g. applicationGateways
    name: Optional[str] = None  # gateway / zone / container group name
    record_type: Optional[str] = None  # upper-case, e.g. A
    record_name: Optional[str] = None  # lower-cased relative name
    action: Optional[str] = None
    location: Optional[str] = None
    op_id: Optional[str] = None
    bad_type: Optional[str] = None  # for unknown_type: the type as the request spelled it
    listing: Optional[str] = None  # a record-set list across types: "all" or "recordsets"
    scope: Optional[str] = None  # permissions: the scope asked about

    @property
    def parent_id(self) -> Optional[str]:
        """The id of the top-level resource (gateway, zone, group) this route names."""
        if not (self.sub and self.rg and self.rtype and self.name):
            return None
        return (
            f"/subscriptions/{self.sub}/resourceGroups/{self.rg}/providers/"
            f"{self.namespace}/{self.rtype}/{self.name}"
        )

    @property
    def resource_id(self) -> Optional[str]:
        base = self.parent_id
        if base and self.kind in ("precord", "record"):
            return f"{base}/{self.record_type}/{self.record_name}"
        return base

    @property
    def key(self) -> Optional[str]:
        rid = self.resource_id
        return rid.lower() if rid else None

    @property
    def collection_path(self) -> Optional[str]:
        """Lower-cased id prefix of a list route's collection."""
        if not self.sub:
            return None
        return f"/subscriptions/{self.sub}".lower()


def parse(path: str) -> Route:
    segs = [s for s in path.split("/") if s]
    low = [s.lower() for s in segs]
    n = len(segs)
    if low == ["metadata", "endpoints"]:
        return Route("metadata")
    if low[:1] == ["tenants"] and n == 1:
        return Route("tenants")
    if low[:1] != ["subscriptions"]:
        return Route("unknown")
    if n == 1:
        return Route("subscriptions")
    sub = segs[1]
    if n >= 5 and low[-3:] == ["providers", "microsoft.authorization", "permissions"]:
        return _permissions(segs, low)
    if n == 2:
        return Route("subscription", sub=sub)
    if low[2] == "providers" and n >= 5:
        ns_low, type_low = low[3], low[4]
        if ns_low in ("microsoft.network", "microsoft.containerinstance") and type_low == "locations" \
                and n == 8 and low[6] in ("operations", "operationresults"):
            kind = "operation" if low[6] == "operations" else "operation_result"
            return Route(kind, sub=sub, namespace=_ns(ns_low), location=segs[5], op_id=segs[7])
        canon = RESOURCE_TYPES.get((ns_low, type_low))
        if canon and n == 5:
            return Route(_LIST_KIND[canon], sub=sub, namespace=_ns(ns_low), rtype=canon)
        return Route("unknown_type", sub=sub, namespace=segs[3], bad_type="/".join(segs[4:]))
    if low[2] != "resourcegroups" or n < 4:
        return Route("unknown", sub=sub)
    rg = segs[3]
    if n < 7 or low[4] != "providers":
        return Route("unknown", sub=sub, rg=rg)
    ns_low, type_low = low[5], low[6]
    canon = RESOURCE_TYPES.get((ns_low, type_low))
    if canon is None:
        return Route("unknown_type", sub=sub, rg=rg, namespace=segs[5], bad_type="/".join(segs[6:]))
    base = dict(sub=sub, rg=rg, namespace=_ns(ns_low), rtype=canon)
    rest, rest_low = segs[7:], low[7:]
    if not rest:
        return Route(_LIST_KIND[canon], **base)
    name = rest[0]
    if canon == "applicationGateways":
        if len(rest) == 1:
            return Route("gateway", name=name, **base)
    elif canon == "containerGroups":
        if len(rest) == 1:
            return Route("cgroup", name=name, **base)
        if len(rest) == 2 and rest_low[1] in ("restart", "start", "stop"):
            return Route("cgroup_action", name=name, action=rest_low[1], **base)
    else:
        private = canon == "privateDnsZones"
        zone = name.lower()
        if len(rest) == 1:
            return Route("pzone" if private else "zone", name=zone, **base)
        listing = ("all",) if private else ("all", "recordsets")
        types = PRIVATE_RECORD_TYPES if private else PUBLIC_RECORD_TYPES
        if len(rest) == 2 and rest_low[1] in listing:
            return Route("precords" if private else "records", name=zone, listing=rest_low[1], **base)
        rtype = rest[1].upper()
        if rtype in types and len(rest) in (2, 3):
            kind = ("precord" if private else "record") if len(rest) == 3 else ("precords" if private else "records")
            return Route(
                kind, name=zone, record_type=rtype,
                record_name=rest[2].lower() if len(rest) == 3 else None, **base,
            )
    return Route("unknown_type", sub=sub, rg=rg, namespace=segs[5], bad_type="/".join([segs[6]] + rest[1:]))


def _permissions(segs: List[str], low: List[str]) -> Route:
    """{scope}/providers/Microsoft.Authorization/permissions, for the two scopes the spec has
    (authorization-RoleDefinitionsCalls.json 2022-04-01): a resource group
    (Permissions_ListForResourceGroup) and a resource at any depth, of any type
    (Permissions_ListForResource: {namespace}/{parentResourcePath}/{type}/{name}). Any other scope
    (the subscription's included: the spec has no such operation) is an unknown type."""
    scope, scope_low = segs[:-3], low[:-3]
    sub = segs[1]
    rg_scope = len(scope) >= 4 and scope_low[2] == "resourcegroups"
    if rg_scope and (len(scope) == 4 or (
            len(scope) >= 8 and scope_low[4] == "providers" and (len(scope) - 6) % 2 == 0
            and "providers" not in scope_low[6:])):
        canon = ["subscriptions", sub, "resourceGroups"] + scope[3:]
        return Route("permissions", sub=sub, rg=scope[3], namespace="Microsoft.Authorization",
                     scope="/" + "/".join(canon))
    return Route("unknown_type", sub=sub, namespace=segs[-2], bad_type=segs[-1])


_LIST_KIND = {
    "applicationGateways": "gateways",
    "privateDnsZones": "pzones",
    "dnsZones": "zones",
    "containerGroups": "cgroups",
}


def _ns(ns_low: str) -> str:
    return NETWORK if ns_low == "microsoft.network" else ACI


def action_for(route: Route, method: str) -> str:
    """The RBAC action a request needs (Azure's provider operations, e.g.
    Microsoft.Network/privateDnsZones/PTR/delete; record sets across types:
    privateDnsZones/ALL/read, dnsZones/all/read, dnsZones/recordsets/read)."""
    if route.kind == "permissions":
        return "Microsoft.Authorization/permissions/read"
    if route.kind in ("operation", "operation_result"):
        return f"{route.namespace or NETWORK}/locations/operations/read"
    if route.kind == "cgroup_action":
        return f"{ACI}/containerGroups/{route.action}/action"
    if not route.rtype:
        return "Microsoft.Resources/subscriptions/read"
    rtype = f"{route.namespace}/{route.rtype}"
    if route.record_type:
        rtype += f"/{route.record_type}"
    elif route.listing:
        rtype += "/ALL" if route.rtype == "privateDnsZones" else f"/{route.listing}"
    verb = {"GET": "read", "DELETE": "delete", "POST": "action"}.get(method, "write")
    return f"{rtype}/{verb}"
