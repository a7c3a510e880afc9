"""One run, in three phases (design.md, "read everything, check everything, then write"):

1. read and plan every target (I6): a ResourcePlan is a value, rebuilt from a fresh read each time;
2. check every plan: each refusal that can be known in advance stops the run before any write;
3. write each resource conditionally (I5), verify it from the read-back, and on a transient
   failure re-read, re-plan and re-check that resource (never re-send a stale body).

The Report records, per resource, what happened, so a failure after an earlier write says which
targets were written and which were not.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Set

from . import targets
from .azure_errors import translate
from .errors import (ConfigError, CredentialUnavailable, PermissionDenied, RegistrarError,
                     RegistrationFailed, Retryable, UnsafePlanRefused)
from .ledger import Ledger
from .planner import Guard, TargetPlan, plan_fleet
from .retry import Budget, with_retries
from .targets.base import Observed, Resource

log = logging.getLogger("aci_ip_registrar.runner")

UNCHANGED, WOULD_WRITE, WRITTEN = "unchanged", "would-write", "written"
NOT_WRITTEN, FAILED, PENDING = "not-written", "failed", "pending"


class ResourcePlan(NamedTuple):
    """Everything the writer needs, and nothing else."""
    resource: Resource
    observed: Observed
    plans: Dict[str, TargetPlan]
    extra: List[str]
    body: Any = None                         # the document to write; None when unchanged
    refusals: Sequence[str] = ()

    @property
    def changed(self) -> bool:
        return bool(self.extra) or any(p.changed for p in self.plans.values())


# Outcome, Report (and config.Settings) are filled in as a run goes: plain classes, because
# importing dataclasses and defining them costs a boot about 2.5 ms (README, Development).
class Outcome:
    def __init__(self, plan: ResourcePlan) -> None:
        self.plan = plan
        self.status = PENDING
        self.attempts = 1
        self.reason: Optional[str] = None
        self.sent = False           # a write went out (its answer may have been lost)


class Report:
    def __init__(self, member: Optional[str], ip: Optional[str], dry_run: bool,
                 ip_source: str = "") -> None:
        self.member, self.ip, self.dry_run, self.ip_source = member, ip, dry_run, ip_source
        self.outcomes: List[Outcome] = []
        self.offline_reason: Optional[str] = None
        self.error: Optional[RegistrarError] = None
        self.warned: Set[str] = set()
        self.reads = self.writes = 0          # ARM reads and writes of targets this run
        self.fleet: Any = None                # sync: the fleet.Fleet this pass planned from

    def pending(self) -> List[str]:
        return [o.plan.resource.label for o in self.outcomes if o.status == PENDING]


def call_translated(resource: Resource, fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # translated once, here
        raise translate(exc, resource.label) from None


def _warn_foreign(ledger: Ledger, label: str, desired, report: Report) -> None:
    for item in ledger.foreign:
        key = f"{label}|{item.where}|{item.text}"
        if key in report.warned:
            continue
        report.warned.add(key)
        fate = ("replaced by its member's own entry" if item.owner in desired
                else "kept as it is, never acted on")
        log.warning("%s: foreign ledger item %s: %s", label, item.describe(), fate)


def plan_resource(resource: Resource, desired, budget: Budget, report: Report,
                  guard: Optional[Guard] = None) -> ResourcePlan:
    """Read one resource and plan every desired membership on each of its targets. `desired`
    maps member -> IP (None: leaves), or is a function of a target's ledger entries giving
    that map (sync prunes the members a ledger names that no longer run)."""
    report.reads += 1
    observed = call_translated(resource, resource.read, budget)
    plans, wants, extra = {}, {}, []
    refusals = list(resource.refusals(observed))
    for spec in resource.specs:
        ledger = observed.ledgers[spec.ref.child]
        want = desired(ledger.entries) if callable(desired) else desired
        _warn_foreign(ledger, spec.label, want, report)
        for member, ip in sorted((m, ip) for m, ip in want.items() if ip is not None):
            try:
                refusals += resource.check_address(spec, ip)
            except ConfigError:
                if not callable(desired):
                    raise
                # sync: a group this target cannot hold (outside a reverse zone) leaves it.
                want = {**want, member: None}
        wants[spec.ref.child] = want
        plans[spec.ref.child] = _plan_child(spec, observed, want, guard)
        if any(ip is not None for ip in want.values()):
            extra += resource.changes(observed, spec)
    for child, why in resource.blocked(observed, plans).items():
        # An address this resource cannot take (another host's PTR): those members leave it.
        spec = next(s for s in resource.specs if s.ref.child == child)
        want = {m: (None if m in why else ip) for m, ip in wants[child].items()}
        plan = _plan_child(spec, observed, want, guard)
        plans[child] = plan._replace(notes=plan.notes + list(why.values()))
        for reason in why.values():
            if f"{spec.label}|{reason}" not in report.warned:
                report.warned.add(f"{spec.label}|{reason}")
                log.warning("%s: %s", spec.label, reason)
    refusals += [p.refusal for p in plans.values() if p.refusal]
    if not ResourcePlan(resource, observed, plans, extra).changed:
        return ResourcePlan(resource, observed, plans, extra, None, refusals)
    body = resource.render(observed, plans)
    return ResourcePlan(resource, observed, plans, extra, body,
                        refusals + resource.problems(body))


def _plan_child(spec, observed: Observed, want, guard: Optional[Guard]) -> TargetPlan:
    ledger = observed.ledgers[spec.ref.child]
    return plan_fleet(spec.label, observed.addresses[spec.ref.child], ledger.entries, want,
                      spec.mode, foreign=[f.describe() for f in ledger.foreign
                                          if f.owner not in want],
                      own_foreign={m: len(ledger.foreign_of(m)) for m in want}, guard=guard)


def check(plans: List[ResourcePlan]) -> None:
    """octoDNS's raise_if_unsafe: every refusal of every plan, before the first write."""
    refusals = [r for p in plans for r in p.refusals]
    if refusals:
        raise UnsafePlanRefused("; ".join(refusals), target=plans[0].resource.label)


