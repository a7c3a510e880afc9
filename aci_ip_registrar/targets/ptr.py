"""PTR records in a private reverse zone (wire notes §3.4).

The target is the reverse zone plus the host its PTR records name (`host=`, or the one DNS A
target of the same run). The record name comes from the member's IP (10.0.2.4 in
`2.0.10.in-addr.arpa` is `4`), so a member that moves changes record sets: the zone is read
as one resource (a list of its PTR record sets), and a write is a few conditional requests,
one per record set that changes, leavers first. Each record set carries the ledger entries of
the addresses it names in its own metadata (I7); an entry in the wrong record set is foreign.

A record set at the member's address that names another host is not ours: it is left alone,
and the member gets no PTR there until that host's owner moves it (the plan says so).
"""
from __future__ import annotations

import copy
import ipaddress
from typing import Any, Dict, List, Optional

from ..config import DEFAULT_TTL, TargetSpec, ttl_option
from ..errors import ConfigError
from ..ledger import Ledger, read_metadata_sets, tag_problems, write_metadata
from ..planner import TargetPlan
from ..resource_ids import HOST, TargetRef, check_zone, network_id
from .base import Need, Observed, Resource

API_VERSION = "2024-06-01"      # what azure-mgmt-privatedns 2.0 sends
SUFFIX = ".in-addr.arpa"
_READ_ONLY = ("id", "name", "type", "systemData")
_READ_ONLY_PROPS = ("fqdn", "isAutoRegistered")


def host_option(raw: str, value: str) -> str:
    if not HOST.match(value) or len(value.rstrip(".")) > 253:
        raise ConfigError(f"target {raw!r}: host {value!r} is not a valid DNS name")
    return value.rstrip(".").lower()


def _norm(host: Any) -> str:
    return str(host or "").rstrip(".").lower()


def _network(raw: str, zone: str) -> List[str]:
    """The network octets a reverse zone covers, most significant first."""
    labels = zone[:-len(SUFFIX)].split(".")
    if not 1 <= len(labels) <= 3 or not all(
            label.isdigit() and label == str(int(label)) and int(label) < 256 for label in labels):
        raise ConfigError(f"target {raw!r}: reverse zone {zone!r} must be 1 to 3 decimal octets "
                          f"before .in-addr.arpa (e.g. 2.0.10.in-addr.arpa)")
    return labels[::-1]


