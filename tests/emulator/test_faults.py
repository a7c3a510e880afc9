"""Scripted faults, and how the real SDK reacts to each."""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.privatedns import models as priv

from aci_ip_registrar.emulator import Emulator

from .conftest import FAST, GW, GW_ID, RG, SEED, ZONE

GW_PATH = r"/applicationGateways/agw-demo$"


def _statuses(emu, method="GET"):
    return [(e["status"], e["fault"]) for e in emu.log() if e["method"] == method and e["kind"] != "token"]


def test_throttle_is_retried_after_retry_after(network, emu):
    emu.set(integer_retry_after=False)  # the decimal option: the SDK sleeps exactly what it is told
    emu.add_fault("throttle", method="GET", path=GW_PATH, count=2, retry_after=0.1)
    network.application_gateways.get(RG, GW)
    entries = [e for e in emu.log() if e["kind"] == "read"]
    assert [(e["status"], e["fault"], e["error_code"]) for e in entries] == [
        (429, "throttle", "TooManyRequests"), (429, "throttle", "TooManyRequests"), (200, None, None)]
    gaps = [b["time"] - a["time"] for a, b in zip(entries, entries[1:])]
    assert all(0.09 <= g < 1.0 for g in gaps), gaps  # the SDK slept the 0.1 s it was told
    assert emu.counts()["faults"] == 2


def test_throttle_headers_integer_by_default_and_decimal_option(raw, emu):
    # The spec types Retry-After as int32 seconds: whole seconds only, by default.
    emu.add_fault("throttle", count=1, retry_after=2.5)
    first = raw("GET", GW_ID)
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "3" and "retry-after-ms" not in first.headers
    assert "Read_ObservationWindow" in first.json()["error"]["message"]
    emu.add_fault("throttle", count=1)  # the knob, 0.02 s: rounds to 0 (the client's own cadence)
    assert raw("GET", GW_ID).headers["Retry-After"] == "0"
    emu.set(integer_retry_after=False)
    emu.add_fault("throttle", count=1)
    third = raw("GET", GW_ID)
    assert third.headers["Retry-After"] == "0.02" and third.headers["retry-after-ms"] == "20"
    emu.set(integer_retry_after=True, retry_after=10, time_scale=0.25)
    emu.add_fault("throttle", count=1)
    assert raw("GET", GW_ID).headers["Retry-After"] == "3"  # 10 s scaled by 0.25, rounded


def test_another_operation_429_is_replayed_by_the_sdk_retry_policy(network, emu):
    emu.add_fault("another_operation", method="PUT", count=1)
    gw = network.application_gateways.get(RG, GW)
    network.application_gateways.begin_create_or_update(RG, GW, gw).result()
    puts = [e for e in emu.log() if e["method"] == "PUT"]
    # azure-core re-sent the identical body on its own (the hazard in wire notes 2.5).
    assert [(e["status"], e["error_code"]) for e in puts] == [(429, "RetryableError"), (200, None)]


@pytest.mark.parametrize("shape", ["retryable", "retryable_caps", "conflict"])
def test_busy_fault_shapes(raw, emu, shape):
    emu.add_fault("busy", method="PUT", count=1, shape=shape)
    resp = raw("PUT", GW_ID, emu.get(GW_ID))
    body = resp.json()
    if shape == "conflict":  # azure-cli#2120
        assert resp.status_code == 409 and body["error"]["code"] == "AnotherOperationInProgress"
        assert "To retrieve status of the operation use uri: https://127.0.0.1" in body["error"]["message"]
        return
    assert resp.status_code == 429 and resp.headers["Retry-After"].isdigit()
    if shape == "retryable":  # bosh-azure-cpi#179
        assert body["error"]["code"] == "RetryableError"
        assert body["error"]["details"][0]["code"] == "RetryableErrorDueToAnotherOperation"
    else:  # cloud-provider-azure#792
        assert "error" not in body and body["Error"]["Code"] == "RetryableError"
        assert body["Error"]["Details"][0]["Code"] == "RetryableErrorDueToAnotherOperation"
        assert set(body["Error"]) == {"Code", "Message", "Details"}


def test_busy_fault_draws_every_shape_from_the_knob(raw, emu):
    emu.set(busy_seed=7)
    emu.add_fault("busy", method="PUT", count=30)
    seen = set()
    for _ in range(30):
        resp = raw("PUT", GW_ID, emu.get(GW_ID))
        seen.add((resp.status_code, "Error" in resp.json()))
    assert seen == {(429, False), (429, True), (409, False)}


def test_conflict_is_409_another_operation_in_progress(network, emu):
    emu.add_fault("conflict", method="PUT", count=1)
    gw = network.application_gateways.get(RG, GW)
    with pytest.raises(ResourceExistsError) as info:
        network.application_gateways.begin_create_or_update(RG, GW, gw)
    err = info.value
    assert err.status_code == 409 and err.error.code == "AnotherOperationInProgress"
    assert "To retrieve status of the operation use uri: https://127.0.0.1:" in err.error.message
    assert "/providers/Microsoft.Network/locations/westeurope/operations/" in err.error.message
    assert len([e for e in emu.log() if e["method"] == "PUT"]) == 1  # no Retry-After: not retried


