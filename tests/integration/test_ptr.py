"""PTR records in a private reverse zone (issue 13) through the real CLI and pipeline against the
emulator: registered, moved, swapped and deregistered with I1 to I7; manual and foreign PTRs left
alone; a zone that does not cover the IP refused with nothing written; the host taken from the
run's A target; `watch` repairing and `sync` keeping a fleet's PTRs."""
from __future__ import annotations

import contextlib
import json
import signal
import subprocess

import pytest

from conftest import Cli, cli_path, wait_until, writes
from seeds import NET, POOL_ID, REC_ID, SUB, container_group, record, seed as make_seed

RZONE = "2.0.10.in-addr.arpa"
RZONE_ID = f"{NET}/privateDnsZones/{RZONE}"
A, B, C = "10.0.2.4", "10.0.2.5", "10.0.2.6"
HOST_A, HOST_B = "cg-a.corp.internal", "cg-b.corp.internal"


def reverse_zone() -> dict:
    return {"id": RZONE_ID, "name": RZONE, "type": "Microsoft.Network/privateDnsZones",
            "location": "global", "tags": {}}


def ptr(name: str, hosts, metadata=None) -> dict:
    return {"id": f"{RZONE_ID}/PTR/{name}", "name": name,
            "type": "Microsoft.Network/privateDnsZones/PTR",
            "properties": {"ttl": 300, "metadata": dict(metadata or {}),
                           "ptrRecords": [{"ptrdname": h} for h in hosts]}}


def seeded(emulator, *records, groups=()):
    data = make_seed(records=[record("app", [])], groups=list(groups))
    data["resources"] += [reverse_zone(), *records]
    emulator.seed(data)


def ptrs(emu) -> dict:
    """name -> (hosts, metadata) of every PTR record set in the reverse zone."""
    out = {}
    for name in [str(i) for i in range(256)]:
        doc = emu.get(f"{RZONE_ID}/PTR/{name}")
        if doc:
            props = doc["properties"]
            out[name] = ([r["ptrdname"] for r in props["ptrRecords"]], props.get("metadata", {}))
    return out


def hosts(emu) -> dict:
    return {name: h for name, (h, _) in ptrs(emu).items()}


def target(host=None, **opts):
    return RZONE_ID + (f";host={host}" if host else "") + "".join(f";{k}={v}" for k, v in opts.items())


def reg(cli, member, ip, *targets, command="register", extra=()):
    args = [a for t in targets for a in ("-t", t)] + ["--member", member, *extra]
    if ip:
        args += ["--ip", ip]
    return cli.register(*args) if command == "register" else cli.run(command, *args)


MANUAL = ptr("200", ["printer.corp.internal"])
FOREIGN_META = {"owner": "dns-team", "aciipr__1": "cg-x=bad"}


def test_register_move_deregister_leave_manual_and_foreign_alone(emulator):
    seeded(emulator, MANUAL, ptr("201", [HOST_A]))        # a manual PTR naming our host
    cli = Cli(emulator)
    assert reg(cli, "cg-a", A, target(HOST_A)).returncode == 0
    assert hosts(emulator) == {"4": [HOST_A], "200": ["printer.corp.internal"], "201": [HOST_A]}
    assert ptrs(emulator)["4"][1] == {"aciipr__0": "cg-a=10.0.2.4"}           # I7
    # Someone adds metadata of their own next to our entry: it must survive our writes.
    doc = emulator.get(f"{RZONE_ID}/PTR/4")
    doc["properties"]["metadata"].update(FOREIGN_META)
    emulator.put(doc)
    emulator.clear_log()
    assert reg(cli, "cg-a", A, target(HOST_A)).returncode == 0
    assert writes(emulator) == []                                               # I4
    proc = reg(cli, "cg-a", C, target(HOST_A))                                  # move
    assert proc.returncode == 0, proc.stderr
    after = ptrs(emulator)
    assert hosts(emulator) == {"4": [], "6": [HOST_A], "200": ["printer.corp.internal"],
                               "201": [HOST_A]}
    # The old record set keeps the foreign items, so it is rewritten, not deleted; our entry goes
    # and so does our host (the manual PTR naming it at .201 stays).
    assert after["4"] == ([], FOREIGN_META)
    assert after["6"][1] == {"aciipr__0": "cg-a=10.0.2.6"}
    # Without foreign items, the old record set is deleted outright.
    emulator.clear_log()
    assert reg(cli, "cg-a", B, target(HOST_A)).returncode == 0
    assert "6" not in hosts(emulator) and hosts(emulator)["5"] == [HOST_A]
    assert [e["method"] for e in writes(emulator) if e["path"].endswith("/PTR/6")] == ["DELETE"]
    assert all(e["if_match"] or e["if_none_match"] for e in writes(emulator))  # I5
    assert reg(cli, "cg-a", None, target(HOST_A), command="deregister").returncode == 0
    assert hosts(emulator) == {"4": [], "200": ["printer.corp.internal"], "201": [HOST_A]}


