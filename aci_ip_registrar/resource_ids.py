"""Parse Azure resource IDs into target references.

Fixed segments (`subscriptions`, `providers/Microsoft.Network`, `applicationGateways`, ...) match
case-insensitively, as ARM does; names are validated strictly, and every error names the offending
ID and the segment that is wrong.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ConfigError
from .names import is_member

APPGW_POOL = "appgw-pool"
PRIVATE_DNS_A = "private-dns-a"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RG = re.compile(r"^[-\w.()]{1,90}$")
# Application Gateway and its sub-resources: 1-80 chars, start alnum, end alnum or underscore.
_NRP_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")
_DNS_LABEL = r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)"
_ZONE = re.compile(rf"^{_DNS_LABEL}(?:\.{_DNS_LABEL})+$")
_RECORD = re.compile(rf"^(?:@|\*|(?:\*\.)?{_DNS_LABEL}(?:\.{_DNS_LABEL})*)$")


@dataclass(frozen=True)
class TargetRef:
    kind: str
    subscription: str
    resource_group: str
    resource_name: str      # gateway or zone
    child: str              # pool or record-set name
    raw: str

    @property
    def resource_key(self) -> tuple:
        """Targets with the same key live on one Azure resource: one read, at most one write."""
        return (self.kind, self.subscription.lower(), self.resource_group.lower(),
                self.resource_name.lower(), "" if self.kind == APPGW_POOL else self.child.lower())

    @property
    def resource_id(self) -> str:
        base = (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.Network")
        if self.kind == APPGW_POOL:
            return f"{base}/applicationGateways/{self.resource_name}"
        return f"{base}/privateDnsZones/{self.resource_name}/A/{self.child}"

    @property
    def id(self) -> str:
        if self.kind == APPGW_POOL:
            return f"{self.resource_id}/backendAddressPools/{self.child}"
        return self.resource_id

    @property
    def label(self) -> str:
        if self.kind == APPGW_POOL:
            return f"appgw {self.resource_name}/{self.child}"
        return f"private-dns {self.child}.{self.resource_name}"


@dataclass(frozen=True)
class ContainerGroupRef:
    subscription: str
    resource_group: str
    name: str
    raw: str


def _segments(raw: str) -> list:
    if not raw or not raw.startswith("/"):
        raise ConfigError(f"target {raw!r}: not an Azure resource ID (it must start with "
                          f"'/subscriptions/')")
    if any(c.isspace() for c in raw):
        raise ConfigError(f"target {raw!r}: resource IDs contain no whitespace")
    parts = raw.strip("/").split("/")
    if any(p == "" for p in parts):
        raise ConfigError(f"target {raw!r}: empty path segment (double '/')")
    return parts


def _check_scope(raw: str, parts: list) -> None:
    if len(parts) < 6:
        raise ConfigError(f"target {raw!r}: too short; expected /subscriptions/{{id}}/"
                          f"resourceGroups/{{rg}}/providers/...")
    expect = [(0, "subscriptions"), (2, "resourceGroups"), (4, "providers")]
    for index, word in expect:
        if parts[index].lower() != word.lower():
            raise ConfigError(f"target {raw!r}: segment {index + 1} is {parts[index]!r}, "
                              f"expected {word!r}")
    if not _GUID.match(parts[1]):
        raise ConfigError(f"target {raw!r}: subscription {parts[1]!r} is not a GUID")
    if not _RG.match(parts[3]) or parts[3].endswith("."):
        raise ConfigError(f"target {raw!r}: resource group {parts[3]!r} is not a valid name")


def parse_target(raw: str) -> TargetRef:
    parts = _segments(raw)
    _check_scope(raw, parts)
    namespace = parts[5].lower() if len(parts) > 5 else ""
    rtype = parts[6].lower() if len(parts) > 6 else ""
    if namespace != "microsoft.network":
        raise ConfigError(f"target {raw!r}: provider {parts[5]!r} is not supported; targets are "
                          f"App Gateway backend pools and Private DNS A record sets "
                          f"(Microsoft.Network)")
    if rtype == "applicationgateways":
        return _parse_pool(raw, parts)
    if rtype == "privatednszones":
        return _parse_private_a(raw, parts)
    if rtype == "dnszones":
        raise ConfigError(f"target {raw!r}: public DNS zones are not supported yet; use a "
                          f"Private DNS zone (privateDnsZones)")
    if rtype == "loadbalancers":
        raise ConfigError(f"target {raw!r}: Load Balancer pools are not supported: Microsoft "
                          f"documents that IP-based pools do not support ACI containers")
    raise ConfigError(f"target {raw!r}: resource type {parts[6] if len(parts) > 6 else '(none)'!r} "
                      f"is not a supported target; expected applicationGateways/.../"
                      f"backendAddressPools/... or privateDnsZones/.../A/...")


def _parse_pool(raw: str, parts: list) -> TargetRef:
    if len(parts) != 10 or parts[8].lower() != "backendaddresspools":
        raise ConfigError(f"target {raw!r}: an App Gateway target must end with "
                          f"/applicationGateways/{{gateway}}/backendAddressPools/{{pool}}")
    gateway, pool = parts[7], parts[9]
    if not _NRP_NAME.match(gateway):
        raise ConfigError(f"target {raw!r}: gateway name {gateway!r} is not valid")
    if not _NRP_NAME.match(pool):
        raise ConfigError(f"target {raw!r}: pool name {pool!r} is not valid")
    return TargetRef(APPGW_POOL, parts[1], parts[3], gateway, pool, raw)


def _parse_private_a(raw: str, parts: list) -> TargetRef:
    if len(parts) == 8:
        raise ConfigError(f"target {raw!r}: this names a zone; name an A record set: "
                          f".../privateDnsZones/{{zone}}/A/{{name}}")
    if len(parts) != 10:
        raise ConfigError(f"target {raw!r}: a Private DNS target must end with "
                          f"/privateDnsZones/{{zone}}/A/{{name}}")
    zone, rtype, name = parts[7], parts[8], parts[9]
    if not _ZONE.match(zone) or len(zone) > 253:
        raise ConfigError(f"target {raw!r}: zone name {zone!r} is not a valid DNS name")
    if rtype.upper() != "A":
        raise ConfigError(f"target {raw!r}: record type {rtype!r} is not supported; only A "
                          f"record sets hold a member's IPv4 address")
    if not _RECORD.match(name):
        raise ConfigError(f"target {raw!r}: record name {name!r} is not a valid DNS name")
    return TargetRef(PRIVATE_DNS_A, parts[1], parts[3], zone.lower(), name.lower(), raw)


def parse_container_group(raw: str) -> ContainerGroupRef:
    parts = _segments(raw)
    _check_scope(raw, parts)
    if (len(parts) != 8 or parts[5].lower() != "microsoft.containerinstance"
            or parts[6].lower() != "containergroups"):
        raise ConfigError(f"container group {raw!r}: expected /subscriptions/{{id}}/resourceGroups/"
                          f"{{rg}}/providers/Microsoft.ContainerInstance/containerGroups/{{name}}")
    if not is_member(parts[7]):
        raise ConfigError(f"container group {raw!r}: name {parts[7]!r} is not a valid container "
                          f"group name")
    return ContainerGroupRef(parts[1], parts[3], parts[7], raw)
