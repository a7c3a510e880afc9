"""`aci-ip-registrar demo`: the real register flow, the real SDK and credential chain, against
the built-in emulator on loopback; then exec the command like the entrypoint does."""
from __future__ import annotations

import os
import sys

import click

SUB = "5b1f0c2e-7a3d-4e9b-8c6f-1d2e3f4a5b6c"
NET = f"/subscriptions/{SUB}/resourceGroups/rg-demo/providers/Microsoft.Network"
GW_ID = f"{NET}/applicationGateways/agw-demo"
POOL_ID = f"{GW_ID}/backendAddressPools/web-pool"
REC_ID = f"{NET}/privateDnsZones/corp.internal/A/web"
OLD, NEW = "10.0.2.23", "10.0.2.24"
MEMBER = "cg-web-1"


def _seed() -> dict:
    ledger = {"aciipr:web-pool:0": f"cg-web-1={OLD},cg-web-2=10.0.2.31"}
    return {
        "subscriptions": [{"subscriptionId": SUB, "tenantId": "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
                           "displayName": "demo"}],
        "resources": [
            {"id": GW_ID, "location": "westeurope", "tags": {"env": "demo", **ledger},
             "properties": {
                 "sku": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 2},
                 "backendAddressPools": [
                     {"name": "web-pool", "properties": {"backendAddresses": [
                         {"ipAddress": OLD}, {"ipAddress": "10.0.2.31"},
                         {"ipAddress": "10.0.2.200"}, {"fqdn": "legacy.corp.internal"}]}}],
                 "httpListeners": [], "requestRoutingRules": []}},
            {"id": f"{NET}/privateDnsZones/corp.internal", "location": "global"},
            {"id": REC_ID, "properties": {"ttl": 30, "metadata": {"aciipr_cg_web_1": OLD},
                                          "aRecords": [{"ipv4Address": OLD}]}},
        ],
    }


def _show(emu, title: str) -> None:
    gw = emu.get(GW_ID)
    pool = gw["properties"]["backendAddressPools"][0]["properties"]["backendAddresses"]
    entries = [e.get("ipAddress") or f"fqdn:{e.get('fqdn')}" for e in pool]
    rec = emu.get(REC_ID)["properties"]["aRecords"]
    click.echo(f"{title}\n  pool web-pool: {', '.join(entries)}\n"
               f"  web.corp.internal A: {', '.join(r['ipv4Address'] for r in rec)}")


def _counts(emu) -> str:
    c = emu.counts()
    return f"reads={c['reads']} writes={c['writes']} polls={c['polls']} tokens={c['tokens']}"


@click.command("demo", context_settings={"allow_interspersed_args": False})
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def demo_command(command):
    """Run a registration against the built-in emulator, then exec COMMAND."""
    from . import logs
    from .cli import run_register
    from .config import Settings, parse_targets
    from .emulator import Emulator
    from .handoff import exec_command

    logs.setup(0, "text")
    saved = dict(os.environ)
    with Emulator(_seed(), op_duration=0.5, retry_after=0.25) as emu:
        # The real credential chain: DefaultAzureCredential finds the emulator's
        # managed-identity endpoint in these variables, as it would in App Service.
        os.environ.update(emu.env())
        settings = Settings(targets=parse_targets([POOL_ID, REC_ID]), member=MEMBER, ip=NEW,
                            arm_endpoint=emu.base_url, ca_bundle=emu.ca_path,
                            poll_interval=0.25, timeout=60, command=list(command))
        click.echo(f"emulated Azure Resource Manager at {emu.base_url} (loopback only)\n"
                   f"container group {MEMBER} restarted: its IP moved {OLD} -> {NEW}\n")
        _show(emu, "before:")
        click.echo("\n$ aci-ip-registrar register -t <pool id> -t <dns record id> "
                   f"--member {MEMBER}")
        run_register(settings, "text")
        _show(emu, "\nafter:")
        click.echo(f"  Azure requests: {_counts(emu)}")
        emu.clear_log()
        click.echo("\nsame run again (already registered):")
        run_register(settings, "text")
        click.echo(f"  Azure requests: {_counts(emu)}  (the no-op path is reads only)\n")
    os.environ.clear()
    os.environ.update(saved)
    argv = list(command) or [sys.executable, "-c",
                             "print('app started: registration done, exec handed over the PID')"]
    exec_command(argv)
