"""Issue 9 through the real CLI, SDK and credential chain: every refusal before the first write,
the ledger as untrusted input, wiped ledgers re-claimed, partial failures reported per target."""
from __future__ import annotations

import json

import pytest

from conftest import Cli, writes
from seeds import GW_ID, POOL_ID, REC_ID, gateway, record, seed as make_seed

A, B, C = "10.0.2.4", "10.0.2.5", "10.0.2.6"
MANUAL = "10.0.2.200"


def pool_ips(emu, name="aci-pool"):
    for p in emu.get(GW_ID)["properties"]["backendAddressPools"]:
        if p["name"] == name:
            return [e["ipAddress"] for e in p["properties"].get("backendAddresses", [])
                    if e.get("ipAddress")]
    raise AssertionError(name)


def record_ips(emu):
    return [r["ipv4Address"] for r in emu.get(REC_ID)["properties"]["aRecords"]]


def last_json(proc):
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("dry", [False, True])
def test_full_tags_refused_before_any_write_in_both_targets(emulator, dry):
    tags = {f"tag{i}": "x" for i in range(50)}
    emulator.seed(make_seed(gw=gateway(tags=tags), records=[record("app", [])]))
    cli = Cli(emulator)
    emulator.clear_log()
    args = ["-t", REC_ID, "-t", POOL_ID, "--member", "cg-app-1", "--ip", A, "--output", "json"]
    proc = cli.register(*args, *(["--dry-run"] if dry else []))
    assert proc.returncode == 7, proc.stderr
    assert "tags are full" in proc.stderr
    assert writes(emulator) == []
    out = last_json(proc)
    assert out["status"] == "error" and out["exit_code"] == 7
    assert {t["action"] for t in out["targets"]} <= {"would-write", "pending"}
    assert record_ips(emulator) == []


def test_dry_run_and_real_run_agree_on_exclusive_held_by_another(emulator):
    emulator.seed({"resources": [record("app", [B], {"aciipr_cg_other": B})]})
    cli = Cli(emulator)
    codes = [cli.register("-t", REC_ID + ";mode=exclusive", "--member", "cg-app-1", "--ip", A,
                          *extra).returncode for extra in ([], ["--dry-run"])]
    assert codes == [7, 7]
    assert writes(emulator) == []


CORRUPT_TAGS = {
    "env": "prod",
    "aciipr:aci-pool:0": "cg-x=not-an-ip>10.0.2.200",
    "aciipr:aci-pool:1": "cg-dup=10.0.2.201,cg-case=10.0.2.202",
    "aciipr:aci-pool:2": "cg-dup=10.0.2.203,CG-CASE=10.0.2.200",
}
CORRUPT_META = {"aciipr_Team": "x>10.0.2.88", "aciipr_cg_y": "10.0.2.88>10.0.2.88",
                "aciipr_cg_z": "10.0.2.89", "aciipr_CG_Z": "10.0.2.90", "owner": "dns-team"}
POOL_MANUAL = [MANUAL, "10.0.2.201", "10.0.2.202", "10.0.2.203"]
DNS_MANUAL = ["10.0.2.88", "10.0.2.89", "10.0.2.90"]


def _corrupt_seed():
    gw = gateway(pools={"aci-pool": [{"ipAddress": ip} for ip in POOL_MANUAL]
                        + [{"fqdn": "legacy.corp.internal"}]}, tags=CORRUPT_TAGS)
    return make_seed(gw=gw, records=[record("app", DNS_MANUAL, CORRUPT_META)])


def _foreign_tag_items(tags):
    return sorted(item for k, v in tags.items() if k.startswith("aciipr:")
                  for item in v.split(",") if not item.startswith(("cg-a=", "cg-b=")))


def test_corrupt_duplicate_and_case_variant_ledgers_are_never_acted_on(emulator):
    emulator.seed(_corrupt_seed())
    cli = Cli(emulator)
    targets = ["-t", POOL_ID, "-t", REC_ID]
    before_items = _foreign_tag_items(CORRUPT_TAGS)
    steps = [("register", "cg-a", A), ("register", "cg-b", B), ("register", "cg-a", C),
             ("deregister", "cg-b", None), ("register", "cg-b", A), ("deregister", "cg-a", None)]
    for command, member, ip in steps:
        args = [command, "--poll-interval", "0.05", *targets, "--member", member]
        proc = cli.run(*args, *(["--ip", ip] if ip else []))
        assert proc.returncode == 0, (command, member, proc.stderr)
        assert "foreign ledger item" in proc.stderr
    assert set(POOL_MANUAL) <= set(pool_ips(emulator))
    assert set(DNS_MANUAL) <= set(record_ips(emulator))
    tags = emulator.get(GW_ID)["tags"]
    assert _foreign_tag_items(tags) == before_items
    assert tags["aciipr:aci-pool:0"] == CORRUPT_TAGS["aciipr:aci-pool:0"]
    meta = emulator.get(REC_ID)["properties"]["metadata"]
    assert {k: meta[k] for k in CORRUPT_META} == CORRUPT_META
    # the members' own addresses behaved: cg-a left, cg-b holds A
    assert A in pool_ips(emulator) and C not in pool_ips(emulator) and B not in pool_ips(emulator)


