"""`sync`'s view of the truth: which container groups exist, which run, and at which address.

ACI lists give `ipAddress`, `tags` and `provisioningState` but no `instanceView`, and a stopped
group still lists as `Succeeded` (wire notes §12.4), so every group whose list entry could be
running is settled with a GET, a few at a time and under ARM's read budget (§12.5). An IP is
trusted only while the group's state is `Running`. Anything not known for sure (a failed or
partial list, a GET that failed, a member name that cannot be derived) makes the fleet
*incomplete*, and an incomplete fleet never prunes.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .azure_errors import translate
from .errors import ConfigError, PermissionDenied, RegistrarError
from .names import is_member
from .retry import Budget, with_retries

log = logging.getLogger("aci_ip_registrar.fleet")
_SCOPE = re.compile(r"/subscriptions/([0-9a-fA-F-]{36})(?:/resourceGroups/([-\w.()]{1,90}))?/?",
                    re.I)
MAX_PARALLEL_GETS = 8
READS_PER_SECOND = 20.0      # ARM refills 25 reads/s per principal; leave room for the rest


@dataclass(frozen=True)
class Scope:
    subscription: str
    resource_group: Optional[str]

    @property
    def label(self) -> str:
        return f"/subscriptions/{self.subscription}" + (
            f"/resourceGroups/{self.resource_group}" if self.resource_group else "")


@dataclass
class Group:
    name: str
    resource_group: str
    subscription: str
    member: Optional[str]
    ip: Optional[str]
    state: str = "Unknown"

    @property
    def running(self) -> bool:
        return self.state == "Running" and bool(self.ip) and self.ip != "0.0.0.0"


@dataclass
class Fleet:
    groups: List[Group] = field(default_factory=list)
    complete: bool = True
    problems: List[str] = field(default_factory=list)
    list_pages: int = 0
    group_reads: int = 0
    denied: List[RegistrarError] = field(default_factory=list)   # listings refused (403)

    def running(self) -> Dict[str, str]:
        return {g.member: g.ip for g in self.groups if g.member and g.running}

    def desired(self, prune: bool):
        """A function of a target's ledger: running members join; when the fleet is complete
        and pruning is on, every other member the ledger names leaves."""
        running = self.running()
        may_prune = prune and self.complete

        def for_ledger(entries) -> Dict[str, Optional[str]]:
            out: Dict[str, Optional[str]] = dict(running)
            if may_prune:
                out.update({m: None for m in entries if m not in running})
            return out
        return for_ledger


def parse_scope(text: str) -> Scope:
    match = _SCOPE.fullmatch((text or "").strip())
    if not match:
        raise ConfigError(f"scope {text!r}: expected /subscriptions/{{id}} or "
                          f"/subscriptions/{{id}}/resourceGroups/{{name}}")
    return Scope(match.group(1), match.group(2))


def parse_tag_selector(text: str) -> Tuple[str, str]:
    key, sep, value = (text or "").partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--tag {text!r}: expected KEY=VALUE")
    return key.strip(), value.strip()


class _Pacer:
    """At most `rate` calls per second across threads (a token bucket of one)."""

    def __init__(self, rate: float):
        self.gap = 1.0 / rate
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            delay, self.next = max(0.0, self.next - now), max(now, self.next) + self.gap
        if delay:
            time.sleep(delay)


def _selected(item, tags: Dict[str, str]) -> bool:
    have = {k.lower(): v for k, v in (item.tags or {}).items()}
    return all(have.get(k.lower()) == v for k, v in tags.items())


def _member_of(item, member_tag: Optional[str]) -> Optional[str]:
    if member_tag is None:
        return item.name
    value = {k.lower(): v for k, v in (item.tags or {}).items()}.get(member_tag.lower())
    member = (value or "").strip().lower()
    return member if is_member(member) else None


def _list_scope(clients, scope: Scope, tags, member_tag, fleet: Fleet, budget: Budget) -> None:
    ops = clients.container_instance(scope.subscription).container_groups
    pages = (ops.list_by_resource_group(scope.resource_group, **budget.call_kwargs())
             if scope.resource_group else ops.list(**budget.call_kwargs())).by_page()
    try:
        for page in pages:
            fleet.list_pages += 1
            for item in page:
                if not _selected(item, tags):
                    continue
                member = _member_of(item, member_tag)
                if member is None:
                    fleet.complete = False
                    fleet.problems.append(f"group {item.name}: tag {member_tag!r} is missing or "
                                          f"not a valid member name; pruning is off this pass")
                rg = item.id.split("/")[4] if item.id else scope.resource_group
                ip = getattr(item.ip_address, "ip", None)
                fleet.groups.append(Group(item.name, rg, scope.subscription, member, ip,
                                          str(item.provisioning_state or "Unknown")))
    except Exception as exc:  # a page failed: what was listed stays, pruning does not
        err = exc if isinstance(exc, RegistrarError) else translate(exc, scope.label)
        if isinstance(err, PermissionDenied):
            fleet.denied.append(err)
        fleet.complete = False
        fleet.problems.append(f"listing {scope.label} failed after {fleet.list_pages} page(s): "
                              f"{err.message}; pruning is off this pass")


def _settle(clients, group: Group, pacer: _Pacer, budget: Budget) -> Optional[str]:
    """GET one group for its instance view. Returns a problem, or None."""
    label = f"container group {group.name}"
    ops = clients.container_instance(group.subscription).container_groups

    def attempt(_n):
        pacer.wait()
        try:
            return ops.get(group.resource_group, group.name, **budget.call_kwargs())
        except Exception as exc:
            raise translate(exc, label) from None
    try:
        full = with_retries(attempt, what=label, budget=budget)
    except RegistrarError as exc:
        return f"{label}: state unknown ({exc.message}); pruning is off this pass"
    view = getattr(full, "instance_view", None)
    group.state = str(getattr(view, "state", None) or "Unknown")
    group.ip = getattr(full.ip_address, "ip", None) if full.ip_address else None
    return None


def discover_fleet(clients, scopes: List[Scope], tags: Dict[str, str],
                   member_tag: Optional[str], budget: Budget) -> Fleet:
    fleet = Fleet()
    for scope in scopes:
        _list_scope(clients, scope, tags, member_tag, fleet, budget)
    # Only a Succeeded entry can be Running or Stopped; Failed/Pending are not running either way.
    ambiguous = [g for g in fleet.groups if g.state.lower() == "succeeded"]
    pacer = _Pacer(READS_PER_SECOND)
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_GETS) as pool:
        problems = list(pool.map(lambda g: _settle(clients, g, pacer, budget), ambiguous))
    fleet.group_reads = len(ambiguous)
    for problem in filter(None, problems):
        fleet.complete = False
        fleet.problems.append(problem)
    names = [g.member for g in fleet.groups if g.member]
    for dup in sorted({m for m in names if names.count(m) > 1}):
        fleet.complete = False
        fleet.problems.append(f"member {dup!r} names more than one group; pruning is off and "
                              f"it is not registered this pass")
        fleet.groups = [g for g in fleet.groups if g.member != dup]
    for problem in fleet.problems:
        log.warning("%s", problem)
    return fleet
