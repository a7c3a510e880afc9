"""The pure planner: what one target should gain and lose. No Azure imports, no I/O.

Inputs are the IP addresses a target holds now, its ownership ledger (member -> entry), the member,
its current IP and the target's mode. The output is a TargetPlan. Invariants (design.md):
  I1  the member's current IP is in the result;
  I2  the member's previous IP (from its ledger entry) is removed unless another member's entry
      claims that same IP, or may be about to (a suspected swap: see _settle_releases);
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
        entry = LedgerEntry(ip, adopted, previous.release if previous else None)
    displaced: List[str] = []
    if previous is not None and previous.ip != ip:
        if previous.adopted:
            notes.append(f"previous {previous.ip} was adopted, not created: kept")
        elif previous.ip in current:
            if entry.release and entry.release != previous.ip:
                displaced.append(entry.release)
            entry = replace(entry, release=previous.ip)
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
                after[member] = replace(entry, release=None)
    return remove


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
