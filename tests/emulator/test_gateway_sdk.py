"""Application Gateway round trips through azure-mgmt-network 33 and DefaultAzureCredential."""

from __future__ import annotations

import threading
import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.network.models import ApplicationGatewayBackendAddress, TagsObject

from .conftest import GW, GW_ID, RG, SUB, client_kwargs


def _pool(gw, name="aci-app-pool"):
    return next(p for p in gw.backend_address_pools if p.name == name)


def _ips(gw, name="aci-app-pool"):
    return [a.ip_address for a in _pool(gw, name).backend_addresses]


def test_get_returns_the_seeded_gateway(network, emu):
    gw = network.application_gateways.get(RG, GW)
    assert gw.id == GW_ID
    assert gw.etag.startswith('W/"')
    assert gw.provisioning_state == "Succeeded"
    assert _ips(gw) == ["10.0.2.4", "10.0.2.250", None]
    assert _pool(gw).backend_addresses[2].fqdn == "legacy-app.corp.internal"
    assert _pool(gw).etag == gw.etag
    assert gw.tags["owner"] == "platform-team"
    assert {"https-listener", "http-listener"} == {l.name for l in gw.http_listeners}
    assert emu.issued_tokens, "the token came from the emulator's identity endpoint"


def test_get_missing_gateway_is_resource_not_found(network):
    with pytest.raises(ResourceNotFoundError) as info:
        network.application_gateways.get(RG, "nope")
    assert info.value.error.code == "ResourceNotFound"


def test_create_or_update_runs_the_lro_and_keeps_everything_else(network, emu):
    # Each phase held by the knobs (read when a status is computed), so nothing races the clock.
    emu.set(op_duration=float("inf"), queued_share=1.0)
    json_before = emu.get(GW_ID)
    before = network.application_gateways.get(RG, GW)
    _pool(before).backend_addresses.append(ApplicationGatewayBackendAddress(ip_address="10.0.2.9"))
    started = time.monotonic()
    poller = network.application_gateways.begin_create_or_update(RG, GW, before)
    queued = emu.get(GW_ID)  # queued: the old gateway, Succeeded, old etag (azure-wire-notes 12.2)
    assert queued == json_before
    emu.set(queued_share=0.0)
    applying = emu.get(GW_ID)
    assert applying["properties"]["provisioningState"] == "Updating"
    assert applying["properties"]["backendAddressPools"][0]["properties"]["provisioningState"] == "Updating"
    emu.set(op_duration=0.0)
    after = poller.result()
    elapsed = time.monotonic() - started
    assert after.provisioning_state == "Succeeded"
    assert _ips(after) == ["10.0.2.4", "10.0.2.250", None, "10.0.2.9"]
    assert after.etag != before.etag
    assert elapsed < 2, "the SDK polled at the emulator's sub-second Retry-After"
    # Nothing else changed: the whole JSON document is equal but for etags and the new address.
    old_doc = json_before
    new_doc = emu.get(GW_ID)
    new_doc["properties"]["backendAddressPools"][0]["properties"]["backendAddresses"].pop()
    assert _strip(old_doc, "etag") == _strip(new_doc, "etag")
    polls = [e for e in emu.log() if e["kind"] == "poll"]
    assert polls and polls[-1]["op_status"] == "Succeeded"
    assert all(e["status"] == 200 for e in polls)


def _strip(node, key):
    if isinstance(node, dict):
        return {k: _strip(v, key) for k, v in node.items() if k != key}
    if isinstance(node, list):
        return [_strip(v, key) for v in node]
    return node


