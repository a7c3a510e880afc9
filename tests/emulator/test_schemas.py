"""The emulator's answers validated against the published JSON schemas (tests/spec_schemas.py),
the published examples replayed, and proof that validation fails on a broken copy."""

from __future__ import annotations

import json

import pytest
import requests

import spec_schemas as S
from aci_ip_registrar.emulator import Emulator, arm

from .conftest import CG1, FAST, GW_ID, NET, RG, SEED, Raw

EXAMPLES = [  # (file, operationId, status): the product's operations
    ("network/ApplicationGatewayGet.json", "ApplicationGateways_Get", 200),
    ("network/ApplicationGatewayCreate.json", "ApplicationGateways_CreateOrUpdate", 200),
    ("network/ApplicationGatewayCreate.json", "ApplicationGateways_CreateOrUpdate", 201),
    ("privatedns/RecordSetAGet.json", "RecordSets_Get", 200),
    ("privatedns/RecordSetPTRGet.json", "RecordSets_Get", 200),
    ("privatedns/RecordSetAPut.json", "RecordSets_CreateOrUpdate", 201),
    ("privatedns/RecordSetPTRPut.json", "RecordSets_CreateOrUpdate", 200),
    ("privatedns/RecordSetAList.json", "RecordSets_ListByType", 200),
    ("containerinstance/ContainerGroupsGet_Succeeded.json", "ContainerGroups_Get", 200),
    ("containerinstance/ContainerGroupsList.json", "ContainerGroups_List", 200),
    ("containerinstance/ContainerGroupsListByResourceGroup.json", "ContainerGroups_ListByResourceGroup", 200),
]


def _spec_of(path: str) -> S.Spec:
    return S.spec({"network": S.GATEWAY, "privatedns": S.PRIVATE_DNS,
                   "containerinstance": S.ACI}[path.split("/")[0]])


@pytest.mark.parametrize("path,op,status", EXAMPLES)
def test_published_examples_satisfy_the_compiled_schemas(path, op, status):
    """The validator's own check: Microsoft's examples pass it (but for fields an example has
    ahead of its description, listed in spec_schemas.EXAMPLE_AHEAD_OF_SPEC)."""
    ex = S.load(path)
    problems = S.errors(_spec_of(path).response_schema(op, status), ex["responses"][str(status)]["body"])
    if "parameters" in ex["parameters"] and op.endswith("CreateOrUpdate"):
        problems += S.errors(_spec_of(path).request_schema(op), ex["parameters"]["parameters"])
    assert [p for p in problems if not any(g in p for g in S.EXAMPLE_AHEAD_OF_SPEC)] == []


@pytest.fixture
def logged():
    with Emulator(**FAST, log_bodies=True) as emulator:
        yield emulator, Raw(emulator)


def _replay(emu, raw, path: str):
    ex = S.load(path)
    p = ex["parameters"]
    if path.startswith("network/"):
        url = (f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}/providers/"
               f"Microsoft.Network/applicationGateways/{p['applicationGatewayName']}")
        emu.seed({"subscriptions": [{"subscriptionId": p["subscriptionId"]}]})
        if "parameters" in p:
            return raw("PUT", url, p["parameters"], api_version=p["api-version"]), raw(
                "PUT", url, p["parameters"], api_version=p["api-version"])
        emu.seed({"resources": [ex["responses"]["200"]["body"]]})
        return (raw("GET", url, api_version=p["api-version"]),)
    if path.startswith("privatedns/"):
        zone = (f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}/providers/"
                f"Microsoft.Network/privateDnsZones/{p['privateZoneName']}")
        emu.seed({"resources": [{"id": zone, "location": "global"}]})
        url = f"{zone}/{p['recordType']}" + (f"/{p['relativeRecordSetName']}" if "relativeRecordSetName" in p else "")
        if "parameters" in p:
            return (raw("PUT", url, p["parameters"], api_version=p["api-version"]),)
        body = ex["responses"]["200"]["body"]
        for item in body.get("value", [body]):
            emu.seed({"resources": [{"id": item["id"], "properties": item["properties"]}]})
        return (raw("GET", url, api_version=p["api-version"]),)
    body = ex["responses"]["200"]["body"]
    emu.seed({"resources": body.get("value", [body])})
    if "containerGroupName" in p:
        return (raw("GET", body["id"], api_version=p["api-version"]),)
    url = f"/subscriptions/{p['subscriptionId']}" + (
        f"/resourceGroups/{p['resourceGroupName']}" if "resourceGroupName" in p else "")
    return (raw("GET", url + "/providers/Microsoft.ContainerInstance/containerGroups", api_version=p["api-version"]),)


