"""Settings from flags and environment, validated in one place; every problem reported at once."""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import List, Optional

from .errors import ConfigError, DiscoveryError
from .ledger import split_member
from .planner import MODES, SHARED
from .resource_ids import (PRIVATE_DNS_A, ContainerGroupRef, TargetRef, parse_container_group,
                           parse_target)

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
DEFAULT_TTL = 30
MAX_TTL = 2147483647
_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class TargetSpec:
    ref: TargetRef
    mode: str = SHARED
    ttl: Optional[int] = None       # None: keep the record's TTL, DEFAULT_TTL when creating

    @property
    def label(self) -> str:
        return self.ref.label


@dataclass
class Settings:
    targets: List[TargetSpec]
    member: Optional[str] = None
    ip: Optional[str] = None
    interface: Optional[str] = None
    container_group: Optional[ContainerGroupRef] = None
    allow_any_ip: bool = False
    dry_run: bool = False
    on_failure: str = "exit"
    timeout: float = 300.0
    start_jitter: float = 0.0
    arm_endpoint: str = DEFAULT_ARM_ENDPOINT
    ca_bundle: Optional[str] = None
    poll_interval: float = 2.0
    while_busy: str = "wait"
    command: List[str] = field(default_factory=list)


def split_targets(values) -> List[str]:
    """Targets come as repeated options or one env var, separated by whitespace or commas."""
    out: List[str] = []
    for value in values or ():
        out.extend(t for t in _SPLIT.split(value.strip()) if t)
    return out


def parse_target_spec(text: str) -> TargetSpec:
    raw, *options = text.split(";")
    ref = parse_target(raw)
    mode, ttl = SHARED, None
    for option in options:
        key, sep, value = option.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if not sep or not value:
            raise ConfigError(f"target {raw!r}: option {option!r} must be key=value "
                              f"(mode=shared|exclusive, ttl=SECONDS)")
        if key == "mode":
            if value.lower() not in MODES:
                raise ConfigError(f"target {raw!r}: mode {value!r} is not one of "
                                  f"{', '.join(MODES)}")
            mode = value.lower()
        elif key == "ttl":
            if ref.kind != PRIVATE_DNS_A:
                raise ConfigError(f"target {raw!r}: ttl applies only to DNS record sets")
            if not value.isdigit() or not 1 <= int(value) <= MAX_TTL:
                raise ConfigError(f"target {raw!r}: ttl {value!r} must be a whole number of "
                                  f"seconds from 1 to {MAX_TTL}")
            ttl = int(value)
        else:
            raise ConfigError(f"target {raw!r}: unknown option {key!r} (known: mode, ttl)")
    return TargetSpec(ref, mode, ttl)


def parse_targets(values) -> List[TargetSpec]:
    problems, specs, seen = [], [], {}
    for text in split_targets(values):
        try:
            spec = parse_target_spec(text)
        except ConfigError as exc:
            problems.append(exc.message)
            continue
        key = spec.ref.id.lower()
        if key in seen:
            problems.append(f"target {spec.ref.raw!r}: duplicate of {seen[key]!r}")
            continue
        seen[key] = spec.ref.raw
        specs.append(spec)
    if problems:
        raise ConfigError("; ".join(problems))
    if not specs:
        raise ConfigError("no targets: give --target RESOURCE_ID or set ACI_IP_REGISTRAR_TARGETS")
    return specs


def check_member(value: Optional[str]) -> str:
    ok, member = split_member(value or "")
    if not value:
        raise ConfigError("no member name: give --member NAME or set ACI_IP_REGISTRAR_MEMBER "
                          "(normally the container group's name)")
    if not ok:
        raise ConfigError(f"member {value!r} is not a valid name: 1-63 lower-case letters, "
                          f"digits and hyphens, starting and ending with a letter or digit")
    return member


def check_ip(value: str, allow_any: bool, source: str = "--ip") -> str:
    try:
        addr = ipaddress.IPv4Address(value.strip())
    except ValueError:
        raise DiscoveryError(f"{source} {value!r} is not an IPv4 address") from None
    if allow_any:
        return str(addr)
    for test, what in ((addr.is_unspecified, "unspecified"), (addr.is_loopback, "loopback"),
                       (addr.is_link_local, "link-local"), (addr.is_multicast, "multicast")):
        if test:
            raise DiscoveryError(f"{source} {addr} is a {what} address; refusing to register it "
                                 f"(--allow-any-ip overrides)")
    if not addr.is_private:
        raise DiscoveryError(f"{source} {addr} is a public address; ACI VNet groups have private "
                             f"IPs (--allow-any-ip overrides)")
    return str(addr)


def check_ca_bundle(path: Optional[str]) -> Optional[str]:
    if not path:
        return None
    if not os.path.isfile(path):
        raise ConfigError(f"CA bundle {path!r} does not exist or is not a file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError as exc:
        raise ConfigError(f"CA bundle {path!r} cannot be read: {exc.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise ConfigError(f"CA bundle {path!r} holds no PEM certificate")
    return path


def check_endpoint(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    if not re.match(r"^https://[^/\s]+(/[^\s]*)?$", url):
        raise ConfigError(f"ARM endpoint {url!r} must be an https:// URL (TLS is never turned off)")
    return url


def parse_container_group_opt(value: Optional[str]) -> Optional[ContainerGroupRef]:
    return parse_container_group(value) if value else None
