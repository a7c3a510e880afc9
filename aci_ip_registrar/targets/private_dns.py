"""Private DNS A record sets. Synchronous PUT with If-Match (or If-None-Match: * to create);
the ledger lives in the record set's metadata (ledger.py)."""
from __future__ import annotations

import copy
from typing import Dict, List

from ..config import DEFAULT_TTL, TargetSpec
from ..errors import ConfigError
from ..ledger import Ledger, read_metadata, tag_problems, write_metadata
from ..planner import TargetPlan
from .base import Observed, Resource


class PrivateDnsRecord(Resource):
    @property
    def spec(self) -> TargetSpec:
        return self.specs[0]

    def _client(self):
        return self.clients.private_dns(self.subscription).record_sets

    def read(self, budget) -> Observed:
        from azure.core.exceptions import ResourceNotFoundError
        ref = self.spec.ref
        try:
            record = self._client().get(self.resource_group, ref.resource_name, "A", ref.child,
                                        **budget.call_kwargs())
        except ResourceNotFoundError as exc:
            code = getattr(getattr(exc, "error", None), "code", "") or ""
            if code.lower() == "parentresourcenotfound":
                raise ConfigError(f"{self.spec.label}: private DNS zone {ref.resource_name!r} "
                                  f"does not exist in resource group {ref.resource_group!r} "
                                  f"[{code}]", target=self.spec.label, status=404,
                                  code=code) from None
            return Observed(False, None, {ref.child: []}, {ref.child: Ledger()})
        return self.observe(record)

    def observe(self, record) -> Observed:
        ref = self.spec.ref
        props = record.properties
        ips = [a.ipv4_address for a in (props.a_records if props else None) or []
               if a.ipv4_address]
        ledger = read_metadata((props.metadata if props else None) or {})
        return Observed(True, record.etag, {ref.child: ips}, {ref.child: ledger}, model=record)

    def refusals(self, observed: Observed) -> List[str]:
        props = observed.model.properties if observed.model is not None else None
        if props is not None and props.is_auto_registered:
            return [f"{self.spec.label}: the record set is auto-registered by a virtual network "
                    f"link; it is not ours to change"]
        return []

    def changes(self, observed: Observed, spec: TargetSpec) -> List[str]:
        if not observed.exists:
            return [f"create with ttl {spec.ttl or DEFAULT_TTL}"]
        current = observed.model.properties.ttl if observed.model.properties else None
        if spec.ttl is not None and current != spec.ttl:
            return [f"ttl {current} -> {spec.ttl}"]
        return []

    def problems(self, body) -> List[str]:
        metadata = body.properties.metadata if body.properties else None
        return tag_problems(metadata or {}, self.spec.label, "metadata entries")

    def render(self, observed: Observed, plans: Dict[str, TargetPlan]):
        from azure.mgmt.privatedns.models import ARecord, RecordSet, RecordSetProperties
        ref = self.spec.ref
        plan = plans[ref.child]
        records = [ARecord(ipv4_address=ip) for ip in plan.result]
        ledger = observed.ledgers[ref.child]
        if not observed.exists:
            record = RecordSet(properties=RecordSetProperties(
                ttl=self.spec.ttl or DEFAULT_TTL, a_records=records,
                metadata=write_metadata({}, ledger, plan.ledger_after, plan.replaces)))
            return record
        record = copy.deepcopy(observed.model)
        props = record.properties or RecordSetProperties()
        props.a_records = records
        props.metadata = write_metadata(props.metadata or {}, ledger, plan.ledger_after,
                                        plan.replaces)
        if self.spec.ttl is not None:
            props.ttl = self.spec.ttl
        record.properties = props
        return record

    def write(self, observed: Observed, body, budget) -> Observed:
        from azure.core import MatchConditions
        ref = self.spec.ref
        if observed.exists:
            condition = dict(etag=observed.etag, match_condition=MatchConditions.IfNotModified)
        else:
            condition = dict(match_condition=MatchConditions.IfMissing)
        result = self._client().create_or_update(self.resource_group, ref.resource_name, "A",
                                                 ref.child, body, **condition,
                                                 **budget.call_kwargs())
        return self.observe(result)
