"""The one flow: read and plan every target (I6), then write each resource conditionally,
verify it from the read-back, and re-read and re-plan on any transient failure (I5)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from . import targets
from .azure_errors import translate
from .config import Settings
from .errors import Retryable
from .planner import TargetPlan, plan_target
from .retry import Budget, with_retries
from .targets.base import Observed, Resource

log = logging.getLogger("aci_ip_registrar.runner")


@dataclass
class Planned:
    resource: Resource
    observed: Observed
    plans: Dict[str, TargetPlan]
    extra: List[str]
    wrote: bool = False
    attempts: int = 1

    @property
    def changed(self) -> bool:
        return bool(self.extra) or any(p.changed for p in self.plans.values())


@dataclass
class Report:
    member: str
    ip: str
    dry_run: bool
    planned: List[Planned] = field(default_factory=list)
    offline_reason: Optional[str] = None


def _call(resource: Resource, fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # translated once, here
        raise translate(exc, resource.label) from None


def read_and_plan(resource: Resource, member: str, ip: str, budget: Budget) -> Planned:
    observed = _call(resource, resource.read, budget)
    plans = {}
    extra: List[str] = []
    for spec in resource.specs:
        child = spec.ref.child
        plans[child] = plan_target(spec.label, observed.addresses[child], observed.ledgers[child],
                                   member, ip, spec.mode)
        extra += resource.changes(observed, spec)
    return Planned(resource, observed, plans, extra)


def verify(after: Observed, planned: Planned, member: str, ip: str) -> List[str]:
    problems = []
    for child, plan in planned.plans.items():
        held = after.addresses.get(child, [])
        if ip not in held:
            problems.append(f"{plan.label}: {ip} missing")
        claimed = {e.ip for m, e in after.ledgers.get(child, {}).items() if m != member}
        for gone in plan.remove:
            if gone in held and gone not in claimed:
                problems.append(f"{plan.label}: stale {gone} still present")
        if after.ledgers.get(child, {}).get(member) != plan.ledger_after.get(member):
            problems.append(f"{plan.label}: ledger entry for {member} not as written")
    return problems


def _apply_once(resource: Resource, first: Planned, member: str, ip: str, budget: Budget,
                attempt: int, supersede: bool = False) -> Planned:
    planned = first if attempt == 1 else read_and_plan(resource, member, ip, budget)
    planned.attempts = attempt
    planned.wrote = first.wrote      # an earlier attempt may have written already
    busy = planned.observed.busy
    # A running operation is waited for: writing now would cancel it (or be refused with 429),
    # and that might be somebody else's deployment. --while-busy supersede writes anyway: the
    # body read during the operation already carries its change, so a fleet converges in about
    # one gateway update instead of one update per member. A no-op always waits, since the
    # running operation could still fail or be superseded.
    if busy and (not supersede or not planned.changed):
        raise Retryable(f"{resource.label}: resource is {busy}; waiting for it to settle",
                        target=resource.label, code=busy)
    if not planned.changed:
        return planned
    after = _call(resource, resource.write, planned.observed, planned.plans, budget)
    planned.wrote = True
    problems = verify(after, planned, member, ip)
    if problems:
        raise Retryable(f"read-back differs from the plan: {'; '.join(problems)}",
                        target=resource.label, code="ReadBackMismatch")
    return planned


def register(settings: Settings, member: str, ip: str, clients, budget: Budget,
             dry_run: bool) -> Report:
    report = Report(member, ip, dry_run)
    resources = targets.build(settings.targets, clients)
    firsts = []
    for resource in resources:  # I6: nothing is written until every target is read and planned
        firsts.append(with_retries(
            lambda attempt, r=resource: read_and_plan(r, member, ip, budget),
            what=resource.label, budget=budget))
    report.planned = firsts
    if dry_run:
        return report
    done = []
    for first in firsts:
        resource = first.resource
        done.append(with_retries(
            lambda attempt, r=resource, f=first: _apply_once(r, f, member, ip, budget, attempt,
                                                             settings.while_busy == "supersede"),
            what=resource.label, budget=budget))
        log.info("target=%r wrote=%s attempts=%d", resource.label, done[-1].wrote,
                 done[-1].attempts)
    report.planned = done
    return report


def offline_plans(settings: Settings, member: str, ip: str) -> List[Planned]:
    """What can be said without reading Azure: every target must come to hold this IP."""
    out = []
    for resource in targets.build(settings.targets, None):
        observed = Observed(False, None, {s.ref.child: [] for s in resource.specs},
                            {s.ref.child: {} for s in resource.specs})
        plans = {s.ref.child: plan_target(s.label, [], {}, member, ip, s.mode)
                 for s in resource.specs}
        out.append(Planned(resource, observed, plans, ["current state unknown (not read)"]))
    return out


__all__ = ["Report", "Planned", "register", "offline_plans"]
