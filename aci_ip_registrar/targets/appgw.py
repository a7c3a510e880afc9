"""Application Gateway backend pools. A pool changes only by PUTting the whole gateway, a
long-running operation; the ledger lives in the gateway's tags (ledger.py)."""
from __future__ import annotations

import logging
from typing import Dict

from ..errors import ConfigError, RegistrationFailed
from ..ledger import apply_to_tags, ledger_from_tags
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

    def observe(self, gateway) -> Observed:
        props = gateway.properties
        pools = {p.name.lower(): p for p in (props.backend_address_pools or [])}
        addresses, ledgers = {}, {}
        for spec in self.specs:
            pool = pools.get(spec.ref.child.lower())
            if pool is None:
                known = ", ".join(sorted(p.name for p in pools.values())) or "none"
                raise ConfigError(f"{spec.label}: gateway {self.gateway!r} has no backend pool "
                                  f"{spec.ref.child!r} (pools: {known})", target=spec.label)
            entries = (pool.properties.backend_addresses if pool.properties else None) or []
            addresses[spec.ref.child] = [a.ip_address for a in entries if a.ip_address]
            ledgers[spec.ref.child] = ledger_from_tags(gateway.tags or {}, spec.ref.child)
        state = _state(props.provisioning_state)
        return Observed(True, gateway.etag, addresses, ledgers,
                        busy=state if state.lower() in _BUSY else None, model=gateway)

    def write(self, observed: Observed, plans: Dict[str, TargetPlan], budget) -> Observed:
        from azure.mgmt.network.models import (ApplicationGatewayBackendAddress,
                                               ApplicationGatewayBackendAddressPoolPropertiesFormat)
        gateway = observed.model
        tags = dict(gateway.tags or {})
        for pool in gateway.properties.backend_address_pools or []:
            spec = next((s for s in self.specs if s.ref.child.lower() == pool.name.lower()), None)
            if spec is None:
                continue
            plan = plans[spec.ref.child]
            if pool.properties is None:
                pool.properties = ApplicationGatewayBackendAddressPoolPropertiesFormat()
            entries = list(pool.properties.backend_addresses or [])
            held = {a.ip_address for a in entries if a.ip_address}
            kept = [a for a in entries if not (a.ip_address and a.ip_address in plan.remove)]
            kept += [ApplicationGatewayBackendAddress(ip_address=ip)
                     for ip in plan.add if ip not in held]
            pool.properties.backend_addresses = kept
            tags = apply_to_tags(tags, spec.ref.child, plan.ledger_before, plan.ledger_after,
                                 spec.label)
        gateway.tags = tags
        # If-Match is not in the SDK signature for gateways; it goes as a header. Whether the
        # gateway honours it is unconfirmed, so the result is verified from the read-back too.
        poller = self._client().begin_create_or_update(
            self.resource_group, self.gateway, gateway,
            headers={"If-Match": observed.etag}, **budget.call_kwargs())
        result = poller.result(timeout=budget.remaining())
        if not poller.done():
            raise RegistrationFailed(
                f"{self.label}: timed out after {budget.timeout:g}s; pending: gateway "
                f"{self.gateway!r} update operation still {poller.status()}", target=self.label)
        return self.observe(result)