class ReversePtr(Resource):
    KIND = "private-dns-ptr"
    ID_FORM = ".../privateDnsZones/{n.n.n}.in-addr.arpa (with ;host=NAME)"
    OPTIONS = {"host": host_option, "ttl": ttl_option}

    @classmethod
    def parse(cls, raw: str, parts: List[str]) -> Optional[TargetRef]:
        if len(parts) < 8 or not parts[7].lower().endswith(SUFFIX):
            return None
        if len(parts) != 8:
            raise ConfigError(f"target {raw!r}: name the reverse zone itself, "
                              f".../privateDnsZones/{parts[7]}; the record name comes from the "
                              f"member's IP and the host from ;host=NAME")
        zone = check_zone(raw, parts[7])
        _network(raw, zone)
        resource_id = network_id(parts[1], parts[3], f"privateDnsZones/{zone}")
        return TargetRef(cls.KIND, parts[1], parts[3], zone, "", raw, resource_id, resource_id,
                         f"ptr {zone}", per_child=False)

    @classmethod
    def resolve(cls, spec: TargetSpec, specs: List[TargetSpec]) -> TargetSpec:
        from . import kind_class
        host = spec.option("host")
        if host is None:
            names = sorted({n for s in specs if s is not spec
                            for n in [kind_class(s.ref.kind).fqdn(s)] if n})
            if len(names) != 1:
                why = (f"the run has several DNS A targets ({', '.join(names)})" if names
                       else "the run has no DNS A target to take it from")
                raise ConfigError(f"target {spec.ref.raw!r}: a PTR target needs the host it "
                                  f"names: add ;host=NAME ({why})")
            host = host_option(spec.ref.raw, names[0])
        ref = spec.ref._replace(child=host, label=f"ptr {host} in {spec.ref.resource_name}")
        return spec._replace(ref=ref)

    # -- addresses <-> record names ----------------------------------------------------------

    @property
    def zone(self) -> str:
        return self.specs[0].ref.resource_name

    @property
    def network(self) -> List[str]:
        return _network(self.specs[0].ref.raw, self.zone)

    def record_name(self, ip: str) -> Optional[str]:
        octets, network = ip.split("."), self.network
        if octets[:len(network)] != network:
            return None
        return ".".join(reversed(octets[len(network):]))

    def address(self, name: str) -> Optional[str]:
        octets = self.network + name.split(".")[::-1]
        try:
            return str(ipaddress.IPv4Address(".".join(octets))) if len(octets) == 4 else None
        except ValueError:
            return None

    def check_address(self, spec: TargetSpec, ip: str) -> List[str]:
        if self.record_name(ip) is None:
            raise ConfigError(f"{spec.label}: reverse zone {self.zone} does not cover {ip}; "
                              f"name the reverse zone of the member's subnet", target=spec.label)
        return []

    # -- read ----------------------------------------------------------------------------------

    def read(self, budget) -> Observed:
        from azure.core.exceptions import ResourceNotFoundError
        try:
            items = self.clients.arm.list(f"{self.resource_id}/PTR", API_VERSION,
                                          **budget.call_kwargs())
        except ResourceNotFoundError as exc:
            code = getattr(getattr(exc, "error", None), "code", "") or "NotFound"
            raise ConfigError(f"{self.label}: reverse zone {self.zone!r} does not exist in "
                              f"resource group {self.resource_group!r} [{code}]",
                              target=self.label, status=404, code=code) from None
        return self.observe(items)

    def observe(self, items: List[Dict[str, Any]]) -> Observed:
        records: Dict[str, Dict[str, Any]] = {}
        for item in items:
            ip = self.address(str(item.get("name") or "").lower())
            if ip is not None:
                records[ip] = item
        ledgers = read_metadata_sets(
            {ip: (doc.get("properties") or {}).get("metadata") or {} for ip, doc in records.items()},
            {ip: ip for ip in records})
        addresses: Dict[str, List[str]] = {}
        by_host: Dict[str, Ledger] = {}
        for spec in self.specs:
            host = spec.ref.child
            held = sorted((ip for ip, doc in records.items() if host in _hosts(doc)),
                          key=ipaddress.IPv4Address)
            addresses[host] = held
            entries, foreign = {}, ()
            for ip in held:
                entries.update(ledgers[ip].entries)
                foreign += ledgers[ip].foreign
            by_host[host] = Ledger(entries, foreign)
        return Observed(True, None, addresses, by_host,
                        model={"records": records, "ledgers": ledgers})

    # -- plan ----------------------------------------------------------------------------------

    def blocked(self, observed: Observed, plans: Dict[str, TargetPlan]) -> Dict[str, Dict[str, str]]:
        records = observed.model["records"]
        after = self._hosts_after(observed, plans)
        out: Dict[str, Dict[str, str]] = {}
        for host, plan in plans.items():
            for ip in plan.add:
                others = [h for h in after.get(ip, []) if _norm(h) != host]
                if ip in records and others:
                    name = f"{self.record_name(ip)}.{self.zone}"
                    for member, want in plan.desired.items():
                        if want == ip:
                            out.setdefault(host, {})[member] = (
                                f"PTR {name} names {', '.join(others)}, not {host}: not ours, "
                                f"left alone; {member}'s {ip} has no PTR here until it is "
                                f"removed")
        return out

    def _hosts_after(self, observed: Observed, plans: Dict[str, TargetPlan]) -> Dict[str, list]:
        """Per address, the ptrdname items the record set holds after the plans, as written."""
        records = observed.model["records"]
        out: Dict[str, list] = {}
        for ip in set(records) | {ip for p in plans.values() for ip in p.result}:
            items = [r for r in (records.get(ip, {}).get("properties") or {}).get("ptrRecords") or []
                     if isinstance(r, dict)]
            keep = [r for r in items if _norm(r.get("ptrdname")) not in plans
                    or ip in plans[_norm(r.get("ptrdname"))].result]
            held = {_norm(r.get("ptrdname")) for r in keep}
            keep += [{"ptrdname": host} for host, plan in plans.items()
                     if ip in plan.result and host not in held]
            out[ip] = [r.get("ptrdname") for r in keep]
        return out

    def render(self, observed: Observed, plans: Dict[str, TargetPlan]) -> Dict[str, Any]:
        """{"delete": {ip: etag}, "put": {ip: record set}}: only the record sets that change."""
        records, ledgers = observed.model["records"], observed.model["ledgers"]
        replaced = frozenset().union(*(p.replaces for p in plans.values()))
        ttl = next((s.ttl for s in self.specs if s.ttl is not None), None)
        body: Dict[str, Any] = {"delete": {}, "put": {}}
        for ip, hosts in sorted(self._hosts_after(observed, plans).items()):
            if not ({_norm(h) for h in hosts} | set(_hosts(records.get(ip, {})))) & set(plans):
                continue            # a record set none of our hosts is or will be in
            entries = {m: e for p in plans.values() for m, e in p.ledger_after.items()
                       if e.ip == ip}
            doc = records.get(ip)
            before = ledgers.get(ip, Ledger())
            if doc is None:
                if hosts:
                    body["put"][ip] = {"properties": {
                        "ttl": ttl or DEFAULT_TTL, "ptrRecords": [{"ptrdname": h} for h in hosts],
                        "metadata": write_metadata({}, before, entries, replaced)}}
                continue
            props = doc.get("properties") or {}
            metadata = write_metadata(props.get("metadata") or {}, before, entries, replaced)
            items = [r for r in props.get("ptrRecords") or [] if isinstance(r, dict)]
            if [r.get("ptrdname") for r in items] == hosts and metadata == (props.get("metadata") or {}):
                continue
            if not hosts and not metadata:
                body["delete"][ip] = doc.get("etag") or "*"
                continue
            record = {k: v for k, v in copy.deepcopy(doc).items() if k not in _READ_ONLY}
            new_props = {k: v for k, v in record.get("properties", {}).items()
                         if k not in _READ_ONLY_PROPS}
            by_host = {_norm(r.get("ptrdname")): r for r in items}
            new_props["ptrRecords"] = [by_host.get(_norm(h), {"ptrdname": h}) for h in hosts]
            new_props["metadata"] = metadata
            record["properties"] = new_props
            body["put"][ip] = record
        return body

    def changes(self, observed: Observed, spec: TargetSpec) -> List[str]:
        return []

    def problems(self, body: Dict[str, Any]) -> List[str]:
        out = []
        for ip, record in body["put"].items():
            out += tag_problems((record.get("properties") or {}).get("metadata") or {},
                                f"{self.label} ({ip})", "the record set's metadata entries",
                                "metadata entries")
        return out

    def needs(self, observed: Optional[Observed], writing: bool) -> List[Need]:
        actions = ["read"] + (["write", "delete"] if writing else [])
        return [(self.resource_id, f"Microsoft.Network/privateDnsZones/PTR/{a}") for a in actions]

    # -- write ---------------------------------------------------------------------------------

    def write(self, observed: Observed, body, budget) -> Observed:
        """Leavers first: deletions, then updates, then new record sets, each conditional on
        what was read; a 412 anywhere re-reads and re-plans the zone (retry.py)."""
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError

        from ..pipeline import quote_etag
        records = observed.model["records"]
        arm = self.clients.arm
        for ip, etag in body["delete"].items():
            arm.delete(self._record_id(ip), API_VERSION, {"If-Match": quote_etag(etag)},
                       error_map={412: ResourceModifiedError}, **budget.call_kwargs())
        ordered = sorted(body["put"].items(), key=lambda item: item[0] not in records)
        for ip, record in ordered:
            if ip in records:
                headers = {"If-Match": quote_etag(records[ip].get("etag") or "*")}
                errors = {412: ResourceModifiedError}
            else:
                headers, errors = {"If-None-Match": "*"}, {412: ResourceExistsError}
            arm.put(self._record_id(ip), API_VERSION, record, headers, error_map=errors,
                    **budget.call_kwargs())
        return self.read(budget)

    def _record_id(self, ip: str) -> str:
        return f"{self.resource_id}/PTR/{self.record_name(ip)}"


def _hosts(doc: Dict[str, Any]) -> List[str]:
    return [_norm(r.get("ptrdname")) for r in (doc.get("properties") or {}).get("ptrRecords") or []
            if isinstance(r, dict)]
