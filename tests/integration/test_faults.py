"""Each emulator fault kind is retried (re-read, re-plan) or fails fast, as specified."""
from __future__ import annotations

import time

import pytest

from conftest import reads, writes
from seeds import GW_ID, POOL_ID, REC_ID, SUBNET, record

A = "10.0.2.4"
ARGS = ("-t", POOL_ID, "--member", "cg-app-1", "--ip", A, "--output", "json")


def _pool_ips(emu):
    gw = emu.get(GW_ID)
    entries = next(p for p in gw["properties"]["backendAddressPools"]
                   if p["name"] == "aci-pool")["properties"]["backendAddresses"]
    return [e.get("ipAddress") for e in entries if e.get("ipAddress")]


def _puts(emu):
    return [e for e in writes(emu) if e["method"] == "PUT"]


def assert_no_stale_put(emu):
    """Every PUT carries If-Match equal to the etag of a GET that preceded it, and a re-sent
    PUT always follows a fresh GET (never a replay of the same read)."""
    log = emu.log()
    last_read_etag = None
    used = set()
    for entry in log:
        if entry["kind"] == "read" and entry.get("resource_id") == GW_ID.lower():
            last_read_etag = entry["etag"]
        if entry["kind"] == "write" and entry["method"] == "PUT" \
                and entry.get("resource_id") == GW_ID.lower():
            assert entry["if_match"], entry
            assert entry["if_match"] == last_read_etag, (entry, last_read_etag)
            assert (entry["if_match"], entry["time"]) not in used
            used.add((entry["if_match"], entry["time"]))


@pytest.mark.parametrize("kind,method", [
    ("throttle", "PUT"), ("another_operation", "PUT"), ("conflict", "PUT"),
    ("server_error", "GET"), ("server_error", "PUT"), ("unavailable", "PUT"),
    ("drop", "PUT"), ("drop", "GET"), ("op_canceled", "PUT"),
])
def test_transient_faults_are_retried(cli, emulator, kind, method):
    emulator.add_fault(kind, method=method, path="applicationGateways/[^/]+$", count=1,
                       retry_after=1)
    proc = cli.register(*ARGS)
    assert proc.returncode == 0, proc.stderr
    assert A in _pool_ips(emulator)
    assert any(e["fault"] == kind for e in emulator.log())
    assert "retrying" in proc.stderr
    assert_no_stale_put(emulator)


def test_retry_after_is_honoured(cli, emulator):
    emulator.add_fault("throttle", method="PUT", path="applicationGateways", count=1,
                       retry_after=2)
    proc = cli.register(*ARGS)
    assert proc.returncode == 0, proc.stderr
    puts = _puts(emulator)
    assert len(puts) == 2
    assert puts[1]["time"] - puts[0]["time"] >= 2.0


def test_delay_within_budget_succeeds(cli, emulator):
    emulator.add_fault("delay", method="GET", path="applicationGateways", count=1, delay=1.0)
    proc = cli.register(*ARGS)
    assert proc.returncode == 0, proc.stderr


def _change_on_first_put(emulator, path_part, change):
    """Make an out-of-band change when our first PUT to `path_part` arrives, before it is handled:
    synchronised on the emulator's request hook, not on the clock."""
    fired = []

    def hook(entry):
        if entry["method"] == "PUT" and path_part in entry["path"] and not fired:
            fired.append(entry)
            change()

    emulator.add_request_hook(hook)
    return fired


MODES = [pytest.param(True, id="if-match-enforced"), pytest.param(False, id="if-match-ignored")]


@pytest.mark.parametrize("enforce", MODES)
def test_precondition_failed_rereads_and_keeps_the_concurrent_change(cli, emulator, enforce):
    """An out-of-band change lands between our read and our PUT. Enforced: 412, re-read, re-plan,
    and the change is kept. Ignored: the gateway takes our PUT and the change is overwritten, which
    is exactly the hazard of a gateway that does not honour If-Match (wire notes 12.2)."""
    emulator.set(enforce_if_match=enforce)

    def change_behind_our_back():
        gw = emulator.get(GW_ID)
        gw["tags"]["changed-by"] = "someone-else"
        emulator.put(gw)

    fired = _change_on_first_put(emulator, "applicationGateways", change_behind_our_back)
    proc = cli.register(*ARGS)
    assert proc.returncode == 0, proc.stderr
    assert fired
    statuses = [e["status"] for e in _puts(emulator)]
    final = emulator.get(GW_ID)
    assert A in _pool_ips(emulator)
    assert_no_stale_put(emulator)
    if enforce:
        assert statuses[0] == 412 and statuses[-1] in (200, 201)
        assert final["tags"]["changed-by"] == "someone-else"
    else:
        assert statuses == [200]
        assert "changed-by" not in final["tags"]


