"""The real CLI, the real SDK clients and the real credential chain against the emulator."""
from __future__ import annotations


import pytest

from conftest import reads, writes
from seeds import (CG_RG, GW_ID, POOL2_ID, POOL_ID, REC_ID, container_group, gateway, record,
                   seed as make_seed, strip_volatile)

A = "10.0.2.4"
B = "10.0.2.5"


def pool(emu, name="aci-pool"):
    gw = emu.get(GW_ID)
    for p in gw["properties"]["backendAddressPools"]:
        if p["name"] == name:
            return p["properties"].get("backendAddresses", [])
    raise AssertionError(name)


def ips(entries):
    return [e["ipAddress"] for e in entries if e.get("ipAddress")]


def test_first_registration_then_noop(cli, emulator):
    out = cli.json("-t", POOL_ID, "--member", "cg-app-1", "--ip", A)
    assert out["targets"][0]["action"] == "written"
    assert ips(pool(emulator)) == ["10.0.2.200", A]
    assert emulator.get(GW_ID)["tags"]["aciipr:aci-pool:0"] == f"cg-app-1={A}"
    emulator.clear_log()
    out = cli.json("-t", POOL_ID, "--member", "cg-app-1", "--ip", A)
    assert out["targets"][0]["action"] == "none"
    assert writes(emulator) == []
    assert len(reads(emulator)) == 1      # one GET of the gateway, nothing else


def test_ip_change_moves_entry_and_keeps_everything_else(cli, emulator):
    cli.json("-t", POOL_ID, "--member", "cg-app-1", "--ip", A)
    before = emulator.get(GW_ID)
    out = cli.json("-t", POOL_ID, "--member", "cg-app-1", "--ip", B)
    after = emulator.get(GW_ID)
    target = out["targets"][0]
    assert (target["add"], target["remove"]) == ([B], [A])
    entries = pool(emulator)
    assert ips(entries) == ["10.0.2.200", B]
    assert {"fqdn": "legacy.corp.internal"} in entries
    assert ips(pool(emulator, "static-pool")) == ["10.0.9.9"]
    assert strip_volatile(before) == strip_volatile(after)
    assert after["tags"]["env"] == "prod" and after["tags"]["owner"] == "platform-team"


def test_swapped_ips_both_registered_neither_removed(emulator):
    from conftest import Cli
    tags = {"env": "prod", "aciipr:aci-pool:0": f"cg-a={A},cg-b={B}"}
    emulator.seed(make_seed(gw=gateway(pools={"aci-pool": [{"ipAddress": A}, {"ipAddress": B}]},
                                       tags=tags)))
    cli = Cli(emulator)
    first = cli.json("-t", POOL_ID, "--member", "cg-a", "--ip", B)
    second = cli.json("-t", POOL_ID, "--member", "cg-b", "--ip", A)
    assert first["targets"][0]["remove"] == [] and second["targets"][0]["remove"] == []
    assert sorted(ips(pool(emulator))) == [A, B]
    assert emulator.get(GW_ID)["tags"]["aciipr:aci-pool:0"] == f"cg-a={B},cg-b={A}"


def test_two_pools_one_gateway_one_read_one_write(cli, emulator):
    out = cli.json("-t", POOL_ID, "-t", POOL2_ID, "--member", "cg-app-1", "--ip", A)
    assert [t["action"] for t in out["targets"]] == ["written", "written"]
    puts = [e for e in writes(emulator) if e["method"] == "PUT"]
    assert len(puts) == 1
    gw_reads = [e for e in reads(emulator) if e["resource_id"] == GW_ID.lower()]
    # one read before the write, and the operation's final GET as the read-back
    assert [e["time"] < puts[0]["time"] for e in gw_reads] == [True, False]
    assert A in ips(pool(emulator)) and ips(pool(emulator, "aci-pool-2")) == [A]


def test_exclusive_dns_holds_only_this_member(cli, emulator):
    emulator.seed({"resources": [record("app", ips=["10.0.2.77", "10.0.2.78"])]})
    cli.json("-t", REC_ID + ";mode=exclusive;ttl=30", "--member", "cg-app-1", "--ip", A)
    rec = emulator.get(REC_ID)
    assert [r["ipv4Address"] for r in rec["properties"]["aRecords"]] == [A]
    assert rec["properties"]["ttl"] == 30
    assert rec["properties"]["metadata"]["aciipr_cg_app_1"] == A


def test_shared_dns_gains_own_ip_and_loses_own_stale(cli, emulator):
    emulator.seed({"resources": [record("app", ips=["10.0.2.77"], metadata={"team": "web"})]})
    cli.json("-t", REC_ID, "--member", "cg-app-1", "--ip", A)
    cli.json("-t", REC_ID, "--member", "cg-app-2", "--ip", B)
    cli.json("-t", REC_ID, "--member", "cg-app-1", "--ip", "10.0.2.6")
    rec = emulator.get(REC_ID)["properties"]
    assert sorted(r["ipv4Address"] for r in rec["aRecords"]) == sorted(["10.0.2.6", "10.0.2.77", B])
    assert rec["metadata"]["team"] == "web"
    assert rec["ttl"] == 300      # TTL left alone when not configured


def test_dns_record_created_with_if_none_match(cli, emulator):
    cli.json("-t", REC_ID.replace("/A/app", "/A/new-name"), "--member", "cg-app-1", "--ip", A)
    put = [e for e in writes(emulator) if e["method"] == "PUT"]
    assert len(put) == 1 and put[0]["if_none_match"] == "*"
    rec = emulator.get(REC_ID.replace("/A/app", "/A/new-name"))
    assert rec["properties"]["ttl"] == 30


