"""Target kinds, one module each; `build` groups specs by the Azure resource they live on."""
from __future__ import annotations

from typing import Dict, List

from ..config import TargetSpec
from ..resource_ids import APPGW_POOL, PRIVATE_DNS_A
from .base import Observed, Resource


def build(specs: List[TargetSpec], clients) -> List[Resource]:
    groups: Dict[tuple, List[TargetSpec]] = {}
    for spec in specs:
        groups.setdefault(spec.ref.resource_key, []).append(spec)
    resources: List[Resource] = []
    for group in groups.values():
        kind = group[0].ref.kind
        if kind == APPGW_POOL:
            from .appgw import AppGatewayPools
            resources.append(AppGatewayPools(group, clients))
        elif kind == PRIVATE_DNS_A:
            from .private_dns import PrivateDnsRecord
            resources.append(PrivateDnsRecord(group, clients))
    return resources


__all__ = ["Observed", "Resource", "build"]
