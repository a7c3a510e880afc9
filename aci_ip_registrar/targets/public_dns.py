"""Public Azure DNS A record sets (wire notes §4): the Private DNS kind with the public wire
(api 2018-05-01, PascalCase `TTL`/`ARecords`, If-Match sent as read, no quoting), and two
refusals of its own: an alias record set (`targetResource`) is Azure's to fill, and a private
address is published only where the target says so, since a public zone would leak internal
addressing to anyone who asks."""
from __future__ import annotations

from typing import List

from ..config import TargetSpec, ttl_option
from ..errors import ConfigError
from ..names import is_public
from .base import Observed
from .private_dns import PrivateDnsRecord, _props


def private_ip_option(raw: str, value: str) -> bool:
    if value.lower() not in ("allow", "refuse"):
        raise ConfigError(f"target {raw!r}: private-ip {value!r} must be allow or refuse")
    return value.lower() == "allow"


class PublicDnsRecord(PrivateDnsRecord):
    KIND = "public-dns-a"
    OPTIONS = {"ttl": ttl_option, "private-ip": private_ip_option}
    ZONES = "dnsZones"
    LABEL = "public-dns"
    API_VERSION = "2018-05-01"          # what azure-mgmt-dns 8 and 9 send
    TTL, RECORDS = "TTL", "ARecords"
    READ_ONLY_PROPS = ("fqdn", "provisioningState")

    def refusals(self, observed: Observed) -> List[str]:
        if (_props(observed.model).get("targetResource") or {}).get("id"):
            return [f"{self.spec.label}: the record set is an alias of an Azure resource; its "
                    f"addresses are Azure's, not ours to change"]
        return []

    def check_address(self, spec: TargetSpec, ip: str) -> List[str]:
        import ipaddress
        if is_public(ipaddress.IPv4Address(ip)) or spec.option("private-ip"):
            return []
        return [f"{spec.label}: {ip} is a private address; publishing it in a public zone leaks "
                f"internal addressing (add ;private-ip=allow to the target to publish it)"]

    def if_match(self, etag: str) -> str:
        return etag          # azure-mgmt-dns sends If-Match verbatim