@pytest.mark.parametrize("enforce", MODES)
def test_dns_412_is_retried(cli, emulator, enforce):
    """Private DNS enforces If-Match whatever the gateway does."""
    emulator.set(enforce_if_match=enforce)
    emulator.seed({"resources": [record("app", ips=["10.0.2.77"])]})

    def change():
        rec = emulator.get(REC_ID)
        rec["properties"]["aRecords"].append({"ipv4Address": "10.0.2.88"})
        emulator.put(rec)

    fired = _change_on_first_put(emulator, "/A/app", change)
    proc = cli.register("-t", REC_ID, "--member", "cg-app-1", "--ip", A)
    assert proc.returncode == 0, proc.stderr
    assert fired
    got = sorted(r["ipv4Address"] for r in emulator.get(REC_ID)["properties"]["aRecords"])
    assert got == [A, "10.0.2.77", "10.0.2.88"]
    assert [e["status"] for e in writes(emulator)][0] == 412


def test_subnet_join_permission_fails_fast(cli, emulator):
    emulator.add_fault("op_failed_permission", method="PUT", path="applicationGateways")
    started = time.time()
    proc = cli.register(*ARGS)
    assert proc.returncode == 5
    assert "Microsoft.Network/virtualNetworks/subnets/join/action" in proc.stderr
    assert SUBNET in proc.stderr
    assert len(_puts(emulator)) == 1
    assert time.time() - started < 30


@pytest.mark.parametrize("kind,method,code,needle", [
    ("forbidden", "GET", 5, "Microsoft.Network/applicationGateways/read"),
    ("forbidden", "PUT", 5, "Microsoft.Network/applicationGateways/write"),
    ("linked_forbidden", "PUT", 5, "subnets/join/action"),
    ("not_found", "GET", 3, "not found"),
])
def test_hard_errors_fail_fast(cli, emulator, kind, method, code, needle):
    emulator.add_fault(kind, method=method, path="applicationGateways")
    proc = cli.register(*ARGS)
    assert proc.returncode == code, proc.stderr
    assert needle in proc.stderr
    assert len(_puts(emulator)) <= (1 if method == "PUT" else 0)
    assert "retrying" not in proc.stderr


def test_dns_zone_missing_is_config_error(cli, emulator):
    proc = cli.register("-t", REC_ID.replace("corp.internal", "missing.internal"),
                        "--member", "cg-app-1", "--ip", A)
    assert proc.returncode == 3
    assert "zone 'missing.internal' does not exist" in proc.stderr
    assert writes(emulator) == []


def test_stuck_operation_ends_within_timeout_and_names_what_is_pending(cli, emulator):
    emulator.set(op_duration=float("inf"))
    started = time.time()
    proc = cli.register(*ARGS, "--timeout", "4")
    elapsed = time.time() - started
    assert proc.returncode == 6
    assert "pending" in proc.stderr and "agw-prod" in proc.stderr
    assert elapsed < 4 + 6, elapsed   # interpreter start-up plus a small margin


def test_persistent_throttling_gives_up_within_budget(cli, emulator):
    emulator.add_fault("throttle", method="GET", path="applicationGateways", retry_after=1)
    started = time.time()
    proc = cli.register(*ARGS, "--timeout", "3")
    assert proc.returncode == 6
    assert "TooManyRequests" in proc.stderr or "429" in proc.stderr
    assert time.time() - started < 3 + 6
    assert writes(emulator) == []


def test_huge_retry_after_is_bounded_by_the_budget(cli, emulator):
    emulator.add_fault("throttle", method="GET", path="applicationGateways", retry_after=3600)
    started = time.time()
    proc = cli.register(*ARGS, "--timeout", "4")
    assert proc.returncode == 6
    assert time.time() - started < 4 + 6


def test_untrusted_certificate_is_a_config_error_not_a_retry(cli, emulator, tmp_path):
    from aci_ip_registrar.emulator.tls import generate
    other, _, _ = generate(tmp_path)      # a valid CA, just not the emulator's
    proc = cli.register(*ARGS, "--ca-bundle", str(other))
    assert proc.returncode == 3
    assert "TLS verification failed" in proc.stderr
    assert writes(emulator) == []


def test_polls_follow_the_service_retry_after(cli, emulator):
    # Integer Retry-After (the default, as the spec types it): 1 s between polls, not --poll-interval.
    emulator.set(op_duration=2.5, retry_after=1)
    proc = cli.register(*ARGS)
    assert proc.returncode == 0, proc.stderr
    polls = [e["time"] for e in emulator.log() if e["kind"] == "poll"]
    gaps = [b - a for a, b in zip(polls, polls[1:])]
    assert 2 <= len(polls) <= 4, polls
    assert all(0.9 <= g <= 1.8 for g in gaps), gaps


def test_parent_not_found_fault_on_dns_is_config_error(cli, emulator):
    emulator.seed({"resources": [record("app", ips=["10.0.2.77"])]})
    emulator.add_fault("parent_not_found", method="GET", path="privateDnsZones")
    proc = cli.register("-t", POOL_ID, "-t", REC_ID, "--member", "cg-app-1", "--ip", A)
    assert proc.returncode == 3
    assert "does not exist" in proc.stderr and "ParentResourceNotFound" in proc.stderr
    assert writes(emulator) == []          # the gateway was readable, but nothing is written (I6)
