"""`sync` through the real CLI and SDK: list, settle, plan every membership, one write per
gateway, prune only from complete data, guard rails."""
from __future__ import annotations

import json

from conftest import Cli, reads, writes
from seeds import GW_ID, POOL2_ID, POOL_ID, REC_ID, SUB, container_group, gateway, record, \
    seed as make_seed

SCOPE = f"/subscriptions/{SUB}"
MANUAL = "10.0.2.200"


def group(name, ip, rg="rg-net", state="Running", tags=None):
    doc = container_group(name, ip)
    doc["id"] = (f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/"
                 f"Microsoft.ContainerInstance/containerGroups/{name}")
    doc["properties"]["instanceView"]["state"] = state
    doc["tags"] = dict(tags or {})
    return doc


def pool_ips(emu, name="aci-pool"):
    for p in emu.get(GW_ID)["properties"]["backendAddressPools"]:
        if p["name"] == name:
            return [e["ipAddress"] for e in p["properties"].get("backendAddresses", [])
                    if e.get("ipAddress")]


def sync(cli, *args):
    proc = cli.run("sync", "--poll-interval", "0.05", "--scope", SCOPE, "--output", "json", *args)
    return proc, json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else None


def test_250_groups_three_resource_groups_two_pages_one_gateway_write(emulator):
    groups = [group(f"cg-{i:03d}", f"10.0.{3 + i // 200}.{i % 200 + 1}", rg=f"rg-app-{i % 3}")
              for i in range(250)]
    emulator.seed(make_seed(groups=groups, records=[record("app", [])]))
    emulator.set(page_size=200)
    emulator.clear_log()
    proc, out = sync(Cli(emulator), "-t", POOL_ID, "-t", POOL2_ID)
    assert proc.returncode == 9, proc.stderr
    assert len(pool_ips(emulator)) == 251 and len(pool_ips(emulator, "aci-pool-2")) == 250
    puts = [e for e in writes(emulator) if e["method"] == "PUT"]
    assert len(puts) == 1                                   # both pools in one gateway PUT
    assert out["arm"] == {"list_pages": 2, "group_reads": 250, "target_reads": 1,
                          "target_writes": 1}
    assert len([e for e in reads(emulator) if "containergroups" in e["path"].lower()]) == 252
    emulator.clear_log()
    again, _ = sync(Cli(emulator), "-t", POOL_ID, "-t", POOL2_ID)
    assert again.returncode == 0 and writes(emulator) == []  # idempotent: nothing to do


def _fleet_seed(tags=None):
    ledger = "cg-1=10.0.2.1,cg-2=10.0.2.2,cg-3=10.0.2.3,cg-4=10.0.2.4,cg-5=10.0.2.5"
    gw_tags = {"env": "prod", "aciipr:aci-pool:0": ledger,
               "aciipr:aci-pool:1": "cg-x=junk>10.0.2.200"} if tags is None else tags
    pool = [MANUAL] + [f"10.0.2.{i}" for i in range(1, 6)]
    groups = [group("cg-1", "10.0.2.11"),                        # moved
              group("cg-2", "10.0.2.2", state="Stopped"),       # stopped
              # cg-3 deleted: no group
              group("cg-4b", "10.0.2.14"),                      # cg-4 renamed
              group("cg-5", "10.0.2.5")]                        # unchanged
    return make_seed(gw=gateway(pools={"aci-pool": [{"ipAddress": ip} for ip in pool]},
                                tags=gw_tags), groups=groups)


def test_prune_refused_over_the_threshold_then_forced(emulator):
    emulator.seed(_fleet_seed())
    cli = Cli(emulator)
    emulator.clear_log()
    proc, out = sync(cli, "-t", POOL_ID)
    assert proc.returncode == 7, proc.stderr
    assert "would remove 3 of 5 members (60%, over the 30% threshold)" in proc.stderr
    assert writes(emulator) == []
    proc, out = sync(cli, "-t", POOL_ID, "--force")
    assert proc.returncode == 9, proc.stderr
    assert sorted(pool_ips(emulator)) == sorted([MANUAL, "10.0.2.11", "10.0.2.14", "10.0.2.5"])
    tags = emulator.get(GW_ID)["tags"]
    assert tags["aciipr:aci-pool:1"] == "cg-x=junk>10.0.2.200"        # foreign: byte-identical
    assert tags["aciipr:aci-pool:0"] == "cg-1=10.0.2.11,cg-4b=10.0.2.14,cg-5=10.0.2.5"