def test_new_gateway_is_created_with_201(network, emu, raw):
    body = {"location": "westeurope", "properties": {"sku": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 1},
            "backendAddressPools": [{"name": "p", "properties": {"backendAddresses": [{"ipAddress": "10.1.0.4"}]}}]}}
    resp = raw("PUT", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/applicationGateways/agw-new", body)
    assert resp.status_code == 201
    assert resp.headers["Azure-AsyncOperation"].startswith(emu.base_url + f"/subscriptions/{SUB}/providers/Microsoft.Network/locations/westeurope/operations/")
    created = network.application_gateways.get(RG, "agw-new")
    assert created.backend_address_pools[0].id.endswith("/agw-new/backendAddressPools/p")
    assert created.operational_state == "Running"


def test_read_only_fields_in_a_dict_body_are_ignored(network, emu, raw):
    doc = emu.get(GW_ID)
    doc["etag"] = 'W/"bogus"'
    doc["properties"]["provisioningState"] = "Failed"
    doc["properties"]["resourceGuid"] = "bogus"
    doc["properties"]["backendAddressPools"][0]["properties"]["backendIPConfigurations"] = [{"id": "bogus"}]
    doc["properties"]["sslCertificates"][0]["properties"]["publicCertData"] = "bogus"
    poller = network.application_gateways.begin_create_or_update(RG, GW, doc)
    after = poller.result()
    assert after.resource_guid != "bogus"
    assert after.ssl_certificates[0].public_cert_data == "MIIDemoPublicCertDataForTheEmulatorOnly=="
    assert not _pool(after).backend_ip_configurations
    assert after.etag != 'W/"bogus"'


def test_stale_if_match_is_412_and_fresh_if_match_succeeds(network, emu):
    emu.set(enforce_if_match=True)
    gw = network.application_gateways.get(RG, GW)
    stale = gw.etag
    network.application_gateways.begin_create_or_update(RG, GW, gw).result()  # someone else's write
    _pool(gw).backend_addresses.append(ApplicationGatewayBackendAddress(ip_address="10.0.2.9"))
    with pytest.raises(HttpResponseError) as info:
        network.application_gateways.begin_create_or_update(RG, GW, gw, headers={"If-Match": stale})
    assert info.value.status_code == 412
    assert info.value.error.code == "PreconditionFailed"
    assert info.value.error.details[0].code == "PreconditionFailedEtagMismatch"
    assert stale in info.value.error.details[0].message
    fresh = network.application_gateways.get(RG, GW)
    _pool(fresh).backend_addresses.append(ApplicationGatewayBackendAddress(ip_address="10.0.2.9"))
    done = network.application_gateways.begin_create_or_update(RG, GW, fresh, headers={"If-Match": fresh.etag}).result()
    assert "10.0.2.9" in _ips(done)
    entries = [e for e in emu.log() if e["method"] == "PUT"]
    assert [e["status"] for e in entries] == [200, 412, 200]
    assert entries[1]["if_match"] == stale and entries[1]["etag_at_arrival"] != stale


def test_if_match_is_ignored_by_default(network, emu):
    assert emu.knobs["enforce_if_match"] is False  # azure-cli#28615: not proven enforced
    gw = network.application_gateways.get(RG, GW)
    result = network.application_gateways.begin_create_or_update(RG, GW, gw, headers={"If-Match": 'W/"stale"'}).result()
    assert result.provisioning_state == "Succeeded"


def test_overlapping_puts_first_ends_canceled_and_superseded(network, emu):
    emu.set(op_duration=0.5, retry_after=0.05)
    first_body = network.application_gateways.get(RG, GW)
    second_body = network.application_gateways.get(RG, GW)
    _pool(first_body).backend_addresses.append(ApplicationGatewayBackendAddress(ip_address="10.0.2.7"))
    _pool(second_body).backend_addresses.append(ApplicationGatewayBackendAddress(ip_address="10.0.2.8"))
    first = network.application_gateways.begin_create_or_update(RG, GW, first_body)
    second = network.application_gateways.begin_create_or_update(RG, GW, second_body)
    with pytest.raises(HttpResponseError) as info:
        first.result()
    err = info.value
    assert err.status_code == 200  # the status poll's code, as the SDK reports LRO failures
    assert err.error.code == "Canceled"
    assert err.error.details[0].code == "CanceledAndSupersededDueToAnotherOperation"
    assert "was canceled and superseded by operation PutApplicationGatewayOperation" in err.error.details[0].message
    winner = second.result()
    assert "10.0.2.8" in _ips(winner) and "10.0.2.7" not in _ips(winner)  # last writer wins
    statuses = {e["op_id"]: e["op_status"] for e in emu.log() if e["kind"] == "poll"}
    assert sorted(statuses.values()) == ["Canceled", "Succeeded"]


def test_concurrent_put_can_be_rejected_with_429(emu, credential):
    from azure.mgmt.network import NetworkManagementClient

    emu.set(op_duration=5, on_concurrent_put="reject", retry_after=2, busy_shapes=["retryable"])
    # retry_total=0: azure-core would otherwise re-send the identical body on a 429 (wire notes 8.2).
    client = NetworkManagementClient(credential, SUB, **client_kwargs(emu, retry_total=0))
    gw = client.application_gateways.get(RG, GW)
    client.application_gateways.begin_create_or_update(RG, GW, gw)
    with pytest.raises(HttpResponseError) as info:
        client.application_gateways.begin_create_or_update(RG, GW, gw)
    assert info.value.status_code == 429
    assert info.value.error.code == "RetryableError"
    assert info.value.error.details[0].code == "RetryableErrorDueToAnotherOperation"
    assert info.value.response.headers["Retry-After"] == "2"
    # The other two shapes, and a tags PATCH and a DELETE are refused the same way.
    emu.set(busy_shapes=["conflict"])
    with pytest.raises(HttpResponseError) as info:
        client.application_gateways.update_tags(RG, GW, TagsObject(tags={"a": "b"}))
    assert info.value.status_code == 409 and info.value.error.code == "AnotherOperationInProgress"
    emu.set(busy_shapes=["retryable_caps"])
    with pytest.raises(HttpResponseError) as info:
        client.application_gateways.begin_delete(RG, GW)
    assert info.value.status_code == 429 and "Error" in info.value.response.json()


def test_permission_failure_arrives_through_the_operation(network, emu):
    emu.add_fault("op_failed_permission", count=1)
    gw = network.application_gateways.get(RG, GW)
    _pool(gw).backend_addresses.append(ApplicationGatewayBackendAddress(ip_address="10.0.2.9"))
    poller = network.application_gateways.begin_create_or_update(RG, GW, gw)  # the PUT itself is accepted
    with pytest.raises(HttpResponseError) as info:
        poller.result()
    err = info.value.error
    assert err.code == "ApplicationGatewayInsufficientPermissionOnSubnet"
    assert "Microsoft.Network/virtualNetworks/subnets/join/action" in err.message
    assert "/virtualNetworks/vnet-demo/subnets/snet-appgw" in err.message
    after = network.application_gateways.get(RG, GW)
    assert after.provisioning_state == "Failed"
    assert "10.0.2.9" not in _ips(after)  # the change did not take effect
    put = next(e for e in emu.log() if e["method"] == "PUT")
    assert put["fault"] == "op_failed_permission" and put["status"] == 200


def test_op_canceled_fault(network, emu):
    emu.add_fault("op_canceled", count=1)
    gw = network.application_gateways.get(RG, GW)
    with pytest.raises(HttpResponseError) as info:
        network.application_gateways.begin_create_or_update(RG, GW, gw).result()
    assert info.value.error.details[0].code == "CanceledAndSupersededDueToAnotherOperation"
    assert network.application_gateways.get(RG, GW).provisioning_state == "Succeeded"


def test_operation_that_never_finishes(network, emu):
    emu.set(op_duration=float("inf"), queued_share=0.0, retry_after=0.02)
    gw = network.application_gateways.get(RG, GW)
    poller = network.application_gateways.begin_create_or_update(RG, GW, gw)
    poller.wait(timeout=0.3)
    assert not poller.done()
    assert network.application_gateways.get(RG, GW).provisioning_state == "Updating"
    emu.set(op_duration=0)  # releases it: status is computed from the knob at each poll
    assert poller.result(timeout=5).provisioning_state == "Succeeded"


def test_update_tags_is_a_synchronous_patch(network, emu):
    before = network.application_gateways.get(RG, GW)
    after = network.application_gateways.update_tags(RG, GW, TagsObject(tags={"only": "this"}))
    assert after.tags == {"only": "this"}
    assert after.etag != before.etag
    assert after.backend_address_pools[0].backend_addresses == before.backend_address_pools[0].backend_addresses
    assert [e["status"] for e in emu.log() if e["method"] == "PATCH"] == [200]


def test_list_and_delete(network, emu):
    assert [g.name for g in network.application_gateways.list(RG)] == [GW]
    assert [g.name for g in network.application_gateways.list_all()] == [GW]
    emu.set(op_duration=float("inf"), queued_share=0.0)
    poller = network.application_gateways.begin_delete(RG, GW)  # an LRO in the spec: 202, polled
    assert emu.get(GW_ID)["properties"]["provisioningState"] == "Deleting"
    emu.set(op_duration=0.0)
    poller.result()
    assert emu.get(GW_ID) is None
    network.application_gateways.begin_delete(RG, GW).result()  # 204 the second time
    deletes = [e for e in emu.log() if e["method"] == "DELETE"]
    assert [e["status"] for e in deletes] == [202, 204]
    assert any(e["kind"] == "poll" and e["op_status"] == "Succeeded" for e in emu.log())


def test_get_while_queued_shows_the_old_body_as_succeeded(network, emu):
    emu.set(op_duration=10, queued_share=1.0)
    gw = network.application_gateways.get(RG, GW)
    _pool(gw).backend_addresses.append(ApplicationGatewayBackendAddress(ip_address="10.0.2.9"))
    network.application_gateways.begin_create_or_update(RG, GW, gw)
    during = network.application_gateways.get(RG, GW)
    assert during.provisioning_state == "Succeeded" and during.etag == gw.etag
    assert "10.0.2.9" not in _ips(during)


def test_tags_patch_supersedes_a_running_update(network, emu):
    """azure-cli#21156: a tags-only update cancelled a running gateway update."""
    emu.set(op_duration=10)
    gw = network.application_gateways.get(RG, GW)
    _pool(gw).backend_addresses.append(ApplicationGatewayBackendAddress(ip_address="10.0.2.9"))
    poller = network.application_gateways.begin_create_or_update(RG, GW, gw)
    network.application_gateways.update_tags(RG, GW, TagsObject(tags={"t": "1"}))
    with pytest.raises(HttpResponseError) as info:
        poller.result()
    assert info.value.error.details[0].code == "CanceledAndSupersededDueToAnotherOperation"
    after = network.application_gateways.get(RG, GW)
    assert after.tags == {"t": "1"} and "10.0.2.9" not in _ips(after)
    assert after.provisioning_state == "Succeeded"


def test_tag_limits_are_refused(raw, emu):
    doc = emu.get(GW_ID)
    for tags, code in (({f"k{i}": "v" for i in range(51)}, "InvalidTagCount"),
                       ({"k" * 513: "v"}, "InvalidTagNameLength"),
                       ({"k": "v" * 257}, "InvalidTagValueLength")):
        resp = raw("PUT", GW_ID, dict(doc, tags=tags))
        assert (resp.status_code, resp.json()["error"]["code"]) == (400, code)
        resp = raw("PATCH", GW_ID, {"tags": tags})
        assert (resp.status_code, resp.json()["error"]["code"]) == (400, code)
    assert emu.get(GW_ID)["tags"] == doc["tags"]
    ok = raw("PATCH", GW_ID, {"tags": {f"k{i}": "v" * 256 for i in range(50)}})
    assert ok.status_code == 200


def test_get_during_operation_shows_new_body_and_updating(network, emu):
    emu.set(op_duration=10, queued_share=0.0)
    gw = network.application_gateways.get(RG, GW)
    _pool(gw).backend_addresses.append(ApplicationGatewayBackendAddress(ip_address="10.0.2.9"))
    network.application_gateways.begin_create_or_update(RG, GW, gw)
    during = network.application_gateways.get(RG, GW)
    assert during.provisioning_state == "Updating"
    assert _pool(during).provisioning_state == "Updating"
    assert "10.0.2.9" in _ips(during)


@pytest.mark.parametrize("enforce", [True, False], ids=["if-match-enforced", "if-match-ignored"])
def test_parallel_registrars_with_if_match_lose_no_update(emu, credential, enforce):
    """Read-modify-write with If-Match and re-read on 412: every writer's address survives (I5)
    when the gateway enforces If-Match. Ignored, a writer that saw its address may still lose it to
    a later stale PUT: only the absence of errors is asserted, the loss is printed."""
    from azure.mgmt.network import NetworkManagementClient

    emu.set(op_duration=0.02, enforce_if_match=enforce)
    errors = []

    def register(ip):
        client = NetworkManagementClient(credential, SUB, **client_kwargs(emu, retry_total=0))
        for _ in range(50):
            gw = client.application_gateways.get(RG, GW)
            _pool(gw).backend_addresses.append(ApplicationGatewayBackendAddress(ip_address=ip))
            try:
                client.application_gateways.begin_create_or_update(RG, GW, gw, headers={"If-Match": gw.etag}).result()
            except HttpResponseError as exc:
                if exc.status_code == 412 or (exc.error and exc.error.code == "Canceled"):
                    continue
                errors.append(exc)
                return
            if ip in _ips(client.application_gateways.get(RG, GW)):
                return
        errors.append(f"{ip} never registered")

    threads = [threading.Thread(target=register, args=(f"10.0.2.{20 + i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    final = emu.get(GW_ID)["properties"]["backendAddressPools"][0]["properties"]["backendAddresses"]
    missing = {f"10.0.2.{20 + i}" for i in range(4)} - {a.get("ipAddress") for a in final}
    print(f"if_match={'enforced' if enforce else 'ignored'}: missing at the end: {sorted(missing)}")
    if enforce:
        assert not missing
