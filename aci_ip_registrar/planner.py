"""The pure planner: what one target should gain and lose. No Azure imports, no I/O.

Inputs are the IP addresses a target holds now, its ownership ledger (member -> entry), the member,
its current IP and the target's mode. The output is a TargetPlan. Invariants (design.md):
  I1  the member's current IP is in the result;
  I2  the member's previous IP (from its ledger entry) is removed unless another member's entry
      claims that same IP (two groups swapped addresses);
  I3  nothing the ledger does not attribute to this member is removed (shared mode);
  I4  a plan with no change is a no-op.
An entry that was already in the target, unowned, when the member first claimed it is marked
`adopted`: the member shares it but never removes it (it was somebody's manual entry).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence

from .errors import UnsafePlanRefused

SHARED = "shared"
EXCLUSIVE = "exclusive"
MODES = (SHARED, EXCLUSIVE)


@dataclass(frozen=True)
class LedgerEntry:
    ip: str
    adopted: bool = False
    release: Optional[str] = None   # an old IP kept while a suspected swap settles


@dataclass
class TargetPlan:
    label: str
    mode: str
    member: str
    ip: str
    current: List[str]
    add: List[str]
    remove: List[str]
    ledger_before: Dict[str, LedgerEntry]
    ledger_after: Dict[str, LedgerEntry]
    notes: List[str] = field(default_factory=list)

    @property
    def result(self) -> List[str]:
        return apply(self.current, self.add, self.remove)

    @property
    def ledger_changed(self) -> bool:
        return self.ledger_before != self.ledger_after

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
                member: str, ip: str, mode: str = SHARED) -> TargetPlan:
    current = list(current)
    ledger = dict(ledger)
    if mode == EXCLUSIVE:
        return _plan_exclusive(label, current, ledger, member, ip)
    return _plan_shared(label, current, ledger, member, ip)


def _plan_shared(label: str, current: List[str], ledger: Dict[str, LedgerEntry],
                 member: str, ip: str) -> TargetPlan:
    notes: List[str] = []
    previous = ledger.get(member)
    after = dict(ledger)
    if previous is not None and previous.ip == ip:
        entry = previous
    else:
        known = {e.ip for m, e in ledger.items() if m != member} | \
            {e.release for m, e in ledger.items() if m != member and e.release}
        adopted = ip in current and ip not in known
        if adopted:
            notes.append(f"{ip} was already present and unowned: shared, never removed")
        entry = LedgerEntry(ip, adopted)
    # Our new IP still in another member's entry means that member moved and has not yet
    # re-registered: it may have taken our old IP (a swap), so the old IP is kept, marked for
    # release, until that member's entry moves on.
    holders = _claims(ledger, ip, member)
    if holders:
        notes.append(f"{ip} is still in {holders[0]}'s ledger entry (swapped addresses?)")
    pending: List[str] = []
    if previous is not None:
        if previous.release:
            pending.append(previous.release)
        if previous.ip != ip and not previous.adopted:
            pending.append(previous.ip)
        elif previous.ip != ip:
            notes.append(f"previous {previous.ip} was adopted, not created: kept")
    remove: List[str] = []
    keep: Optional[str] = None
    for old in dict.fromkeys(pending):
        if old == ip or old not in current:
            continue
        owners = _claims(ledger, old, member)
        if owners:
            notes.append(f"previous {old} is now claimed by {owners[0]}: kept")
        elif holders:
            keep = old
            notes.append(f"previous {old} kept until {holders[0]} re-registers")
        else:
            remove.append(old)
    after[member] = replace(entry, release=keep)
    # Settle other members' kept IPs once the swap they waited for has resolved.
    claimed_now = {e.ip for e in after.values()}
    for other, held in ledger.items():
        if other == member or not held.release:
            continue
        old = held.release
        if old in current and old not in claimed_now and _claims(after, held.ip, other):
            continue  # still waiting for the member that holds its new IP
        if old in current and old not in claimed_now:
            remove.append(old)
            notes.append(f"{other}'s kept {old}: swap settled, removed")
        after[other] = replace(held, release=None)
    add = [] if ip in current else [ip]
    return TargetPlan(label, SHARED, member, ip, current, add, remove, ledger, after, notes)


def _plan_exclusive(label: str, current: List[str], ledger: Dict[str, LedgerEntry],
                    member: str, ip: str) -> TargetPlan:
    others = sorted(m for m in ledger if m != member)
    if others:
        raise UnsafePlanRefused(
            f"{label}: exclusive target is held by member {others[0]!r} according to its "
            f"ledger; remove that ledger entry to hand it over", target=label)
    add = [] if ip in current else [ip]
    remove = [x for x in current if x != ip]
    after = {member: LedgerEntry(ip, False)}
    return TargetPlan(label, EXCLUSIVE, member, ip, current, add, remove, ledger, after)
