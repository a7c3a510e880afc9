"""Private DNS (2024-06-01, camelCase) and public DNS (2018-05-01, PascalCase) zones and record sets.

Both are synchronous. Record names come back lower-cased; etags are bare GUIDs, compared with quotes
stripped because the SDKs quote them (privatedns _utils/utils.py quote_etag).
"""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from .errors import ArmError, bad_request, parent_not_found
from .limits import check_tags, drop_metadata_keys_with_spaces, drop_tags_with_colons, lower_resource_group
from .state import Resource, Store
from .wire import Request, Response, etag_matches, new_guid, paginate


@dataclass(frozen=True)
class Flavor:
    zone_kind: str
    record_kind: str
    zone_type: str
    record_keys: Dict[str, str]  # record type -> property holding its records
    ttl_key: str
    extra_keys: Tuple[str, ...]  # other writable properties besides metadata and ttl
    read_only: Tuple[str, ...]

    def zone_properties(self, count: int) -> Dict[str, Any]:
        if self.zone_kind == "pzone":
            return {
                "maxNumberOfRecordSets": 25000, "maxNumberOfVirtualNetworkLinks": 1000,
                "maxNumberOfVirtualNetworkLinksWithRegistration": 100, "numberOfRecordSets": count,
                "numberOfVirtualNetworkLinks": 0, "numberOfVirtualNetworkLinksWithRegistration": 0,
                "provisioningState": "Succeeded",
            }
        return {
            "maxNumberOfRecordSets": 10000, "maxNumberOfRecordsPerRecordSet": 20,
            "numberOfRecordSets": count, "zoneType": "Public",
        }


PRIVATE = Flavor(
    zone_kind="pzone", record_kind="precord", zone_type="Microsoft.Network/privateDnsZones",
    record_keys={
        "A": "aRecords", "AAAA": "aaaaRecords", "CNAME": "cnameRecord", "MX": "mxRecords",
        "PTR": "ptrRecords", "SOA": "soaRecord", "SRV": "srvRecords", "TXT": "txtRecords",
    },
    ttl_key="ttl", extra_keys=(), read_only=("fqdn", "isAutoRegistered"),
)
PUBLIC = Flavor(
    zone_kind="zone", record_kind="record", zone_type="Microsoft.Network/dnsZones",
    record_keys={
        "A": "ARecords", "AAAA": "AAAARecords", "CAA": "caaRecords", "CNAME": "CNAMERecord",
        "MX": "MXRecords", "NS": "NSRecords", "PTR": "PTRRecords", "SOA": "SOARecord",
        "SRV": "SRVRecords", "TXT": "TXTRecords",
    },
    ttl_key="TTL", extra_keys=("targetResource",), read_only=("fqdn", "provisioningState"),
)
SINGLE_VALUED = ("CNAME", "SOA")
NAME_SERVERS = ["ns1-01.azure-dns.com.", "ns2-01.azure-dns.net.", "ns3-01.azure-dns.org.", "ns4-01.azure-dns.info."]


def flavor_of(kind: str) -> Flavor:
    return PRIVATE if kind in ("pzone", "pzones", "precord", "precords") else PUBLIC


# -- documents ------------------------------------------------------------------------------
def fqdn(name: str, zone: str) -> str:
    return f"{zone}." if name == "@" else f"{name}.{zone}."


def clean_properties(props: Any, rtype: str, flavor: Flavor) -> Dict[str, Any]:
    """Writable properties in canonical casing (the services' JSON binding is case-insensitive)."""
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise bad_request("BadRequest", "The record set properties must be a JSON object.")
    canonical = {k.lower(): k for k in ("metadata", flavor.ttl_key, *flavor.extra_keys, *flavor.record_keys.values())}
    own_key = flavor.record_keys[rtype]
    out: Dict[str, Any] = {}
    for key, value in props.items():
        canon = canonical.get(key.lower())
        if canon is None or value is None:
            continue  # read-only or unknown: ignored
        if canon in flavor.record_keys.values() and canon != own_key:
            if value:
                raise bad_request("BadRequest", f"A record set of type '{rtype}' cannot contain '{canon}'.")
            continue
        out[canon] = copy.deepcopy(value)
    _validate(out, rtype, own_key, flavor)
    if "metadata" in out:
        check_tags(out["metadata"], "metadata")
        if flavor is PRIVATE:
            out["metadata"] = drop_metadata_keys_with_spaces(out["metadata"])
    return out


