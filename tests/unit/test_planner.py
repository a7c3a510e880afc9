import pytest

from aci_ip_registrar.planner import EXCLUSIVE, SHARED, LedgerEntry as L, apply, plan_target

M = "cg-a"


@pytest.mark.parametrize("name,current,ledger,ip,add,remove,after", [
    ("empty pool", [], {}, "10.0.0.4", ["10.0.0.4"], [], {M: L("10.0.0.4")}),
    ("same ip, registered", ["10.0.0.4"], {M: L("10.0.0.4")}, "10.0.0.4", [], [],
     {M: L("10.0.0.4")}),
    ("new ip, own stale removed", ["10.0.0.4", "10.0.0.9"], {M: L("10.0.0.4")}, "10.0.0.5",
     ["10.0.0.5"], ["10.0.0.4"], {M: L("10.0.0.5")}),
    ("foreign ip untouched", ["10.0.0.7"], {}, "10.0.0.5", ["10.0.0.5"], [],
     {M: L("10.0.0.5")}),
    ("own stale already gone", ["10.0.0.7"], {M: L("10.0.0.4")}, "10.0.0.5", ["10.0.0.5"], [],
     {M: L("10.0.0.5")}),
    ("previous already claimed by other", ["10.0.0.4", "10.0.0.5"],
     {M: L("10.0.0.4"), "cg-b": L("10.0.0.4")}, "10.0.0.5", [], [],
     {M: L("10.0.0.5"), "cg-b": L("10.0.0.4")}),
    ("swap suspected: previous kept for release", ["10.0.0.4", "10.0.0.5"],
     {M: L("10.0.0.4"), "cg-b": L("10.0.0.5")}, "10.0.0.5", [], [],
     {M: L("10.0.0.5", release="10.0.0.4"), "cg-b": L("10.0.0.5")}),
    ("kept ip released once the other moved elsewhere", ["10.0.0.4", "10.0.0.5", "10.0.0.6"],
     {M: L("10.0.0.5", release="10.0.0.4"), "cg-b": L("10.0.0.6")}, "10.0.0.5", [],
     ["10.0.0.4"], {M: L("10.0.0.5"), "cg-b": L("10.0.0.6")}),
    ("present ip with no entry claimed as owned (wiped ledger)", ["10.0.0.5"], {}, "10.0.0.5",
     [], [], {M: L("10.0.0.5")}),
    ("entry of an earlier release marked adopted is owned: removed on move", ["10.0.0.5"],
     {M: L("10.0.0.5", True)}, "10.0.0.6", ["10.0.0.6"], ["10.0.0.5"], {M: L("10.0.0.6")}),
    ("ip claimed by other is not adopted", ["10.0.0.5"], {"cg-b": L("10.0.0.5")}, "10.0.0.5",
     [], [], {M: L("10.0.0.5"), "cg-b": L("10.0.0.5")}),
])
def test_shared_table(name, current, ledger, ip, add, remove, after):
    plan = plan_target("t", current, ledger, M, ip, SHARED)
    assert plan.add == add, name
    assert plan.remove == remove, name
    assert plan.ledger_after == after, name
    assert ip in plan.result


def test_no_change_is_no_op():
    plan = plan_target("t", ["10.0.0.4"], {M: L("10.0.0.4")}, M, "10.0.0.4")
    assert not plan.changed


def test_first_claim_changes_ledger_only():
    plan = plan_target("t", ["10.0.0.4"], {}, M, "10.0.0.4")
    assert plan.changed and not plan.add and not plan.remove


@pytest.mark.parametrize("order", [("cg-a", "cg-b"), ("cg-b", "cg-a")])
def test_swap_neither_removes_the_other(order):
    new = {"cg-a": "10.0.0.5", "cg-b": "10.0.0.4"}
    pool = ["10.0.0.4", "10.0.0.5"]
    ledger = {"cg-a": L("10.0.0.4"), "cg-b": L("10.0.0.5")}
    for member in order:
        plan = plan_target("t", pool, ledger, member, new[member])
        assert plan.remove == [], member   # never removes the other's live address
        pool, ledger = plan.result, plan.ledger_after
    assert sorted(pool) == ["10.0.0.4", "10.0.0.5"]
    assert ledger == {"cg-a": L("10.0.0.5"), "cg-b": L("10.0.0.4")}


def test_exclusive_replaces_everything():
    plan = plan_target("t", ["10.0.0.9", "10.0.0.8"], {M: L("10.0.0.9")}, M, "10.0.0.4",
                       EXCLUSIVE)
    assert plan.result == ["10.0.0.4"]
    assert plan.ledger_after == {M: L("10.0.0.4")}


def test_exclusive_held_by_other_member_refused():
    plan = plan_target("t", ["10.0.0.9"], {"cg-b": L("10.0.0.9")}, M, "10.0.0.4", EXCLUSIVE)
    assert "held by member 'cg-b'" in plan.refusal


def test_exclusive_with_foreign_ledger_refused():
    plan = plan_target("t", ["10.0.0.9"], {}, M, "10.0.0.4", EXCLUSIVE, foreign=["x: 'junk'"])
    assert "does not parse" in plan.refusal


def test_exclusive_names_every_manual_address_it_removes():
    plan = plan_target("t", ["10.0.0.9", "10.0.0.8"], {M: L("10.0.0.9")}, M, "10.0.0.4",
                       EXCLUSIVE)
    assert plan.refusal is None
    assert [n.split()[0] for n in plan.notes] == ["10.0.0.8"]


def test_wiped_ledger_then_move_removes_old_address():
    first = plan_target("t", ["10.0.0.7", "10.0.0.5"], {}, M, "10.0.0.5")
    assert not first.remove and first.ledger_after == {M: L("10.0.0.5")}
    moved = plan_target("t", first.result, first.ledger_after, M, "10.0.0.6")
    assert moved.remove == ["10.0.0.5"] and moved.result == ["10.0.0.7", "10.0.0.6"]


def test_own_foreign_entry_replaced_is_a_change():
    plan = plan_target("t", ["10.0.0.4"], {M: L("10.0.0.4")}, M, "10.0.0.4", own_foreign=1)
    assert plan.changed and not plan.add and not plan.remove


@pytest.mark.parametrize("mode", [SHARED, EXCLUSIVE])
def test_leave_removes_only_own_unclaimed_addresses(mode):
    ledger = {M: L("10.0.0.4", release="10.0.0.3"), "cg-b": L("10.0.0.3")}
    plan = plan_target("t", ["10.0.0.4", "10.0.0.3", "10.0.0.9"], ledger, M, None, mode)
    assert plan.remove == ["10.0.0.4"] and plan.ledger_after == {"cg-b": L("10.0.0.3")}
    assert plan_target("t", plan.result, plan.ledger_after, M, None, mode).changed is False


def test_apply_keeps_order_and_dedupes():
    assert apply(["a", "b", "a"], ["c", "b"], ["x"]) == ["a", "b", "c"]