def test_foreign_warning_printed_once_per_item(emulator):
    emulator.seed(_corrupt_seed())
    proc = Cli(emulator).register("-t", POOL_ID, "--member", "cg-a", "--ip", A)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "foreign ledger item" in line]
    assert len(lines) == len(set(lines)) == 5, proc.stderr


def test_own_unparseable_entry_replaced_without_acting_on_it(emulator):
    tags = {"aciipr:aci-pool:0": f"cg-a=junk>{MANUAL}"}
    emulator.seed(make_seed(gw=gateway(tags=tags)))
    proc = Cli(emulator).register("-t", POOL_ID, "--member", "cg-a", "--ip", A)
    assert proc.returncode == 0, proc.stderr
    assert emulator.get(GW_ID)["tags"]["aciipr:aci-pool:0"] == f"cg-a={A}"
    assert MANUAL in pool_ips(emulator)


def test_unparseable_ledger_in_exclusive_target_refused(emulator):
    emulator.seed({"resources": [record("app", [B], {"aciipr_cg_other": "garbage"})]})
    emulator.clear_log()
    proc = Cli(emulator).register("-t", REC_ID + ";mode=exclusive", "--member", "cg-app-1",
                                  "--ip", A)
    assert proc.returncode == 7 and "does not parse" in proc.stderr
    assert writes(emulator) == []


def test_wiped_ledger_is_reclaimed_and_the_old_address_removed_after_a_move(emulator):
    cli = Cli(emulator)
    assert cli.register("-t", POOL_ID, "-t", REC_ID, "--member", "cg-a", "--ip", A).returncode == 0
    for rid, wipe in ((GW_ID, lambda r: r.update(tags={"env": "prod"})),
                      (REC_ID, lambda r: r["properties"].update(metadata={}))):
        doc = emulator.get(rid)
        wipe(doc)
        emulator.put(doc)                  # a deployment reset the tags and metadata
    out = cli.json("-t", POOL_ID, "-t", REC_ID, "--member", "cg-a", "--ip", A)
    assert all(t["owners"] == {"cg-a": A} for t in out["targets"])
    assert "+a" not in emulator.get(GW_ID)["tags"]["aciipr:aci-pool:0"]
    cli.json("-t", POOL_ID, "-t", REC_ID, "--member", "cg-a", "--ip", B)
    assert A not in pool_ips(emulator) and B in pool_ips(emulator)
    assert record_ips(emulator) == [B]
    assert MANUAL in pool_ips(emulator)


def test_entry_marked_adopted_by_an_earlier_release_is_removed_on_move(emulator):
    tags = {"aciipr:aci-pool:0": f"cg-a={MANUAL}+a"}
    emulator.seed(make_seed(gw=gateway(tags=tags)))
    Cli(emulator).json("-t", POOL_ID, "--member", "cg-a", "--ip", A)
    assert MANUAL not in pool_ips(emulator) and A in pool_ips(emulator)


def test_exclusive_plan_names_the_manual_addresses_it_removes(emulator):
    emulator.seed({"resources": [record("app", ["10.0.2.77", "10.0.2.78"])]})
    out = Cli(emulator).json("-t", REC_ID + ";mode=exclusive", "--member", "cg-a", "--ip", A,
                             "--dry-run")
    notes = out["targets"][0]["notes"]
    assert sorted(n.split()[0] for n in notes) == ["10.0.2.77", "10.0.2.78"]
    assert writes(emulator) == []


def test_later_target_failure_reports_each_target(emulator):
    emulator.seed(make_seed(records=[record("app", [])]))
    emulator.add_fault("forbidden", method="PUT", path="applicationGateways")
    proc = Cli(emulator).register("-t", REC_ID, "-t", POOL_ID, "--member", "cg-a", "--ip", A,
                                  "--output", "json", "--timeout", "20")
    assert proc.returncode == 5, proc.stderr
    out = last_json(proc)
    actions = {t["kind"]: (t["action"], t["reason"]) for t in out["targets"]}
    assert out["status"] == "error" and out["exit_code"] == 5
    assert actions["private-dns-a"] == ("written", None)
    assert actions["appgw-pool"][0] == "failed" and "permission" in actions["appgw-pool"][1]
    text = Cli(emulator).register("-t", REC_ID, "-t", POOL_ID, "--member", "cg-b", "--ip", B,
                                  "--timeout", "20")
    assert "written" in text.stdout and "failed" in text.stdout


def test_deregister_leaves_manual_and_other_members(emulator):
    cli = Cli(emulator)
    cli.json("-t", POOL_ID, "--member", "cg-a", "--ip", A)
    cli.json("-t", POOL_ID, "--member", "cg-b", "--ip", B)
    dry = cli.run("deregister", "-t", POOL_ID, "--member", "cg-a", "--dry-run", "--output", "json")
    assert dry.returncode == 0 and last_json(dry)["targets"][0]["remove"] == [A]
    assert A in pool_ips(emulator)
    proc = cli.run("deregister", "-t", POOL_ID, "--member", "cg-a", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert sorted(pool_ips(emulator)) == sorted([MANUAL, B])
    assert emulator.get(GW_ID)["tags"]["aciipr:aci-pool:0"] == f"cg-b={B}"
    emulator.clear_log()
    again = cli.run("deregister", "-t", POOL_ID, "--member", "cg-a")
    assert again.returncode == 0 and writes(emulator) == []