def test_partial_list_prunes_nothing(emulator):
    emulator.seed(_fleet_seed())
    emulator.set(page_size=2)
    listed = []

    def fail_second_page(entry):
        if "containergroups" in entry["path"].lower() and entry["method"] == "GET" \
                and entry["path"].lower().endswith("containergroups"):
            listed.append(entry)
            if len(listed) == 1:
                emulator.add_fault("server_error", method="GET", path="containerGroups$", count=1)
    emulator.add_log_listener(fail_second_page)
    proc, out = sync(Cli(emulator), "-t", POOL_ID, "--force")
    assert proc.returncode == 6, proc.stderr
    assert "nothing was pruned" in proc.stderr
    assert out["fleet"]["complete"] is False
    ips = pool_ips(emulator)
    assert {f"10.0.2.{i}" for i in range(2, 6)} <= set(ips)   # no member pruned
    assert MANUAL in ips


def test_wiped_ledger_rebuilt_as_owned(emulator):
    groups = [group("cg-1", "10.0.2.1"), group("cg-2", "10.0.2.2")]
    gw = gateway(pools={"aci-pool": [{"ipAddress": ip} for ip in (MANUAL, "10.0.2.1",
                                                                  "10.0.2.2")]},
                 tags={"env": "prod"})
    emulator.seed(make_seed(gw=gw, groups=groups))
    proc, _ = sync(Cli(emulator), "-t", POOL_ID)
    assert proc.returncode == 9, proc.stderr
    assert emulator.get(GW_ID)["tags"]["aciipr:aci-pool:0"] == "cg-1=10.0.2.1,cg-2=10.0.2.2"
    # owned, not adopted: once cg-1 stops, the next pass removes its address
    doc = emulator.get(groups[0]["id"])
    doc["properties"]["instanceView"]["state"] = "Stopped"
    emulator.put(doc)
    proc, _ = sync(Cli(emulator), "-t", POOL_ID, "--max-prune-share", "0.5")
    assert proc.returncode == 9, proc.stderr
    assert sorted(pool_ips(emulator)) == sorted([MANUAL, "10.0.2.2"])


def test_tag_selector_member_tag_and_dns(emulator):
    groups = [group("cg-a", "10.0.2.21", tags={"app": "web", "member": "web-a"}),
              group("cg-b", "10.0.2.22", tags={"app": "web", "member": "web-b"}),
              group("cg-c", "10.0.2.23", tags={"app": "db"})]
    emulator.seed(make_seed(groups=groups, records=[record("app", ["10.0.2.77"])]))
    proc, out = sync(Cli(emulator), "-t", POOL_ID, "-t", REC_ID, "--tag", "app=web",
                     "--member-tag", "member")
    assert proc.returncode == 9, proc.stderr
    assert sorted(r["ipv4Address"] for r in emulator.get(REC_ID)["properties"]["aRecords"]) == \
        ["10.0.2.21", "10.0.2.22", "10.0.2.77"]
    meta = emulator.get(REC_ID)["properties"]["metadata"]
    assert meta == {"aciipr_web_a": "10.0.2.21", "aciipr_web_b": "10.0.2.22"}
    assert "10.0.2.23" not in pool_ips(emulator)


def test_dry_run_says_it_would_change_and_writes_nothing(emulator):
    emulator.seed(make_seed(groups=[group("cg-1", "10.0.2.1")]))
    emulator.clear_log()
    proc, out = sync(Cli(emulator), "-t", POOL_ID, "--dry-run")
    assert proc.returncode == 9 and writes(emulator) == []
    assert out["targets"][0]["add"] == ["10.0.2.1"]
