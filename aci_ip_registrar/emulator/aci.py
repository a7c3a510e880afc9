"""ACI container groups: GET, list with nextLink paging, restart, start and stop.

Spec (containerInstance.json 2023-05-01) and azure-wire-notes 12.4: restart is an LRO answered
204 + Location; start is an LRO (202, polled); stop is synchronous 204. Stop releases the IP;
start and restart come back with a new one. List items carry no instanceView, and a stopped group
still lists as provisioningState Succeeded (azure-sdk-for-js#14176); GET shows instanceView.state.
"""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
from typing import Any, Dict, Optional

from .errors import ArmError, bad_request, resource_not_found
from .state import Operation, Resource, Store
from .wire import Request, Response, knob_retry_after, new_guid, paginate

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


def _due(store: Store, op: Operation) -> bool:
    return store.now() - op.started >= store.knobs.scaled(store.knobs.aci_op_duration)


def settle(store: Store, res: Resource) -> Resource:
    """Finish a start/restart once aci_op_duration has passed (read lazily)."""
    if not res.op_id:
        return res
    op = store.ops[res.op_id]
    if op.final is None and not _due(store, op):
        return res
    if op.final is None:
        op.final = "Succeeded"
    if op.final == "Succeeded":
        _run(res, op.new_ip, bump=op.kind == "restart")
    res.op_id = None
    return res


def finish_due(store: Store, op: Operation) -> None:
    res = store.get(op.key, "cgroup")
    if res is not None and res.op_id == op.id:
        settle(store, res)
    if op.final is None and _due(store, op):
        op.final = "Succeeded"


def _require(store: Store, route: Any) -> Resource:
    res = store.get(route.key, "cgroup")
    if res is None:
        raise resource_not_found(TYPE, route.name, route.rg)
    return settle(store, res)


def get(store: Store, req: Request, route: Any) -> Response:
    return Response(200, _require(store, route).doc, resource_id=route.key)


def list_(store: Store, req: Request, route: Any) -> Response:
    prefix = f"/subscriptions/{route.sub}/" + (f"resourceGroups/{route.rg}/" if route.rg else "")
    items = [_list_item(settle(store, r).doc) for r in store.of_kind("cgroup", prefix)]
    return Response(200, paginate(req, items, store.knobs.page_size))


def _location(route: Any, res: Resource) -> str:
    return str(res.doc.get("location") or "westeurope").replace(" ", "").lower()


def action(store: Store, req: Request, route: Any) -> Response:
    """POST .../restart|start|stop. ?emulatorNewIp=10.0.2.9 (emulator-only) picks the new address."""
    res = _require(store, route)
    wanted = req.query.get("emulatornewip")
    if wanted is not None:
        try:
            ipaddress.ip_address(wanted)
        except ValueError as exc:
            raise bad_request("InvalidEmulatorNewIp", str(exc)) from None
    if route.action == "stop":
        stop_group(store, res)
        return Response(204, resource_id=route.key)
    new_ip = wanted or _next_ip(store, res)
    op = Operation(id=new_guid(), key=route.key, resource_id=res.doc["id"], started=store.now(),
                   kind=route.action, new_ip=new_ip)
    if res.op_id:
        store.ops[res.op_id].final = "Canceled"
    store.ops[op.id] = op
    res.op_id = op.id
    props = res.doc["properties"]
    props.setdefault("instanceView", {})["state"] = "Pending"
    for container in props.get("containers", []):
        view = container.setdefault("properties", {}).setdefault("instanceView", {})
        view["currentState"] = {"state": "Waiting", "detailStatus": "ContainerCreating"}
    base = f"{req.base_url}/subscriptions/{route.sub}/providers/Microsoft.ContainerInstance/locations/{_location(route, res)}"
    headers = knob_retry_after(store.knobs)
    settle(store, res)  # a zero duration finishes at once
    if route.action == "restart":
        headers["Location"] = f"{base}/operationResults/{op.id}?api-version={req.api_version}"
        return Response(204, None, headers, resource_id=route.key, op_id=op.id, op_status="InProgress")
    headers["Azure-AsyncOperation"] = f"{base}/operations/{op.id}?api-version={req.api_version}"
    return Response(202, None, headers, resource_id=route.key, op_id=op.id, op_status="InProgress")


def _next_ip(store: Store, res: Resource) -> str:
    ip = (res.doc["properties"].get("ipAddress") or {})
    if not isinstance(ip, dict) or not (ip.get("ip") or res.last_ip):
        raise ArmError(409, "ContainerGroupHasNoIpAddress", f"Container group '{res.doc['name']}' has no IP address.")
    return _free_ip(store, ip.get("ip") or res.last_ip)


def _run(res: Resource, new_ip: str, bump: bool) -> None:
    props = res.doc["properties"]
    props.setdefault("ipAddress", {"type": "Private", "ports": []})["ip"] = new_ip
    res.last_ip = new_ip
    started = _now()
    for container in props.get("containers", []):
        view = container.setdefault("properties", {}).setdefault("instanceView", {})
        if bump:
            view["restartCount"] = int(view.get("restartCount", 0)) + 1
        view["currentState"] = {"state": "Running", "startTime": started, "detailStatus": ""}
    props.setdefault("instanceView", {})["state"] = "Running"


def stop_group(store: Store, res: Resource) -> None:
    """Stop: the containers are terminated and the private IP is released."""
    if res.op_id:
        store.ops[res.op_id].final = "Canceled"
        res.op_id = None
    props = res.doc["properties"]
    ip = props.get("ipAddress")
    if isinstance(ip, dict) and ip.get("ip"):
        res.last_ip = ip.pop("ip")
    finished = _now()
    for container in props.get("containers", []):
        view = container.setdefault("properties", {}).setdefault("instanceView", {})
        view["currentState"] = {"state": "Terminated", "finishTime": finished, "detailStatus": "Stopped"}
    props.setdefault("instanceView", {})["state"] = "Stopped"


def restart_group(store: Store, res: Resource, new_ip: Optional[str] = None) -> str:
    """Restart in place at once (out of band); like ACI, the group comes back with a different IP."""
    settle(store, res)
    if new_ip is None:
        new_ip = _next_ip(store, res)
    else:
        ipaddress.ip_address(new_ip)  # ValueError for garbage
    _run(res, new_ip, bump=True)
    return new_ip


def start_group(store: Store, res: Resource, new_ip: Optional[str] = None) -> str:
    settle(store, res)
    if new_ip is None:
        new_ip = _next_ip(store, res)
    else:
        ipaddress.ip_address(new_ip)
    _run(res, new_ip, bump=False)
    return new_ip


def _free_ip(store: Store, current: str) -> str:
    """The next address after `current` in its /24 (.4-.254, as Azure reserves the rest) not held by a group."""
    if ipaddress.ip_address(current).version != 4:
        raise ArmError(409, "UnsupportedAddress", f"Cannot pick a new address next to {current}; pass one.")
    taken = {
        ((r.doc.get("properties") or {}).get("ipAddress") or {}).get("ip")
        for r in store.of_kind("cgroup")
    } | {current}
    net = ipaddress.ip_network(f"{current}/24", strict=False)
    hosts = [str(h) for h in net.hosts() if 4 <= int(h) - int(net.network_address) <= 254]
    start = hosts.index(current) + 1 if current in hosts else 0
    for candidate in hosts[start:] + hosts[:start]:
        if candidate not in taken:
            return candidate
    raise ArmError(409, "SubnetIsFull", f"No free address left in {net}.")
