"""The emulator as a real process: exports on stdout, then a fresh client process after `eval`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading

from .conftest import GW, GW_ID, REPO, RG, SEED

CLIENT = textwrap.dedent(
    """
    import json, os
    from azure.identity import DefaultAzureCredential
    from azure.mgmt.network import NetworkManagementClient

    # Only the exported environment: endpoint, subscription, REQUESTS_CA_BUNDLE, IDENTITY_*.
    client = NetworkManagementClient(DefaultAzureCredential(), os.environ["AZURE_SUBSCRIPTION_ID"],
                                     base_url=os.environ["ACI_IP_REGISTRAR_ARM_ENDPOINT"])
    gw = client.application_gateways.get("%s", "%s")
    print(json.dumps({"id": gw.id, "pools": {p.name: [a.ip_address or a.fqdn for a in p.backend_addresses]
                                              for p in gw.backend_address_pools}}))
    """
) % (RG, GW)

_CREDENTIAL_VARS = ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE",
                    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT")


def _read_stdout(proc: subprocess.Popen, timeout: float) -> str:
    """Everything the emulator prints on stdout; it closes stdout after the export lines."""
    out = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert not reader.is_alive(), "the emulator did not close stdout after the export lines"
    return out[0]


def test_python_m_emulator_exports_then_a_fresh_process_reads_the_gateway(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in _CREDENTIAL_VARS}
    stderr_path = tmp_path / "emulator.stderr"
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aci_ip_registrar.emulator", "--seed", str(SEED)],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, cwd=REPO,
        )
        try:
            exports = _read_stdout(proc, timeout=20)
            lines = exports.splitlines()
            assert lines and all(line.startswith("export ") for line in lines)
            names = [line.split(" ", 1)[1].split("=", 1)[0] for line in lines]
            assert names == ["ACI_IP_REGISTRAR_ARM_ENDPOINT", "ACI_IP_REGISTRAR_CA_BUNDLE", "REQUESTS_CA_BUNDLE",
                             "AZURE_POD_IDENTITY_AUTHORITY_HOST", "AZURE_SUBSCRIPTION_ID",
                             "ACI_IP_REGISTRAR_EMULATOR_PID"]  # the IMDS form, as in an ACI container
            script = tmp_path / "client.py"
            script.write_text(CLIENT)
            # `eval` the exports in a shell, then start a fresh Python that knows nothing else.
            shell = f'eval "$EMULATOR_EXPORTS"; exec {sys.executable} {script}'
            client = subprocess.run(["bash", "-c", shell], env=dict(env, EMULATOR_EXPORTS=exports),
                                    capture_output=True, text=True, timeout=60)
            assert client.returncode == 0, client.stderr
            gateway = json.loads(client.stdout)
            assert gateway["id"] == GW_ID
            assert gateway["pools"]["aci-app-pool"] == ["10.0.2.4", "10.0.2.250", "legacy-app.corp.internal"]
            log = subprocess.run(
                ["bash", "-c", f'eval "$EMULATOR_EXPORTS"; exec {sys.executable} -c '
                 '"from aci_ip_registrar.emulator.commands import emulator_log_command as c; c()"'],
                env=dict(env, EMULATOR_EXPORTS=exports), capture_output=True, text=True, timeout=60)
            assert log.returncode == 0, log.stderr
            assert log.stdout.splitlines()[-1] == "reads=1 writes=0 polls=0 tokens=1 other=0 faults=0 total=2"
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=10)
            proc.stdout.close()
    assert code == 0
    err = stderr_path.read_text()
    assert all(line.startswith("[aci-ip-registrar] ") for line in err.splitlines()), err
    assert "emulator listening on https://127.0.0.1:" in err and "emulator stopped" in err
    assert f"emulator GET {GW_ID} status=200 kind=read" in err
    assert "access_token" not in err and "eyJ" not in err  # no token in the logs
