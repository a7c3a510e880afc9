"""The stored App Gateway document: what a PUT body becomes, and the checks NRP makes on it.

Read-only and write-only fields follow azure-mgmt-network 33's models (visibility ["read"]):
clients may send them back (a plain-dict body is sent verbatim) and they are ignored.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .errors import bad_request, invalid_format
from .wire import new_guid

TYPE = "Microsoft.Network/applicationGateways"


@dataclass(frozen=True)
class Spec:
    typed: bool = True  # carries "type"
    state: bool = True  # carries properties.provisioningState
    read_only: Tuple[str, ...] = ()
    write_only: Tuple[str, ...] = ()  # accepted on PUT, never returned
    nested: Dict[str, "Spec"] = field(default_factory=dict)


_S = Spec()
COLLECTIONS: Dict[str, Spec] = {
    "advancedRoutingConditionSets": _S,
    "advancedRoutingMaps": Spec(nested={"advancedRoutingRules": _S}),
    "authenticationCertificates": _S,
    "backendAddressPools": Spec(read_only=("backendIPConfigurations",)),
    "backendHttpSettingsCollection": _S,
    "backendSettingsCollection": _S,
    "entraJWTValidationConfigs": Spec(typed=False),
    "frontendIPConfigurations": _S,
    "frontendPorts": _S,
    "gatewayIPConfigurations": _S,
    "httpListeners": _S,
    "listeners": _S,
    "loadDistributionPolicies": Spec(nested={"loadDistributionTargets": Spec(state=False)}),
    "privateLinkConfigurations": Spec(nested={"ipConfigurations": _S}),
    "probes": _S,
    "redirectConfigurations": Spec(state=False),
    "requestRoutingRules": _S,
    "rewriteRuleSets": Spec(typed=False),
    "routingRules": _S,
    "sslCertificates": Spec(read_only=("publicCertData",), write_only=("data", "password")),
    "sslProfiles": _S,
    "trustedClientCertificates": Spec(read_only=("validatedCertData", "clientCertIssuerDN")),
    "trustedRootCertificates": _S,
    "urlPathMaps": Spec(nested={"pathRules": _S}),
}
# NRP answers these as [] when a gateway has none.
EMPTY_BY_DEFAULT = (
    "authenticationCertificates", "backendAddressPools", "backendHttpSettingsCollection",
    "backendSettingsCollection", "frontendIPConfigurations", "frontendPorts",
    "gatewayIPConfigurations", "httpListeners", "listeners", "loadDistributionPolicies",
    "privateEndpointConnections", "privateLinkConfigurations", "probes", "redirectConfigurations",
    "requestRoutingRules", "rewriteRuleSets", "routingRules", "sslCertificates", "sslProfiles",
    "trustedClientCertificates", "trustedRootCertificates", "urlPathMaps",
)
TOP_READ_ONLY = (
    "provisioningState", "operationalState", "resourceGuid", "privateEndpointConnections",
    "defaultPredefinedSslPolicy",
)


# -- building the stored document ----------------------------------------------------------------
def build(body: Dict[str, Any], gw_id: str, prev: Optional[Dict[str, Any]], *, seeding: bool = False) -> Dict[str, Any]:
    """The gateway as stored after a PUT of `body` (etag and provisioningState stamped later)."""
    location = body.get("location")
    if not isinstance(location, str) or not location:
        if not seeding:
            raise bad_request("LocationRequired", "The location property is required for this definition.")
        location = "westeurope"
    raw_props = body.get("properties", {})
    if raw_props is None:
        raw_props = {}
    if not isinstance(raw_props, dict):
        raise invalid_format("properties", "Expected a JSON object.")
    name = gw_id.rsplit("/", 1)[-1]
    doc: Dict[str, Any] = {"name": name, "id": gw_id, "etag": None, "type": TYPE, "location": location}
    for key, value in body.items():
        if key not in ("id", "name", "type", "etag", "location", "properties"):
            doc[key] = copy.deepcopy(value)
    props = copy.deepcopy(raw_props)
    prev_props = (prev or {}).get("properties") or {}
    for key in TOP_READ_ONLY:
        props.pop(key, None)
    props["operationalState"] = prev_props.get("operationalState", "Running")
    props["resourceGuid"] = prev_props.get("resourceGuid") or new_guid()
    props["privateEndpointConnections"] = copy.deepcopy(prev_props.get("privateEndpointConnections", []))
    if "defaultPredefinedSslPolicy" in prev_props:
        props["defaultPredefinedSslPolicy"] = prev_props["defaultPredefinedSslPolicy"]
    for coll, spec in COLLECTIONS.items():
        if coll in props:
            props[coll] = _items(props[coll], gw_id, TYPE, coll, spec, prev_props.get(coll), f"properties.{coll}")
        elif coll in EMPTY_BY_DEFAULT:
            props[coll] = []
    for fip in props.get("frontendIPConfigurations", []):
        fprops = fip["properties"]
        fprops.setdefault("privateIPAllocationMethod", "Static" if fprops.get("privateIPAddress") else "Dynamic")
    _check_backend_addresses(props)
    _check_references(props, gw_id)
    doc["properties"] = props
    return doc


def _items(items: Any, parent_id: str, parent_type: str, coll: str, spec: Spec, prev_items: Any,
           jpath: str) -> List[Dict[str, Any]]:
    """Normalize one collection of child resources, carrying read-only fields over from `prev_items`."""
    if not isinstance(items, list):
        raise invalid_format(jpath, "Expected a JSON array.")
    prev_by_name = {
        str(i.get("name", "")).lower(): i for i in (prev_items or []) if isinstance(i, dict)
    }
    seen = set()
    out = []
    for idx, item in enumerate(items):
        path = f"{jpath}[{idx}]"
        if not isinstance(item, dict):
            raise invalid_format(path, "Expected a JSON object.")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise invalid_format(f"{path}.name", "A child resource needs a name.")
        if name.lower() in seen and parent_type == TYPE:
            # Only top-level children: Microsoft's own create example repeats a nested target name.
            raise bad_request(
                "DuplicateResourceName",
                f"Resource {parent_id} has two child resources with the same name ({name}) in {coll}.",
            )
        seen.add(name.lower())
        raw = item.get("properties", {})
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise invalid_format(f"{path}.properties", "Expected a JSON object.")
        props = copy.deepcopy(raw)
        prev_props = (prev_by_name.get(name.lower()) or {}).get("properties") or {}
        props.pop("provisioningState", None)
        for key in spec.read_only:
            props.pop(key, None)
            if key in prev_props:
                props[key] = copy.deepcopy(prev_props[key])
        secret = {key: props.pop(key) for key in spec.write_only if key in props}
        if coll == "sslCertificates" and secret.get("data") and "publicCertData" not in props:
            # Stand-in for the public part NRP extracts from the PFX.
            props["publicCertData"] = base64.b64encode(hashlib.sha256(str(secret["data"]).encode()).digest()).decode()
        sub_id = f"{parent_id}/{coll}/{name}"
        sub_type = f"{parent_type}/{coll}"
        for ncoll, nspec in spec.nested.items():
            if ncoll in props:
                props[ncoll] = _items(props[ncoll], sub_id, sub_type, ncoll, nspec, prev_props.get(ncoll),
                                      f"{path}.properties.{ncoll}")
        new: Dict[str, Any] = {"name": name, "id": sub_id, "etag": None}
        if spec.typed:
            new["type"] = sub_type
        for key, value in item.items():
            if key not in ("name", "id", "etag", "type", "properties"):
                new[key] = copy.deepcopy(value)
        new["properties"] = props
        out.append(new)
    return out


def _check_backend_addresses(props: Dict[str, Any]) -> None:
    for i, pool in enumerate(props.get("backendAddressPools", [])):
        addrs = pool["properties"].get("backendAddresses", [])
        base = f"properties.backendAddressPools[{i}].properties.backendAddresses"
        if not isinstance(addrs, list):
            raise invalid_format(base, "Expected a JSON array.")
        for j, addr in enumerate(addrs):
            if not isinstance(addr, dict):
                raise invalid_format(
                    f"{base}[{j}]",
                    f"Error converting value {addr!r} to type 'ApplicationGatewayBackendAddress'.",
                )
            for key, value in addr.items():
                if key in ("ipAddress", "fqdn") and not isinstance(value, str):
                    raise invalid_format(f"{base}[{j}].{key}", "Expected a string.")
            if not addr.get("ipAddress") and not addr.get("fqdn"):
                # e.g. {"ip_address": ...}: JSON binding ignores unknown keys, leaving an empty address.
                raise bad_request(
                    "ApplicationGatewayBackendAddressInvalid",
                    f"Backend address {j} of backend address pool {pool['id']} has neither an "
                    "ipAddress nor an fqdn.",
                )
            ip = addr.get("ipAddress")
            if ip is not None:
                try:
                    ipaddress.ip_address(ip)
                except ValueError:
                    raise bad_request(
                        "InvalidRequestFormat",
                        f"The IP address '{ip}' of backend address pool {pool['id']} is not valid.",
                    ) from None


def _check_references(props: Dict[str, Any], gw_id: str) -> None:
    """NRP rejects references to child resources that are not in the same PUT."""
    prefix = gw_id.lower() + "/"
    names = {
        coll.lower(): {str(i.get("name", "")).lower() for i in props.get(coll, []) if isinstance(i, dict)}
        for coll in COLLECTIONS
    }

    def walk(node: Any, owner: str) -> None:
        if isinstance(node, dict):
            if set(node) == {"id"} and isinstance(node["id"], str) and node["id"].lower().startswith(prefix):
                tail = node["id"][len(prefix):].split("/")
                if len(tail) == 2 and tail[0].lower() in names and tail[1].lower() not in names[tail[0].lower()]:
                    raise bad_request(
                        "InvalidResourceReference",
                        f"Resource {node['id']} referenced by resource {owner} was not found. "
                        "Please make sure that the referenced resource exists, and that both "
                        "resources are in the same region.",
                    )
                return
            owner = node["id"] if isinstance(node.get("id"), str) and "name" in node else owner
            for value in node.values():
                walk(value, owner)
        elif isinstance(node, list):
            for value in node:
                walk(value, owner)

    walk(props, gw_id)


def stamp(doc: Dict[str, Any], etag: str, state: str) -> None:
    """Set the etag and provisioningState on the gateway and every child resource."""
    doc["etag"] = etag
    props = doc["properties"]
    props["provisioningState"] = state
    for coll, spec in COLLECTIONS.items():
        _stamp_items(props.get(coll) or [], spec, etag, state)


def _stamp_items(items: List[Dict[str, Any]], spec: Spec, etag: str, state: str) -> None:
    for item in items:
        item["etag"] = etag
        props = item.setdefault("properties", {})
        if spec.state:
            props["provisioningState"] = state
        for ncoll, nspec in spec.nested.items():
            _stamp_items(props.get(ncoll) or [], nspec, etag, state)
