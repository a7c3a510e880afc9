"""permissions.py without Azure: ARM's matching rules, one permissions read per scope, the
pre-write check, and the role built from what the kinds need. Fakes sit at the seam (the `arm`
the module calls); the kinds are the real ones."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import List

import pytest

from aci_ip_registrar import permissions as P
from aci_ip_registrar.config import parse_targets
from aci_ip_registrar.errors import PermissionDenied
from aci_ip_registrar.fleet import parse_scope
from aci_ip_registrar.resource_ids import parse_container_group
from aci_ip_registrar.retry import Budget

SUB = "3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f"
SUB2 = "11111111-2222-3333-4444-555555555555"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-net"
NET = f"{RG}/providers/Microsoft.Network"
GW = f"{NET}/applicationGateways/agw"
SUBNET = f"/subscriptions/{SUB2}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/hub/subnets/agw"
PIP = f"{NET}/publicIPAddresses/pip-agw"
WAF = f"{NET}/ApplicationGatewayWebApplicationFirewallPolicies/waf"
ZONE = f"{NET}/privateDnsZones/corp.internal"
CG = f"{RG}/providers/Microsoft.ContainerInstance/containerGroups/cg-1"

GW_READ = "Microsoft.Network/applicationGateways/read"
GW_WRITE = "Microsoft.Network/applicationGateways/write"
JOIN = "Microsoft.Network/virtualNetworks/subnets/join/action"


# -- matching ---------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, action, expected", [
    (GW_READ, GW_READ, True),
    (GW_READ.upper(), GW_READ.lower(), True),                     # case-insensitive
    ("*", JOIN, True),
    ("Microsoft.Network/*", GW_WRITE, True),
    ("Microsoft.Network/*/read", "Microsoft.Network/privateDnsZones/A/read", True),  # * spans /
    ("Microsoft.Network/*/read", GW_WRITE, False),
    ("*/read", GW_READ, True),
    ("*/read", JOIN, False),
    ("Microsoft.Network/applicationGateways/*", GW_WRITE, True),
    ("Microsoft.Network/applicationGateways/*", JOIN, False),
    (GW_READ, GW_READ + "x", False),                               # whole string, no prefix
    ("x" + GW_READ, GW_READ, False),
    ("Microsoft.Network/*", "MicrosoftXNetwork/applicationGateways/read", False),  # '.' literal
    ("Microsoft.Compute/*", GW_READ, False),
    ("Microsoft.Network/privateDnsZones/*/read", "Microsoft.Network/privateDnsZones/A/read",
     True),
    ("Microsoft.Network/privateDnsZones/A/*", "Microsoft.Network/privateDnsZones/PTR/write",
     False),
])
def test_wildcard_matching(pattern, action, expected):
    assert P.matches(pattern, action) is expected


def test_not_actions_apply_to_their_own_entry_only():
    reader_but_no_gw_write = {"actions": ["Microsoft.Network/*"], "notActions": [GW_WRITE]}
    assert P.allowed([reader_but_no_gw_write], GW_READ)
    assert not P.allowed([reader_but_no_gw_write], GW_WRITE)
    # A second assignment that grants it is not undone by the first one's notActions.
    assert P.allowed([reader_but_no_gw_write, {"actions": [GW_WRITE]}], GW_WRITE)
    # Wildcards in notActions too.
    assert not P.allowed([{"actions": ["*"], "notActions": ["*/write"]}], GW_WRITE)
    assert not P.allowed([], GW_READ)
    assert not P.allowed([{"actions": [], "dataActions": ["*"]}], GW_READ)   # data plane only


# -- reading permissions ----------------------------------------------------------------------

@dataclass
class FakeArm:
    """The one call permissions.py makes: Arm.list(collection, api_version)."""
    answers: dict = field(default_factory=dict)       # lower-case scope -> entries or exception
    calls: List[str] = field(default_factory=list)

    def list(self, collection, api_version, **_):
        assert api_version == "2022-04-01"
        assert collection.endswith("/providers/Microsoft.Authorization/permissions")
        self.calls.append(collection)
        answer = self.answers.get(collection.rsplit("/providers/Microsoft.Authorization", 1)[0]
                                  .lower(), [])
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_one_read_per_distinct_scope_and_subscriptions_are_not_asked():
    arm = FakeArm({GW.lower(): [{"actions": [GW_READ]}]})
    perms = P.Permissions(arm, Budget(10))
    assert perms.state(GW, GW_READ) == (P.PRESENT, None)
    assert perms.state(GW.upper(), GW_WRITE)[0] == P.MISSING
    assert perms.state(GW + "/", GW_READ)[0] == P.PRESENT
    state, error = perms.state(f"/subscriptions/{SUB}", P.ACI_READ)
    assert state == P.UNKNOWN and error.code == "NotCheckable"
    assert arm.calls == [f"{GW}/providers/Microsoft.Authorization/permissions"]


def test_a_permissions_read_that_fails_leaves_that_scope_unknown():
    from azure.core.exceptions import HttpResponseError
    arm = FakeArm({ZONE.lower(): HttpResponseError(message="boom")})
    state, error = P.Permissions(arm, Budget(10)).state(ZONE, "x/read")
    assert state == P.UNKNOWN and "permissions at" in error.message


# -- the pre-write check ----------------------------------------------------------------------

class FakeResource:
    KIND = "fake"

    def __init__(self, label, reads, writes):
        self.label, self._reads, self._writes = label, reads, writes

    def needs(self, observed, writing):
        return list(self._reads) + (list(self._writes) if writing else [])


@dataclass
class FakePlan:
    resource: FakeResource
    changed: bool
    observed: object = None


@dataclass
class FakeClients:
    arm: FakeArm


def _gateway_plan(changed=True):
    return FakePlan(FakeResource("appgw agw/pool", [(GW, GW_READ)],
                                 [(GW, GW_WRITE), (SUBNET, JOIN)]), changed)


def test_nothing_to_write_asks_nothing():
    arm = FakeArm()
    P.require([_gateway_plan(changed=False)], FakeClients(arm), Budget(10))
    assert arm.calls == []


def test_missing_write_actions_refuse_naming_action_and_scope():
    arm = FakeArm({GW.lower(): [{"actions": [GW_READ, GW_WRITE]}],
                   SUBNET.lower(): [{"actions": ["Microsoft.Network/virtualNetworks/subnets/read"]}]})
    with pytest.raises(PermissionDenied) as caught:
        P.require([_gateway_plan()], FakeClients(arm), Budget(10))
    assert caught.value.exit_code == 5
    assert f"{JOIN} on {SUBNET}" in caught.value.message
    assert GW_WRITE not in caught.value.message
    # Only what the write adds to the read that already succeeded is looked up.
    assert [c.split("/providers/Microsoft.Authorization")[0] for c in arm.calls] == [GW, SUBNET]


def test_all_present_passes():
    arm = FakeArm({GW.lower(): [{"actions": ["Microsoft.Network/applicationGateways/*"]}],
                   SUBNET.lower(): [{"actions": ["*"], "notActions": ["*/delete"]}]})
    P.require([_gateway_plan()], FakeClients(arm), Budget(10))


def test_an_unreadable_permissions_api_warns_once_and_goes_ahead(caplog):
    from azure.core.exceptions import HttpResponseError
    error = HttpResponseError(message="forbidden")
    arm = FakeArm({GW.lower(): error, SUBNET.lower(): error})
    with caplog.at_level(logging.WARNING, logger="aci_ip_registrar.permissions"):
        P.require([_gateway_plan()], FakeClients(arm), Budget(10))
    assert len([r for r in caplog.records if "not checked before writing" in r.message]) == 1


# -- what the kinds need, and the role --------------------------------------------------------

def _gateway_doc():
    return {"id": GW, "name": "agw", "etag": "W/\"1\"", "tags": {}, "properties": {
        "provisioningState": "Succeeded",
        "gatewayIPConfigurations": [{"name": "ip", "properties": {"subnet": {"id": SUBNET}}}],
        "frontendIPConfigurations": [{"name": "fe", "properties": {
            "publicIPAddress": {"id": PIP}}}],
        "firewallPolicy": {"id": WAF},
        "backendAddressPools": [{"name": "pool", "properties": {"backendAddresses": []}}]}}


class ReadArm:
    """GET of the gateway and the record set, as the kinds read them."""

    def get(self, resource_id, api_version, **_):
        if "applicationGateways" in resource_id:
            return _gateway_doc()
        return {"id": resource_id, "etag": "1", "properties": {"ttl": 30, "aRecords": []}}


def _demands(mode="register", **kw):
    specs = parse_targets([f"{GW}/backendAddressPools/pool", f"{ZONE}/A/app"])
    return P.demands(specs, FakeClients(ReadArm()), Budget(10), mode, **kw)


def test_demands_take_linked_scopes_from_the_gateway_and_add_the_container_group():
    needed = _demands(container_group=parse_container_group(CG))
    assert [d.kind for d in needed] == ["appgw-pool", "private-dns-a", "container-group"]
    assert set(needed[0].needs) == {
        (GW, GW_READ), (GW, GW_WRITE), (SUBNET, JOIN),
        (SUBNET, "Microsoft.Network/virtualNetworks/subnets/read"),
        (PIP, "Microsoft.Network/publicIPAddresses/join/action"),
        (PIP, "Microsoft.Network/publicIPAddresses/read"),
        (WAF, "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/join/action")}
    assert needed[2].needs == [(CG, P.ACI_READ)]


def test_sync_demands_read_groups_in_each_scope_and_not_the_container_group():
    needed = _demands("sync", container_group=parse_container_group(CG),
                      scopes=[parse_scope(RG), parse_scope(f"/subscriptions/{SUB2}")])
    aci = [d.needs for d in needed if d.kind == "sync-scope"]
    assert aci == [[(RG, P.ACI_READ)], [(f"/subscriptions/{SUB2}", P.ACI_READ)]]
    assert not any(d.kind == "container-group" for d in needed)


def test_role_is_exactly_the_union_and_assignments_name_each_scope_once():
    needed = _demands(container_group=parse_container_group(CG))
    role = P.role_definition(needed, "my-role", "register")
    assert role["Name"] == "my-role" and role["IsCustom"] is True
    assert role["Actions"] == sorted({a for d in needed for _, a in d.needs}, key=str.lower)
    assert len(role["Actions"]) == 10
    assert role["NotActions"] == role["DataActions"] == role["NotDataActions"] == []
    assert role["AssignableScopes"] == sorted([f"/subscriptions/{SUB}", f"/subscriptions/{SUB2}"])
    grants = P.assignments(needed)
    assert [g["scope"] for g in grants] == [GW, SUBNET, PIP, WAF, f"{ZONE}/A/app", CG]
    assert grants[0]["actions"] == [GW_READ, GW_WRITE]
    assert grants[4]["actions"] == ["Microsoft.Network/privateDnsZones/A/read",
                                    "Microsoft.Network/privateDnsZones/A/write"]


def test_verdict_names_missing_actions_and_notes_unverifiable_subscriptions():
    needed = _demands("sync", scopes=[parse_scope(f"/subscriptions/{SUB}")])
    arm = FakeArm({GW.lower(): [{"actions": ["*"]}], SUBNET.lower(): [{"actions": ["*"]}],
                   PIP.lower(): [{"actions": ["*"]}], WAF.lower(): [{"actions": ["*"]}],
                   f"{ZONE}/A/app".lower(): [{"actions": ["Microsoft.Network/privateDnsZones/A/read"]}]})
    verdict = P.evaluate(needed, P.Permissions(arm, Budget(10)), "sync")
    assert [(r.scope, r.action) for r in verdict.of(P.MISSING)] == [
        (f"{ZONE}/A/app", "Microsoft.Network/privateDnsZones/A/write")]
    assert [r.scope for r in verdict.of(P.UNKNOWN)] == [f"/subscriptions/{SUB}"]
    failure = verdict.failure()
    assert failure.exit_code == 5 and \
        f"Microsoft.Network/privateDnsZones/A/write on {ZONE}" in failure.message
    arm.answers[f"{ZONE}/A/app".lower()] = [{"actions": ["Microsoft.Network/privateDnsZones/A/*"]}]
    verdict = P.evaluate(needed, P.Permissions(arm, Budget(10)), "sync")
    assert verdict.failure() is None      # a subscription scope is noted, never a failure


def test_a_record_needs_its_record_set_once_it_exists_and_the_zone_before():
    from aci_ip_registrar.config import parse_targets
    from aci_ip_registrar.ledger import Ledger
    from aci_ip_registrar.targets import build
    from aci_ip_registrar.targets.base import Observed
    (record,) = build(parse_targets([f"{ZONE}/A/app"]), None)
    missing = Observed(False, None, {"app": []}, {"app": Ledger()})
    present = Observed(True, "e1", {"app": []}, {"app": Ledger()}, model={})
    assert {s for s, _ in record.needs(missing, True)} == {ZONE}
    assert {s for s, _ in record.needs(None, False)} == {ZONE}
    assert {s for s, _ in record.needs(present, True)} == {f"{ZONE}/A/app"}
