"""Settings from flags and environment, validated in one place; every problem reported at once."""
from __future__ import annotations

import ipaddress
import math
import re
import ssl
from typing import Any, List, NamedTuple, Optional, Tuple

from .errors import ConfigError, DiscoveryError, UsageError
from .names import MEMBER_RULE, is_member, is_public, refused_kind
from .planner import MODES, SHARED
from .resource_ids import ContainerGroupRef, TargetRef, parse_container_group

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
DEFAULT_TTL = 30
MAX_TTL = 2147483647
_SPLIT = re.compile(r"[\s,]+")


class TargetSpec(NamedTuple):
    ref: TargetRef
    mode: str = SHARED
    options: Tuple[Tuple[str, Any], ...] = ()      # the kind's own options, parsed

    @property
    def label(self) -> str:
        return self.ref.label

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)

    @property
    def ttl(self) -> Optional[int]:
        """None: keep the record's TTL, DEFAULT_TTL when creating."""
        return self.option("ttl")


class Settings:
    """One run's settings (cli.build_settings fills them in; a plain class, see runner.Outcome)."""

    def __init__(self, targets: List[TargetSpec], *, member: Optional[str] = None,
                 ip: Optional[str] = None, interface: Optional[str] = None,
                 container_group: Optional[ContainerGroupRef] = None,
                 allow_any_ip: bool = False, dry_run: bool = False, on_failure: str = "exit",
                 timeout: float = 300.0, start_jitter: float = 0.0,
                 arm_endpoint: str = DEFAULT_ARM_ENDPOINT, ca_bundle: Optional[str] = None,
                 poll_interval: float = 2.0, while_busy: str = "wait",
                 command: Optional[List[str]] = None) -> None:
        self.targets = targets
        self.member, self.ip, self.interface = member, ip, interface
        self.container_group = container_group
        self.allow_any_ip = allow_any_ip          # public addresses allowed
        self.dry_run, self.on_failure = dry_run, on_failure
        self.timeout, self.start_jitter = timeout, start_jitter
        self.arm_endpoint, self.ca_bundle = arm_endpoint, ca_bundle
        self.poll_interval, self.while_busy = poll_interval, while_busy
        self.command: List[str] = list(command or [])


def split_targets(values) -> List[str]:
    """Targets come as repeated options or one env var, separated by whitespace or commas."""
    out: List[str] = []
    for value in values or ():
        out.extend(t for t in _SPLIT.split(value.strip()) if t)
    return out


_TTL = re.compile(r"[0-9]{1,10}")


def ttl_option(raw: str, value: str) -> int:
    """The `ttl=SECONDS` option of DNS kinds."""
    if not _TTL.fullmatch(value) or not 1 <= int(value) <= MAX_TTL:
        raise ConfigError(f"target {raw!r}: ttl {value!r} must be a whole number of "
                          f"seconds from 1 to {MAX_TTL}")
    return int(value)


def parse_target_spec(text: str) -> TargetSpec:
    from .targets import kind_class, parse_target
    raw, *options = text.split(";")
    ref = parse_target(raw)
    kind = kind_class(ref.kind)
    known = ", ".join(["mode", *kind.OPTIONS])
    mode, values, seen = SHARED, {}, set()
    for option in options:
        key, sep, value = option.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if not sep or not value:
            raise ConfigError(f"target {raw!r}: option {option!r} must be key=value "
                              f"(options of this target: {known})")
        if key in seen:
            raise UsageError(f"target {raw!r}: option {key!r} given more than once; give it "
                             f"once")
        seen.add(key)
        if key == "mode":
            if value.lower() not in MODES:
                raise ConfigError(f"target {raw!r}: mode {value!r} is not one of "
                                  f"{', '.join(MODES)}")
            mode = value.lower()
        elif key in kind.OPTIONS:
            values[key] = kind.OPTIONS[key](raw, value)
        else:
            raise ConfigError(f"target {raw!r}: unknown option {key!r} for target kind {ref.kind} "
                              f"(known: {known})")
    return TargetSpec(ref, mode, tuple(sorted(values.items())))


