"""Application Gateway backend pools. A pool changes only by PUTting the whole gateway, a
long-running operation; the ledger lives in the gateway's tags (ledger.py)."""
from __future__ import annotations

import copy
import logging
from typing import Dict, List

from ..errors import ConfigError, RegistrationFailed
from ..ledger import read_tags, tag_problems, write_tags
from ..planner import TargetPlan
from .base import Observed, Resource

log = logging.getLogger(__name__)
_BUSY = {"updating", "creating", "deleting"}


def _state(value) -> str:
    return str(getattr(value, "value", value) or "")


class AppGatewayPools(Resource):
    @property
    def gateway(self) -> str:
        return self.specs[0].ref.resource_name

    def _client(self):
        return self.clients.network(self.subscription).application_gateways

    def read(self, budget) -> Observed:
        gateway = self._client().get(self.resource_group, self.gateway, **budget.call_kwargs())
        return self.observe(gateway)

    def _pools(self, gateway) -> Dict[str, object]:
        return {p.name.lower(): p for p in (gateway.properties.backend_address_pools or [])}

    def observe(self, gateway) -> Observed:
        pools = self._pools(gateway)
        addresses, ledgers = {}, {}
        for spec in self.specs:
            pool = pools.get(spec.ref.child.lower())
            if pool is None:
                known = ", ".join(sorted(p.name for p in pools.values())) or "none"
                raise ConfigError(f"{spec.label}: gateway {self.gateway!r} has no backend pool "
                                  f"{spec.ref.child!r} (pools: {known})", target=spec.label)
            entries = (pool.properties.backend_addresses if pool.properties else None) or []
            addresses[spec.ref.child] = [a.ip_address for a in entries if a.ip_address]
            ledgers[spec.ref.child] = read_tags(gateway.tags or {}, spec.ref.child)
        state = _state(gateway.properties.provisioning_state)
        return Observed(True, gateway.etag, addresses, ledgers,
                        busy=state if state.lower() in _BUSY else None, model=gateway)

    def render(self, observed: Observed, plans: Dict[str, TargetPlan]):
        from azure.mgmt.network.models import (ApplicationGatewayBackendAddress,
                                               ApplicationGatewayBackendAddressPoolPropertiesFormat)
        gateway = copy.deepcopy(observed.model)
        tags = dict(gateway.tags or {})
        pools = self._pools(gateway)
        for spec in self.specs:
            plan = plans[spec.ref.child]
            if not plan.changed:
                continue      # leave an unchanged pool's ledger tags exactly as they are
            pool = pools[spec.ref.child.lower()]
            if pool.properties is None:
                pool.properties = ApplicationGatewayBackendAddressPoolPropertiesFormat()
            entries = list(pool.properties.backend_addresses or [])
            held = {a.ip_address for a in entries if a.ip_address}
            kept = [a for a in entries if not (a.ip_address and a.ip_address in plan.remove)]
            kept += [ApplicationGatewayBackendAddress(ip_address=ip)
                     for ip in plan.add if ip not in held]
            pool.properties.backend_addresses = kept
            tags = write_tags(tags, spec.ref.child, observed.ledgers[spec.ref.child],
                              plan.ledger_after, plan.replaces)
        gateway.tags = tags
        return gateway

    def problems(self, body) -> List[str]:
        return tag_problems(body.tags or {}, self.label)

    def write(self, observed: Observed, body, budget) -> Observed:
        # If-Match is not in the SDK signature for gateways; it goes as a header. Whether the
        # gateway honours it is unconfirmed (wire notes §12.2), so the read-back is verified too.
        poller = self._client().begin_create_or_update(
            self.resource_group, self.gateway, body,
            headers={"If-Match": observed.etag}, **budget.call_kwargs())
        result = poller.result(timeout=budget.remaining())
        if not poller.done():
            raise RegistrationFailed(
                f"{self.label}: timed out after {budget.timeout:g}s; pending: gateway "
                f"{self.gateway!r} update operation still {poller.status()}", target=self.label)
        return self.observe(result)
