"""`status`: read every target, never write. Per target: the addresses, the members the ledger
names, the manual addresses (in no entry), the foreign ledger items, and the drift of one member
(its current IP when known, else its ledger entry) against what the target holds."""
from __future__ import annotations

from typing import List, Optional

from . import targets
from .planner import plan_fleet
from .retry import Budget, with_retries
from .runner import Outcome, ResourcePlan, call_translated, drift


def _target_view(resource, observed, spec, member: Optional[str], ip: Optional[str]) -> dict:
    child = spec.ref.child
    held = observed.addresses[child]
    ledger = observed.ledgers[child]
    named = {e.ip for e in ledger.entries.values()} | \
        {e.release for e in ledger.entries.values() if e.release}
    view = {"target": spec.ref.id, "label": spec.label, "kind": spec.ref.kind, "mode": spec.mode,
            "exists": observed.exists, "addresses": held,
            "members": {m: e.ip + (f" (releasing {e.release})" if e.release else "")
                        + (" (adopted by an earlier release)" if e.adopted else "")
                        for m, e in sorted(ledger.entries.items())},
            "manual": [a for a in held if a not in named],
            "foreign": [f.describe() for f in ledger.foreign], "drift": []}
    if member and ip:
        plan = plan_fleet(spec.label, held, ledger.entries, {member: ip}, spec.mode,
                          foreign=[f.describe() for f in ledger.foreign_not_of(member)],
                          own_foreign={member: len(ledger.foreign_of(member))})
        fake = Outcome(ResourcePlan(resource, observed, {child: plan}, []))
        view["drift"] = drift(fake) if plan.changed else []
        view["drift"] += [plan.refusal] if plan.refusal else []
    elif member:
        entry = ledger.entries.get(member)
        if entry is None:
            view["drift"].append(f"{spec.label}: no ledger entry for {member}")
        elif entry.ip not in held:
            view["drift"].append(f"{spec.label}: {member}'s address {entry.ip} missing")
    return view


def status(specs, clients, budget: Budget, member: Optional[str], ip: Optional[str]) -> dict:
    views: List[dict] = []
    for resource in targets.build(specs, clients):
        observed = with_retries(lambda attempt, r=resource: call_translated(r, r.read, budget),
                                what=resource.label, budget=budget)
        for spec in resource.specs:
            views.append(_target_view(resource, observed, spec, member, ip))
    in_sync = not any(v["drift"] for v in views)
    return {"status": "in-sync" if in_sync else "drift", "member": member, "ip": ip,
            "targets": views}
