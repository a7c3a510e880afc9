"""`roles`, `check`, `watch --preflight` and the pre-write permission check, through the real CLI
and SDK against the emulator with RBAC on (issue 13, "Must show"): the role `roles` prints,
applied as the identity's only role, lets register, watch, deregister and sync run; without any
one of its actions, `check` names exactly that action and scope (exit 5) and the real run fails
with exit 5 before any write."""
from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import Cli, cli_path
from seeds import (CG_RG, GW_ID, NET, POOL_ID, REC_ID, SUB, SUBNET, container_group, gateway,
                   seed as make_seed)

A, B, C = "10.0.2.4", "10.0.2.5", "10.0.2.6"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-net"
REV_ZONE = "2.0.10.in-addr.arpa"
REV_ID = f"{NET}/privateDnsZones/{REV_ZONE}"
ZONE_ID = REC_ID.rsplit("/A/", 1)[0]
PIP_ID = f"{NET}/publicIPAddresses/pip-agw"
CG1 = f"{CG_RG}/containerGroups/cg-1"
PUB_ZONE_ID = f"{NET}/dnsZones/example.com"
PUB_REC_ID = f"{PUB_ZONE_ID}/A/app"
# A pool, a private A record, a PTR and (a kind added later, bringing its own needs) a public A
# record that may hold private addresses.
TARGETS = ["-t", POOL_ID, "-t", REC_ID, "-t", f"{REV_ID};host=app.corp.internal",
           "-t", f"{PUB_REC_ID};private-ip=allow"]
WRITES = ("PUT", "PATCH", "DELETE", "POST")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

REGISTER_NEEDS = {
    (GW_ID, "Microsoft.Network/applicationGateways/read"),
    (GW_ID, "Microsoft.Network/applicationGateways/write"),
    (SUBNET, "Microsoft.Network/virtualNetworks/subnets/read"),
    (SUBNET, "Microsoft.Network/virtualNetworks/subnets/join/action"),
    (PIP_ID, "Microsoft.Network/publicIPAddresses/read"),
    (PIP_ID, "Microsoft.Network/publicIPAddresses/join/action"),
    (ZONE_ID, "Microsoft.Network/privateDnsZones/A/read"),
    (ZONE_ID, "Microsoft.Network/privateDnsZones/A/write"),
    (REV_ID, "Microsoft.Network/privateDnsZones/PTR/read"),
    (REV_ID, "Microsoft.Network/privateDnsZones/PTR/write"),
    (REV_ID, "Microsoft.Network/privateDnsZones/PTR/delete"),
    (PUB_ZONE_ID, "Microsoft.Network/dnsZones/A/read"),
    (PUB_ZONE_ID, "Microsoft.Network/dnsZones/A/write"),
    (CG1, "Microsoft.ContainerInstance/containerGroups/read"),
}
SYNC_NEEDS = {n for n in REGISTER_NEEDS if n[0] != CG1} | {
    (RG, "Microsoft.ContainerInstance/containerGroups/read")}


def _seed():
    gw = gateway()
    gw["properties"]["frontendIPConfigurations"].append(
        {"name": "fe-public", "id": f"{GW_ID}/frontendIPConfigurations/fe-public",
         "properties": {"publicIPAddress": {"id": PIP_ID}}})
    reverse = {"id": REV_ID, "name": REV_ZONE, "type": "Microsoft.Network/privateDnsZones",
               "location": "global", "tags": {}}
    public = {"id": PUB_ZONE_ID, "name": "example.com", "type": "Microsoft.Network/dnszones",
              "location": "global", "tags": {}}
    return make_seed(gw=gw, records=[reverse, public],
                     groups=[container_group("cg-1", A), container_group("cg-2", B)])


@pytest.fixture
def emu():
    from aci_ip_registrar.emulator import Emulator
    with Emulator(_seed(), op_duration=0.05, retry_after=0.02) as emulator:
        yield emulator


def run(emu, *args, timeout=60):
    return Cli(emu).run(*args, timeout=timeout)


def out_json(proc) -> dict:
    return json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}


_ROLES: dict = {}


def roles(emu, mode="register", *extra):
    """`roles --output json` for the seed (RBAC off); the same for every test, so printed once."""
    if (mode, extra) not in _ROLES:
        scope = ["--container-group", CG1] if mode == "register" else ["--scope", RG]
        proc = run(emu, "roles", *TARGETS, "--for", mode, *scope, "--output", "json", *extra)
        assert proc.returncode == 0, proc.stderr
        _ROLES[(mode, extra)] = json.loads(proc.stdout)
    return _ROLES[(mode, extra)]


