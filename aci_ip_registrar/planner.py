"""The pure planner: what one target should gain and lose. No Azure imports, no I/O.

`plan_fleet` is the one entry point: observed target + desired memberships (one member at boot,
many in `sync`, a member with no IP to deregister) -> a TargetPlan. It folds `plan_target`, the
single-member rule below, over the members, so boot is a fleet of one.

Inputs are the IP addresses a target holds now, its ownership ledger (member -> valid entry; the
foreign items of ledger.py never reach the planner except as a count), the member, its current IP
(None to leave the target: deregister) and the target's mode. The output is a TargetPlan, a value.
Invariants (design.md):
  I1  the member's current IP is in the result;
  I2  the member's previous IP (from its ledger entry) is removed unless another member's entry
      claims that same IP, or may be about to (a suspected swap: see _settle_releases);
  I3  nothing the ledger does not attribute to this member is removed (shared mode);
  I4  a plan with no change is a no-op.
A member with no entry whose current IP is already in the target claims it as owned: it holds that
address now, so it proves ownership (a ledger wiped by a deployment is re-claimed, never stranded).
Refusals are recorded on the plan, not raised: the runner checks every plan before any write.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Sequence

SHARED = "shared"
EXCLUSIVE = "exclusive"
MODES = (SHARED, EXCLUSIVE)
EMPTY: Mapping = MappingProxyType({})   # a default no one can change


class LedgerEntry(NamedTuple):
    ip: str
    adopted: bool = False           # written by earlier releases; read as owned
    release: Optional[str] = None   # an old IP kept while a suspected swap settles


class TargetPlan(NamedTuple):
    label: str
    mode: str
    member: str
    ip: Optional[str]               # None: the member leaves this target
    current: List[str]
    add: List[str]
    remove: List[str]
    ledger_before: Dict[str, LedgerEntry]
    ledger_after: Dict[str, LedgerEntry]
    notes: List[str]
    refusal: Optional[str] = None
    desired: Mapping[str, Optional[str]] = EMPTY     # member -> ip (None: leave)
    replaces: FrozenSet[str] = frozenset()    # members whose own foreign items are rewritten

    @property
    def result(self) -> List[str]:
        return apply(self.current, self.add, self.remove)

    @property
    def ledger_changed(self) -> bool:
        return self.ledger_before != self.ledger_after or bool(self.replaces)

    @property
    def changed(self) -> bool:
        return bool(self.add or self.remove or self.ledger_changed)


def apply(current: Sequence[str], add: Sequence[str], remove: Sequence[str]) -> List[str]:
    """The target's addresses after a plan: order kept, additions appended, no duplicates."""
    gone = set(remove)
    out: List[str] = []
    for ip in current:
        if ip not in gone and ip not in out:
            out.append(ip)
    for ip in add:
        if ip not in out:
            out.append(ip)
    return out


def _claims(ledger: Dict[str, LedgerEntry], ip: str, but: str) -> List[str]:
    """Members other than `but` whose entry holds `ip` as their current address."""
    return sorted(m for m, e in ledger.items() if m != but and e.ip == ip)


def plan_target(label: str, current: Sequence[str], ledger: Dict[str, LedgerEntry],
                member: str, ip: Optional[str], mode: str = SHARED, *,
                foreign: Sequence[str] = (), own_foreign: int = 0) -> TargetPlan:
    """`foreign`: descriptions of other members' foreign ledger items (never acted on);
    `own_foreign`: how many foreign items name this member (replaced by its next write)."""
    current, ledger = list(current), dict(ledger)
    if ip is None:
        plan = _plan_leave(label, mode, current, ledger, member)
    elif mode == EXCLUSIVE:
        plan = _plan_exclusive(label, current, ledger, member, ip, foreign)
    else:
        plan = _plan_shared(label, current, ledger, member, ip)
    if own_foreign:
        plan = plan._replace(replaces=frozenset({member}), notes=plan.notes + [
            f"{own_foreign} unparseable ledger item(s) naming {member} replaced; the addresses "
            f"they named are left alone"])
    return plan


def _plan_shared(label: str, current: List[str], ledger: Dict[str, LedgerEntry],
                 member: str, ip: str) -> TargetPlan:
    notes: List[str] = []
    previous = ledger.get(member)
    after = dict(ledger)
    if previous is not None and previous.ip == ip:
        entry = previous
    else:
        if previous is None and ip in current:
            notes.append(f"{ip} already present: claimed as {member}'s (it holds that address)")
        entry = LedgerEntry(ip, False, previous.release if previous else None)
    displaced: List[str] = []
    if previous is not None and previous.ip != ip and previous.ip in current:
        if entry.release and entry.release != previous.ip:
            displaced.append(entry.release)
        entry = entry._replace(release=previous.ip)
    after[member] = entry
    remove = _settle_releases(current, after, displaced, notes)
    add = [] if ip in current else [ip]
    return TargetPlan(label, SHARED, member, ip, current, add, remove, ledger, after, notes)


