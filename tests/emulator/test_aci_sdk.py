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
