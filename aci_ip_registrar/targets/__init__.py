"""The registry of target kinds: one module per kind, one line each here.

`build` groups specs by the Azure resource they live on; an unknown kind is an error, never
dropped silently.
"""
from __future__ import annotations

import importlib
from typing import Dict, List

from ..errors import ConfigError
from ..resource_ids import APPGW_POOL, PRIVATE_DNS_A
from .base import Observed, Resource

KINDS = {
    APPGW_POOL: "aci_ip_registrar.targets.appgw:AppGatewayPools",
    PRIVATE_DNS_A: "aci_ip_registrar.targets.private_dns:PrivateDnsRecord",
}


def kind_class(kind: str):
    if kind not in KINDS:
        raise ConfigError(f"target kind {kind!r} has no implementation (known: "
                          f"{', '.join(sorted(KINDS))})")
    module, attr = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), attr)


def build(specs, clients) -> List[Resource]:
    groups: Dict[tuple, list] = {}
    for spec in specs:
        groups.setdefault(spec.ref.resource_key, []).append(spec)
    return [kind_class(group[0].ref.kind)(group, clients) for group in groups.values()]


__all__ = ["KINDS", "Observed", "Resource", "build", "kind_class"]