def written(emu) -> list:
    return [e for e in emu.log() if e["method"] in WRITES]


def denied(emu) -> list:
    return [e for e in emu.log() if e["status"] == 403 or
            e.get("error_code") in ("AuthorizationFailed", "LinkedAuthorizationFailed",
                                    "ApplicationGatewayInsufficientPermissionOnSubnet")]


def apply(emu, data, without=None):
    role = dict(data["role"])
    role["Actions"] = [a for a in role["Actions"] if a != without]
    emu.apply_role(role, [a["scope"] for a in data["assignments"]])


def register(emu, *extra):
    return run(emu, "register", "--poll-interval", "0.05", *TARGETS, "--container-group", CG1,
               "--output", "json", *extra)


def sync(emu, *extra):
    return run(emu, "sync", "--poll-interval", "0.05", *TARGETS, "--scope", RG, "--output",
               "json", *extra)


def check(emu, mode="register"):
    scope = ["--container-group", CG1] if mode == "register" else ["--scope", RG]
    return run(emu, "check", *TARGETS, "--for", mode, *scope, "--output", "json")


def pool_ips(emu):
    for p in emu.get(GW_ID)["properties"]["backendAddressPools"]:
        if p["name"] == "aci-pool":
            return [a["ipAddress"] for a in p["properties"]["backendAddresses"] if "ipAddress" in a]


def public_ips(emu):
    doc = emu.get(PUB_REC_ID)
    return [r["ipv4Address"] for r in doc["properties"]["ARecords"]] if doc else []


def ptr(emu, ip):
    doc = emu.get(f"{REV_ID}/PTR/{ip.rsplit('.', 1)[1]}")
    return [r["ptrdname"] for r in doc["properties"]["ptrRecords"]] if doc else None


# -- roles -------------------------------------------------------------------------------------

def test_roles_prints_exactly_what_the_targets_need(emu):
    _ROLES.clear()
    data = roles(emu)
    role = data["role"]
    assert role["Name"] == "aci-ip-registrar" and role["IsCustom"] is True
    assert set(role["Actions"]) == {a for _, a in REGISTER_NEEDS}
    assert len(role["Actions"]) == len(REGISTER_NEEDS)
    assert (role["NotActions"], role["DataActions"], role["NotDataActions"]) == ([], [], [])
    assert role["AssignableScopes"] == [f"/subscriptions/{SUB}"]
    pairs = {(a["scope"], action) for a in data["assignments"] for action in a["actions"]}
    assert pairs == REGISTER_NEEDS
    scopes = [a["scope"].lower() for a in data["assignments"]]
    assert len(scopes) == len(set(scopes)) == 7               # each scope once
    # Reading the targets for it wrote nothing.
    assert written(emu) == []

    sync_data = roles(emu, "sync", "--role-name", "registrar sync")
    assert sync_data["role"]["Name"] == "registrar sync"
    assert {(a["scope"], x) for a in sync_data["assignments"] for x in a["actions"]} == SYNC_NEEDS

    text = run(emu, "roles", *TARGETS, "--container-group", CG1, "--role-name", "ACI IP Registrar",
               "--assignee", "0000-obj")
    assert text.returncode == 0, text.stderr
    body = text.stdout[text.stdout.index("{"):text.stdout.index("\n}\n") + 2]
    assert json.loads(body)["Actions"] == role["Actions"]
    lines = [ln for ln in text.stdout.splitlines() if ln.startswith("az role assignment create")]
    assert lines == [f"az role assignment create --assignee 0000-obj --role 'ACI IP Registrar' "
                     f"--scope {a['scope']}" for a in data["assignments"]]


def test_roles_fails_in_one_line_when_a_gateway_cannot_be_read(emu):
    emu.set_role_assignments([{"scope": ZONE_ID, "actions": ["*"]}])
    proc = run(emu, "roles", *TARGETS)
    assert proc.returncode == 5 and proc.stdout == ""
    errors = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1 and "Microsoft.Network/applicationGateways/read" in errors[0]
    emu.set_role_assignments(None)
    missing = run(emu, "roles", "-t", POOL_ID.replace("aci-pool", "no-such-pool"))
    assert missing.returncode == 3 and "no-such-pool" in missing.stderr


def test_sync_scope_and_usage_errors(emu):
    assert run(emu, "roles", *TARGETS, "--for", "sync").returncode == 2
    assert run(emu, "check", *TARGETS, "--scope", RG).returncode == 2


