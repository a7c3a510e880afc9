"""A shared Private DNS record with 50 members: the ledger must fit the metadata limit.

The emulator refuses more than 50 metadata entries on a record set (400 InvalidMetadataCount, the
metadata limit issue 10 asks for; Azure's own limit on DNS metadata is unconfirmed). Earlier
releases kept one metadata key per member, so the 50th member of a record that also carried one
foreign key could not register (exit 6 in every seed of the N=50 chaos run). The ledger is now
packed like the gateway's tags, and the old form migrates on the next write.
"""
from __future__ import annotations

from aci_ip_registrar.ledger import LedgerEntry, meta_key, read_metadata
from seeds import REC_ID, record

A = "10.0.2.4"


def test_fiftieth_member_fits_the_metadata_limit(cli, emulator):
    members = {f"cg-old-{i:02d}": LedgerEntry(f"10.0.4.{10 + i}", False, None) for i in range(49)}
    metadata = {"team": "web", **{meta_key(m): e.ip for m, e in members.items()}}  # old form
    assert len(metadata) == 50
    emulator.seed({"resources": [record("app", [e.ip for e in members.values()], metadata)]})
    proc = cli.register("-t", REC_ID, "--member", "cg-app-1", "--ip", A)
    assert proc.returncode == 0, proc.stderr
    rec = emulator.get(REC_ID)["properties"]
    assert A in {r["ipv4Address"] for r in rec["aRecords"]} and rec["metadata"]["team"] == "web"
    assert len(rec["metadata"]) <= 8                       # migrated into the packed keys
    assert set(read_metadata(rec["metadata"]).entries) == set(members) | {"cg-app-1"}


def test_metadata_over_the_limit_is_refused_before_any_write(cli, emulator):
    metadata = {f"note{i}": "x" for i in range(50)}
    emulator.seed({"resources": [record("app", ["10.0.2.77"], metadata)]})
    emulator.clear_log()
    proc = cli.register("-t", REC_ID, "--member", "cg-app-1", "--ip", A)
    assert proc.returncode == 7 and "metadata entries are full" in proc.stderr, proc.stderr
    assert [e for e in emulator.log() if e["kind"] == "write"] == []