def _validate(props: Dict[str, Any], rtype: str, own_key: str, flavor: Flavor) -> None:
    meta = props.get("metadata")
    if meta is not None and (not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values())):
        raise bad_request("BadRequest", "The metadata must be an object of string values.")
    ttl = props.get(flavor.ttl_key)
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= 2147483647):
        raise bad_request("BadRequest", f"The TTL value '{ttl}' is invalid.")
    records = props.get(own_key)
    if records is None:
        return
    if rtype in SINGLE_VALUED:
        if not isinstance(records, dict):
            raise bad_request("BadRequest", f"'{own_key}' must be a JSON object.")
        return
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise bad_request("BadRequest", f"'{own_key}' must be an array of objects.")
    for rec in records:
        if rtype in ("A", "AAAA"):
            field = "ipv4Address" if rtype == "A" else "ipv6Address"
            value = rec.get(field)
            try:
                ok = isinstance(value, str) and ipaddress.ip_address(value).version == (4 if rtype == "A" else 6)
            except ValueError:
                ok = False
            if not ok:
                version = 4 if rtype == "A" else 6
                raise bad_request("BadRequest", f"The {field} value '{value}' is not a valid IPv{version} address.")
        elif rtype == "PTR" and not isinstance(rec.get("ptrdname"), str):
            raise bad_request("BadRequest", "Each PTR record needs a 'ptrdname' string.")
        elif rtype == "TXT":
            value = rec.get("value")
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise bad_request("BadRequest", "Each TXT record needs a 'value' array of strings.")


