"""8 registrar processes boot at once against one gateway."""
from __future__ import annotations

import subprocess

import pytest

from conftest import Cli, cli_path
from seeds import GW_ID, POOL_ID, REC_ID, record


def boot_fleet(emu, n: int, targets=(POOL_ID,), timeout=90, extra=()):
    cli = Cli(emu)
    procs = []
    for i in range(n):
        args = cli_path() + ["register", "--member", f"cg-app-{i}", "--ip", f"10.0.3.{10 + i}",
                             "--poll-interval", "0.05", "--timeout", str(timeout - 10)]
        for t in targets:
            args += ["-t", t]
        procs.append(subprocess.Popen(args, env=cli.env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    results = [(p.wait(timeout=timeout), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    return results


def pool_entries(emu):
    gw = emu.get(GW_ID)
    return next(p for p in gw["properties"]["backendAddressPools"]
                if p["name"] == "aci-pool")["properties"]["backendAddresses"]


@pytest.mark.parametrize("round_", range(3))
def test_eight_at_once_with_if_match(emulator, round_):
    emulator.set(op_duration=0.3, enforce_if_match=True)
    results = boot_fleet(emulator, 8)
    assert all(code == 0 for code, _ in results), results
    entries = pool_entries(emulator)
    got = {e["ipAddress"] for e in entries if e.get("ipAddress")}
    assert got == {f"10.0.3.{10 + i}" for i in range(8)} | {"10.0.2.200"}
    assert {"fqdn": "legacy.corp.internal"} in entries
    tags = emulator.get(GW_ID)["tags"]
    assert tags["env"] == "prod"
    from aci_ip_registrar.ledger import ledger_from_tags
    ledger = ledger_from_tags(tags, "aci-pool")
    assert {m: e.ip for m, e in ledger.items()} == {f"cg-app-{i}": f"10.0.3.{10 + i}"
                                                   for i in range(8)}
    puts = [e for e in emulator.log() if e["kind"] == "write" and e["method"] == "PUT"]
    assert all(p["if_match"] for p in puts)


def test_eight_at_once_superseding(emulator):
    """--while-busy supersede: PUTs land on running operations and cancel them; each body read
    during an operation carries its change, so nothing is lost."""
    emulator.set(op_duration=0.5, enforce_if_match=True)
    results = boot_fleet(emulator, 8, extra=("--while-busy", "supersede"))
    assert all(code == 0 for code, _ in results), results
    got = {e["ipAddress"] for e in pool_entries(emulator) if e.get("ipAddress")}
    assert got == {f"10.0.3.{10 + i}" for i in range(8)} | {"10.0.2.200"}
    assert emulator.get(GW_ID)["properties"]["provisioningState"] == "Succeeded"


def test_eight_at_once_on_shared_dns(emulator):
    emulator.seed({"resources": [record("app", ["10.0.2.77"])]})
    results = boot_fleet(emulator, 8, targets=(REC_ID,))
    assert all(code == 0 for code, _ in results), results
    got = {r["ipv4Address"] for r in emulator.get(REC_ID)["properties"]["aRecords"]}
    assert got == {f"10.0.3.{10 + i}" for i in range(8)} | {"10.0.2.77"}
