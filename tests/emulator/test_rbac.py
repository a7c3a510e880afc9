"""Azure RBAC in the emulator: enforcement from a configurable role, the linked checks on a gateway
write, and the Authorization Permissions API, through the real SDK clients and credential."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import threading

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.dns import models as pub
from azure.mgmt.network.models import ApplicationGatewayBackendAddress, TagsObject
from azure.mgmt.privatedns import models as priv
from click.testing import CliRunner

import spec_schemas as S
from aci_ip_registrar.emulator import Emulator, rbac
from aci_ip_registrar.emulator.commands import emulator_command
from aci_ip_registrar.emulator.tokens import claims_of

from .conftest import (ACI_PREFIX, CG1, FAST, GW, GW_ID, NET, REPO, REVERSE_ZONE, RG, SEED, SUB, ZONE, Raw,
                       load_spec)

RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
SUB_ID = f"/subscriptions/{SUB}"
ZONE_ID = f"{NET}/privateDnsZones/{ZONE}"
REVERSE_ID = f"{NET}/privateDnsZones/{REVERSE_ZONE}"
SUBNET_ID = f"{NET}/virtualNetworks/vnet-demo/subnets/snet-appgw"
PIP_ID = f"{NET}/publicIPAddresses/pip-agw-demo"
WAF_ID = f"{NET}/ApplicationGatewayWebApplicationFirewallPolicies/waf-demo"
PERMISSIONS = "/providers/Microsoft.Authorization/permissions"
API = "2022-04-01"
AUTHZ = "authorization/authorization-RoleDefinitionsCalls.json"

GATEWAY_WRITER = [
    {"scope": GW_ID, "actions": ["Microsoft.Network/applicationGateways/*"]},
    {"scope": SUBNET_ID, "actions": ["Microsoft.Network/virtualNetworks/subnets/join/action"]},
    {"scope": PIP_ID, "actions": ["Microsoft.Network/publicIPAddresses/join/action"]},
]

ROLE = {
    "Name": "ACI IP Registrar (test)",
    "IsCustom": True,
    "Description": "read and PUT gateways, join their subnet and public IP, write A records, read groups",
    "Actions": [
        "Microsoft.Network/applicationGateways/read",
        "Microsoft.Network/applicationGateways/write",
        "Microsoft.Network/virtualNetworks/subnets/join/action",
        "Microsoft.Network/publicIPAddresses/join/action",
        "Microsoft.Network/privateDnsZones/A/*",
        "Microsoft.ContainerInstance/containerGroups/read",
    ],
    "NotActions": ["Microsoft.Network/privateDnsZones/A/delete"],
    "DataActions": [],
    "NotDataActions": [],
    "AssignableScopes": [f"/subscriptions/{SUB}"],
}


def _oid(emu):
    return claims_of(emu.issued_tokens[-1])["oid"]


def _denied(emu, action, scope):
    oid = _oid(emu)
    return (f"The client '{oid}' with object id '{oid}' does not have authorization to perform action "
            f"'{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
            "please refresh your credentials.")


def _forbidden(call, *args, **kwargs) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as info:
        result = call(*args, **kwargs)
        if hasattr(result, "result"):
            result.result()
    return info.value


def _pool_ips(gw_doc, name="aci-app-pool"):
    pool = next(p for p in gw_doc["properties"]["backendAddressPools"] if p["name"] == name)
    return [a.get("ipAddress") for a in pool["properties"]["backendAddresses"]]


def _with_new_backend(network, ip="10.0.2.9"):
    gw = network.application_gateways.get(RG, GW)
    next(p for p in gw.backend_address_pools if p.name == "aci-app-pool").backend_addresses.append(
        ApplicationGatewayBackendAddress(ip_address=ip))
    return gw


def _permissions(client, scope, api_version=API):
    """Follow the permissions API's pages through the SDK client's own pipeline (bearer token,
    retries, TLS), as a product preflight does; returns (entries, pages)."""
    request = HttpRequest("GET", scope + PERMISSIONS, params={"api-version": api_version})
    entries, pages = [], 0
    while True:
        resp = client.send_request(request)
        resp.raise_for_status()
        body = resp.json()
        entries.extend(body["value"])
        pages += 1
        if not body.get("nextLink"):
            return entries, pages
        assert body["nextLink"].startswith("https://127.0.0.1:")
        request = HttpRequest("GET", body["nextLink"])


# -- default: off ---------------------------------------------------------------------------------------
def test_rbac_is_off_by_default_and_everything_is_allowed(emu, network, privatedns):
    assert emu.role_assignments is None
    network.application_gateways.get(RG, GW)
    network.application_gateways.begin_create_or_update(RG, GW, _with_new_backend(network)).result()
    privatedns.record_sets.delete(RG, REVERSE_ZONE, "PTR", "4")
    assert _permissions(network, RG_ID) == ([rbac.ALLOW_ALL], 1)
    assert _permissions(network, SUBNET_ID) == ([rbac.ALLOW_ALL], 1)
    assert not [e for e in emu.log() if e["status"] == 403]


# -- enforcement ---------------------------------------------------------------------------------------
def test_a_missing_action_is_403_authorization_failed_as_the_sdk_surfaces_it(emu, network):
    emu.set_role_assignments([{"scope": ZONE_ID, "actions": ["Microsoft.Network/privateDnsZones/*"]}])
    err = _forbidden(network.application_gateways.get, RG, GW)
    assert err.status_code == 403
    assert err.error.code == "AuthorizationFailed"
    assert err.error.message == _denied(emu, "Microsoft.Network/applicationGateways/read", GW_ID)
    assert _oid(emu) != rbac.ANONYMOUS_OID  # the oid of the caller's managed-identity token
    raw_body = err.response.json()
    assert set(raw_body) == {"error"} and set(raw_body["error"]) == {"code", "message"}
    entry = emu.log()[-1]
    assert (entry["status"], entry["error_code"], entry["kind"]) == (403, "AuthorizationFailed", "read")
    assert entry["resource_id"] == GW_ID.lower()


def test_read_without_write_refuses_the_put_and_stores_nothing(emu, network):
    emu.set_role_assignments([{"scope": GW_ID, "actions": ["Microsoft.Network/applicationGateways/read"]}])
    before = emu.get(GW_ID)
    gw = _with_new_backend(network)
    err = _forbidden(network.application_gateways.begin_create_or_update, RG, GW, gw)
    assert err.error.code == "AuthorizationFailed"
    assert err.error.message == _denied(emu, "Microsoft.Network/applicationGateways/write", GW_ID)
    assert emu.get(GW_ID) == before
    assert not [e for e in emu.log() if e["kind"] == "poll"]
    err = _forbidden(network.application_gateways.update_tags, RG, GW, TagsObject(tags={"a": "b"}))
    assert err.error.code == "AuthorizationFailed" and emu.get(GW_ID) == before


def test_scope_covers_itself_and_below_case_insensitively_at_a_slash_boundary(emu, network, raw):
    # "rg-aci" is a prefix of "rg-aci-demo" but not a parent scope.
    emu.set_role_assignments([{"scope": f"/subscriptions/{SUB}/resourceGroups/rg-aci",
                               "actions": ["*"]}])
    assert _forbidden(network.application_gateways.get, RG, GW).error.code == "AuthorizationFailed"
    emu.set_role_assignments([{"scope": RG_ID.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/") + "/",
                               "actions": ["microsoft.network/APPLICATIONGATEWAYS/read"]}])
    assert network.application_gateways.get(RG, GW).name == GW
    emu.set_role_assignments([{"scope": "/", "actions": ["*/read"]}])
    assert network.application_gateways.get(RG, GW).name == GW
    # A scope below the resource does not cover it.
    emu.set_role_assignments([{"scope": f"{GW_ID}/backendAddressPools/aci-app-pool", "actions": ["*"]}])
    assert _forbidden(network.application_gateways.get, RG, GW).status_code == 403
    # The path's casing does not matter either.
    assert raw("GET", GW_ID.lower()).status_code == 403
    emu.set_role_assignments([{"scope": GW_ID.lower(), "actions": ["*"]}])
    assert raw("GET", GW_ID.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/")).status_code == 200


def test_wildcards_and_not_actions_of_the_same_assignment(emu, privatedns):
    emu.set_role_assignments([{"scope": RG_ID, "actions": ["Microsoft.Network/privateDnsZones/*/read"],
                               "notActions": ["Microsoft.Network/privateDnsZones/PTR/*"]}])
    assert privatedns.record_sets.get(RG, ZONE, "A", "app").name == "app"
    err = _forbidden(privatedns.record_sets.get, RG, REVERSE_ZONE, "PTR", "4")
    assert err.error.message == _denied(emu, "Microsoft.Network/privateDnsZones/PTR/read", f"{REVERSE_ID}/PTR/4")
    record = priv.RecordSet(ttl=5, a_records=[priv.ARecord(ipv4_address="10.0.2.9")])
    err = _forbidden(privatedns.record_sets.create_or_update, RG, ZONE, "A", "new", record)
    assert err.error.message == _denied(emu, "Microsoft.Network/privateDnsZones/A/write", f"{ZONE_ID}/A/new")
    assert emu.get(f"{ZONE_ID}/A/new") is None
    # Another assignment's actions are not cancelled by the first one's notActions.
    emu.set_role_assignments(emu.role_assignments + [
        {"scope": REVERSE_ID, "actions": ["Microsoft.Network/privateDnsZones/PTR/read"]}])
    assert privatedns.record_sets.get(RG, REVERSE_ZONE, "PTR", "4").name == "4"
    err = _forbidden(privatedns.record_sets.delete, RG, REVERSE_ZONE, "PTR", "4")
    assert err.error.message == _denied(emu, "Microsoft.Network/privateDnsZones/PTR/delete", f"{REVERSE_ID}/PTR/4")
    assert emu.get(f"{REVERSE_ID}/PTR/4") is not None


def test_public_dns_and_container_group_actions(emu, publicdns, aci):
    emu.seed({"resources": [{"id": f"{NET}/dnszones/example.com", "location": "global"}]})
    public_zone = f"{NET}/dnsZones/example.com"
    emu.set_role_assignments([
        {"scope": public_zone, "actions": ["Microsoft.Network/dnsZones/A/read"]},
        {"scope": CG1, "actions": ["Microsoft.ContainerInstance/containerGroups/read"]},
    ])
    record = pub.RecordSet(ttl=5, a_records=[pub.ARecord(ipv4_address="10.0.2.9")])
    err = _forbidden(publicdns.record_sets.create_or_update, RG, "example.com", "www", "A", record)
    assert err.error.message == _denied(emu, "Microsoft.Network/dnsZones/A/write", f"{public_zone}/A/www")
    ip = aci.container_groups.get(RG, "cg-demo-app-1").ip_address.ip
    err = _forbidden(aci.container_groups.begin_restart, RG, "cg-demo-app-1")
    assert err.error.message == _denied(emu, "Microsoft.ContainerInstance/containerGroups/restart/action", CG1)
    assert emu.get(CG1)["properties"]["ipAddress"]["ip"] == ip
    assert _forbidden(aci.container_groups.get, RG, "cg-demo-app-2").status_code == 403


def test_a_list_is_authorized_at_the_collections_parent(emu, privatedns, aci):
    emu.set_role_assignments([
        {"scope": REVERSE_ID, "actions": ["Microsoft.Network/privateDnsZones/PTR/read"]},
        {"scope": RG_ID, "actions": ["Microsoft.ContainerInstance/containerGroups/read"]},
    ])
    assert [r.name for r in privatedns.record_sets.list_by_type(RG, REVERSE_ZONE, "PTR")] == ["4"]
    err = _forbidden(lambda: list(privatedns.record_sets.list(RG, REVERSE_ZONE)))
    assert err.error.message == _denied(emu, "Microsoft.Network/privateDnsZones/ALL/read", REVERSE_ID)
    err = _forbidden(lambda: list(privatedns.record_sets.list_by_type(RG, ZONE, "A")))
    assert err.error.message == _denied(emu, "Microsoft.Network/privateDnsZones/A/read", ZONE_ID)
    assert len(list(aci.container_groups.list_by_resource_group(RG))) == 2
    err = _forbidden(lambda: list(aci.container_groups.list()))
    assert err.error.message == _denied(emu, "Microsoft.ContainerInstance/containerGroups/read", SUB_ID)
    # An assignment on one group covers that group, not the list of its resource group.
    emu.set_role_assignments([{"scope": CG1, "actions": ["*"]}])
    err = _forbidden(lambda: list(aci.container_groups.list_by_resource_group(RG)))
    assert err.error.message == _denied(emu, "Microsoft.ContainerInstance/containerGroups/read", RG_ID)


def test_exempt_routes_answer_without_any_assignment(emu, raw):
    emu.set_role_assignments([])
    assert raw("GET", "/subscriptions").status_code == 200
    assert raw("GET", f"/subscriptions/{SUB}").status_code == 200
    assert raw("GET", "/tenants").status_code == 200
    assert raw("GET", "/metadata/endpoints", api_version="2022-09-01").status_code == 200
    perms = raw("GET", RG_ID + PERMISSIONS, api_version=API)
    assert perms.status_code == 200 and perms.json() == {"value": []}
    assert raw("GET", GW_ID).status_code == 403
    # Still before RBAC: routing, api-version and authentication.
    assert raw("GET", GW_ID, api_version=None).json()["error"]["code"] == "MissingApiVersionParameter"
    assert raw("GET", f"{NET}/loadBalancers/lb").json()["error"]["code"] == "InvalidResourceType"


# -- linked permissions on a gateway write ----------------------------------------------------------------
def test_linked_actions_come_from_the_document_being_written(emu):
    doc = emu.get(GW_ID)
    assert rbac.linked_actions(doc) == [(SUBNET_ID, rbac.SUBNET_JOIN), (PIP_ID, rbac.PUBLIC_IP_JOIN)]
    doc["properties"]["firewallPolicy"] = {"id": WAF_ID}
    doc["properties"]["gatewayIPConfigurations"].append(copy.deepcopy(doc["properties"]["gatewayIPConfigurations"][0]))
    assert rbac.linked_actions(doc) == [(SUBNET_ID, rbac.SUBNET_JOIN), (PIP_ID, rbac.PUBLIC_IP_JOIN),
                                        (WAF_ID, rbac.WAF_POLICY_JOIN)]
    assert rbac.linked_actions({"properties": {}}) == [] and rbac.linked_actions(None) == []


def test_the_whole_write_is_allowed_with_every_linked_permission(emu, network):
    emu.set_role_assignments(GATEWAY_WRITER)
    after = network.application_gateways.begin_create_or_update(RG, GW, _with_new_backend(network)).result()
    assert after.provisioning_state == "Succeeded"
    assert _pool_ips(emu.get(GW_ID)) == ["10.0.2.4", "10.0.2.250", None, "10.0.2.9"]
    polls = [e for e in emu.log() if e["kind"] == "poll"]
    assert polls and all(e["status"] == 200 for e in polls)  # polls need no locations/operations/read


def test_missing_subnet_join_fails_the_operation_and_leaves_the_gateway(emu, network):
    emu.set_role_assignments([a for a in GATEWAY_WRITER if a["scope"] != SUBNET_ID])
    before = emu.get(GW_ID)
    gw = _with_new_backend(network)
    poller = network.application_gateways.begin_create_or_update(RG, GW, gw)
    put = next(e for e in emu.log() if e["method"] == "PUT")
    assert put["status"] == 200 and put["op_status"] == "InProgress"  # accepted, as Azure does
    with pytest.raises(HttpResponseError) as info:
        poller.result()
    err, oid = info.value, _oid(emu)
    assert err.error.code == "ApplicationGatewayInsufficientPermissionOnSubnet"
    assert err.error.message == (
        f"Client with object id {oid} does not have permission on the Virtual Network resource {SUBNET_ID} "
        "to perform action Microsoft.Network/virtualNetworks/subnets/join/action. "
        "For details and steps to resolve please visit https://aka.ms/agsubnetjoin")
    after = emu.get(GW_ID)
    assert _pool_ips(after) == _pool_ips(before) == ["10.0.2.4", "10.0.2.250", None]
    assert after["properties"]["provisioningState"] == "Failed"
    polls = [e for e in emu.log() if e["kind"] == "poll"]
    assert polls[-1]["error_code"] == "ApplicationGatewayInsufficientPermissionOnSubnet"
    # With the join granted the same PUT goes through.
    emu.set_role_assignments(GATEWAY_WRITER)
    network.application_gateways.begin_create_or_update(RG, GW, _with_new_backend(network)).result()
    assert _pool_ips(emu.get(GW_ID))[-1] == "10.0.2.9"


def test_missing_public_ip_join_is_403_linked_authorization_failed_and_stores_nothing(emu, network):
    emu.set_role_assignments([a for a in GATEWAY_WRITER if a["scope"] != PIP_ID])
    before = emu.get(GW_ID)
    err = _forbidden(network.application_gateways.begin_create_or_update, RG, GW, _with_new_backend(network))
    oid = _oid(emu)
    assert err.status_code == 403 and err.error.code == "LinkedAuthorizationFailed"
    assert err.error.message == (
        f"The client '{oid}' with object id '{oid}' has permission to perform action "
        f"'Microsoft.Network/applicationGateways/write' on scope '{GW_ID}'; however, it does not have "
        f"permission to perform action(s) 'Microsoft.Network/publicIPAddresses/join/action' on the linked "
        f"scope(s) '{PIP_ID}' (respectively) or the linked scope(s) are invalid.")
    assert emu.get(GW_ID) == before
    assert not [e for e in emu.log() if e["kind"] == "poll"]


def test_a_refused_write_does_not_supersede_the_operation_in_flight(emu, network, raw):
    emu.set_role_assignments(GATEWAY_WRITER)
    emu.set(op_duration=30)
    first = raw("PUT", GW_ID, emu.get(GW_ID))
    assert first.status_code == 200
    emu.set_role_assignments([a for a in GATEWAY_WRITER if a["scope"] != PIP_ID])
    assert raw("PUT", GW_ID, emu.get(GW_ID)).json()["error"]["code"] == "LinkedAuthorizationFailed"
    assert raw("GET", first.headers["Azure-AsyncOperation"], api_version=None).json() == {"status": "InProgress"}


def test_waf_policy_and_public_ip_missing_are_listed_together(emu, raw):
    emu.set_role_assignments(GATEWAY_WRITER[:2])
    body = emu.get(GW_ID)
    body["properties"]["firewallPolicy"] = {"id": WAF_ID}
    resp = raw("PUT", GW_ID, body)
    assert resp.status_code == 403
    message = resp.json()["error"]["message"]
    assert ("action(s) 'Microsoft.Network/publicIPAddresses/join/action,"
            "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/join/action' on the linked "
            f"scope(s) '{PIP_ID},{WAF_ID}' (respectively)") in message
    emu.set_role_assignments(GATEWAY_WRITER + [
        {"scope": RG_ID, "actions": ["Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/*"]}])
    assert raw("PUT", GW_ID, body).status_code == 200


def test_tags_patch_is_checked_against_the_gateway_it_writes(emu, network):
    before = emu.get(GW_ID)
    emu.set_role_assignments([a for a in GATEWAY_WRITER if a["scope"] != PIP_ID])
    err = _forbidden(network.application_gateways.update_tags, RG, GW, TagsObject(tags={"a": "b"}))
    assert err.error.code == "LinkedAuthorizationFailed"
    emu.set_role_assignments([a for a in GATEWAY_WRITER if a["scope"] != SUBNET_ID])
    err = _forbidden(network.application_gateways.update_tags, RG, GW, TagsObject(tags={"a": "b"}))
    assert err.status_code == 403 and err.error.code == "ApplicationGatewayInsufficientPermissionOnSubnet"
    assert emu.get(GW_ID) == before
    emu.set_role_assignments(GATEWAY_WRITER)
    assert network.application_gateways.update_tags(RG, GW, TagsObject(tags={"a": "b"})).tags == {"a": "b"}


# -- the permissions API ----------------------------------------------------------------------------------
ASSIGNMENTS = [
    {"scope": SUB_ID, "actions": ["*/read"], "notActions": []},
    {"scope": RG_ID, "actions": ["Microsoft.Network/applicationGateways/*"],
     "notActions": ["Microsoft.Network/applicationGateways/delete"]},
    {"scope": f"/subscriptions/{SUB}/resourceGroups/rg-other", "actions": ["*"], "notActions": []},
    {"scope": SUBNET_ID, "actions": [rbac.SUBNET_JOIN], "notActions": [], "dataActions": ["x/y/read"]},
    {"scope": f"{ZONE_ID}/A/app", "actions": ["Microsoft.Network/privateDnsZones/A/write"], "notActions": []},
]


def _entry(assignment):
    return {"actions": assignment["actions"], "notActions": assignment["notActions"],
            "dataActions": assignment.get("dataActions", []), "notDataActions": []}


@pytest.mark.parametrize("scope, expected", [
    (RG_ID, [0, 1]),
    (f"/subscriptions/{SUB}/resourceGroups/rg-other", [0, 2]),
    (SUBNET_ID, [0, 1, 3]),
    (f"{NET}/virtualNetworks/vnet-demo", [0, 1]),
    (PIP_ID, [0, 1]),
    (GW_ID, [0, 1]),
    (ZONE_ID, [0, 1]),
    (f"{ZONE_ID}/A/app", [0, 1, 4]),
    (f"{NET}/dnsZones/example.com", [0, 1]),
    (CG1, [0, 1]),
])
def test_permissions_at_resource_group_and_resource_scopes(emu, network, scope, expected):
    emu.set_role_assignments(ASSIGNMENTS)
    entries, pages = _permissions(network, scope)
    assert entries == [_entry(ASSIGNMENTS[i]) for i in expected] and pages == 1


def test_permissions_routes_are_case_insensitive_and_need_a_token(emu, raw):
    emu.set_role_assignments(ASSIGNMENTS)
    path = (f"/subscriptions/{SUB}/RESOURCEGROUPS/{RG.upper()}/PROVIDERS/microsoft.network/virtualnetworks/"
            "VNET-DEMO/SUBNETS/snet-appgw/providers/MICROSOFT.AUTHORIZATION/Permissions")
    assert raw("GET", path, api_version=API).json()["value"] == [_entry(ASSIGNMENTS[i]) for i in (0, 1, 3)]
    anonymous = requests.get(emu.base_url + RG_ID + PERMISSIONS, params={"api-version": API},
                             verify=emu.ca_path, timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "InvalidAuthenticationToken"
    missing = raw("GET", RG_ID + PERMISSIONS, api_version=None)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "MissingApiVersionParameter"
    # Only the two scopes of the spec; the subscription's is not one of its operations.
    assert raw("GET", SUB_ID + PERMISSIONS, api_version=API).json()["error"]["code"] == "InvalidResourceType"
    assert raw("GET", f"{NET}/virtualNetworks{PERMISSIONS}", api_version=API).status_code == 404
    other_sub = raw("GET", f"/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/x{PERMISSIONS}",
                    api_version=API)
    assert other_sub.json()["error"]["code"] == "SubscriptionNotFound"
    assert raw("POST", RG_ID + PERMISSIONS, {}, api_version=API).status_code == 405
    entry = emu.log()[-1]
    assert entry["kind"] == "write" and entry["status"] == 405


def test_permissions_are_paged_with_next_link(emu, network):
    emu.set(page_size=2)
    many = [{"scope": RG_ID, "actions": [f"Microsoft.Network/action{i}/read"]} for i in range(5)]
    emu.set_role_assignments(many)
    entries, pages = _permissions(network, GW_ID)
    assert pages == 3
    assert [e["actions"] for e in entries] == [[f"Microsoft.Network/action{i}/read"] for i in range(5)]
    first = network.send_request(HttpRequest("GET", RG_ID + PERMISSIONS, params={"api-version": API})).json()
    assert len(first["value"]) == 2 and "%24skiptoken=2" in first["nextLink"] and f"api-version={API}" in first["nextLink"]


def test_permissions_answer_the_spec_shape_and_its_examples(emu, network):
    spec = S.spec(AUTHZ)
    assert spec.doc["info"]["version"] == API
    paths = {op["get"]["operationId"]: path for path, op in spec.doc["paths"].items() if "get" in op}
    rg_path = paths["Permissions_ListForResourceGroup"].format(subscriptionId=SUB, resourceGroupName=RG)
    res_path = paths["Permissions_ListForResource"].format(
        subscriptionId=SUB, resourceGroupName=RG, resourceProviderNamespace="Microsoft.Network",
        parentResourcePath="virtualNetworks/vnet-demo", resourceType="subnets", resourceName="snet-appgw")
    emu.set(page_size=1)
    for assignments in (None, ASSIGNMENTS):
        emu.set_role_assignments(assignments)
        for op_id, path in (("Permissions_ListForResourceGroup", rg_path), ("Permissions_ListForResource", res_path)):
            schema = spec.response_schema(op_id, 200)
            body = network.send_request(HttpRequest("GET", path, params={"api-version": API})).json()
            assert S.errors(schema, body) == []
            assert body["value"] and set(body["value"][0]) == {"actions", "notActions", "dataActions", "notDataActions"}
            assert ("nextLink" in body) == (assignments is not None)  # page_size 1: two or more pages
    # The published examples pass the same compiled schema; ours carries every key they show.
    for example, op_id in (("GetPermissions.json", "Permissions_ListForResourceGroup"),
                           ("GetResourcePermissions.json", "Permissions_ListForResource")):
        sample = load_spec(f"authorization/{example}")["responses"]["200"]["body"]
        assert S.errors(spec.response_schema(op_id, 200), sample) == []
        assert set(sample["value"][0]) <= set(rbac.ALLOW_ALL)
    # A renamed key fails the schema, so the check above can fail.
    assert S.errors(spec.response_schema("Permissions_ListForResource", 200),
                    {"value": [{"action": ["*"]}]}) != []


def test_permissions_agree_with_enforcement(emu, network):
    """What the API says at a scope is what the emulator enforces there (a preflight can trust it)."""
    emu.set_role_assignments(ASSIGNMENTS)
    for scope, action in ((GW_ID, "Microsoft.Network/applicationGateways/write"),
                          (GW_ID, "Microsoft.Network/applicationGateways/delete"),
                          (SUBNET_ID, rbac.SUBNET_JOIN), (PIP_ID, rbac.PUBLIC_IP_JOIN),
                          (f"{ZONE_ID}/A/app", "Microsoft.Network/privateDnsZones/A/write"),
                          (f"{ZONE_ID}/A/other", "Microsoft.Network/privateDnsZones/A/write")):
        entries, _ = _permissions(network, scope)
        said = any(any(rbac.action_matches(p, action) for p in e["actions"])
                   and not any(rbac.action_matches(p, action) for p in e["notActions"]) for e in entries)
        assert said == rbac.allowed(emu.role_assignments, scope, action)
    assert rbac.allowed(ASSIGNMENTS, f"{ZONE_ID}/A/app", "Microsoft.Network/privateDnsZones/A/write")
    assert not rbac.allowed(ASSIGNMENTS, f"{ZONE_ID}/A/other", "Microsoft.Network/privateDnsZones/A/write")
    assert not rbac.allowed(ASSIGNMENTS, GW_ID, "Microsoft.Network/applicationGateways/delete")


# -- configuring it ----------------------------------------------------------------------------------------
def test_apply_role_assigns_a_custom_role_at_each_scope(emu, network, privatedns, aci):
    assignments = emu.apply_role(ROLE, [GW_ID, SUBNET_ID, PIP_ID, ZONE_ID, CG1])
    assert emu.role_assignments == assignments and len(assignments) == 5
    assert [a["scope"] for a in assignments] == [GW_ID, SUBNET_ID, PIP_ID, ZONE_ID, CG1]
    assert all(a["actions"] == ROLE["Actions"] and a["notActions"] == ROLE["NotActions"] for a in assignments)
    network.application_gateways.begin_create_or_update(RG, GW, _with_new_backend(network)).result()
    record = priv.RecordSet(ttl=5, a_records=[priv.ARecord(ipv4_address="10.0.2.9")])
    privatedns.record_sets.create_or_update(RG, ZONE, "A", "new", record)
    err = _forbidden(privatedns.record_sets.delete, RG, ZONE, "A", "new")  # the role's NotActions
    assert err.error.message == _denied(emu, "Microsoft.Network/privateDnsZones/A/delete", f"{ZONE_ID}/A/new")
    assert aci.container_groups.get(RG, "cg-demo-app-1").name == "cg-demo-app-1"
    assert _forbidden(aci.container_groups.get, RG, "cg-demo-app-2").status_code == 403
    entries, _ = _permissions(network, f"{ZONE_ID}/A/new")
    assert entries == [{"actions": ROLE["Actions"], "notActions": ROLE["NotActions"], "dataActions": [],
                        "notDataActions": []}]
    # Applying a role replaces what was there.
    emu.apply_role(dict(ROLE, Actions=["*/read"], NotActions=[]), [RG_ID])
    assert [a["scope"] for a in emu.role_assignments] == [RG_ID]


def test_apply_role_checks_assignable_scopes_and_reads_any_key_casing(emu):
    with pytest.raises(ValueError, match="AssignableScopes"):
        emu.apply_role(dict(ROLE, AssignableScopes=["/subscriptions/SUBSCRIPTION_ID"]), [GW_ID])
    assert emu.role_assignments is None
    camel = {"name": "r", "actions": ["a/read"], "notActions": ["a/b/read"], "assignableScopes": [RG_ID]}
    assert emu.apply_role(camel, [ZONE_ID]) == [{"scope": ZONE_ID, "actions": ["a/read"],
                                                "notActions": ["a/b/read"], "dataActions": [],
                                                "notDataActions": []}]
    with pytest.raises(ValueError):
        emu.apply_role(ROLE, [])


def test_set_role_assignments_validates_and_role_assignments_is_a_copy(emu):
    for bad in ([{"actions": ["*"]}], [{"scope": "rg", "actions": ["*"]}], [{"scope": "/", "actions": "*"}],
                [{"scope": "/", "actions": ["*"], "role": "x"}], {"scope": "/", "actions": ["*"]},
                [{"scope": "/"}]):
        with pytest.raises(ValueError):
            emu.set_role_assignments(bad)
    emu.set_role_assignments([{"scope": "/", "actions": ["*"]}])
    copy_ = emu.role_assignments
    assert copy_ == [{"scope": "/", "actions": ["*"], "notActions": []}]
    copy_[0]["actions"].clear()
    assert emu.role_assignments[0]["actions"] == ["*"]
    emu.set_role_assignments(None)
    assert emu.role_assignments is None


def test_seed_role_assignments_and_the_control_route(raw):
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    seed["roleAssignments"] = [{"scope": ZONE_ID, "actions": ["*"]}]
    with Emulator(seed, **FAST) as emu:
        client = Raw(emu)
        assert emu.role_assignments == [{"scope": ZONE_ID, "actions": ["*"], "notActions": []}]
        assert client("GET", GW_ID).status_code == 403
        assert client("GET", f"{ZONE_ID}/A/app").status_code == 200
        emu.seed({"resources": []})  # a seed without the key leaves them
        assert emu.role_assignments is not None
        control = emu.base_url + "/_emulator/roles"
        posted = requests.post(control, json={"role": ROLE, "assignments": [{"scope": GW_ID}]},
                               verify=emu.ca_path, timeout=10)
        assert posted.status_code == 200 and posted.json()["roleAssignments"][0]["scope"] == GW_ID
        assert requests.get(control, verify=emu.ca_path, timeout=10).json() == {"roleAssignments": emu.role_assignments}
        assert client("GET", GW_ID).status_code == 200
        bad = requests.post(control, json=[{"scope": "nope"}], verify=emu.ca_path, timeout=10)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidEmulatorRequest"
        assert requests.delete(control, verify=emu.ca_path, timeout=10).status_code == 204
        assert emu.role_assignments is None and client("GET", f"{ACI_PREFIX}/cg-demo-app-2").status_code == 200
        emu.seed({"roleAssignments": []})
        assert emu.role_assignments == [] and client("GET", CG1).status_code == 403
        emu.seed({"roleAssignments": None})
        assert emu.role_assignments is None
        client.session.close()


def test_cli_roles_option_enforces_a_role_file(tmp_path):
    roles = tmp_path / "roles.json"
    roles.write_text(json.dumps({"role": ROLE, "assignments": [{"scope": GW_ID}, {"scope": SUBNET_ID}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_", "MSI_"))}
    stderr = open(tmp_path / "stderr", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "aci_ip_registrar.emulator", "--seed", str(SEED), "--roles",
                             str(roles), "--quiet"], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
                            cwd=REPO)
    try:
        out = []
        reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)
        reader.start()
        reader.join(20)
        exports = dict(line[len("export "):].split("=", 1) for line in out[0].splitlines())
        base, ca = exports["ACI_IP_REGISTRAR_ARM_ENDPOINT"].strip("'"), exports["ACI_IP_REGISTRAR_CA_BUNDLE"].strip("'")
        headers = {"Authorization": "Bearer x"}
        get = lambda path, v="2026-03-01": requests.get(base + path, params={"api-version": v}, headers=headers,
                                                       verify=ca, timeout=10)
        assert get(GW_ID).status_code == 200
        denied = get(f"{ZONE_ID}/A/app")
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "AuthorizationFailed"
        assert get(SUBNET_ID + PERMISSIONS, API).json()["value"][0]["actions"] == ROLE["Actions"]
        assert get(ZONE_ID + PERMISSIONS, API).json() == {"value": []}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        stderr.close()


def test_cli_roles_option_refuses_a_bad_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"role": ROLE, "assignments": [{"scope": "/subscriptions/elsewhere"}]}))
    result = CliRunner().invoke(emulator_command, ["--roles", str(bad)])
    assert result.exit_code == 1 and "cannot read the role assignments" in result.output
    assert "AssignableScopes" in result.output
