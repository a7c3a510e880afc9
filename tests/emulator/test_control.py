"""The Python control API and its /_emulator/* HTTP twin."""

from __future__ import annotations

import json

import pytest

from aci_ip_registrar.emulator import Emulator

from .conftest import CG1, FAST, GW_ID, NET, SEED, SUB

POOL_ID = f"{GW_ID}/backendAddressPools/aci-app-pool"


def test_get_is_a_deep_copy_and_reaches_child_resources(emu):
    doc = emu.get(GW_ID.upper().replace("SUBSCRIPTIONS", "subscriptions"))
    doc["properties"]["backendAddressPools"].clear()
    assert emu.get(GW_ID)["properties"]["backendAddressPools"]
    pool = emu.get(POOL_ID)
    assert pool["name"] == "aci-app-pool" and pool["properties"]["backendAddresses"][0] == {"ipAddress": "10.0.2.4"}
    assert emu.get(f"{GW_ID}/backendAddressPools/nope") is None
    assert emu.get(f"{NET}/privateDnsZones/corp.internal")["properties"]["numberOfRecordSets"] == 3


def test_put_is_an_out_of_band_change_with_a_new_etag(emu):
    before = emu.get(GW_ID)
    changed = emu.get(GW_ID)
    changed["properties"]["backendAddressPools"][1]["properties"]["backendAddresses"] = [{"ipAddress": "10.0.3.99"}]
    emu.put(changed)
    after = emu.get(GW_ID)
    assert after["etag"] != before["etag"]
    assert after["properties"]["backendAddressPools"][1]["etag"] == after["etag"]
    assert after["properties"]["backendAddressPools"][1]["properties"]["backendAddresses"] == [{"ipAddress": "10.0.3.99"}]
    record = emu.get(f"{NET}/privateDnsZones/corp.internal/A/app")
    emu.put(record)
    assert emu.get(f"{NET}/privateDnsZones/corp.internal/A/app")["etag"] != record["etag"]


def test_out_of_band_put_supersedes_an_operation_in_flight(emu, raw):
    emu.set(op_duration=30)
    resp = raw("PUT", GW_ID, emu.get(GW_ID))
    emu.put(emu.get(GW_ID))
    status = raw("GET", resp.headers["Azure-AsyncOperation"], api_version=None).json()
    assert status["status"] == "Canceled"
    assert status["error"]["details"][0]["code"] == "CanceledAndSupersededDueToAnotherOperation"
    assert emu.get(GW_ID)["properties"]["provisioningState"] == "Succeeded"


def test_seed_again_adds_and_replaces(emu):
    emu.seed({"resources": [
        {"id": f"{NET}/privateDnsZones/corp.internal/A/extra", "properties": {"ttl": 5, "aRecords": [{"ipv4Address": "10.0.2.77"}]}},
        {"id": CG1, "location": "northeurope", "properties": {"ipAddress": {"ip": "10.0.2.30"}}},
    ]})
    assert emu.get(f"{NET}/privateDnsZones/corp.internal/A/extra")["properties"]["fqdn"] == "extra.corp.internal."
    group = emu.get(CG1)
    assert group["properties"]["ipAddress"] == {"ip": "10.0.2.30", "type": "Private", "ports": []}
    assert group["properties"]["instanceView"]["state"] == "Running"
    with pytest.raises(ValueError, match="cannot seed"):
        emu.seed({"resources": [{"id": f"{NET}/loadBalancers/lb"}]})
    with pytest.raises(ValueError, match="needs an 'id'"):
        emu.seed({"resources": [{"name": "x"}]})


def test_seed_fills_read_only_fields_and_subscriptions(tmp_path):
    seed = {"resources": [
        {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/microsoft.network/APPLICATIONGATEWAYS/gw",
         "location": "westeurope",
         "properties": {"backendAddressPools": [{"name": "p", "properties": {"backendAddresses": []}}]}},
        {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/dnszones/Example.COM/A/WWW",
         "properties": {"TTL": 60, "ARecords": [{"ipv4Address": "20.0.0.1"}]}},
    ]}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    with Emulator(path, **FAST) as emu:
        gw = emu.get(f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/applicationGateways/gw")
        assert gw["id"] == f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/applicationGateways/gw"
        assert gw["type"] == "Microsoft.Network/applicationGateways" and gw["etag"].startswith('W/"')
        pool = gw["properties"]["backendAddressPools"][0]
        assert pool["id"].endswith("/applicationGateways/gw/backendAddressPools/p")
        assert pool["properties"]["provisioningState"] == "Succeeded"
        record = emu.get(f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/dnsZones/example.com/A/www")
        assert record["name"] == "www" and record["properties"]["fqdn"] == "www.example.com."
        assert emu.get(f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/dnsZones/example.com")
        assert emu.subscription_id == SUB  # registered from the resource ids


def test_knobs_validate(emu):
    emu.set(op_duration=float("inf"), retry_after=0.5, on_concurrent_put="reject", enforce_if_match=False)
    assert emu.knobs["op_duration"] == float("inf") and emu.knobs["on_concurrent_put"] == "reject"
    with pytest.raises(ValueError):
        emu.set(on_concurrent_put="queue")
    with pytest.raises(ValueError):
        emu.set(retry_after=-1)
    with pytest.raises(TypeError):
        emu.set(no_such_knob=1)


def test_control_routes(emu, raw):
    base = emu.base_url + "/_emulator"
    knobs = raw("POST", f"{base}/knobs", {"op_duration": "inf", "retry_after": 0.1}, api_version=None)
    assert knobs.status_code == 200 and knobs.json()["op_duration"] == "inf"
    assert raw("POST", f"{base}/seed", {"resources": [{"id": f"{NET}/privateDnsZones/x.internal"}]}, api_version=None).status_code == 204
    found = raw("GET", f"{base}/resource", params={"id": f"{NET}/privateDnsZones/x.internal"}, api_version=None)
    assert found.status_code == 200 and found.json()["name"] == "x.internal"
    assert raw("GET", f"{base}/resource", params={"id": "/nope"}, api_version=None).status_code == 404
    moved = raw("POST", f"{base}/restart", params={"id": CG1, "ip": "10.0.2.200"}, api_version=None)
    assert moved.json() == {"ip": "10.0.2.200"}
    assert raw("POST", f"{base}/knobs", {"bogus": 1}, api_version=None).status_code == 400
    assert emu.counts()["total"] == 0  # control traffic is not logged


def test_lifecycle(tmp_path):
    emu = Emulator(workdir=tmp_path / "emu")
    with pytest.raises(RuntimeError):
        emu.base_url
    emu.start()
    try:
        with pytest.raises(RuntimeError):
            emu.start()
        assert (tmp_path / "emu" / "ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert emu.env()["AZURE_SUBSCRIPTION_ID"] == emu.subscription_id  # a placeholder when nothing is seeded
    finally:
        emu.stop()
    assert not emu.running and (tmp_path / "emu" / "ca.pem").exists()  # a workdir you chose is kept