def test_swap_with_a_host_each_left_alone_then_settled(emulator):
    seeded(emulator)
    cli = Cli(emulator)
    assert reg(cli, "cg-a", A, target(HOST_A)).returncode == 0
    assert reg(cli, "cg-b", B, target(HOST_B)).returncode == 0
    # The groups swap addresses. a comes first: B's PTR still names cg-b, which is not ours.
    proc = reg(cli, "cg-a", B, target(HOST_A), extra=["--output", "json"])
    assert proc.returncode == 0, proc.stderr
    assert "names cg-b.corp.internal, not cg-a.corp.internal" in proc.stderr
    notes = json.loads(proc.stdout.strip().splitlines()[-1])["targets"][0]["notes"]
    assert any("left alone" in n for n in notes)
    assert hosts(emulator) == {"5": [HOST_B]}          # a's old PTR gone, b's untouched
    assert reg(cli, "cg-b", A, target(HOST_B)).returncode == 0
    assert hosts(emulator) == {"4": [HOST_B]}
    assert reg(cli, "cg-a", B, target(HOST_A)).returncode == 0
    assert hosts(emulator) == {"4": [HOST_B], "5": [HOST_A]}
    meta = {name: m for name, (_, m) in ptrs(emulator).items()}
    assert meta == {"4": {"aciipr__0": "cg-b=10.0.2.4"}, "5": {"aciipr__0": "cg-a=10.0.2.5"}}


def test_swap_in_one_shared_host(emulator):
    seeded(emulator)
    cli = Cli(emulator)
    assert reg(cli, "cg-a", A, target(HOST_A)).returncode == 0
    assert reg(cli, "cg-b", B, target(HOST_A)).returncode == 0
    assert reg(cli, "cg-a", B, target(HOST_A)).returncode == 0
    assert reg(cli, "cg-b", A, target(HOST_A)).returncode == 0
    assert hosts(emulator) == {"4": [HOST_A], "5": [HOST_A]}
    assert reg(cli, "cg-a", B, target(HOST_A)).returncode == 0      # settles a's release
    entries = sorted(m["aciipr__0"] for _, m in ptrs(emulator).values())
    assert entries == ["cg-a=10.0.2.5", "cg-b=10.0.2.4"]


@pytest.mark.parametrize("dry", [False, True])
def test_zone_not_covering_the_ip_is_refused_with_nothing_written(emulator, dry):
    seeded(emulator)
    cli = Cli(emulator)
    emulator.clear_log()
    proc = reg(cli, "cg-a", "10.0.3.4", POOL_ID, target(HOST_A),
               extra=["--dry-run"] if dry else [])
    assert proc.returncode == 3, proc.stderr
    assert f"reverse zone {RZONE} does not cover 10.0.3.4" in proc.stderr
    assert writes(emulator) == []


def test_host_taken_from_the_runs_a_target(emulator):
    seeded(emulator)
    cli = Cli(emulator)
    proc = reg(cli, "cg-a", A, REC_ID, target())
    assert proc.returncode == 0, proc.stderr
    assert hosts(emulator) == {"4": ["app.corp.internal"]}


@pytest.mark.parametrize("targets,needle", [
    ([target()], "add ;host=NAME (the run has no DNS A target"),
    ([target(), REC_ID, REC_ID.replace("/A/app", "/A/api")], "several DNS A targets"),
    ([f"{NET}/privateDnsZones/0/26.2.0.10.in-addr.arpa"], "must end with"),
    ([f"{NET}/privateDnsZones/a.10.in-addr.arpa"], "1 to 3 decimal octets"),
    ([f"{RZONE_ID}/PTR/4"], "name the reverse zone itself"),
    ([target("bad host")], "host 'bad' is not a valid DNS name"),
    ([target("-bad.example")], "host '-bad.example' is not a valid DNS name"),
])
def test_bad_ptr_targets_name_the_problem_and_read_nothing(emulator, targets, needle):
    cli = Cli(emulator)
    emulator.clear_log()
    proc = reg(cli, "cg-a", A, *targets)
    assert proc.returncode == 3, proc.stderr
    assert needle in proc.stderr
    assert [e for e in emulator.log() if e["kind"] in ("read", "write")] == []


