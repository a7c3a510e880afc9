"""Seed documents: {"subscriptions": [...], "resources": [<ARM JSON with "id">, ...],
"roleAssignments": [{"scope", "actions", "notActions"}, ...] or null}."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Union

from . import aci, dns, gateway, rbac, routes
from .state import Store

SeedData = Union[Dict[str, Any], str, Path]
_ORDER = {"pzone": 0, "zone": 0, "precord": 1, "record": 1, "gateway": 2, "cgroup": 3}


def load(data: SeedData) -> Dict[str, Any]:
    if isinstance(data, (str, Path)):
        with open(data, encoding="utf-8") as fh:
            data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError("seed data must be a JSON object with 'subscriptions', 'resources' and/or 'roleAssignments'")
    unknown = set(data) - {"subscriptions", "resources", "roleAssignments", "$schema", "description"}
    if unknown:
        raise ValueError(f"seed data has unknown keys: {sorted(unknown)}")
    return data


def apply(store: Store, data: SeedData) -> None:
    data = load(data)
    subs = data.get("subscriptions") or []
    resources = data.get("resources") or []
    if not isinstance(subs, list) or not isinstance(resources, list):
        raise ValueError("'subscriptions' and 'resources' must be arrays")
    parsed = [(_route(doc), doc) for doc in resources]
    roles = rbac.normalize(data["roleAssignments"]) if "roleAssignments" in data else None
    with store.lock:
        if "roleAssignments" in data:
            store.role_assignments = roles
        for sub in subs:
            if not isinstance(sub, dict) or not sub.get("subscriptionId"):
                raise ValueError(f"a seeded subscription needs a subscriptionId: {sub!r}")
            store.add_subscription(sub["subscriptionId"], sub.get("tenantId"), sub.get("displayName"))
        for route, doc in sorted(parsed, key=lambda item: _ORDER[item[0].kind]):
            put(store, route, doc, out_of_band=False)


def _route(doc: Any) -> routes.Route:
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        raise ValueError(f"every seeded resource needs an 'id': {str(doc)[:120]}")
    route = routes.parse(doc["id"])
    if route.kind not in _ORDER:
        raise ValueError(
            f"cannot seed {doc['id']}: not an applicationGateways, privateDnsZones, dnszones or "
            "containerGroups resource (or a record set of a zone)"
        )
    return route


def put(store: Store, route: routes.Route, doc: Dict[str, Any], *, out_of_band: bool) -> None:
    """Store `doc` at `route`, filling read-only fields. Caller holds store.lock."""
    store.ensure_subscription(route.sub)
    if route.kind == "gateway":
        gateway.seed(store, doc, route.resource_id, out_of_band=out_of_band)
    elif route.kind in ("pzone", "zone"):
        dns.seed_zone(store, doc, route.resource_id, dns.flavor_of(route.kind), out_of_band=out_of_band)
    elif route.kind in ("precord", "record"):
        dns.seed_record(store, doc, route.parent_id, route.record_type, route.record_name,
                        dns.flavor_of(route.kind), out_of_band=out_of_band)
    else:
        aci.seed(store, doc, route.resource_id)


def put_one(store: Store, doc: Dict[str, Any]) -> None:
    route = _route(doc)
    with store.lock:
        put(store, route, doc, out_of_band=True)


def resource_ids(data: SeedData) -> List[str]:
    return [d["id"] for d in load(data).get("resources") or []]
