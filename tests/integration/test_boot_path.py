"""Issue 14: what a boot costs. The real CLI as a process, managed identity in the IMDS form (as
in an ACI container), the emulator over HTTPS.

Most tests use a small loopback IMDS written in this file (it records each request's query and
headers); one uses the emulator's own IMDS route, which the `cli` fixture's environment points at.
"""
from __future__ import annotations

import json
import time

import pytest

from fake_imds import FakeImds
from seeds import GW_ID, POOL_ID, REC_ID, strip_volatile

A = "10.0.2.4"
# Modules a no-op boot must not load: the network SDK (half the import floor), the rest of
# azure-identity (msal, cryptography.x509), the retry machinery (tenacity pulls asyncio) and
# requests with urllib3 (the transport is http.client's; a quarter of the remaining imports).
NOT_ON_NOOP = ("azure.mgmt.network", "azure.mgmt.privatedns", "azure.mgmt.containerinstance",
               "azure.identity", "msal", "tenacity", "asyncio", "requests", "urllib3",
               "charset_normalizer", "azure.core.pipeline.transport._requests_basic")


@pytest.fixture
def imds():
    server = FakeImds()
    yield server
    server.close()


def _env(cli, imds):
    env = cli.env()
    for key in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        env.pop(key, None)
    env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = imds.authority
    return env


def _imported(stderr: str) -> set:
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines()
            if line.startswith("import time:")}


def _register(cli, env, *args):
    return cli.run("register", "--poll-interval", "0.05", "--output", "json", *args, env=env)


def test_noop_boot_imports_no_management_sdk(cli, emulator, imds):
    env = _env(cli, imds)
    args = ("-t", POOL_ID, "-t", REC_ID, "--member", "cg-app-1", "--ip", A)
    first = _register(cli, env, *args)
    assert first.returncode == 0, first.stderr
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    emulator.clear_log()
    noop = _register(cli, env, *args, "--", "true")
    assert noop.returncode == 0, noop.stderr
    imported = _imported(noop.stderr)
    assert {"azure.core", "aci_ip_registrar.pipeline"} <= imported  # the parse works
    assert not imported & set(NOT_ON_NOOP), sorted(imported & set(NOT_ON_NOOP))
    assert [e["kind"] for e in emulator.log()] == ["read", "read"]


def test_imds_gets_one_request_per_run_and_no_probe(cli, emulator, imds):
    env = _env(cli, imds)
    env["AZURE_CLIENT_ID"] = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
    proc = _register(cli, env, "-t", POOL_ID, "-t", REC_ID, "--member", "cg-app-1", "--ip", A)
    assert proc.returncode == 0, proc.stderr
    [request] = imds.requests
    path, query, metadata = request["path"], request["query"], request["metadata"]
    assert path == "/metadata/identity/oauth2/token" and metadata == "true"
    assert query == {"api-version": "2018-02-01", "resource": emulator.base_url,
                     "client_id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"}
    assert [e["kind"] for e in emulator.log()].count("token") == 0   # App Service form unused


def test_emulator_imds_route_serves_the_boot_with_one_token(cli, emulator):
    env = cli.env()
    assert env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] == emulator.imds_authority
    assert "IDENTITY_ENDPOINT" not in env
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    proc = _register(cli, env, "-t", POOL_ID, "-t", REC_ID, "--member", "cg-app-1", "--ip", A)
    assert proc.returncode == 0, proc.stderr
    tokens = [e for e in emulator.log() if e["kind"] == "token"]
    assert [e["path"] for e in tokens] == ["/metadata/identity/oauth2/token"], tokens
    assert tokens[0]["status"] == 200
    assert not {"azure.identity", "msal"} & _imported(proc.stderr)


def test_app_service_form_still_goes_through_default_azure_credential(cli, emulator):
    emulator.set(identity_form="appservice")
    env = cli.env()
    assert env["IDENTITY_ENDPOINT"] and env["IDENTITY_HEADER"]
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    proc = _register(cli, env, "-t", POOL_ID, "--member", "cg-app-1", "--ip", A)
    assert proc.returncode == 0, proc.stderr
    tokens = [e for e in emulator.log() if e["kind"] == "token"]
    assert [e["path"] for e in tokens] == ["/msi/token"], tokens
    assert "azure.identity" in _imported(proc.stderr)      # the whole chain decides here


def test_change_boot_keeps_the_gateway_byte_identical_outside_pool_and_ledger(cli, emulator,
                                                                              imds):
    env = _env(cli, imds)
    before = emulator.get(GW_ID)
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    proc = _register(cli, env, "-t", POOL_ID, "--member", "cg-app-1", "--ip", A)
    assert proc.returncode == 0, proc.stderr
    after = emulator.get(GW_ID)
    assert strip_volatile(before) == strip_volatile(after)
    assert A in [a.get("ipAddress") for a in next(
        p for p in after["properties"]["backendAddressPools"]
        if p["name"] == "aci-pool")["properties"]["backendAddresses"]]
    # Even a write needs only azure-mgmt-core's poller, not the network SDK's models.
    assert "azure.mgmt.network" not in _imported(proc.stderr)
    puts = [e for e in emulator.log() if e["kind"] == "write"]
    assert len(puts) == 1 and puts[0]["if_match"] == before["etag"]
    assert puts[0]["user_agent"].startswith("azsdk-python-aci-ip-registrar/")