def test_missing_reverse_zone_is_a_config_error(emulator):
    emulator.seed(make_seed())
    cli = Cli(emulator)
    proc = reg(cli, "cg-a", A, target(HOST_A))
    assert proc.returncode == 3
    assert f"reverse zone '{RZONE}' does not exist" in proc.stderr


def test_entries_in_the_wrong_record_set_are_foreign(emulator):
    # An entry claiming 10.0.2.9 kept in the record set of 10.0.2.4: never acted on.
    seeded(emulator, ptr("4", [HOST_A], {"aciipr__0": "cg-a=10.0.2.9"}))
    cli = Cli(emulator)
    proc = reg(cli, "cg-a", C, target(HOST_A))
    assert proc.returncode == 0, proc.stderr
    assert "its address is not this record set's" in proc.stderr
    assert hosts(emulator)["4"] == [HOST_A]            # not removed on the word of that entry
    assert hosts(emulator)["6"] == [HOST_A]


@contextlib.contextmanager
def watching(cli, result: dict):
    """`watch` of cg-a at A on the PTR target while the block runs; SIGTERM after it, and the
    exit status and stderr in `result`."""
    proc = subprocess.Popen(cli_path() + [
        "watch", "-t", target(HOST_A), "--member", "cg-a", "--ip", A, "--poll-interval", "0.05",
        "--interval", "0.3"], env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        _, result["err"] = proc.communicate(timeout=30)
        result["rc"] = proc.returncode


def test_watch_leaves_a_ptr_replaced_by_another_host_alone(emulator):
    seeded(emulator)
    result = {}
    with watching(Cli(emulator), result):
        assert wait_until(lambda: hosts(emulator).get("4") == [HOST_A], 20)
        emulator.put(ptr("4", ["intruder.corp.internal"], {}))   # replaced behind its back
        emulator.clear_log()
        assert wait_until(lambda: len([e for e in emulator.log() if e["kind"] == "read"]) >= 3, 20)
    assert result["rc"] == 0, result["err"]
    # The intruder's PTR is foreign: left alone, and said so; nothing of ours remains.
    assert "names intruder.corp.internal" in result["err"]
    assert hosts(emulator) == {"4": ["intruder.corp.internal"]}


def test_watch_recreates_a_ptr_deleted_behind_its_back(emulator):
    seeded(emulator)
    result = {}
    with watching(Cli(emulator), result):
        assert wait_until(lambda: hosts(emulator).get("4") == [HOST_A], 20)
        emulator.put(ptr("4", [], {}))                    # emptied behind its back
        assert wait_until(lambda: hosts(emulator).get("4") == [HOST_A], 20)
    assert result["rc"] == 0, result["err"]
    assert "4" not in hosts(emulator)                      # deregistered on SIGTERM


def test_sync_keeps_a_fleets_ptrs_and_prunes_stopped_groups(emulator):
    groups = [container_group("cg-a", A), container_group("cg-b", B), container_group("cg-c", C)]
    groups[2]["properties"]["instanceView"]["state"] = "Stopped"
    seeded(emulator, MANUAL, ptr("6", ["app.corp.internal"], {"aciipr__0": "cg-c=10.0.2.6"}),
           groups=groups)
    cli = Cli(emulator)
    args = ["sync", "--poll-interval", "0.05", "--scope", f"/subscriptions/{SUB}", "--force",
            "-t", REC_ID, "-t", target(), "--output", "json"]
    proc = cli.run(*args)
    assert proc.returncode in (0, 9), proc.stderr
    assert hosts(emulator) == {"4": ["app.corp.internal"], "5": ["app.corp.internal"],
                               "200": ["printer.corp.internal"]}
    emulator.clear_log()
    proc = cli.run(*args)
    assert proc.returncode == 0, proc.stderr
    assert writes(emulator) == []


def test_sync_over_two_subnets_puts_each_group_in_its_own_reverse_zone(emulator):
    other_id = f"{NET}/privateDnsZones/3.0.10.in-addr.arpa"
    other = {**reverse_zone(), "id": other_id, "name": "3.0.10.in-addr.arpa"}
    groups = [container_group("cg-a", A), container_group("cg-d", "10.0.3.7")]
    seeded(emulator, other, groups=groups)
    cli = Cli(emulator)
    proc = cli.run("sync", "--poll-interval", "0.05", "--scope", f"/subscriptions/{SUB}",
                   "-t", target(HOST_A), "-t", other_id + f";host={HOST_A}", "--output", "json")
    assert proc.returncode in (0, 9), proc.stderr
    assert hosts(emulator) == {"4": [HOST_A]}
    assert emulator.get(f"{other_id}/PTR/7")["properties"]["ptrRecords"] == [{"ptrdname": HOST_A}]
    assert emulator.get(f"{other_id}/PTR/4") is None
