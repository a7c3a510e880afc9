"""The emulator's answers compared with Microsoft's published examples and OpenAPI descriptions.

Examples show shapes, not values (shared/azure-specs/README.md), so these tests compare field names,
nesting and status codes. Every gap is listed here with the reason.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Set

import pytest

from aci_ip_registrar.emulator import Emulator

from .conftest import FAST, Raw, load_spec

# Service-side defaults the emulator does not invent (it stores what the client sent).
GATEWAY_CREATE_GAPS = {
    "/properties/rewriteRuleSets[]/properties/rewriteRules[]/actionSet/urlConfiguration/reroute",
    "/properties/rewriteRuleSets[]/properties/rewriteRules[]/actionSet/urlConfiguration/modifiedQueryString",
    "/properties/sslProfiles[]/properties/clientAuthConfiguration/verifyClientAuthMode",
    "/properties/sslProfiles[]/properties/clientAuthConfiguration/verifyClientRevocation",
}


def paths(node: Any, prefix: str = "") -> Set[str]:
    out: Set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            out.add(f"{prefix}/{key}")
            out |= paths(value, f"{prefix}/{key}")
    elif isinstance(node, list):
        for value in node:
            out |= paths(value, prefix + "[]")
    return out


def assert_shape(example: Any, ours: Any, gaps: Iterable[str] = ()) -> None:
    missing = paths(example) - paths(ours) - set(gaps)
    assert not missing, f"fields in the published example the emulator does not return: {sorted(missing)}"


@pytest.fixture
def bare():
    with Emulator(**FAST) as emulator:
        yield emulator, Raw(emulator)


def _example(relpath: str) -> Dict[str, Any]:
    return load_spec(relpath)


def _path(params: Dict[str, Any], template: str) -> str:
    return template.format(**params)


# -- Application Gateway ------------------------------------------------------------------------
GW_TEMPLATE = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/applicationGateways/{applicationGatewayName}"


def test_gateway_create_example(bare):
    emu, raw = bare
    ex = _example("network/ApplicationGatewayCreate.json")
    params = ex["parameters"]
    emu.seed({"subscriptions": [{"subscriptionId": params["subscriptionId"]}]})
    path = _path(params, GW_TEMPLATE)
    created = raw("PUT", path, params["parameters"], api_version=params["api-version"])
    assert created.status_code == 201
    assert {"Azure-AsyncOperation", "Retry-After"} <= set(created.headers)  # the spec's 201 headers
    assert_shape(ex["responses"]["201"]["body"], created.json(), GATEWAY_CREATE_GAPS)
    updated = raw("PUT", path, params["parameters"], api_version=params["api-version"])
    assert updated.status_code == 200
    assert_shape(ex["responses"]["200"]["body"], updated.json(), GATEWAY_CREATE_GAPS)
    # Write-only secrets are never echoed.
    for cert in updated.json()["properties"]["sslCertificates"]:
        assert "password" not in cert["properties"] and "data" not in cert["properties"]
    for resp in (created, updated):
        status = raw("GET", resp.headers["Azure-AsyncOperation"], api_version=None)
        assert status.status_code == 200 and status.json() == {"status": "Succeeded"}


def test_gateway_get_example(bare):
    emu, raw = bare
    ex = _example("network/ApplicationGatewayGet.json")
    body = ex["responses"]["200"]["body"]
    emu.seed({"resources": [body]})
    got = raw("GET", _path(ex["parameters"], GW_TEMPLATE), api_version=ex["parameters"]["api-version"])
    assert got.status_code == 200
    doc = got.json()
    assert_shape(body, doc)
    assert doc["etag"].startswith('W/"') and doc["properties"]["backendAddressPools"][0]["etag"] == doc["etag"]
    assert doc["properties"]["backendAddressPools"][0]["type"] == "Microsoft.Network/applicationGateways/backendAddressPools"


def test_gateway_update_tags_example(bare):
    emu, raw = bare
    ex = _example("network/ApplicationGatewayUpdateTags.json")
    body = dict(ex["responses"]["200"]["body"])
    body.pop("tags")
    emu.seed({"resources": [body]})
    params = ex["parameters"]
    resp = raw("PATCH", _path(params, GW_TEMPLATE), params["parameters"], api_version=params["api-version"])
    assert resp.status_code == 200
    assert_shape(ex["responses"]["200"]["body"], resp.json())
    assert resp.json()["tags"] == params["parameters"]["tags"]


def test_gateway_fields_are_declared_in_the_openapi_description(emu, raw):
    spec = load_spec("network/applicationGateway.json")
    defs = spec["definitions"]
    declared = set(defs["ApplicationGatewayPropertiesFormat"]["properties"])
    doc = raw("GET", "/subscriptions/3f2a9c1e-7b4d-4e8a-9c2f-5d6e7f8a9b0c/resourceGroups/rg-aci-demo/providers/Microsoft.Network/applicationGateways/agw-demo").json()
    assert set(doc["properties"]) <= declared
    assert set(doc) <= {"id", "name", "type", "location", "tags", "etag", "properties", "zones", "identity"}


def test_gateway_spec_operations_and_codes(bare):
    """Each emulated gateway operation answers only with codes its operation declares."""
    spec = load_spec("network/applicationGateway.json")
    ops = {op["operationId"]: op for item in spec["paths"].values() for m, op in item.items() if m != "parameters"}
    emu, raw = bare
    ex = _example("network/ApplicationGatewayGet.json")
    emu.seed({"resources": [ex["responses"]["200"]["body"]]})
    path = _path(ex["parameters"], GW_TEMPLATE)
    base = path.rsplit("/", 1)[0]
    sub_base = base.split("/resourceGroups/")[0] + "/providers/Microsoft.Network/applicationGateways"
    doc = raw("GET", path).json()
    observed = {
        "ApplicationGateways_Get": raw("GET", path).status_code,
        "ApplicationGateways_CreateOrUpdate": raw("PUT", path, doc).status_code,
        "ApplicationGateways_UpdateTags": raw("PATCH", path, {"tags": {"a": "b"}}).status_code,
        "ApplicationGateways_List": raw("GET", base).status_code,
        "ApplicationGateways_ListAll": raw("GET", sub_base).status_code,
        "ApplicationGateways_Delete": raw("DELETE", path).status_code,
    }
    for op_id, status in observed.items():
        assert str(status) in ops[op_id]["responses"], (op_id, status)
    assert ops["ApplicationGateways_CreateOrUpdate"]["x-ms-long-running-operation"] is True


ITEM_MODELS = {
    "advancedRoutingConditionSets": ("ApplicationGatewayAdvancedRoutingConditionSet", {}),
    "advancedRoutingMaps": ("ApplicationGatewayAdvancedRoutingMap", {"advancedRoutingRules": "ApplicationGatewayAdvancedRoutingRule"}),
    "authenticationCertificates": ("ApplicationGatewayAuthenticationCertificate", {}),
    "backendAddressPools": ("ApplicationGatewayBackendAddressPool", {}),
    "backendHttpSettingsCollection": ("ApplicationGatewayBackendHttpSettings", {}),
    "backendSettingsCollection": ("ApplicationGatewayBackendSettings", {}),
    "entraJWTValidationConfigs": ("ApplicationGatewayEntraJWTValidationConfig", {}),
    "frontendIPConfigurations": ("ApplicationGatewayFrontendIPConfiguration", {}),
    "frontendPorts": ("ApplicationGatewayFrontendPort", {}),
    "gatewayIPConfigurations": ("ApplicationGatewayIPConfiguration", {}),
    "httpListeners": ("ApplicationGatewayHttpListener", {}),
    "listeners": ("ApplicationGatewayListener", {}),
    "loadDistributionPolicies": ("ApplicationGatewayLoadDistributionPolicy", {"loadDistributionTargets": "ApplicationGatewayLoadDistributionTarget"}),
    "privateLinkConfigurations": ("ApplicationGatewayPrivateLinkConfiguration", {"ipConfigurations": "ApplicationGatewayPrivateLinkIpConfiguration"}),
    "probes": ("ApplicationGatewayProbe", {}),
    "redirectConfigurations": ("ApplicationGatewayRedirectConfiguration", {}),
    "requestRoutingRules": ("ApplicationGatewayRequestRoutingRule", {}),
    "rewriteRuleSets": ("ApplicationGatewayRewriteRuleSet", {}),
    "routingRules": ("ApplicationGatewayRoutingRule", {}),
    "sslCertificates": ("ApplicationGatewaySslCertificate", {}),
    "sslProfiles": ("ApplicationGatewaySslProfile", {}),
    "trustedClientCertificates": ("ApplicationGatewayTrustedClientCertificate", {}),
    "trustedRootCertificates": ("ApplicationGatewayTrustedRootCertificate", {}),
    "urlPathMaps": ("ApplicationGatewayUrlPathMap", {"pathRules": "ApplicationGatewayPathRule"}),
}


def _read_only(models, name):
    cls = getattr(models, name, None)
    if cls is None:
        return None
    cls()  # the field table is built on first use
    return {f._rest_name for f in cls._attr_to_rest_field.values() if f._visibility == ["read"]}


def _check_spec(models, model_name, spec):
    item_ro = _read_only(models, model_name)
    props_ro = _read_only(models, model_name + "PropertiesFormat")
    if props_ro is None:
        props_ro = _read_only(models, model_name + "Properties") or set()
    assert "etag" in item_ro, model_name
    assert ("type" in item_ro) == spec.typed, model_name
    assert ("provisioningState" in props_ro) == spec.state, model_name
    assert props_ro - {"provisioningState"} == set(spec.read_only), model_name


def test_gateway_read_only_fields_match_the_sdk_models():
    """The emulator ignores exactly what azure-mgmt-network marks read-only (visibility ["read"])."""
    from azure.mgmt.network import models

    from aci_ip_registrar.emulator import gateway_doc as gateway

    assert _read_only(models, "ApplicationGatewayPropertiesFormat") == set(gateway.TOP_READ_ONLY)
    assert _read_only(models, "ApplicationGateway") == {"name", "type", "etag"}
    assert set(ITEM_MODELS) == set(gateway.COLLECTIONS)
    for coll, (model_name, nested) in ITEM_MODELS.items():
        spec = gateway.COLLECTIONS[coll]
        _check_spec(models, model_name, spec)
        assert set(nested) == set(spec.nested), coll
        for ncoll, nmodel in nested.items():
            _check_spec(models, nmodel, spec.nested[ncoll])


# -- Private DNS --------------------------------------------------------------------------------
PRIVATE_ZONE = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/privateDnsZones/{privateZoneName}"
PRIVATE_RECORD = PRIVATE_ZONE + "/{recordType}/{relativeRecordSetName}"


def _private(emu, params):
    emu.seed({"resources": [{"id": _path(params, PRIVATE_ZONE), "location": "global"}]})
    return _path(params, PRIVATE_RECORD)


@pytest.mark.parametrize("name", ["RecordSetAPut", "RecordSetPTRPut", "RecordSetTXTPut"])
def test_private_record_put_examples(bare, name):
    emu, raw = bare
    ex = _example(f"privatedns/{name}.json")
    params = ex["parameters"]
    path = _private(emu, params)
    created = raw("PUT", path, params["parameters"], api_version=params["api-version"])
    assert created.status_code == 201
    assert_shape(ex["responses"]["201"]["body"], created.json())
    updated = raw("PUT", path, params["parameters"], api_version=params["api-version"])
    assert updated.status_code == 200
    expected = ex["responses"]["200"]["body"]
    assert_shape(expected, updated.json())
    ours = updated.json()
    # Names lower-cased, fqdn with its trailing dot, types and ids exactly as published.
    for key in ("name", "type", "id"):
        assert ours[key].lower() == expected[key].lower() and ours[key].split("/")[-1] == expected[key].split("/")[-1]
    assert ours["properties"]["fqdn"] == expected["properties"]["fqdn"]
    assert "Azure-AsyncOperation" not in updated.headers  # record sets are synchronous


@pytest.mark.parametrize("name", ["RecordSetAGet", "RecordSetPTRGet"])
def test_private_record_get_examples(bare, name):
    emu, raw = bare
    ex = _example(f"privatedns/{name}.json")
    params = ex["parameters"]
    path = _private(emu, params)
    body = ex["responses"]["200"]["body"]
    emu.seed({"resources": [{"id": body["id"], "properties": body["properties"]}]})
    got = raw("GET", path, api_version=params["api-version"])
    assert got.status_code == 200
    assert_shape(body, got.json())
    assert got.json()["properties"]["fqdn"] == body["properties"]["fqdn"]


def test_private_record_patch_example(bare):
    emu, raw = bare
    ex = _example("privatedns/RecordSetAPatch.json")
    params = ex["parameters"]
    path = _private(emu, params)
    body = ex["responses"]["200"]["body"]
    emu.seed({"resources": [{"id": body["id"], "properties": {"ttl": 3600, "metadata": {"key1": "value1"}, "aRecords": body["properties"]["aRecords"]}}]})
    resp = raw("PATCH", path, params["parameters"], api_version=params["api-version"])
    assert resp.status_code == 200
    assert_shape(body, resp.json())
    assert resp.json()["properties"]["metadata"] == body["properties"]["metadata"]
    assert resp.json()["properties"]["aRecords"] == body["properties"]["aRecords"]


def test_private_record_delete_example(bare):
    emu, raw = bare
    ex = _example("privatedns/RecordSetADelete.json")
    params = ex["parameters"]
    path = _private(emu, params)
    raw("PUT", path, {"properties": {"ttl": 60, "aRecords": [{"ipv4Address": "1.2.3.4"}]}}, api_version=params["api-version"])
    first, second = (raw("DELETE", path, api_version=params["api-version"]) for _ in range(2))
    assert (first.status_code, second.status_code) == (200, 204)
    assert set(ex["responses"]) == {"200", "204"}
    assert first.content == b"" and second.content == b""


def test_private_record_list_example(bare):
    emu, raw = bare
    ex = _example("privatedns/RecordSetAList.json")
    params = ex["parameters"]
    zone = _path(params, PRIVATE_ZONE)
    emu.seed({"resources": [{"id": zone, "location": "global"}] + [
        {"id": f"{zone}/A/recorda{i}", "properties": {"ttl": 3600, "metadata": {"key1": "value1"}, "aRecords": [{"ipv4Address": "1.2.3.4"}]}}
        for i in (1, 2, 3)]})
    emu.set(page_size=2)
    page = raw("GET", f"{zone}/A", api_version=params["api-version"])
    assert page.status_code == 200
    body = page.json()
    assert_shape(ex["responses"]["200"]["body"], body)
    assert body["nextLink"].startswith(emu.base_url + "/subscriptions/")  # absolute, as ARM sends it
    rest = raw("GET", body["nextLink"], api_version=None).json()
    assert [r["name"] for r in body["value"] + rest["value"]] == ["recorda1", "recorda2", "recorda3"]
    assert "nextLink" not in rest


def test_private_record_and_zone_fields_are_declared(emu, raw):
    spec = load_spec("privatedns/privatedns.json")
    defs = spec["definitions"]
    sub = "3f2a9c1e-7b4d-4e8a-9c2f-5d6e7f8a9b0c"
    zone_path = f"/subscriptions/{sub}/resourceGroups/rg-aci-demo/providers/Microsoft.Network/privateDnsZones/corp.internal"
    listing = raw("GET", f"{zone_path}/aLL", api_version="2024-06-01").json()
    assert set(listing) <= set(defs["RecordSetListResult"]["properties"])
    for record in listing["value"]:
        assert set(record) <= {"id", "name", "type", "etag", "properties"}  # ProxyResource + RecordSet
        assert set(record["properties"]) <= set(defs["RecordSetProperties"]["properties"])
    soa = next(r for r in listing["value"] if r["name"] == "@")["properties"]["soaRecord"]
    assert set(soa) == set(defs["SoaRecord"]["properties"])
    zone = raw("GET", zone_path, api_version="2024-06-01").json()
    assert set(zone) <= {"id", "name", "type"} | set(defs["PrivateZone"]["properties"])
    assert set(zone["properties"]) == set(defs["PrivateZoneProperties"]["properties"])


def test_private_spec_codes(bare):
    spec = load_spec("privatedns/privatedns.json")
    ops = {op["operationId"]: op for item in spec["paths"].values() for m, op in item.items() if m != "parameters"}
    emu, raw = bare
    params = {"subscriptionId": "0f0e0d0c-0b0a-4908-8706-050403020100", "resourceGroupName": "rg", "privateZoneName": "z.internal",
              "recordType": "A", "relativeRecordSetName": "x"}
    emu.seed({"subscriptions": [{"subscriptionId": params["subscriptionId"]}]})
    zone, record = _path(params, PRIVATE_ZONE), _path(params, PRIVATE_RECORD)
    rs = {"properties": {"ttl": 5, "aRecords": [{"ipv4Address": "10.0.0.1"}]}}
    observed = [
        ("PrivateZones_CreateOrUpdate", raw("PUT", zone, {"location": "global"}, api_version="2024-06-01")),
        ("PrivateZones_CreateOrUpdate", raw("PUT", zone, {"location": "global"}, api_version="2024-06-01")),
        ("PrivateZones_Get", raw("GET", zone, api_version="2024-06-01")),
        ("PrivateZones_ListByResourceGroup", raw("GET", zone.rsplit("/", 1)[0], api_version="2024-06-01")),
        ("RecordSets_CreateOrUpdate", raw("PUT", record, rs, api_version="2024-06-01")),
        ("RecordSets_CreateOrUpdate", raw("PUT", record, rs, api_version="2024-06-01")),
        ("RecordSets_Get", raw("GET", record, api_version="2024-06-01")),
        ("RecordSets_Update", raw("PATCH", record, rs, api_version="2024-06-01")),
        ("RecordSets_ListByType", raw("GET", zone + "/A", api_version="2024-06-01")),
        ("RecordSets_List", raw("GET", zone + "/aLL", api_version="2024-06-01")),
        ("RecordSets_Delete", raw("DELETE", record, api_version="2024-06-01")),
        ("RecordSets_Delete", raw("DELETE", record, api_version="2024-06-01")),
        ("PrivateZones_Delete", raw("DELETE", zone, api_version="2024-06-01")),
    ]
    assert [r.status_code for _, r in observed] == [201, 200, 200, 200, 201, 200, 200, 200, 200, 200, 200, 204, 200]
    for op_id, resp in observed:
        assert str(resp.status_code) in ops[op_id]["responses"], (op_id, resp.status_code)
    missing = raw("GET", record, api_version="2024-06-01")
    assert missing.status_code == 404 and set(missing.json()["error"]) <= set(spec["definitions"]["CloudErrorBody"]["properties"])


# -- Public DNS ---------------------------------------------------------------------------------
PUBLIC_ZONE = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/dnsZones/{zoneName}"
PUBLIC_RECORD = PUBLIC_ZONE + "/{recordType}/{relativeRecordSetName}"


def _public(emu, params):
    emu.seed({"resources": [{"id": _path(params, PUBLIC_ZONE), "location": "global"}]})
    return _path(params, PUBLIC_RECORD)


@pytest.mark.parametrize("name", ["CreateOrUpdateARecordset", "CreateOrUpdatePTRRecordset"])
def test_public_record_put_examples(bare, name):
    emu, raw = bare
    ex = _example(f"dns/{name}.json")
    params = ex["parameters"]
    path = _public(emu, params)
    created = raw("PUT", path, params["parameters"], api_version=params["api-version"])
    assert created.status_code == 201
    assert_shape(ex["responses"]["201"]["body"], created.json())
    updated = raw("PUT", path, params["parameters"], api_version=params["api-version"])
    assert updated.status_code == 200
    assert_shape(ex["responses"]["200"]["body"], updated.json())
    props = updated.json()["properties"]
    assert "TTL" in props and "ttl" not in props  # PascalCase, kept apart from private DNS
    assert updated.json()["type"] == ex["responses"]["200"]["body"]["type"]


def test_public_record_get_patch_delete_examples(bare):
    emu, raw = bare
    get_ex, patch_ex, delete_ex = (_example(f"dns/{n}.json") for n in ("GetARecordset", "PatchARecordset", "DeleteARecordset"))
    params = get_ex["parameters"]
    path = _public(emu, params)
    body = get_ex["responses"]["200"]["body"]
    emu.seed({"resources": [{"id": body["id"], "properties": body["properties"]}]})
    got = raw("GET", path, api_version=params["api-version"])
    assert got.status_code == 200
    assert_shape(body, got.json())
    patched = raw("PATCH", path, patch_ex["parameters"]["parameters"], api_version=params["api-version"])
    assert patched.status_code == 200
    assert_shape(patch_ex["responses"]["200"]["body"], patched.json())
    assert patched.json()["properties"]["metadata"] == {"key2": "value2"}
    codes = [raw("DELETE", path, api_version=params["api-version"]).status_code for _ in range(2)]
    assert codes == [200, 204] and set(delete_ex["responses"]) == {"200", "204"}


def test_public_fields_are_declared(bare):
    spec = load_spec("dns/dns.json")
    defs = spec["definitions"]
    emu, raw = bare
    ex = _example("dns/CreateOrUpdateARecordset.json")
    path = _public(emu, ex["parameters"])
    record = raw("PUT", path, ex["parameters"]["parameters"], api_version="2018-05-01").json()
    assert set(record) <= set(defs["RecordSet"]["properties"])
    assert set(record["properties"]) <= set(defs["RecordSetProperties"]["properties"])
    zone = raw("GET", path.rsplit("/", 2)[0], api_version="2018-05-01").json()
    assert set(zone) <= set(defs["Zone"]["properties"]) | set(defs["Resource"]["properties"])
    assert set(zone["properties"]) <= set(defs["ZoneProperties"]["properties"])
    listing = raw("GET", path.rsplit("/", 2)[0] + "/recordsets", api_version="2018-05-01").json()
    assert set(listing) <= set(defs["RecordSetListResult"]["properties"])
    apex = {r["type"].rsplit("/", 1)[-1]: r["properties"] for r in listing["value"] if r["name"] == "@"}
    assert set(apex["SOA"]["SOARecord"]) == set(defs["SoaRecord"]["properties"])
    assert all(set(ns) <= set(defs["NsRecord"]["properties"]) for ns in apex["NS"]["NSRecords"])
    for record in listing["value"]:
        assert set(record["properties"]) <= set(defs["RecordSetProperties"]["properties"])


# -- Container instances ------------------------------------------------------------------------
def _aci_props(defs, name):
    return set(defs[name]["properties"]["properties"]["properties"])


def test_container_group_get_example(bare):
    emu, raw = bare
    ex = _example("containerinstance/ContainerGroupsGet_Succeeded.json")
    body = ex["responses"]["200"]["body"]
    emu.seed({"resources": [body]})
    got = raw("GET", body["id"], api_version=ex["parameters"]["api-version"])
    assert got.status_code == 200
    assert_shape(body, got.json())
    defs = load_spec("containerinstance/containerInstance.json")["definitions"]
    assert set(got.json()) <= set(defs["Resource"]["properties"]) | set(defs["ContainerGroupProperties"]["properties"])
    assert set(got.json()["properties"]) <= _aci_props(defs, "ContainerGroupProperties")


@pytest.mark.parametrize("name", ["ContainerGroupsList", "ContainerGroupsListByResourceGroup"])
def test_container_group_list_examples(bare, name):
    emu, raw = bare
    ex = _example(f"containerinstance/{name}.json")
    body = ex["responses"]["200"]["body"]
    emu.seed({"resources": body["value"]})
    params = ex["parameters"]
    path = f"/subscriptions/{params['subscriptionId']}"
    if "resourceGroupName" in params:
        path += f"/resourceGroups/{params['resourceGroupName']}"
    got = raw("GET", path + "/providers/Microsoft.ContainerInstance/containerGroups", api_version=params["api-version"])
    assert got.status_code == 200
    assert_shape(body, got.json())
    defs = load_spec("containerinstance/containerInstance.json")["definitions"]
    for item in got.json()["value"]:
        assert set(item["properties"]) <= _aci_props(defs, "ListResultContainerGroupProperties")


def test_container_group_restart_code(emu, raw):
    spec = load_spec("containerinstance/containerInstance.json")
    restart = next(op for item in spec["paths"].values() for op in item.values()
                   if isinstance(op, dict) and op.get("operationId") == "ContainerGroups_Restart")
    resp = raw("POST", "/subscriptions/3f2a9c1e-7b4d-4e8a-9c2f-5d6e7f8a9b0c/resourceGroups/rg-aci-demo/providers/"
               "Microsoft.ContainerInstance/containerGroups/cg-demo-app-1/restart", api_version="2023-05-01")
    assert str(resp.status_code) in restart["responses"]