# -- the role is enough ------------------------------------------------------------------------

def _watch(emu, ip_from=("--container-group", CG1)):
    return subprocess.Popen(cli_path() + [
        "watch", *TARGETS, *ip_from, "--poll-interval", "0.05", "--interval", "0.3",
        "--deregister-timeout", "20"], env=Cli(emu).env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def _gateway_reads(emu) -> int:
    return len([e for e in emu.log() if e["method"] == "GET"
                and e["path"].lower().endswith("/applicationgateways/agw-prod")])


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_printed_role_lets_register_watch_and_deregister_run(emu):
    apply(emu, roles(emu))
    proc = check(emu)
    assert proc.returncode == 0, proc.stderr
    assert out_json(proc)["status"] == "ok" and out_json(proc)["missing"] == []

    proc = register(emu)
    assert proc.returncode == 0, proc.stderr
    assert A in pool_ips(emu) and ptr(emu, A) == ["app.corp.internal"]
    assert public_ips(emu) == [A]
    emu.restart_container_group(CG1, new_ip=C)                 # moved: old PTR deleted
    proc = register(emu)
    assert proc.returncode == 0, proc.stderr
    assert C in pool_ips(emu) and A not in pool_ips(emu)
    assert ptr(emu, A) is None and ptr(emu, C) == ["app.corp.internal"]
    assert any(e["method"] == "DELETE" for e in written(emu))

    emu.clear_log()
    watcher = _watch(emu)
    try:
        assert _wait(lambda: _gateway_reads(emu) >= 2)        # preflight, first pass
        gw = emu.get(GW_ID)                                    # drift behind its back
        for p in gw["properties"]["backendAddressPools"]:
            if p["name"] == "aci-pool":
                p["properties"]["backendAddresses"] = [{"ipAddress": "10.0.2.200"}]
        emu.put(gw)
        assert _wait(lambda: C in pool_ips(emu)), "watch did not repair the pool"
        seen = _gateway_reads(emu)
        assert _wait(lambda: _gateway_reads(emu) >= seen + 2)  # on duty in the loop again
    finally:
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert C not in pool_ips(emu) and ptr(emu, C) is None      # deregistered on SIGTERM
    assert public_ips(emu) == []

    proc = register(emu)
    assert proc.returncode == 0, proc.stderr
    proc = run(emu, "deregister", *TARGETS, "--container-group", CG1, "--poll-interval", "0.05")
    assert proc.returncode == 0, proc.stderr
    assert C not in pool_ips(emu) and ptr(emu, C) is None
    assert denied(emu) == [], denied(emu)


def test_the_printed_sync_role_lets_sync_run(emu):
    apply(emu, roles(emu, "sync"))
    proc = check(emu, "sync")
    assert proc.returncode == 0, proc.stderr
    proc = sync(emu)
    assert proc.returncode == 9, proc.stderr
    assert {A, B} <= set(pool_ips(emu)) and ptr(emu, B) == ["app.corp.internal"]
    emu.stop_container_group(f"{CG_RG}/containerGroups/cg-2")   # pruned on the next pass
    proc = sync(emu, "--force")
    assert proc.returncode == 9, proc.stderr
    assert B not in pool_ips(emu) and ptr(emu, B) is None
    assert denied(emu) == [], denied(emu)


# -- without any one action: check names it, the run refuses before writing ----------------------

def _missing(proc) -> set:
    return {(m["scope"], m["action"]) for m in out_json(proc)["missing"]}


@pytest.mark.parametrize("scope, action", sorted(REGISTER_NEEDS),
                         ids=lambda v: v.rsplit("/", 2)[-2] + "/" + v.rsplit("/", 1)[-1])
def test_register_without_one_action(emu, scope, action):
    apply(emu, roles(emu), without=action)
    emu.clear_log()
    proc = check(emu)
    assert proc.returncode == 5, proc.stderr
    assert _missing(proc) == {(scope, action)}
    assert f"{action} on {scope}" in proc.stderr

    for args in ((), ("--dry-run",)):
        proc = register(emu, *args)
        assert proc.returncode == 5, proc.stderr
        assert action in proc.stderr
    watcher = run(emu, "watch", *TARGETS, "--container-group", CG1, "--interval", "0.3")
    assert watcher.returncode == 5, watcher.stderr
    assert action in watcher.stderr
    assert written(emu) == []
    assert pool_ips(emu) == ["10.0.2.200"] and ptr(emu, A) is None


@pytest.mark.parametrize("scope, action", sorted(SYNC_NEEDS),
                         ids=lambda v: v.rsplit("/", 2)[-2] + "/" + v.rsplit("/", 1)[-1])
def test_sync_without_one_action(emu, scope, action):
    apply(emu, roles(emu, "sync"), without=action)
    emu.clear_log()
    proc = check(emu, "sync")
    assert proc.returncode == 5, proc.stderr
    assert _missing(proc) == {(scope, action)}
    proc = sync(emu)
    assert proc.returncode == 5, proc.stderr
    assert action in proc.stderr
    assert written(emu) == []


# -- the pre-write check itself ------------------------------------------------------------------

def _permission_reads(emu) -> list:
    return [e for e in emu.log() if "microsoft.authorization/permissions" in e["path"].lower()]


def test_nothing_to_write_asks_for_no_permissions(emu):
    apply(emu, roles(emu))
    assert register(emu).returncode == 0
    assert len(_permission_reads(emu)) == 6                   # one per distinct write scope
    emu.clear_log()
    proc = register(emu)
    assert proc.returncode == 0, proc.stderr
    assert _permission_reads(emu) == [] and written(emu) == []


def test_an_unreadable_permissions_api_warns_once_and_azure_decides(emu):
    emu.add_fault("forbidden", method="GET", path="Microsoft.Authorization/permissions")
    proc = register(emu)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("permissions not checked before writing") == 1
    assert A in pool_ips(emu)
    # check cannot say "allowed" when it could not look: the error's own exit code.
    proc = check(emu)
    assert proc.returncode == 5 and out_json(proc)["status"] == "error"


def test_watch_preflight_can_be_turned_off(emu):
    data = roles(emu)
    apply(emu, data, without="Microsoft.Network/privateDnsZones/A/write")
    watcher = subprocess.Popen(cli_path() + [
        "watch", *TARGETS, "--container-group", CG1, "--poll-interval", "0.05",
        "--interval", "0.3", "--no-preflight"], env=Cli(emu).env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # It runs; every pass refuses before writing and says why.
        assert _wait(lambda: len(_permission_reads(emu)) >= 10)
        assert watcher.poll() is None
    finally:
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=60)
    assert "Microsoft.Network/privateDnsZones/A/write on " + ZONE_ID in err
    assert written(emu) == []


# -- the examples' roles are `roles` output ----------------------------------------------------

DEMO_SUB = "3f2a9c1e-7b4d-4e8a-9c2f-5d6e7f8a9b0c"
DEMO_RG = f"/subscriptions/{DEMO_SUB}/resourceGroups/rg-aci-demo"
DEMO_POOL = f"{DEMO_RG}/providers/Microsoft.Network/applicationGateways/agw-demo" \
            f"/backendAddressPools/aci-app-pool"
DEMO_RECORD = f"{DEMO_RG}/providers/Microsoft.Network/privateDnsZones/corp.internal/A/app"
DEMO_GROUP = f"{DEMO_RG}/providers/Microsoft.ContainerInstance/containerGroups/cg-demo-app-1"
# The commands examples/aci/README.md and examples/sync/README.md show, against the emulator
# seeded with examples/emulator-seed.json.
EXAMPLE_ROLES = {
    "aci/registrar-role.json": ["--role-name", "ACI IP Registrar", "-t", DEMO_POOL,
                                "-t", DEMO_RECORD, "--container-group", DEMO_GROUP],
    "sync/sync-role.json": ["--for", "sync", "--scope", DEMO_RG,
                            "--role-name", "ACI IP Registrar fleet sync",
                            "-t", DEMO_POOL, "-t", DEMO_RECORD],
}


@pytest.fixture(scope="module")
def demo_emu():
    from aci_ip_registrar.emulator import Emulator
    with Emulator(str(EXAMPLES / "emulator-seed.json")) as emulator:
        yield emulator


@pytest.mark.parametrize("name", sorted(EXAMPLE_ROLES))
def test_example_roles_are_what_roles_prints(demo_emu, name):
    proc = run(demo_emu, "roles", "--output", "json", *EXAMPLE_ROLES[name])
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)["role"]
    on_disk = json.loads((EXAMPLES / name).read_text())
    assert on_disk == printed, (
        f"examples/{name} differs from `aci-ip-registrar roles`; regenerate it with: "
        f"aci-ip-registrar roles --output json {' '.join(EXAMPLE_ROLES[name])} | jq .role")
    readme = (EXAMPLES / name).parent / "README.md"
    assert "aci-ip-registrar roles" in readme.read_text()
