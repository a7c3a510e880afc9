"""plan_fleet: every membership of a target at once (boot is a fleet of one)."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from aci_ip_registrar.planner import EXCLUSIVE, SHARED, Guard, LedgerEntry as L, plan_fleet

IPS = [f"10.0.0.{i}" for i in range(1, 9)]
MEMBERS = ["m1", "m2", "m3", "m4", "m5"]
ips = st.sampled_from(IPS)
entries = st.builds(L, ips, st.booleans(), st.none() | ips)
ledgers = st.dictionaries(st.sampled_from(MEMBERS), entries, max_size=5)
pools = st.lists(ips, max_size=8, unique=True)
# desired: running members with distinct IPs (no two groups hold one address), and leavers
fleets = st.dictionaries(st.sampled_from(MEMBERS), st.none() | ips, max_size=5).filter(
    lambda d: len([v for v in d.values() if v]) == len({v for v in d.values() if v}))


def owned(ledger, desired):
    """What a pass may remove: addresses some ledger entry of a member it plans for owns."""
    out = set()
    for member, entry in ledger.items():
        if member in desired:
            out.add(entry.ip)
        if entry.release:
            out.add(entry.release)
    return out


@settings(max_examples=400, deadline=None)
@given(pools, ledgers, fleets)
def test_never_removes_what_no_planned_entry_owns(pool, ledger, desired):
    plan = plan_fleet("t", pool, ledger, desired)
    assert set(plan.remove) <= owned(ledger, desired)
    running = {ip for ip in desired.values() if ip}
    assert not set(plan.remove) & running          # never a selected group's current IP


@settings(max_examples=400, deadline=None)
@given(pools, ledgers, fleets)
def test_converges_in_one_pass_and_a_second_plans_nothing(pool, ledger, desired):
    first = plan_fleet("t", pool, ledger, desired)
    for member, ip in desired.items():
        if ip:
            assert ip in first.result and first.ledger_after[member].ip == ip
        else:
            assert member not in first.ledger_after
    second = plan_fleet("t", first.result, first.ledger_after, desired)
    assert not second.changed, (first, second)


@settings(max_examples=200, deadline=None)
@given(pools, st.sampled_from(MEMBERS), ips)
def test_fleet_of_one_is_the_boot_plan(pool, member, ip):
    from aci_ip_registrar.planner import plan_target
    fleet = plan_fleet("t", pool, {}, {member: ip})
    single = plan_target("t", pool, {}, member, ip)
    assert (fleet.result, fleet.ledger_after) == (single.result, single.ledger_after)


def test_swapped_pair_settles_in_one_pass():
    ledger = {"m1": L("10.0.0.1"), "m2": L("10.0.0.2")}
    plan = plan_fleet("t", ["10.0.0.1", "10.0.0.2", "10.0.0.9"], ledger,
                      {"m1": "10.0.0.2", "m2": "10.0.0.1"})
    assert plan.add == [] and plan.remove == []
    assert plan.ledger_after == {"m1": L("10.0.0.2"), "m2": L("10.0.0.1")}


def test_pruned_member_whose_address_a_running_group_now_holds():
    ledger = {"m1": L("10.0.0.1"), "m2": L("10.0.0.2")}
    plan = plan_fleet("t", ["10.0.0.1", "10.0.0.2"], ledger, {"m1": None, "m2": "10.0.0.1"},
                      guard=Guard(force=True))
    assert plan.remove == ["10.0.0.2"] and plan.result == ["10.0.0.1"]
    assert plan.ledger_after == {"m2": L("10.0.0.1")}


def test_guard_refuses_large_prunes_and_empty_targets_unless_forced():
    ledger = {m: L(f"10.0.0.{i}") for i, m in enumerate(MEMBERS, 1)}
    pool = [e.ip for e in ledger.values()]
    desired = {"m1": None, "m2": None}
    refused = plan_fleet("t", pool, ledger, desired, guard=Guard(max_share=0.3))
    assert "2 of 5 members" in refused.refusal and "40%" in refused.refusal
    assert plan_fleet("t", pool, ledger, {"m1": None}, guard=Guard(max_share=0.3)).refusal is None
    empty = plan_fleet("t", ["10.0.0.1"], {"m1": L("10.0.0.1")}, {"m1": None},
                       guard=Guard(max_share=1.0))
    assert "no address" in empty.refusal
    assert plan_fleet("t", pool, ledger, desired, guard=Guard(force=True)).refusal is None


def test_exclusive_target_takes_one_member_only():
    plan = plan_fleet("t", [], {}, {"m1": "10.0.0.1", "m2": "10.0.0.2"}, EXCLUSIVE)
    assert "holds one member" in plan.refusal
    assert plan_fleet("t", [], {}, {"m1": "10.0.0.1"}, SHARED).refusal is None
