"""Where the member's own IP comes from: --ip, an interface, the default route, or the ACI API."""
from __future__ import annotations

import logging
from typing import Optional, Tuple

from .azure_errors import translate
from .config import Settings, check_ip
from .errors import DiscoveryError, RegistrationFailed, Retryable
from .retry import Budget, with_retries

log = logging.getLogger("aci_ip_registrar.discovery")


def interface_ip(name: Optional[str]) -> Tuple[str, str]:
    """(IPv4 address, interface) of `name`, or of the default route's interface."""
    import netifaces
    if name is None:
        default = netifaces.gateways().get("default", {}).get(netifaces.AF_INET)
        if not default:
            raise DiscoveryError("no IPv4 default route: cannot tell which interface is the "
                                 "container's; give --interface NAME or --ip ADDRESS")
        name = default[1]
    if name not in netifaces.interfaces():
        raise DiscoveryError(f"interface {name!r} does not exist (have: "
                             f"{', '.join(netifaces.interfaces())})")
    addresses = netifaces.ifaddresses(name).get(netifaces.AF_INET) or []
    if not addresses:
        raise DiscoveryError(f"interface {name!r} has no IPv4 address")
    return addresses[0]["addr"], name


ACI_API_VERSION = "2023-05-01"   # what azure-mgmt-containerinstance 10.1 sends


def _group_id(ref) -> str:
    return (f"/subscriptions/{ref.subscription}/resourceGroups/{ref.resource_group}"
            f"/providers/Microsoft.ContainerInstance/containerGroups/{ref.name}")


def container_group_ip(settings: Settings, clients, budget: Budget) -> str:
    ref = settings.container_group
    label = f"container group {ref.name}"

    def attempt(_n: int) -> str:
        try:
            group = clients.arm.get(_group_id(ref), ACI_API_VERSION, **budget.call_kwargs())
        except Exception as exc:
            raise translate(exc, label) from None
        props = group.get("properties") or {}
        address = props.get("ipAddress") or {}
        ip = address.get("ip")
        if not ip or ip == "0.0.0.0":
            state = (props.get("instanceView") or {}).get("state")
            # ACI assigns the IP only once the group is running again after a restart.
            raise Retryable(f"{label} has no IP yet (state {state or 'unknown'})",
                            target=label, code="NoIpYet")
        kind = str(address.get("type") or "")
        if kind.lower() != "private" and not settings.allow_any_ip:
            raise DiscoveryError(f"{label} has a {kind or 'non-private'} IP address {ip}; only "
                                 f"VNet-injected (Private) groups are registered "
                                 f"(--allow-any-ip overrides)")
        return ip

    try:
        return with_retries(attempt, what=label, budget=budget)
    except RegistrationFailed as exc:
        if exc.code == "NoIpYet":  # the group never got an address within the budget
            raise DiscoveryError(exc.message, target=label, code=exc.code) from None
        raise


def discover(settings: Settings, clients, budget: Budget) -> Tuple[str, str]:
    """(ip, how it was found). Refuses loopback, link-local, unspecified and public addresses."""
    if settings.ip:
        return check_ip(settings.ip, settings.allow_any_ip, "--ip"), "--ip"
    if settings.container_group:
        ip = container_group_ip(settings, clients, budget)
        return check_ip(ip, settings.allow_any_ip, f"container group {settings.container_group.name} IP"), \
            f"ACI API ({settings.container_group.name})"
    ip, name = interface_ip(settings.interface)
    return check_ip(ip, settings.allow_any_ip, f"interface {name} address"), f"interface {name}"
