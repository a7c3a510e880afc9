"""Private DNS A record sets. Synchronous PUT with If-Match (or If-None-Match: * to create);
the ledger lives in the record set's metadata (ledger.py). The record set is read and written as
JSON (wire notes §3.3), with the headers azure-mgmt-privatedns 2.x sends (§3.2).

What differs between DNS flavours on the wire (property names, api-version, how If-Match is
sent, which properties are read-only) is a class attribute, so another A-record kind is a
subclass that names its own."""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

from ..config import DEFAULT_TTL, TargetSpec, ttl_option
from ..errors import ConfigError
from ..ledger import Ledger, read_metadata, tag_problems, write_metadata
from ..planner import TargetPlan
from ..resource_ids import RECORD, TargetRef, check_zone, network_id
from .base import Need, Observed, Resource

# Read-only in the SDK's RecordSet model, so the SDK never sent them; neither do we.
_READ_ONLY = ("id", "name", "type", "systemData")


def _props(doc) -> Dict[str, Any]:
    return (doc or {}).get("properties") or {}


class PrivateDnsRecord(Resource):
    KIND = "private-dns-a"
    OPTIONS = {"ttl": ttl_option}
    ZONES = "privateDnsZones"           # the resource type segment
    LABEL = "private-dns"
    API_VERSION = "2024-06-01"          # what azure-mgmt-privatedns 2.0 sends
    TTL, RECORDS = "ttl", "aRecords"
    READ_ONLY_PROPS = ("fqdn", "isAutoRegistered")

    @classmethod
    def id_form(cls) -> str:
        return f".../{cls.ZONES}/{{zone}}/A/{{name}}"

    @classmethod
    def parse(cls, raw: str, parts: List[str]) -> Optional[TargetRef]:
        if len(parts) == 8:
            raise ConfigError(f"target {raw!r}: this names a zone; name an A record set: "
                              f"{cls.id_form()}" + (" (a reverse zone, *.in-addr.arpa, takes "
                                                    "PTR records)" if cls.ZONES ==
                                                    "privateDnsZones" else ""))
        if len(parts) != 10:
            raise ConfigError(f"target {raw!r}: a {cls.LABEL} target must end with "
                              f"/{cls.ZONES}/{{zone}}/A/{{name}}")
        zone, rtype, name = check_zone(raw, parts[7]), parts[8], parts[9]
        if rtype.upper() != "A":
            raise ConfigError(f"target {raw!r}: record type {rtype!r} is not supported; only A "
                              f"record sets hold a member's IPv4 address")
        if not RECORD.match(name):
            raise ConfigError(f"target {raw!r}: record name {name!r} is not a valid DNS name")
        name = name.lower()
        resource_id = network_id(parts[1], parts[3], f"{cls.ZONES}/{zone}/A/{name}")
        return TargetRef(cls.KIND, parts[1], parts[3], zone, name, raw, resource_id,
                         resource_id, f"{cls.LABEL} {name}.{zone}")

    @classmethod
    def fqdn(cls, spec: TargetSpec) -> Optional[str]:
        name = spec.ref.child
        return spec.ref.resource_name if name == "@" else f"{name}.{spec.ref.resource_name}"

    def needs(self, observed: Optional[Observed], writing: bool) -> List[Need]:
        # The record set once it exists (record-level RBAC; the permissions there include the
        # zone's), the zone while it does not (an assignment needs an existing scope).
        exists = observed is not None and observed.exists
        scope = self.resource_id if exists else self.resource_id.rsplit("/A/", 1)[0]
        verbs = ["read"] + (["write"] if writing else [])
        return [(scope, f"Microsoft.Network/{self.ZONES}/A/{verb}") for verb in verbs]

    @property
    def spec(self) -> TargetSpec:
        return self.specs[0]

    def read(self, budget) -> Observed:
        from azure.core.exceptions import ResourceNotFoundError
        ref = self.spec.ref
        try:
            record = self.clients.arm.get(self.resource_id, self.API_VERSION,
                                          **budget.call_kwargs())
        except ResourceNotFoundError as exc:
            code = getattr(getattr(exc, "error", None), "code", "") or ""
            if code.lower() == "parentresourcenotfound":
                raise ConfigError(f"{self.spec.label}: {self.LABEL} zone {ref.resource_name!r} "
                                  f"does not exist in resource group {ref.resource_group!r} "
                                  f"[{code}]", target=self.spec.label, status=404,
                                  code=code) from None
            return Observed(False, None, {ref.child: []}, {ref.child: Ledger()})
        return self.observe(record)

    def observe(self, record: Dict[str, Any]) -> Observed:
        ref = self.spec.ref
        props = _props(record)
        ips = [a["ipv4Address"] for a in props.get(self.RECORDS) or []
               if isinstance(a, dict) and a.get("ipv4Address")]
        ledger = read_metadata(props.get("metadata") or {})
        return Observed(True, record.get("etag"), {ref.child: ips}, {ref.child: ledger},
                        model=record)

    def refusals(self, observed: Observed) -> List[str]:
        if _props(observed.model).get("isAutoRegistered"):
            return [f"{self.spec.label}: the record set is auto-registered by a virtual network "
                    f"link; it is not ours to change"]
        return []

    def changes(self, observed: Observed, spec: TargetSpec) -> List[str]:
        if not observed.exists:
            return [f"create with ttl {spec.ttl or DEFAULT_TTL}"]
        current = _props(observed.model).get(self.TTL)
        if spec.ttl is not None and current != spec.ttl:
            return [f"ttl {current} -> {spec.ttl}"]
        return []

    def problems(self, body: Dict[str, Any]) -> List[str]:
        return tag_problems(_props(body).get("metadata") or {}, self.spec.label,
                            "the record set's metadata entries", "metadata entries")

    def render(self, observed: Observed, plans: Dict[str, TargetPlan]) -> Dict[str, Any]:
        ref = self.spec.ref
        plan = plans[ref.child]
        records = [{"ipv4Address": ip} for ip in plan.result]
        ledger = observed.ledgers[ref.child]
        if not observed.exists:
            return {"properties": {
                self.TTL: self.spec.ttl or DEFAULT_TTL, self.RECORDS: records,
                "metadata": write_metadata({}, ledger, plan.ledger_after, plan.replaces)}}
        record = {k: v for k, v in copy.deepcopy(observed.model).items() if k not in _READ_ONLY}
        props = {k: v for k, v in _props(record).items() if k not in self.READ_ONLY_PROPS}
        props[self.RECORDS] = records
        props["metadata"] = write_metadata(props.get("metadata") or {}, ledger,
                                           plan.ledger_after, plan.replaces)
        if self.spec.ttl is not None:
            props[self.TTL] = self.spec.ttl
        record["properties"] = props
        return record

    def if_match(self, etag: str) -> str:
        from ..pipeline import quote_etag
        return quote_etag(etag)

    def write(self, observed: Observed, body, budget) -> Observed:
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
        if observed.exists:
            headers = {"If-Match": self.if_match(observed.etag or "*")}
            errors = {412: ResourceModifiedError}
        else:
            headers = {"If-None-Match": "*"}
            errors = {412: ResourceExistsError}
        _, result = self.clients.arm.put(self.resource_id, self.API_VERSION, body, headers,
                                         error_map=errors, **budget.call_kwargs())
        return self.observe(result)