def parse_targets(values) -> List[TargetSpec]:
    from .targets import kind_class
    problems, specs = [], []
    for text in split_targets(values):
        try:
            specs.append(parse_target_spec(text))
        except UsageError:
            raise
        except ConfigError as exc:
            problems.append(exc.message)
    if problems:
        raise ConfigError("; ".join(problems))
    resolved, seen = [], {}
    for spec in specs:
        try:
            spec = kind_class(spec.ref.kind).resolve(spec, specs)
        except ConfigError as exc:
            problems.append(exc.message)
            continue
        key = (spec.ref.id.lower(), spec.ref.child.lower())
        if key in seen:
            problems.append(f"target {spec.ref.raw!r}: duplicate of {seen[key]!r}")
            continue
        seen[key] = spec.ref.raw
        resolved.append(spec)
    if problems:
        raise ConfigError("; ".join(problems))
    if not resolved:
        raise ConfigError("no targets: give --target RESOURCE_ID or set ACI_IP_REGISTRAR_TARGETS")
    return resolved


def check_member(value: Optional[str]) -> str:
    if not value:
        raise ConfigError("no member name: give --member NAME or set ACI_IP_REGISTRAR_MEMBER "
                          "(normally the container group's name)")
    member = value.strip().lower()
    if not is_member(member):
        raise ConfigError(f"member {value!r} is not a valid name: {MEMBER_RULE}")
    return member


def check_ip(value: str, allow_public: bool, source: str = "--ip") -> str:
    """Only unicast addresses a container can hold; public ones only when allowed."""
    try:
        addr = ipaddress.IPv4Address(value.strip())
    except ValueError:
        raise DiscoveryError(f"{source} {value!r} is not an IPv4 address") from None
    what = refused_kind(addr)
    if what:
        article = "an" if what[0] in "aeiou" else "a"
        raise DiscoveryError(f"{source} {addr} is {article} {what} address, which no container "
                             f"holds; refusing to register it")
    if is_public(addr) and not allow_public:
        raise DiscoveryError(f"{source} {addr} is a public address; ACI VNet groups have private "
                             f"IPs (--allow-any-ip allows public addresses)")
    return str(addr)


def check_ca_bundle(path: Optional[str]) -> Optional[str]:
    """Load the bundle now: a file TLS cannot use is a configuration error, never a retry."""
    if not path:
        return None
    from .tls import ca_context   # the connections reuse the context loaded here
    try:
        ca_context(path)
    except FileNotFoundError:
        raise ConfigError(f"CA bundle {path!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"CA bundle {path!r} is a directory, not a PEM file") from None
    except OSError as exc:
        if isinstance(exc, ssl.SSLError):
            raise ConfigError(f"CA bundle {path!r} holds no PEM certificate TLS can load "
                              f"({exc.reason or exc})") from None
        raise ConfigError(f"CA bundle {path!r} cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"CA bundle {path!r} cannot be loaded: {exc}") from None
    return path


def check_endpoint(url: str) -> str:
    """https://host[:port], nothing else: no user info (it would be echoed in logs), no path
    (ARM paths are absolute, a prefix would only give misleading 404s), no query."""
    from urllib.parse import urlsplit
    text = (url or "").strip()
    problem = "must be https://HOST[:PORT] (TLS is never turned off)"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigError(f"ARM endpoint {_safe(text)!r} {problem}") from None
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise ConfigError(f"ARM endpoint {_safe(text)!r} {problem}")
    if "@" in parts.netloc:
        raise ConfigError(f"ARM endpoint {_safe(text)!r} carries user info; give "
                          f"https://HOST[:PORT] (credentials come from the Azure identity)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ConfigError(f"ARM endpoint {_safe(text)!r} has a path, query or fragment; give "
                          f"https://HOST[:PORT]")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"https://{host}" + (f":{port}" if port is not None else "")


def _safe(url: str) -> str:
    """The URL with any user info masked, for error messages."""
    return re.sub(r"(?<=://)[^/@]*@", "***@", url)


def check_number(name: str, value: float, zero_ok: bool = False) -> Optional[str]:
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        return (f"{name} {value:g} must be a finite number "
                f"{'>= 0' if zero_ok else 'above 0'} (seconds)")
    return None


def parse_container_group_opt(value: Optional[str]) -> Optional[ContainerGroupRef]:
    return parse_container_group(value) if value else None