def verify(after: Observed, planned: ResourcePlan) -> List[str]:
    """The read-back holds what the plan wrote for its members (others may have moved on)."""
    problems = []
    for child, plan in planned.plans.items():
        held = after.addresses.get(child, [])
        entries = after.ledgers[child].entries if child in after.ledgers else {}
        claimed = {e.ip for m, e in entries.items() if m not in plan.desired}
        for member, ip in plan.desired.items():
            if ip is not None and ip not in held:
                problems.append(f"{plan.label}: {member}'s {ip} missing")
            if entries.get(member) != plan.ledger_after.get(member):
                problems.append(f"{plan.label}: ledger entry for {member} not as written")
        for gone in plan.remove:
            if gone in held and gone not in claimed:
                problems.append(f"{plan.label}: stale {gone} still present")
    return problems


def _write_once(outcome: Outcome, desired, budget: Budget, attempt: int, supersede: bool,
                report: Report, guard: Optional[Guard]) -> None:
    resource = outcome.plan.resource
    if attempt > 1:
        outcome.plan = plan_resource(resource, desired, budget, report, guard)
        check([outcome.plan])
    outcome.attempts = attempt
    planned = outcome.plan
    busy = planned.observed.busy
    # A running operation is waited for: writing now would cancel it (or be refused with 429),
    # and it might be somebody else's deployment. --while-busy supersede writes anyway: the body
    # read during the operation already carries its change, so a fleet converges in about one
    # gateway update. A no-op always waits, since the running operation could still fail.
    if busy and (not supersede or not planned.changed):
        raise Retryable(f"{resource.label}: resource is {busy}; waiting for it to settle",
                        target=resource.label, code=busy)
    if not planned.changed:
        return
    report.writes += 1
    outcome.sent = True
    after = call_translated(resource, resource.write, planned.observed, planned.body, budget)
    outcome.status = WRITTEN
    problems = verify(after, planned)
    if problems:
        raise Retryable(f"read-back differs from the plan: {'; '.join(problems)}",
                        target=resource.label, code="ReadBackMismatch")


def run_once(specs, desired, clients, budget: Budget, report: Report,
             supersede: bool = False, guard: Optional[Guard] = None) -> Report:
    """Read and plan all, check all, then write each. Fills `report` as it goes; raises the
    first RegistrarError after recording which resources were written. `desired` maps each
    member to its IP, or to None for a member that leaves."""
    resources = targets.build(specs, clients)
    plans = [with_retries(lambda attempt, r=resource: plan_resource(r, desired, budget, report,
                                                                     guard),
                          what=resource.label, budget=budget) for resource in resources]
    report.outcomes = [Outcome(p) for p in plans]
    check(plans)
    # Missing permissions known in advance refuse here, dry run included; a no-op asks (and
    # imports) nothing.
    if any(p.changed for p in plans):
        from . import permissions
        permissions.require(plans, clients, budget)
    if report.dry_run:
        for outcome in report.outcomes:
            outcome.status = WOULD_WRITE if outcome.plan.changed else UNCHANGED
        return report
    for outcome in report.outcomes:
        _apply(outcome, desired, budget, supersede, report, guard)
    return report