def test_gateway_and_dns_together_every_put_conditional(cli, emulator):
    emulator.seed({"resources": [record("app", ips=[])]})
    cli.json("-t", POOL_ID, "-t", REC_ID, "--member", "cg-app-1", "--ip", A)
    puts = [e for e in writes(emulator) if e["method"] == "PUT"]
    assert len(puts) == 2
    read_etags = {e["etag"] for e in reads(emulator)}
    for put in puts:
        assert put["if_match"], put
        assert put["if_match"].strip('"') in {x.strip('"') for x in read_etags if x}


def test_reregister_from_outside_after_restart(emulator):
    from conftest import Cli
    cg_id = f"{CG_RG}/containerGroups/cg-app-1"
    emulator.seed({"resources": [container_group("cg-app-1", A)]})
    cli = Cli(emulator)
    out = cli.json("-t", POOL_ID, "--container-group", cg_id)
    assert out["member"] == "cg-app-1" and out["ip"] == A
    new_ip = emulator.restart_container_group(cg_id)
    assert new_ip != A
    out = cli.json("-t", POOL_ID, "--container-group", cg_id)
    assert out["ip"] == new_ip
    assert ips(pool(emulator)) == ["10.0.2.200", new_ip]


def test_dry_run_writes_nothing_with_credentials(cli, emulator):
    proc = cli.register("-t", POOL_ID, "--member", "cg-app-1", "--ip", A, "--dry-run",
                        "--", "sh", "-c", "echo app-started")
    assert proc.returncode == 0, proc.stderr
    assert "would-write" in proc.stdout and "app-started" in proc.stdout
    assert writes(emulator) == []
    assert A not in ips(pool(emulator))


def test_dry_run_without_credentials_prints_offline_plan(cli, emulator):
    env = cli.env()
    for key in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        env.pop(key, None)
    env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = "http://127.0.0.1:9"   # IMDS unreachable
    proc = cli.register("-t", POOL_ID, "--member", "cg-app-1", "--ip", A, "--dry-run",
                        "--", "sh", "-c", "echo app-started", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "offline plan" in proc.stdout and "app-started" in proc.stdout
    assert "no usable Azure credential" in proc.stderr
    assert [e for e in emulator.log() if e["kind"] in ("write", "read")] == []


def test_on_failure_exec_starts_app_anyway(cli, emulator):
    emulator.add_fault("forbidden", method="GET", path="applicationGateways")
    proc = cli.register("-t", POOL_ID, "--member", "cg-app-1", "--ip", A, "--on-failure", "exec",
                        "--", "sh", "-c", "echo app-started")
    assert proc.returncode == 0
    assert "app-started" in proc.stdout and "permission denied" in proc.stderr


def test_json_logs_are_json(cli, emulator):
    import json
    proc = cli.register("-t", POOL_ID, "--member", "cg-app-1", "--ip", A, "--log-format", "json",
                        "-vv")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.strip()]
    assert lines and all(line["tool"] == "aci-ip-registrar" for line in lines)


def test_container_group_without_ip_yet_is_waited_for(emulator):
    import threading
    from conftest import Cli
    cg_id = f"{CG_RG}/containerGroups/cg-app-2"
    group = container_group("cg-app-2", A)
    group["properties"]["ipAddress"].pop("ip")
    group["properties"]["instanceView"]["state"] = "Pending"
    emulator.seed({"resources": [group]})

    def comes_up():
        # After the registrar has seen the group without an IP (the log, not the clock).
        emulator.wait_for(lambda e: e["method"] == "GET" and e["resource_id"] == cg_id.lower(), 60)
        ready = emulator.get(cg_id)
        ready["properties"]["ipAddress"]["ip"] = B
        ready["properties"]["instanceView"]["state"] = "Running"
        emulator.put(ready)

    thread = threading.Thread(target=comes_up)
    thread.start()
    out = Cli(emulator).json("-t", POOL_ID, "--container-group", cg_id, "--timeout", "30")
    thread.join()
    assert out["ip"] == B and B in ips(pool(emulator))
    group_reads = [e for e in emulator.log() if e["resource_id"] == cg_id.lower()]
    assert len(group_reads) >= 2   # it waited: read without an IP, then read again


def test_container_group_without_ip_times_out_clearly(emulator):
    from conftest import Cli
    cg_id = f"{CG_RG}/containerGroups/cg-app-3"
    group = container_group("cg-app-3", A)
    group["properties"]["ipAddress"].pop("ip")
    emulator.seed({"resources": [group]})
    proc = Cli(emulator).register("-t", POOL_ID, "--container-group", cg_id, "--timeout", "3")
    assert proc.returncode == 4
    assert "has no IP yet" in proc.stderr
    assert writes(emulator) == []


def test_everything_from_environment_variables(cli, emulator):
    import json
    env = cli.env(ACI_IP_REGISTRAR_TARGETS=f"{POOL_ID}\n   {REC_ID};mode=exclusive;ttl=60,{POOL2_ID}",
                  ACI_IP_REGISTRAR_MEMBER="cg-app-1", ACI_IP_REGISTRAR_IP=A,
                  ACI_IP_REGISTRAR_DRY_RUN="true", ACI_IP_REGISTRAR_OUTPUT="json",
                  ACI_IP_REGISTRAR_TIMEOUT="30")
    proc = cli.run("register", env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["dry_run"] is True
    assert [(t["kind"], t["mode"]) for t in out["targets"]] == [
        ("appgw-pool", "shared"), ("appgw-pool", "shared"), ("private-dns-a", "exclusive")]
    dns = out["targets"][2]
    assert dns["changes"] == ["create with ttl 60"] and dns["action"] == "would-write"
    assert writes(emulator) == []
