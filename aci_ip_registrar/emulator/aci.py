"""ACI container groups: GET, list with nextLink paging, and restart (which changes the IP)."""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
from typing import Any, Dict, Optional

from .errors import ArmError, bad_request, resource_not_found
from .state import Resource, Store
from .wire import Request, Response, paginate

TYPE = "Microsoft.ContainerInstance/containerGroups"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize(body: Dict[str, Any], cg_id: str) -> Dict[str, Any]:
    """Fill the read-only fields a real GET shows."""
    doc = copy.deepcopy(body)
    doc["id"] = cg_id
    doc["name"] = cg_id.rsplit("/", 1)[-1]
    doc["type"] = TYPE
    doc.setdefault("location", "westeurope")
    props = doc.setdefault("properties", {})
    props.setdefault("provisioningState", "Succeeded")
    props.setdefault("osType", "Linux")
    props.setdefault("sku", "Standard")
    props.setdefault("restartPolicy", "Always")
    props.setdefault("containers", [])
    ip = props.get("ipAddress")
    if isinstance(ip, dict):
        ip.setdefault("type", "Private")
        ip.setdefault("ports", [])
    for container in props["containers"]:
        cprops = container.setdefault("properties", {})
        view = cprops.setdefault("instanceView", {})
        view.setdefault("restartCount", 0)
        view.setdefault("currentState", {"state": "Running", "startTime": _now(), "detailStatus": ""})
        view.setdefault("events", [])
    view = props.setdefault("instanceView", {})
    view.setdefault("state", "Running")
    view.setdefault("events", [])
    return doc


def seed(store: Store, body: Dict[str, Any], cg_id: str) -> None:
    store.resources[cg_id.lower()] = Resource("cgroup", normalize(body, cg_id))


def _list_item(doc: Dict[str, Any]) -> Dict[str, Any]:
    # List results carry no instance views (ListResultContainerGroupProperties in the spec).
    item = copy.deepcopy(doc)
    item["properties"].pop("instanceView", None)
    for container in item["properties"].get("containers", []):
        container.get("properties", {}).pop("instanceView", None)
    return item


def get(store: Store, req: Request, route: Any) -> Response:
    res = store.get(route.key, "cgroup")
    if res is None:
        raise resource_not_found(TYPE, route.name, route.rg)
    return Response(200, res.doc, resource_id=route.key)


def list_(store: Store, req: Request, route: Any) -> Response:
    prefix = f"/subscriptions/{route.sub}/" + (f"resourceGroups/{route.rg}/" if route.rg else "")
    items = [_list_item(r.doc) for r in store.of_kind("cgroup", prefix)]
    return Response(200, paginate(req, items, store.knobs.page_size))


def restart(store: Store, req: Request, route: Any) -> Response:
    """POST .../restart -> 204. ?emulatorNewIp=10.0.2.9 (emulator-only) picks the new address."""
    res = store.get(route.key, "cgroup")
    if res is None:
        raise resource_not_found(TYPE, route.name, route.rg)
    wanted = req.query.get("emulatornewip")
    try:
        restart_group(store, res, wanted)
    except ValueError as exc:
        raise bad_request("InvalidEmulatorNewIp", str(exc)) from None
    return Response(204, resource_id=route.key)


def restart_group(store: Store, res: Resource, new_ip: Optional[str] = None) -> str:
    """Restart in place; like ACI, the group comes back with a different private IP."""
    props = res.doc["properties"]
    ip = props.get("ipAddress")
    if not isinstance(ip, dict) or not ip.get("ip"):
        raise ArmError(409, "ContainerGroupHasNoIpAddress", f"Container group '{res.doc['name']}' has no IP address.")
    if new_ip is None:
        new_ip = _free_ip(store, ip["ip"])
    else:
        ipaddress.ip_address(new_ip)  # ValueError for garbage
    ip["ip"] = new_ip
    started = _now()
    for container in props.get("containers", []):
        view = container.setdefault("properties", {}).setdefault("instanceView", {})
        view["restartCount"] = int(view.get("restartCount", 0)) + 1
        view["currentState"] = {"state": "Running", "startTime": started, "detailStatus": ""}
    props.setdefault("instanceView", {})["state"] = "Running"
    return new_ip


def _free_ip(store: Store, current: str) -> str:
    """The next address after `current` in its /24 (.4-.254, as Azure reserves the rest) not held by a group."""
    if ipaddress.ip_address(current).version != 4:
        raise ArmError(409, "UnsupportedAddress", f"Cannot pick a new address next to {current}; pass one.")
    taken = {
        ((r.doc.get("properties") or {}).get("ipAddress") or {}).get("ip")
        for r in store.of_kind("cgroup")
    }
    net = ipaddress.ip_network(f"{current}/24", strict=False)
    hosts = [str(h) for h in net.hosts() if 4 <= int(h) - int(net.network_address) <= 254]
    start = hosts.index(current) + 1 if current in hosts else 0
    for candidate in hosts[start:] + hosts[:start]:
        if candidate not in taken:
            return candidate
    raise ArmError(409, "SubnetIsFull", f"No free address left in {net}.")