def test_without_a_command_the_result_is_complete_and_the_code_kept(cli, emulator, imds):
    env = _env(cli, imds)
    ok = _register(cli, env, "-t", POOL_ID, "--member", "cg-app-1", "--ip", A)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.strip().splitlines()[-1])["ip"] == A
    emulator.add_fault("forbidden", method="GET", path="applicationGateways")
    bad = _register(cli, env, "-t", POOL_ID, "--member", "cg-app-1", "--ip", A)
    assert bad.returncode == 5, bad.stderr
    assert "permission denied" in bad.stderr
    assert json.loads(bad.stdout.strip().splitlines()[-1])


def test_one_tls_connection_for_reads_and_writes(emulator):
    """Every request of a run, the gateway's operation polls included, reuses one connection,
    and none of them goes through requests."""
    from aci_ip_registrar.clients import Clients
    from aci_ip_registrar.config import parse_targets
    from aci_ip_registrar.retry import Budget
    from aci_ip_registrar.runner import Report, run_once

    class Token:
        def get_token(self, *scopes, **kwargs):
            from azure.core.credentials import AccessToken
            return AccessToken("opaque", int(time.time()) + 3600)

    clients = Clients(emulator.base_url, emulator.ca_path, 0.05, credential=Token())
    try:
        report = Report("cg-app-1", A, False)
        run_once(parse_targets([POOL_ID, REC_ID]), {"cg-app-1": A}, clients, Budget(60), report)
        assert [o.status for o in report.outcomes] == ["written", "written"]
        transport = clients.transport
        assert transport.connections_opened == 1, transport.connections_opened
        assert transport.requests_sent >= 5    # 2 reads, 2 writes, polls, a read-back
        assert transport.fallback_requests == 0
    finally:
        clients.close()


# Holds the import of azure.core until the flag file exists (IMDS has the token request), 10 s at
# most. It waits in the loader, not in find_spec: find_spec runs under the global import lock,
# which would hold the head start's own imports too.
IMPORT_GATE = '''
import os, sys, time
from importlib.machinery import PathFinder


class _Held:
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        flag, deadline = os.environ["GATE_FLAG"], time.monotonic() + 10
        while not os.path.exists(flag) and time.monotonic() < deadline:
            time.sleep(0.005)
        if not os.path.exists(flag):
            sys.stderr.write("gate: azure.core imported before any token request\\n")
        self.loader.exec_module(module)


class _Gate:
    def find_spec(self, name, path=None, target=None):
        if name != "azure.core":
            return None
        spec = PathFinder.find_spec(name, path, target)
        spec.loader = _Held(spec.loader)
        return spec


sys.meta_path.insert(0, _Gate())
'''


def test_token_request_leaves_before_azure_core_is_imported(cli, emulator, imds, tmp_path):
    """The head start (imds.py): a boot asks IMDS before importing azure-core, so the token's
    latency (tens of ms in ACI) hides behind the imports. Here azure-core's import is held until
    IMDS has the request; a boot that asked only afterwards would wait out the gate and say so."""
    env = _env(cli, imds)
    args = ("-t", POOL_ID, "--member", "cg-app-1", "--ip", A)
    assert _register(cli, env, *args).returncode == 0
    (tmp_path / "sitecustomize.py").write_text(IMPORT_GATE)
    flag = tmp_path / "asked"
    imds.on_request = flag.touch
    imds.requests.clear()
    env.update(PYTHONPATH=str(tmp_path), GATE_FLAG=str(flag))
    emulator.clear_log()
    res = _register(cli, env, *args, "--", "true")
    assert res.returncode == 0, res.stderr
    assert "gate:" not in res.stderr, res.stderr
    assert len(imds.requests) == 1                       # the head start was the one request
    assert [e["method"] for e in emulator.log()] == ["GET"]


# Reports the collector's youngest threshold when azure.core (the bulk of a boot's imports) loads.
GC_PROBE = '''
import gc, sys


class _Probe:
    def find_spec(self, name, path=None, target=None):
        if name == "azure.core":
            sys.stderr.write(f"gc-threshold-at-azure-core: {gc.get_threshold()[0]}\\n")
        return None


sys.meta_path.insert(0, _Probe())
'''


def test_the_installed_command_imports_with_the_young_generation_held_back(cli, emulator, imds,
                                                                           tmp_path):
    """boot.py: the console script (as the image runs it) holds collections back while it
    imports; the usual 700 would collect about a hundred times during a boot."""
    from aci_ip_registrar.boot import BOOT_THRESHOLD
    env = _env(cli, imds)
    (tmp_path / "sitecustomize.py").write_text(GC_PROBE)
    env["PYTHONPATH"] = str(tmp_path)
    res = _register(cli, env, "-t", POOL_ID, "--member", "cg-app-1", "--ip", A, "--", "true")
    assert res.returncode == 0, res.stderr
    assert f"gc-threshold-at-azure-core: {BOOT_THRESHOLD}" in res.stderr, res.stderr
