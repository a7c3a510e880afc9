"""One rule per fact: what a member name is, and which IPv4 addresses a container can hold.

Used by the options (config.py), the ledger codec (ledger.py) and resource IDs (resource_ids.py),
so the three can never disagree.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Optional

# A container group name: 1-63 lower-case letters, digits and hyphens, alphanumeric at both ends.
# Private DNS metadata keys allow only [A-Za-z0-9_] (azure-rest-api-specs#8555), so the ledger
# key spells '-' as '_' and a member can never contain '_' itself.
MEMBER_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
MEMBER_RULE = ("1-63 lower-case letters, digits and hyphens, starting and ending with a letter "
               "or digit")
_IPV4_RE = re.compile(r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
                      r"(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}")

_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_RESERVED = ipaddress.IPv4Network("240.0.0.0/4")   # includes 255.255.255.255, limited broadcast


def is_member(name: str) -> bool:
    return bool(MEMBER_RE.fullmatch(name or ""))


def is_ipv4_text(text: str) -> bool:
    """Dotted-quad in canonical form: ASCII digits, no leading zeros, no spaces."""
    return bool(_IPV4_RE.fullmatch(text or ""))


def refused_kind(addr: ipaddress.IPv4Address) -> Optional[str]:
    """Why no container can hold `addr` (None when one can)."""
    if addr == ipaddress.IPv4Address("255.255.255.255"):
        return "broadcast"
    for test, what in ((addr.is_unspecified, "unspecified"), (addr in _THIS_NETWORK,
                       "'this network' (0.0.0.0/8)"), (addr.is_loopback, "loopback"),
                       (addr.is_link_local, "link-local"), (addr.is_multicast, "multicast"),
                       (addr in _RESERVED, "reserved (240.0.0.0/4)")):
        if test:
            return what
    return None


def is_public(addr: ipaddress.IPv4Address) -> bool:
    # is_global, not `not is_private`: 100.64.0.0/10 and other special ranges a VNet may use are
    # neither private nor public.
    return addr.is_global


def is_unicast_text(text: str) -> bool:
    """A ledger IP: canonical dotted quad that some container could hold (public included)."""
    return is_ipv4_text(text) and refused_kind(ipaddress.IPv4Address(text)) is None