def _settle_releases(current: List[str], after: Dict[str, LedgerEntry], displaced: List[str],
                     notes: List[str]) -> List[str]:
    """Decide every released IP in the ledger; mutates `after`, returns the IPs to remove.

    A member that moved keeps its old IP marked `release` while another member's entry still
    holds the member's new IP: that other member moved too and has not re-registered yet, and
    may now sit on the old IP (a swap). Once no entry waits on it, a released IP is removed,
    unless some member's entry has claimed it meanwhile.
    """
    waiting: Dict[str, bool] = {old: False for old in displaced}
    for member, entry in after.items():
        if entry.release:
            holds_new = bool(_claims(after, entry.ip, member))
            waiting[entry.release] = waiting.get(entry.release, False) or holds_new
    claimed = {e.ip for e in after.values()}
    remove: List[str] = []
    for old, still_waiting in waiting.items():
        if old in current and old not in claimed and still_waiting:
            notes.append(f"{old} kept until the member now holding the new IP re-registers")
            continue
        if old in current and old not in claimed:
            remove.append(old)
        elif old in claimed and old in current:
            notes.append(f"{old} is now claimed by another member: kept")
        for member, entry in after.items():
            if entry.release == old:
                after[member] = entry._replace(release=None)
    return remove


def _plan_exclusive(label: str, current: List[str], ledger: Dict[str, LedgerEntry],
                    member: str, ip: str, foreign: Sequence[str]) -> TargetPlan:
    others = sorted(m for m in ledger if m != member)
    add = [] if ip in current else [ip]
    remove = [x for x in current if x != ip]
    owned = {e.ip for e in ledger.values()} | {e.release for e in ledger.values() if e.release}
    notes = [f"{x} removed: an exclusive target holds only {member}'s address (no ledger entry "
             f"names it)" for x in remove if x not in owned]
    refusal = None
    if others:
        refusal = (f"{label}: exclusive target is held by member {others[0]!r} according to its "
                   f"ledger; remove that ledger entry to hand it over")
    elif foreign:
        refusal = (f"{label}: exclusive target has a ledger entry that does not parse "
                   f"({foreign[0]}); fix or remove it before this member takes the target over")
    after = {member: LedgerEntry(ip)}
    return TargetPlan(label, EXCLUSIVE, member, ip, current, add, remove, ledger, after, notes,
                      refusal)


def _plan_leave(label: str, mode: str, current: List[str], ledger: Dict[str, LedgerEntry],
                member: str) -> TargetPlan:
    """Deregister: drop the member's entry and the addresses it owns that nobody else claims."""
    notes: List[str] = []
    after = {m: e for m, e in ledger.items() if m != member}
    previous = ledger.get(member)
    remove: List[str] = []
    if previous is not None:
        claimed = {e.ip for e in after.values()}
        for old in [previous.ip] + ([previous.release] if previous.release else []):
            if old in claimed:
                notes.append(f"{old} is claimed by another member: kept")
            elif old in current:
                remove.append(old)
    else:
        notes.append(f"no ledger entry for {member}: nothing of it to remove")
    return TargetPlan(label, mode, member, None, current, [], remove, ledger, after, notes)


class Guard(NamedTuple):
    """octoDNS-style safety rails for pruning: refuse to remove more than `max_share` of a
    target's members, or to leave a target with no address, unless forced."""
    max_share: float = 0.3
    force: bool = False


def plan_fleet(label: str, current: Sequence[str], ledger: Dict[str, LedgerEntry],
               desired: Mapping[str, Optional[str]], mode: str = SHARED, *,
               foreign: Sequence[str] = (), own_foreign: Optional[Mapping[str, int]] = None,
               guard: Optional[Guard] = None) -> TargetPlan:
    """Every member of `desired` at once: those that leave first, then those that join, folded
    until nothing moves (a swap or a release settles within the same plan). Only the net
    difference is planned, so an address that leaves and comes back is never touched."""
    own_foreign = own_foreign or {}
    start, before = list(current), dict(ledger)
    joining = [m for m in sorted(desired) if desired[m] is not None]
    order = [m for m in sorted(desired) if desired[m] is None] + joining
    notes: List[str] = []
    refusals: List[str] = []
    if mode == EXCLUSIVE and len(joining) > 1:
        refusals.append(f"{label}: an exclusive target holds one member; {len(joining)} want it "
                        f"({', '.join(joining)})")
    now, held = list(start), dict(before)
    for rounds in range(3):
        was = (list(now), dict(held))
        for member in order:
            step = plan_target(label, now, held, member, desired[member], mode, foreign=foreign,
                               own_foreign=own_foreign.get(member, 0))
            now, held = step.result, step.ledger_after
            notes += [n for n in step.notes if n not in notes] if rounds == 0 else []
            refusals += [step.refusal] if step.refusal and step.refusal not in refusals else []
        if (now, held) == was:
            break
    if guard is not None:
        refusals += _guard(label, start, now, before, held, guard)
    add = [ip for ip in now if ip not in start]
    remove = [ip for ip in start if ip not in now]
    replaces = frozenset(m for m in desired if own_foreign.get(m))
    single = order[0] if len(order) == 1 else ""
    return TargetPlan(label, mode, single, desired.get(single), start, add, remove, before, held,
                      notes, "; ".join(refusals) or None, dict(desired), replaces)


def _guard(label: str, start: List[str], end: List[str], before: Dict[str, LedgerEntry],
           after: Dict[str, LedgerEntry], guard: Guard) -> List[str]:
    if guard.force:
        return []
    gone = sorted(m for m in before if m not in after)
    out = []
    if before and len(gone) / len(before) > guard.max_share:
        out.append(f"{label}: would remove {len(gone)} of {len(before)} members "
                   f"({len(gone) / len(before):.0%}, over the {guard.max_share:.0%} threshold): "
                   f"{', '.join(gone[:5])}{'...' if len(gone) > 5 else ''}; use --force")
    if start and not end:
        out.append(f"{label}: would leave the target with no address; use --force")
    return out