def _apply(outcome: Outcome, desired, budget: Budget, supersede: bool, report: Report,
           guard: Optional[Guard]) -> None:
    label = outcome.plan.resource.label
    try:
        with_retries(lambda attempt: _write_once(outcome, desired, budget, attempt, supersede,
                                                 report, guard),
                     what=label, budget=budget)
    except RegistrarError as exc:
        wrote = outcome.status == WRITTEN
        outcome.status, outcome.reason = FAILED, exc.message
        if wrote:
            outcome.reason += " (an earlier attempt was written; verification did not pass)"
        for later in report.outcomes:
            if later.status == PENDING:
                later.status, later.reason = NOT_WRITTEN, f"not attempted: {label} failed"
        raise
    if outcome.status == PENDING:
        # Nothing (left) to write. If a write went out whose answer was lost, the re-read shows
        # it landed: report it as written.
        outcome.status = WRITTEN if outcome.sent else UNCHANGED
    log.info("target=%r status=%s attempts=%d", label, outcome.status, outcome.attempts)


def register(settings, clients, budget: Budget, report: Report) -> Report:
    """Boot registration: discover the IP, then run_once. A dry run with no credential at all
    still says what it would ensure (offline)."""
    from .config import check_member
    from .discovery import discover
    report.ip, report.ip_source = discover(settings, clients, budget)
    report.member = settings.member or check_member(settings.container_group.name)
    # Only now, with everything known without Azure checked: a bad IP or name sends nothing.
    clients.head_start()
    log.info("member=%s ip=%s source=%r targets=%d dry_run=%s", report.member, report.ip,
             report.ip_source, len(settings.targets), settings.dry_run)
    try:
        return run_once(settings.targets, {report.member: report.ip}, clients, budget, report,
                        supersede=settings.while_busy == "supersede")
    except CredentialUnavailable as exc:
        if not settings.dry_run:
            raise
        log.warning("dry run without credentials: %s", exc.message)
        return offline_report(settings.targets, report.member, report.ip, report,
                              "no usable Azure credential, targets not read; this is what "
                              "would be ensured")


def deregister(settings, clients, budget: Budget, report: Report) -> Report:
    """Leave every target: the planner with no IP removes only what the member owns."""
    report.member, report.ip, report.ip_source = settings.member, None, "deregister"
    return run_once(settings.targets, {report.member: None}, clients, budget, report,
                    supersede=settings.while_busy == "supersede")


def sync(settings, clients, budget: Budget, report: Report, scopes, tags, member_tag,
         prune: bool, guard: Guard) -> Report:
    """One fleet pass: list and settle the container groups, then plan every target for all of
    them at once (one write per gateway, one per record set)."""
    from .fleet import discover_fleet
    fleet = discover_fleet(clients, scopes, tags, member_tag, budget)
    report.fleet = fleet
    report.member, report.ip_source = None, "ACI API"
    log.info("fleet groups=%d running=%d complete=%s list_pages=%d group_reads=%d",
             len(fleet.groups), len(fleet.running()), fleet.complete, fleet.list_pages,
             fleet.group_reads)
    run_once(settings.targets, fleet.desired(prune), clients, budget, report,
             supersede=settings.while_busy == "supersede", guard=guard)
    if fleet.denied:      # not transient: a person must grant containerGroups/read (exit 5)
        raise PermissionDenied(f"{fleet.denied[0].message}; the fleet could not be listed, so "
                               f"nothing was pruned", target=fleet.denied[0].target,
                               code=fleet.denied[0].code)
    if not fleet.complete and prune:
        raise RegistrationFailed(f"the fleet could not be read completely, so nothing was "
                                 f"pruned: {'; '.join(fleet.problems)}")
    return report


def offline_report(specs, member: str, ip: str, report: Report, reason: str) -> Report:
    """What can be said without reading Azure: every target must come to hold this IP."""
    report.offline_reason = reason
    report.outcomes = []
    for resource in targets.build(specs, None):
        observed = Observed(False, None, {s.ref.child: [] for s in resource.specs},
                            {s.ref.child: Ledger() for s in resource.specs})
        plans = {s.ref.child: plan_fleet(s.label, [], {}, {member: ip}, s.mode)
                 for s in resource.specs}
        outcome = Outcome(ResourcePlan(resource, observed, plans,
                                       ["current state unknown (not read)"]))
        outcome.status = WOULD_WRITE
        report.outcomes.append(outcome)
    return report


__all__ = ["Report", "ResourcePlan", "Outcome", "register", "deregister", "sync", "run_once", "offline_report", "plan_resource",
           "check", "verify"]


# --- Staying on duty: one verify-and-repair pass, looped by the supervisor -------------------

def drift(outcome: Outcome) -> List[str]:
    """What was wrong, in words, for a resource this pass wrote."""
    reasons = []
    for plan in outcome.plan.plans.values():
        for member, ip in plan.desired.items():
            if ip is not None and ip in plan.add:
                reasons.append(f"{plan.label}: {member}'s address {ip} missing")
            if plan.ledger_before.get(member) != plan.ledger_after.get(member) \
                    and not (ip is not None and ip in plan.add):
                reasons.append(f"{plan.label}: ledger entry for {member} missing or wrong")
        if plan.remove:
            reasons.append(f"{plan.label}: stale {', '.join(plan.remove)} present")
    return reasons + list(outcome.plan.extra)
