"""ACI container groups through azure-mgmt-containerinstance 10.x."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError

from .conftest import CG1, CG2, RG, SUB


def test_get_container_group(aci):
    group = aci.container_groups.get(RG, "cg-demo-app-1")
    assert group.ip_address.type == "Private"
    assert group.ip_address.ip == "10.0.2.4"
    assert group.instance_view.state == "Running"
    assert group.tags == {"app": "demo-app", "member": "cg-demo-app-1"}
    assert group.subnet_ids[0].id.endswith("/subnets/snet-aci")
    assert group.containers[0].instance_view.restart_count == 0


def test_missing_group_is_not_found(aci):
    with pytest.raises(ResourceNotFoundError):
        aci.container_groups.get(RG, "nope")


def test_list_by_resource_group_follows_next_link(aci, emu):
    emu.set(page_size=1)
    groups = list(aci.container_groups.list_by_resource_group(RG))
    assert [g.name for g in groups] == ["cg-demo-app-1", "cg-demo-app-2"]
    assert all(g.instance_view is None for g in groups)  # list results carry no instance view
    reads = [e for e in emu.log() if e["kind"] == "read"]
    assert len(reads) == 2 and reads[1]["query"]["$skiptoken"] == "1"
    assert [g.name for g in aci.container_groups.list()] == ["cg-demo-app-1", "cg-demo-app-2"]


def test_restart_changes_the_ip(aci, emu):
    aci.container_groups.begin_restart(RG, "cg-demo-app-1").result()
    group = aci.container_groups.get(RG, "cg-demo-app-1")
    assert group.ip_address.ip == "10.0.2.6"  # next free address after .4 (.5 is cg-demo-app-2)
    assert group.containers[0].instance_view.restart_count == 1
    restart = next(e for e in emu.log() if e["method"] == "POST")
    assert restart["status"] == 204 and restart["kind"] == "write" and restart["resource_id"] == CG1.lower()


def test_restart_with_chosen_ip_over_the_wire_and_python(raw, emu):
    resp = raw("POST", f"{CG1}/restart", params={"emulatorNewIp": "10.0.2.5"}, api_version="2023-05-01")
    assert resp.status_code == 204
    assert emu.get(CG1)["properties"]["ipAddress"]["ip"] == "10.0.2.5"
    assert emu.restart_container_group(CG2, new_ip="10.0.2.4") == "10.0.2.4"  # the two swapped addresses
    assert emu.restart_container_group(CG2) == "10.0.2.6"
    bad = raw("POST", f"{CG1}/restart", params={"emulatorNewIp": "not-an-ip"}, api_version="2023-05-01")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidEmulatorNewIp"
    assert emu.get(f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerInstance/containerGroups/ghost") is None


def test_stop_releases_the_ip_and_start_brings_a_new_one(aci, emu):
    """Stop is a synchronous 204 and deallocates; start is an LRO and may come back on a new IP
    (containerInstance.json 2023-05-01; azure-wire-notes 12.4)."""
    aci.container_groups.stop(RG, "cg-demo-app-1")
    stopped = aci.container_groups.get(RG, "cg-demo-app-1")
    assert stopped.instance_view.state == "Stopped" and stopped.ip_address.ip is None
    assert stopped.containers[0].instance_view.current_state.state == "Terminated"
    # A stopped group still lists as Succeeded, with no instance view (azure-sdk-for-js#14176).
    listed = {g.name: g for g in aci.container_groups.list_by_resource_group(RG)}
    assert listed["cg-demo-app-1"].provisioning_state == "Succeeded"
    assert listed["cg-demo-app-1"].instance_view is None
    aci.container_groups.begin_start(RG, "cg-demo-app-1").result()
    started = aci.container_groups.get(RG, "cg-demo-app-1")
    assert started.instance_view.state == "Running" and started.ip_address.ip == "10.0.2.6"
    posts = [(e["path"].rsplit("/", 1)[-1], e["status"]) for e in emu.log() if e["method"] == "POST"]
    assert posts == [("stop", 204), ("start", 202)]


def test_start_and_restart_take_time_while_pending(raw, emu):
    emu.set(aci_op_duration=float("inf"))
    resp = raw("POST", f"{CG1}/restart", api_version="2023-05-01")
    assert resp.status_code == 204 and "/operationResults/" in resp.headers["Location"]
    assert resp.headers["Retry-After"].isdigit()
    pending = emu.get(CG1)["properties"]
    assert pending["instanceView"]["state"] == "Pending" and pending["ipAddress"]["ip"] == "10.0.2.4"
    assert raw("GET", resp.headers["Location"], api_version=None).status_code == 202
    emu.set(aci_op_duration=0)
    assert raw("GET", resp.headers["Location"], api_version=None).status_code == 204
    assert emu.get(CG1)["properties"]["ipAddress"]["ip"] == "10.0.2.6"
    raw("POST", f"{CG2}/stop", api_version="2023-05-01")
    emu.set(aci_op_duration=float("inf"))
    start = raw("POST", f"{CG2}/start", api_version="2023-05-01")
    assert start.status_code == 202 and "Azure-AsyncOperation" in start.headers
    assert raw("GET", start.headers["Azure-AsyncOperation"], api_version=None).json() == {"status": "InProgress"}
    assert "ip" not in emu.get(CG2)["properties"]["ipAddress"]  # released by the stop
    emu.set(aci_op_duration=0)
    assert raw("GET", start.headers["Azure-AsyncOperation"], api_version=None).json() == {"status": "Succeeded"}
    assert emu.get(CG2)["properties"]["instanceView"]["state"] == "Running"


def test_list_pages_past_100_groups_with_next_link(aci, emu):
    base = f"/subscriptions/{SUB}/resourceGroups/rg-many/providers/Microsoft.ContainerInstance/containerGroups"
    emu.seed({"resources": [
        {"id": f"{base}/cg-{i:03d}", "location": "westeurope",
         "properties": {"ipAddress": {"ip": f"10.1.{i // 200}.{10 + i % 200}"}, "containers": []}}
        for i in range(150)]})
    groups = list(aci.container_groups.list_by_resource_group("rg-many"))
    assert [g.name for g in groups] == [f"cg-{i:03d}" for i in range(150)]
    pages = [e for e in emu.log() if e["kind"] == "read"]
    assert len(pages) == 2 and pages[1]["query"]["$skiptoken"] == "100"


def test_python_api_stop_and_start(emu):
    emu.stop_container_group(CG1)
    assert emu.get(CG1)["properties"]["instanceView"]["state"] == "Stopped"
    assert emu.start_container_group(CG1, new_ip="10.0.2.9") == "10.0.2.9"
    assert emu.get(CG1)["properties"]["ipAddress"]["ip"] == "10.0.2.9"