@pytest.mark.parametrize("kind,status,code", [("server_error", 500, "InternalServerError"), ("unavailable", 503, "ServiceUnavailable")])
def test_5xx_is_retried_by_the_sdk(network, emu, kind, status, code):
    emu.add_fault(kind, method="GET", path=GW_PATH, count=1)
    assert network.application_gateways.get(RG, GW).name == GW
    assert _statuses(emu) == [(status, kind), (200, None)]
    assert emu.log()[-2]["error_code"] == code


def test_drop_closes_the_connection_and_the_sdk_retries(network, emu):
    emu.add_fault("drop", method="GET", path=GW_PATH, count=1)
    assert network.application_gateways.get(RG, GW).name == GW
    assert _statuses(emu) == [(None, "drop"), (200, None)]


def test_delay(network, emu):
    emu.add_fault("delay", path=GW_PATH, count=1, delay=0.3)
    started = time.monotonic()
    network.application_gateways.get(RG, GW)
    assert time.monotonic() - started >= 0.3
    assert _statuses(emu) == [(200, "delay")]


def test_forbidden_names_action_and_scope(network, emu):
    emu.add_fault("forbidden", method="GET", count=1)
    with pytest.raises(HttpResponseError) as info:
        network.application_gateways.get(RG, GW)
    err = info.value
    assert err.status_code == 403 and err.error.code == "AuthorizationFailed"
    assert "perform action 'Microsoft.Network/applicationGateways/read' over scope" in err.error.message
    assert GW_ID in err.error.message
    claims_oid = err.error.message.split("'")[1]
    assert claims_oid != "00000000-0000-0000-0000-000000000000"  # the caller's oid, from its token


def test_linked_forbidden_names_subnet_join(network, emu):
    emu.add_fault("linked_forbidden", method="PUT", count=1)
    gw = network.application_gateways.get(RG, GW)
    with pytest.raises(HttpResponseError) as info:
        network.application_gateways.begin_create_or_update(RG, GW, gw)
    message = info.value.error.message
    assert info.value.status_code == 403 and info.value.error.code == "LinkedAuthorizationFailed"
    assert "Microsoft.Network/virtualNetworks/subnets/join/action" in message
    assert "/virtualNetworks/vnet-demo/subnets/snet-appgw" in message
    assert "'Microsoft.Network/applicationGateways/write'" in message


def test_not_found_and_parent_not_found(network, privatedns, emu):
    emu.add_fault("not_found", path=GW_PATH, count=1)
    with pytest.raises(ResourceNotFoundError) as info:
        network.application_gateways.get(RG, GW)
    assert info.value.error.code == "ResourceNotFound"
    emu.add_fault("parent_not_found", method="PUT", path="/privateDnsZones/", count=1)
    with pytest.raises(ResourceNotFoundError) as info:
        privatedns.record_sets.create_or_update(RG, ZONE, "A", "x", priv.RecordSet(ttl=5, a_records=[priv.ARecord(ipv4_address="10.0.2.9")]))
    assert info.value.error.code == "ParentResourceNotFound" and "corp.internal" in info.value.error.message


def test_probability_with_a_seed_is_reproducible(raw):
    def pattern():
        with Emulator(SEED, **FAST) as other:
            other.add_fault("server_error", probability=0.5, seed=42)
            from .conftest import Raw

            client = Raw(other)
            return [client("GET", GW_ID).status_code for _ in range(12)]

    first, second = pattern(), pattern()
    assert first == second
    assert {200, 500} == set(first)


def test_method_and_path_filters_and_count(raw, emu):
    fid = emu.add_fault("server_error", method="PUT", path="privateDnsZones", count=2)
    assert raw("GET", f"/subscriptions/3f2a9c1e-7b4d-4e8a-9c2f-5d6e7f8a9b0c/resourceGroups/{RG}/providers/Microsoft.Network/privateDnsZones/{ZONE}/A/app", api_version="2024-06-01").status_code == 200
    assert emu.faults()[0]["id"] == fid and emu.faults()[0]["remaining"] == 2
    assert raw("GET", GW_ID).status_code == 200
    emu.clear_faults()
    assert emu.faults() == []
    with pytest.raises(ValueError):
        emu.add_fault("no-such-kind")


def test_token_endpoint_only_faulted_when_named(emu, credential):
    emu.add_fault("server_error")  # no path: ARM only
    emu.add_fault("throttle", path="/msi/token", count=1)
    token = credential.get_token("https://management.azure.com/.default")
    assert token.token in emu.issued_tokens
    tokens = [(e["status"], e["fault"]) for e in emu.log() if e["kind"] == "token"]
    assert tokens[0] == (429, "throttle") and tokens[-1] == (200, None)


def test_rate_limit_headers_count_down(raw):
    reads = [int(raw("GET", GW_ID).headers["x-ms-ratelimit-remaining-subscription-reads"]) for _ in range(3)]
    assert reads == sorted(reads, reverse=True) and reads[0] - reads[-1] == 2
    write = raw("PATCH", GW_ID, {"tags": {}})
    assert "x-ms-ratelimit-remaining-subscription-writes" in write.headers


def test_faults_over_http(raw, emu):
    made = raw("POST", emu.base_url + "/_emulator/faults", {"kind": "throttle", "count": 1, "retry_after": 0.01}, api_version=None)
    assert made.status_code == 201
    assert raw("GET", GW_ID).status_code == 429
    assert raw("DELETE", emu.base_url + "/_emulator/faults", api_version=None).status_code == 204
    bad = raw("POST", emu.base_url + "/_emulator/faults", {"kind": "bogus"}, api_version=None)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidEmulatorRequest"
