"""Public DNS A record sets (issue 13) through the real CLI, pipeline and credential chain against
the emulator's public DNS (api 2018-05-01, PascalCase, If-Match as sent): register, move, swap,
deregister with I1 to I7, manual addresses and foreign metadata untouched; the private-address
gate; alias record sets refused."""
from __future__ import annotations

import json

import pytest

from conftest import Cli, writes
from seeds import NET, seed as make_seed

PZONE = "example.com"
PZONE_ID = f"{NET}/dnsZones/{PZONE}"
PREC_ID = f"{PZONE_ID}/A/app"
A, B = "10.0.2.4", "10.0.2.5"
PUB_A, PUB_B = "20.50.1.4", "20.50.1.5"
MANUAL = "203.0.113.10"


def public_zone() -> dict:
    return {"id": PZONE_ID, "name": PZONE, "type": "Microsoft.Network/dnszones",
            "location": "global", "tags": {}}


def public_record(ips=(), metadata=None, **props) -> dict:
    return {"id": PREC_ID, "name": "app", "type": "Microsoft.Network/dnszones/A",
            "properties": {"TTL": 300, "metadata": dict(metadata or {}),
                           "ARecords": [{"ipv4Address": ip} for ip in ips], **props}}


def seeded(emulator, *records):
    data = make_seed()
    data["resources"] += [public_zone(), *records]
    emulator.seed(data)


def ips(emu):
    return [r["ipv4Address"] for r in emu.get(PREC_ID)["properties"]["ARecords"]]


def meta(emu):
    return emu.get(PREC_ID)["properties"]["metadata"]


def run(cli, member, ip, *extra, target=PREC_ID, command="register"):
    args = ["-t", target, "--member", member, "--output", "json", *extra]
    if ip:
        args += ["--ip", ip, "--allow-any-ip"]
    return cli.register(*args) if command == "register" else cli.run(command, *args)


def test_register_move_swap_deregister_keep_manual_and_foreign(emulator):
    foreign = {"owner": "web-team", "aciipr__0": "cg-x=not-an-ip"}
    seeded(emulator, public_record([MANUAL], foreign))
    cli = Cli(emulator)
    assert run(cli, "cg-a", PUB_A).returncode == 0
    assert run(cli, "cg-b", PUB_B).returncode == 0
    assert sorted(ips(emulator)) == sorted([MANUAL, PUB_A, PUB_B])
    # Move: a's old address goes (I2), b and the manual address stay (I3).
    assert run(cli, "cg-a", "20.50.1.6").returncode == 0
    assert sorted(ips(emulator)) == sorted([MANUAL, PUB_B, "20.50.1.6"])
    # Swap: b takes a's old address while a's entry still claims it, then a moves on.
    assert run(cli, "cg-b", "20.50.1.6").returncode == 0
    assert run(cli, "cg-a", PUB_B).returncode == 0
    assert sorted(ips(emulator)) == sorted([MANUAL, PUB_B, "20.50.1.6"])
    assert run(cli, "cg-a", None, command="deregister").returncode == 0
    assert run(cli, "cg-b", None, command="deregister").returncode == 0
    assert ips(emulator) == [MANUAL]
    after = meta(emulator)
    assert after["owner"] == "web-team"
    assert "cg-x=not-an-ip" in after["aciipr__0"]     # foreign item copied back byte for byte


def test_no_op_reads_only_and_writes_are_conditional_as_the_dns_sdk_sends_them(emulator):
    seeded(emulator, public_record([MANUAL]))
    cli = Cli(emulator)
    assert run(cli, "cg-a", PUB_A).returncode == 0
    put = [e for e in writes(emulator) if e["method"] == "PUT"]
    assert len(put) == 1 and put[0]["if_match"] and not put[0]["if_match"].startswith('"')
    assert "api-version=2018-05-01" in put[0]["query"] or put[0]["query"].get("api-version") == "2018-05-01"
    emulator.clear_log()
    assert run(cli, "cg-a", PUB_A).returncode == 0
    assert writes(emulator) == []                       # I4


def test_creates_a_missing_record_set_with_if_none_match(emulator):
    seeded(emulator)
    cli = Cli(emulator)
    proc = run(cli, "cg-a", PUB_A, target=PREC_ID + ";ttl=60")
    assert proc.returncode == 0, proc.stderr
    assert ips(emulator) == [PUB_A]
    assert emulator.get(PREC_ID)["properties"]["TTL"] == 60
    assert [e["if_none_match"] for e in writes(emulator)] == ["*"]


@pytest.mark.parametrize("dry", [False, True])
def test_private_address_refused_without_opt_in_and_nothing_written(emulator, dry):
    seeded(emulator, public_record([MANUAL]))
    cli = Cli(emulator)
    emulator.clear_log()
    proc = cli.register("-t", PREC_ID, "-t", f"{NET}/applicationGateways/agw-prod/"
                        f"backendAddressPools/aci-pool", "--member", "cg-a", "--ip", A,
                        *(["--dry-run"] if dry else []))
    assert proc.returncode == 7, proc.stderr
    assert "10.0.2.4 is a private address" in proc.stderr
    assert "private-ip=allow" in proc.stderr
    assert writes(emulator) == []
    assert ips(emulator) == [MANUAL]


def test_private_address_published_where_the_target_allows_it(emulator):
    seeded(emulator, public_record([MANUAL]))
    cli = Cli(emulator)
    proc = cli.register("-t", PREC_ID + ";private-ip=allow", "--member", "cg-a", "--ip", A)
    assert proc.returncode == 0, proc.stderr
    assert sorted(ips(emulator)) == sorted([MANUAL, A])


def test_alias_record_set_is_refused(emulator):
    alias = {"targetResource": {"id": f"{NET}/publicIPAddresses/pip-web"}}
    seeded(emulator, public_record([], None, **alias))
    cli = Cli(emulator)
    emulator.clear_log()
    proc = run(cli, "cg-a", PUB_A)
    assert proc.returncode == 7
    assert "alias" in proc.stderr
    assert writes(emulator) == []


def test_missing_public_zone_is_a_config_error(emulator):
    cli = Cli(emulator)
    proc = run(cli, "cg-a", PUB_A)
    assert proc.returncode == 3
    assert "public-dns zone 'example.com' does not exist" in proc.stderr
    assert writes(emulator) == []


def test_status_shows_public_members(emulator):
    seeded(emulator, public_record([MANUAL]))
    cli = Cli(emulator)
    assert run(cli, "cg-a", PUB_A).returncode == 0
    proc = cli.run("status", "-t", PREC_ID, "--member", "cg-a", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    view = json.loads(proc.stdout)["targets"][0]
    assert view["kind"] == "public-dns-a"
    assert view["members"] == {"cg-a": PUB_A} and view["manual"] == [MANUAL]