def record_doc(zone_doc: Dict[str, Any], rtype: str, name: str, props: Dict[str, Any], etag: str,
               flavor: Flavor, prev: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    own_key = flavor.record_keys[rtype]
    prev_props = (prev or {}).get("properties") or {}
    out: Dict[str, Any] = {}
    if "metadata" in props:
        out["metadata"] = props["metadata"]
    out[flavor.ttl_key] = props.get(flavor.ttl_key, 3600)
    out["fqdn"] = fqdn(name, zone_doc["name"])
    if flavor is PRIVATE:
        out["isAutoRegistered"] = bool(prev_props.get("isAutoRegistered", False))
    else:
        out["provisioningState"] = "Succeeded"
        if "targetResource" in props:
            out["targetResource"] = props["targetResource"]
    if own_key in props:
        out[own_key] = props[own_key]
    elif rtype not in SINGLE_VALUED:
        out[own_key] = []
    return {
        "id": f"{zone_doc['id']}/{rtype}/{name}",
        "name": name,
        "type": f"{flavor.zone_type}/{rtype}",
        "etag": etag,
        "properties": out,
    }


def zone_doc(zone_id: str, body: Dict[str, Any], etag: str, flavor: Flavor) -> Dict[str, Any]:
    doc: Dict[str, Any] = {
        "id": lower_resource_group(zone_id) if flavor is PRIVATE else zone_id,
        "name": zone_id.rsplit("/", 1)[-1].lower(), "type": flavor.zone_type,
        "etag": etag, "location": body.get("location") or "global",
    }
    if isinstance(body.get("tags"), dict):
        check_tags(body["tags"])
        doc["tags"] = dict(drop_tags_with_colons(body["tags"]) if flavor is PRIVATE else body["tags"])
    props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    doc["properties"] = {"internalId": props.get("internalId") or new_guid()} if flavor is PRIVATE else {}
    return doc


def render_zone(store: Store, res: Resource) -> Dict[str, Any]:
    flavor = flavor_of(res.kind)
    count = len(store.children(res.doc["id"].lower(), flavor.record_kind))
    doc = dict(res.doc)
    doc["properties"] = {**flavor.zone_properties(count), **res.doc["properties"]}
    if flavor is PUBLIC:
        doc["properties"]["nameServers"] = list(NAME_SERVERS)
    return doc


def _default_records(store: Store, zone: Dict[str, Any], flavor: Flavor) -> None:
    """Every zone is created with an SOA (and, in public DNS, NS) record set at the apex."""
    key = zone["id"].lower()
    if flavor is PRIVATE:
        soa = {"email": "azureprivatedns-host.microsoft.com", "expireTime": 2419200, "host": "azureprivatedns.net",
               "minimumTtl": 10, "refreshTime": 3600, "retryTime": 300, "serialNumber": 1}
    else:
        soa = {"email": "azuredns-hostmaster.microsoft.com", "expireTime": 2419200, "host": NAME_SERVERS[0],
               "minimumTTL": 300, "refreshTime": 3600, "retryTime": 300, "serialNumber": 1}
        ns_props = {"TTL": 172800, "NSRecords": [{"nsdname": n} for n in NAME_SERVERS]}
        ns = record_doc(zone, "NS", "@", ns_props, new_guid(), flavor)
        store.resources.setdefault(f"{key}/ns/@", Resource(flavor.record_kind, ns))
    soa_doc = record_doc(zone, "SOA", "@", {flavor.ttl_key: 3600, flavor.record_keys["SOA"]: soa}, new_guid(), flavor)
    store.resources.setdefault(f"{key}/soa/@", Resource(flavor.record_kind, soa_doc))


def seed_zone(store: Store, body: Dict[str, Any], zone_id: str, flavor: Flavor, *, out_of_band: bool) -> None:
    etag = body.get("etag") if isinstance(body.get("etag"), str) and not out_of_band else new_guid()
    doc = zone_doc(zone_id, body, etag, flavor)
    store.resources[zone_id.lower()] = Resource(flavor.zone_kind, doc)
    _default_records(store, doc, flavor)


def seed_record(store: Store, body: Dict[str, Any], zone_id: str, rtype: str, name: str, flavor: Flavor,
                *, out_of_band: bool) -> None:
    zone = store.get(zone_id.lower(), flavor.zone_kind)
    if zone is None:
        seed_zone(store, {}, zone_id, flavor, out_of_band=False)
        zone = store.get(zone_id.lower(), flavor.zone_kind)
    props = clean_properties(body.get("properties"), rtype, flavor)
    etag = body.get("etag") if isinstance(body.get("etag"), str) and not out_of_band else new_guid()
    auto = bool((body.get("properties") or {}).get("isAutoRegistered", False))
    doc = record_doc(zone.doc, rtype, name, props, etag, flavor, {"properties": {"isAutoRegistered": auto}})
    store.resources[doc["id"].lower()] = Resource(flavor.record_kind, doc)


# -- conditional requests --------------------------------------------------------------------
def _precondition(req: Request, current: Optional[str], what: str) -> None:
    if_match, if_none = req.header("If-Match"), req.header("If-None-Match")
    if if_match is not None and not etag_matches(if_match, current):
        found = f"the current etag '{current}'" if current else "no existing record set"
        raise ArmError(412, "PreconditionFailed",
                       f"The Precondition 'If-Match: {if_match}' failed for {what}: it does not match {found}.")
    if if_none is not None and current is not None and etag_matches(if_none, current):
        raise ArmError(412, "PreconditionFailed",
                       f"The Precondition 'If-None-Match: {if_none}' failed for {what}: "
                       f"the record set exists with etag '{current}'.")


def _ok(status: int, doc: Dict[str, Any]) -> Response:
    return Response(status, doc, {"ETag": doc["etag"]}, resource_id=doc["id"].lower(), etag=doc["etag"])


def _zone(store: Store, route: Any, flavor: Flavor) -> Resource:
    zone = store.get(route.parent_id.lower(), flavor.zone_kind)
    if zone is None:
        raise parent_not_found(route.name)
    return zone


def _record_missing(route: Any) -> ArmError:
    return ArmError(404, "NotFound", f"The resource record '{route.record_name}' does not exist in resource "
                    f"group '{route.rg}' of subscription '{route.sub}'.")


# -- record handlers -------------------------------------------------------------------------
def get_record(store: Store, req: Request, route: Any) -> Response:
    flavor = flavor_of(route.kind)
    _zone(store, route, flavor)
    res = store.get(route.key, flavor.record_kind)
    if res is None:
        raise _record_missing(route)
    return _ok(200, res.doc)


def put_record(store: Store, req: Request, route: Any) -> Response:
    flavor = flavor_of(route.kind)
    zone = _zone(store, route, flavor)
    res = store.get(route.key, flavor.record_kind)
    _precondition(req, res.doc["etag"] if res else None, f"record set '{route.record_name}'")
    body = req.json_object()
    if route.record_type == "SOA" and route.record_name != "@":
        raise bad_request("BadRequest", "An SOA record set can only be created at the zone apex '@'.")
    props = clean_properties(body.get("properties"), route.record_type, flavor)
    prev = res.doc if res else None
    doc = record_doc(zone.doc, route.record_type, route.record_name, props, new_guid(), flavor, prev)
    store.resources[route.key] = Resource(flavor.record_kind, doc)
    return _ok(200 if res else 201, doc)


def patch_record(store: Store, req: Request, route: Any) -> Response:
    flavor = flavor_of(route.kind)
    zone = _zone(store, route, flavor)
    res = store.get(route.key, flavor.record_kind)
    _precondition(req, res.doc["etag"] if res else None, f"record set '{route.record_name}'")
    if res is None:
        raise _record_missing(route)
    body = req.json_object()
    changes = clean_properties(body.get("properties"), route.record_type, flavor)
    current = {k: v for k, v in res.doc["properties"].items() if k not in flavor.read_only}
    current.update(changes)
    doc = record_doc(zone.doc, route.record_type, route.record_name, current, new_guid(), flavor, res.doc)
    res.doc = doc
    return _ok(200, doc)


def delete_record(store: Store, req: Request, route: Any) -> Response:
    flavor = flavor_of(route.kind)
    _zone(store, route, flavor)
    res = store.get(route.key, flavor.record_kind)
    if res is None:
        return Response(204, resource_id=route.key)
    _precondition(req, res.doc["etag"], f"record set '{route.record_name}'")
    if route.record_type == "SOA":
        raise bad_request("BadRequest", "The SOA record set of a zone cannot be deleted.")
    del store.resources[route.key]
    return Response(200, resource_id=route.key)


def list_records(store: Store, req: Request, route: Any) -> Response:
    flavor = flavor_of(route.kind)
    zone = _zone(store, route, flavor)
    items = [r.doc for r in store.children(zone.doc["id"].lower(), flavor.record_kind)
             if route.record_type is None or r.doc["type"].rsplit("/", 1)[-1] == route.record_type]
    suffix = (req.query.get("$recordsetnamesuffix") or "").lower().strip(".")
    if suffix:
        items = [d for d in items if d["name"] == suffix or d["name"].endswith("." + suffix)]
    return Response(200, paginate(req, items, store.knobs.page_size, honour_top=True))


# -- zone handlers ---------------------------------------------------------------------------
def get_zone(store: Store, req: Request, route: Any) -> Response:
    flavor = flavor_of(route.kind)
    res = store.get(route.key, flavor.zone_kind)
    if res is None:
        raise ArmError(404, "ResourceNotFound",
                       f"The Resource '{flavor.zone_type}/{route.name}' under resource group '{route.rg}' "
                       "was not found. "
                       "For more details please go to https://aka.ms/ARMResourceNotFoundFix")
    return _ok(200, render_zone(store, res))


def put_zone(store: Store, req: Request, route: Any) -> Response:
    flavor = flavor_of(route.kind)
    res = store.get(route.key, flavor.zone_kind)
    _precondition(req, res.doc["etag"] if res else None, f"zone '{route.name}'")
    body = req.json_object()
    if not isinstance(body.get("location"), str) or not body["location"]:
        raise bad_request("LocationRequired", "The location property is required for this definition.")
    if res is None:
        seed_zone(store, body, route.resource_id, flavor, out_of_band=True)
        res = store.get(route.key, flavor.zone_kind)
        return _ok(201, render_zone(store, res))
    if "tags" in body:
        tags = body.get("tags") or {}
        check_tags(tags)
        res.doc["tags"] = dict(drop_tags_with_colons(tags) if flavor is PRIVATE else tags)
    res.doc["etag"] = new_guid()
    return _ok(200, render_zone(store, res))


def delete_zone(store: Store, req: Request, route: Any) -> Response:
    flavor = flavor_of(route.kind)
    res = store.get(route.key, flavor.zone_kind)
    if res is None:
        return Response(204, resource_id=route.key)
    _precondition(req, res.doc["etag"], f"zone '{route.name}'")
    for child in store.children(route.key, flavor.record_kind):
        del store.resources[child.doc["id"].lower()]
    del store.resources[route.key]
    return Response(200, resource_id=route.key)


def list_zones(store: Store, req: Request, route: Any) -> Response:
    flavor = flavor_of(route.kind)
    prefix = f"/subscriptions/{route.sub}/" + (f"resourceGroups/{route.rg}/" if route.rg else "")
    items = [render_zone(store, r) for r in store.of_kind(flavor.zone_kind, prefix)]
    return Response(200, paginate(req, items, store.knobs.page_size, honour_top=True))
