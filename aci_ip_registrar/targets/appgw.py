"""Application Gateway backend pools. A pool changes only by PUTting the whole gateway, a
long-running operation; the ledger lives in the gateway's tags (ledger.py).

The gateway stays the JSON document Azure sent, from the read to the write: a write changes the
pools' address lists and the ledger tags and sends every other byte back as it came (I3), with
no model layer in between to drop or reshape a field this SDK version does not know.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

from ..errors import ConfigError, RegistrationFailed
from ..ledger import read_tags, tag_problems, write_tags
from ..planner import TargetPlan
from ..resource_ids import NRP_NAME, TargetRef, network_id
from .base import Need, Observed, Resource

API_VERSION = "2026-03-01"      # what azure-mgmt-network 33.1 sends for applicationGateways
_BUSY = {"updating", "creating", "deleting"}


def _pools(gateway: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    props = gateway.get("properties") or {}
    return {str(p.get("name", "")).lower(): p for p in props.get("backendAddressPools") or []}


def _ips(pool: Dict[str, Any]) -> List[str]:
    entries = (pool.get("properties") or {}).get("backendAddresses") or []
    return [a["ipAddress"] for a in entries if isinstance(a, dict) and a.get("ipAddress")]


# What a gateway PUT needs beyond applicationGateways/write: NRP re-checks the linked resources on
# each update (wire notes §2.6: the subnet check arrives as a failed operation). Read and join,
# as Microsoft's permission table for existing subnets and public IPs lists them.
_LINKED = (
    ("gatewayIPConfigurations", "subnet", "Microsoft.Network/virtualNetworks/subnets"),
    ("frontendIPConfigurations", "subnet", "Microsoft.Network/virtualNetworks/subnets"),
    ("frontendIPConfigurations", "publicIPAddress", "Microsoft.Network/publicIPAddresses"),
)
_WAF_JOIN = "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/join/action"


def linked(gateway: Dict[str, Any]) -> List[Need]:
    props = gateway.get("properties") or {}
    needs: List[Need] = []
    for collection, field, rtype in _LINKED:
        for item in props.get(collection) or []:
            ref = ((item or {}).get("properties") or {}).get(field) or {}
            if ref.get("id"):
                needs += [(ref["id"], f"{rtype}/read"), (ref["id"], f"{rtype}/join/action")]
    if (props.get("firewallPolicy") or {}).get("id"):
        needs.append((props["firewallPolicy"]["id"], _WAF_JOIN))
    return list(dict.fromkeys(needs))


class AppGatewayPools(Resource):
    KIND = "appgw-pool"
    ID_FORM = ".../applicationGateways/{gateway}/backendAddressPools/{pool}"

    @classmethod
    def parse(cls, raw: str, parts: List[str]) -> Optional[TargetRef]:
        if len(parts) != 10 or parts[8].lower() != "backendaddresspools":
            raise ConfigError(f"target {raw!r}: an App Gateway target must end with "
                              f"/applicationGateways/{{gateway}}/backendAddressPools/{{pool}}")
        gateway, pool = parts[7], parts[9]
        if not NRP_NAME.match(gateway):
            raise ConfigError(f"target {raw!r}: gateway name {gateway!r} is not valid")
        if not NRP_NAME.match(pool):
            raise ConfigError(f"target {raw!r}: pool name {pool!r} is not valid")
        resource_id = network_id(parts[1], parts[3], f"applicationGateways/{gateway}")
        return TargetRef(cls.KIND, parts[1], parts[3], gateway, pool, raw, resource_id,
                         f"{resource_id}/backendAddressPools/{pool}",
                         f"appgw {gateway}/{pool}", per_child=False)

    def needs(self, observed: Optional[Observed], writing: bool) -> List[Need]:
        out = [(self.resource_id, "Microsoft.Network/applicationGateways/read")]
        if writing:
            out.append((self.resource_id, "Microsoft.Network/applicationGateways/write"))
            if observed is not None and observed.model:
                out += linked(observed.model)
        return out

    @property
    def gateway(self) -> str:
        return self.specs[0].ref.resource_name

    def read(self, budget) -> Observed:
        doc = self.clients.arm.get(self.resource_id, API_VERSION, **budget.call_kwargs())
        return self.observe(doc)

    def observe(self, gateway: Dict[str, Any]) -> Observed:
        pools = _pools(gateway)
        addresses, ledgers = {}, {}
        for spec in self.specs:
            pool = pools.get(spec.ref.child.lower())
            if pool is None:
                known = ", ".join(sorted(str(p.get("name")) for p in pools.values())) or "none"
                raise ConfigError(f"{spec.label}: gateway {self.gateway!r} has no backend pool "
                                  f"{spec.ref.child!r} (pools: {known})", target=spec.label)
            addresses[spec.ref.child] = _ips(pool)
            ledgers[spec.ref.child] = read_tags(gateway.get("tags") or {}, spec.ref.child)
        state = str((gateway.get("properties") or {}).get("provisioningState") or "")
        return Observed(True, gateway.get("etag"), addresses, ledgers,
                        busy=state if state.lower() in _BUSY else None, model=gateway)

    def render(self, observed: Observed, plans: Dict[str, TargetPlan]) -> Dict[str, Any]:
        gateway = copy.deepcopy(observed.model)
        tags = dict(gateway.get("tags") or {})
        pools = _pools(gateway)
        for spec in self.specs:
            plan = plans[spec.ref.child]
            if not plan.changed:
                continue      # leave an unchanged pool's ledger tags exactly as they are
            pool = pools[spec.ref.child.lower()]
            props = pool.setdefault("properties", {})
            entries = list(props.get("backendAddresses") or [])
            held = {a.get("ipAddress") for a in entries if isinstance(a, dict)}
            kept = [a for a in entries
                    if not (isinstance(a, dict) and a.get("ipAddress") in plan.remove)]
            kept += [{"ipAddress": ip} for ip in plan.add if ip not in held]
            props["backendAddresses"] = kept
            tags = write_tags(tags, spec.ref.child, observed.ledgers[spec.ref.child],
                              plan.ledger_after, plan.replaces)
        if "tags" in gateway or tags:
            gateway["tags"] = tags
        return gateway

    def problems(self, body) -> List[str]:
        return tag_problems(body.get("tags") or {}, self.label)

    def write(self, observed: Observed, body, budget) -> Observed:
        # If-Match is not in the API for gateways; it goes as a header. Whether the gateway
        # honours it is unconfirmed (wire notes §12.2), so the read-back is verified too.
        poller = self.clients.arm.begin_put(
            self.resource_id, API_VERSION, body,
            {"If-Match": observed.etag} if observed.etag else {},
            self.clients.poll_interval, **budget.call_kwargs())
        result = poller.result(timeout=budget.remaining())
        if not poller.done():
            raise RegistrationFailed(
                f"{self.label}: timed out after {budget.timeout:g}s; pending: gateway "
                f"{self.gateway!r} update operation still {poller.status()}", target=self.label)
        return self.observe(result)
