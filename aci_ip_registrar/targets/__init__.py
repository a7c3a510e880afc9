"""The registry of target kinds: one module per kind, one line each here.

A kind's module holds everything about it: the shape of its resource ID (`parse`), its
per-target options, how its resource is read, planned and written, and the RBAC actions it
needs. Modules load only when an ID of their resource type is parsed. An ID no kind claims is
an error naming the forms that are supported; nothing is ever dropped silently.
"""
from __future__ import annotations

import importlib
from typing import Dict, List, NamedTuple

from ..errors import ConfigError
from ..resource_ids import TargetRef, split_id


class Kind(NamedTuple):
    name: str
    resource_type: str      # the type segment after providers/Microsoft.Network, lower case
    path: str               # module:class


KINDS = (
    Kind("appgw-pool", "applicationgateways", "aci_ip_registrar.targets.appgw:AppGatewayPools"),
    Kind("private-dns-ptr", "privatednszones", "aci_ip_registrar.targets.ptr:ReversePtr"),
    Kind("private-dns-a", "privatednszones",
         "aci_ip_registrar.targets.private_dns:PrivateDnsRecord"),
    Kind("public-dns-a", "dnszones", "aci_ip_registrar.targets.public_dns:PublicDnsRecord"),
)


def kind_class(name: str):
    for kind in KINDS:
        if kind.name == name:
            module, attr = kind.path.split(":")
            return getattr(importlib.import_module(module), attr)
    raise ConfigError(f"target kind {name!r} has no implementation (known: "
                      f"{', '.join(sorted(k.name for k in KINDS))})")


def parse_target(raw: str) -> TargetRef:
    """The first kind of the ID's resource type whose parser claims it parses it."""
    parts = split_id(raw)
    namespace = parts[5].lower()
    rtype = parts[6].lower() if len(parts) > 6 else ""
    if namespace == "microsoft.network":
        for kind in KINDS:
            if kind.resource_type == rtype:
                ref = kind_class(kind.name).parse(raw, parts)
                if ref is not None:
                    return ref
        if rtype == "loadbalancers":
            raise ConfigError(f"target {raw!r}: Load Balancer pools are not supported: Microsoft "
                              f"documents that IP-based pools do not support ACI containers")
    forms = "; ".join(kind_class(k.name).id_form() for k in KINDS)
    if namespace != "microsoft.network":
        raise ConfigError(f"target {raw!r}: provider {parts[5]!r} is not supported; targets are "
                          f"Microsoft.Network resources: {forms}")
    raise ConfigError(f"target {raw!r}: resource type {parts[6] if len(parts) > 6 else '(none)'!r}"
                      f" is not a supported target; expected one of: {forms}")


def build(specs, clients) -> List:
    groups: Dict[tuple, list] = {}
    for spec in specs:
        groups.setdefault(spec.ref.resource_key, []).append(spec)
    return [kind_class(group[0].ref.kind)(group, clients) for group in groups.values()]


__all__ = ["KINDS", "Kind", "build", "kind_class", "parse_target"]