@pytest.mark.parametrize("path", sorted({e[0] for e in EXAMPLES}))
def test_replayed_examples_answer_within_the_schemas(logged, path):
    emu, raw = logged
    for resp in _replay(emu, raw, path):
        assert resp.status_code in (200, 201), resp.text
    seen, problems = S.validate_log(emu, ignore=S.EXAMPLE_AHEAD_OF_SPEC)
    assert seen and problems == []


def test_lists_polls_errors_and_the_token_validate(logged):
    emu, raw = logged
    emu.seed(SEED)
    sub = GW_ID.split("/")[2]
    assert raw("GET", f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.ContainerInstance/"
                      "containerGroups", api_version="2023-05-01").status_code == 200
    assert raw("GET", f"{NET}/privateDnsZones/corp.internal/A", api_version="2024-06-01").status_code == 200
    put = raw("PUT", GW_ID, emu.get(GW_ID))
    assert raw("GET", put.headers["Azure-AsyncOperation"], api_version=None).status_code == 200
    assert raw("GET", f"{NET}/privateDnsZones/corp.internal/A/missing", api_version="2024-06-01").status_code == 404
    assert raw("GET", CG1 + "x", api_version="2023-05-01").status_code == 404
    seen, problems = S.validate_log(emu)
    assert problems == []
    assert {("cgroups", "GET"), ("precords", "GET"), ("operation", "GET"), ("gateway", "PUT")} <= seen
    token = requests.get(emu.imds_authority + "/metadata/identity/oauth2/token",
                         params={"api-version": "2018-02-01", "resource": "https://management.azure.com"},
                         headers={"Metadata": "true"}, timeout=5).json()
    assert S.errors(S.stand_in("ImdsToken"), token) == []


@pytest.fixture
def broken(monkeypatch):
    """A deliberately broken copy of the emulator: one field renamed in every response it encodes."""
    original = arm.encode

    def renaming(body):
        data = original(body)
        return data.replace(b'"backendAddressPools"', b'"backendAddressPool"').replace(b'"aRecords"', b'"arecords"')

    monkeypatch.setattr(arm, "encode", renaming)
    return monkeypatch


def test_validation_fails_when_a_field_is_renamed_in_the_output(emu, raw, broken):
    gw = raw("GET", GW_ID).json()
    rec = raw("GET", f"{NET}/privateDnsZones/corp.internal/A/app", api_version="2024-06-01").json()
    gw_errors = S.errors(S.spec(S.GATEWAY).response_schema("ApplicationGateways_Get", 200), gw)
    rec_errors = S.errors(S.spec(S.PRIVATE_DNS).response_schema("RecordSets_Get", 200), rec)
    assert any("'backendAddressPool' was unexpected" in e for e in gw_errors), gw_errors
    assert any("'arecords' was unexpected" in e for e in rec_errors), rec_errors
    broken.undo()  # the same documents from the unbroken emulator validate
    assert S.errors(S.spec(S.GATEWAY).response_schema("ApplicationGateways_Get", 200), raw("GET", GW_ID).json()) == []
    rec = raw("GET", f"{NET}/privateDnsZones/corp.internal/A/app", api_version="2024-06-01").json()
    assert S.errors(S.spec(S.PRIVATE_DNS).response_schema("RecordSets_Get", 200), rec) == []


def test_validation_fails_when_a_field_is_renamed_in_a_request():
    good = {"location": "westeurope", "properties": {"backendAddressPools": [
        {"name": "p", "properties": {"backendAddresses": [{"ipAddress": "10.0.0.4"}]}}]}}
    schema = S.spec(S.GATEWAY).request_schema("ApplicationGateways_CreateOrUpdate")
    assert S.errors(schema, good) == []
    bad = json.loads(json.dumps(good).replace("ipAddress", "ip_address"))
    assert any("'ip_address' was unexpected" in e for e in S.errors(schema, bad))
