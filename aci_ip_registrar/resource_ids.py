"""What every target ID shares: the scope prefix, the name rules, and the TargetRef a kind's
parser returns. Which kinds exist, and each kind's own ID shape, live in targets/ (one module
per kind, registered in targets/__init__.py).

Fixed segments (`subscriptions`, `providers/Microsoft.Network`, `applicationGateways`, ...) match
case-insensitively, as ARM does; names are validated strictly, and every error names the offending
ID and the segment that is wrong.
"""
from __future__ import annotations

import re
from typing import List, NamedTuple

from .errors import ConfigError
from .names import is_member

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RG = re.compile(r"^[-\w.()]{1,90}$")
# Application Gateway and its sub-resources: 1-80 chars, start alnum, end alnum or underscore.
NRP_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")
_DNS_LABEL = r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)"
ZONE = re.compile(rf"^{_DNS_LABEL}(?:\.{_DNS_LABEL})+$")
RECORD = re.compile(rf"^(?:@|\*|(?:\*\.)?{_DNS_LABEL}(?:\.{_DNS_LABEL})*)$")
HOST = re.compile(rf"^{_DNS_LABEL}(?:\.{_DNS_LABEL})+\.?$")


class TargetRef(NamedTuple):
    kind: str
    subscription: str
    resource_group: str
    resource_name: str      # gateway or zone
    child: str              # pool, record-set name, or the host a PTR names
    raw: str
    resource_id: str        # the Azure resource read and written
    id: str                 # the target itself
    label: str
    per_child: bool = True  # False: every target on the resource shares one read and write

    @property
    def resource_key(self) -> tuple:
        """Targets with the same key live on one Azure resource: one read, at most one write."""
        return (self.kind, self.subscription.lower(), self.resource_group.lower(),
                self.resource_name.lower(), self.child.lower() if self.per_child else "")


class ContainerGroupRef(NamedTuple):
    subscription: str
    resource_group: str
    name: str
    raw: str

    @property
    def id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.ContainerInstance/containerGroups/{self.name}")


def network_id(subscription: str, resource_group: str, path: str) -> str:
    return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.Network/{path}")


def split_id(raw: str) -> List[str]:
    """The ID's segments, its scope checked: subscription GUID, resource group name."""
    if not raw or not raw.startswith("/"):
        raise ConfigError(f"target {raw!r}: not an Azure resource ID (it must start with "
                          f"'/subscriptions/')")
    if any(c.isspace() for c in raw):
        raise ConfigError(f"target {raw!r}: resource IDs contain no whitespace")
    parts = raw.strip("/").split("/")
    if any(p == "" for p in parts):
        raise ConfigError(f"target {raw!r}: empty path segment (double '/')")
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
    return parts


def check_zone(raw: str, zone: str) -> str:
    if not ZONE.match(zone) or len(zone) > 253:
        raise ConfigError(f"target {raw!r}: zone name {zone!r} is not a valid DNS name")
    return zone.lower()


def parse_container_group(raw: str) -> ContainerGroupRef:
    parts = split_id(raw)
    if (len(parts) != 8 or parts[5].lower() != "microsoft.containerinstance"
            or parts[6].lower() != "containergroups"):
        raise ConfigError(f"container group {raw!r}: expected /subscriptions/{{id}}/resourceGroups/"
                          f"{{rg}}/providers/Microsoft.ContainerInstance/containerGroups/{{name}}")
    if not is_member(parts[7]):
        raise ConfigError(f"container group {raw!r}: name {parts[7]!r} is not a valid container "
                          f"group name")
    return ContainerGroupRef(parts[1], parts[3], parts[7], raw)
