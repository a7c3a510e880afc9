"""Fixtures for the emulator's own tests: a seeded emulator, a real credential, real SDK clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import requests

from aci_ip_registrar.emulator import Emulator

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "examples" / "emulator-seed.json"
# Copied from ../shared/azure-specs (MIT; LICENSE and source paths in that folder's README.md).
SPECS = REPO / "tests" / "data" / "azure-specs"

SUB = "3f2a9c1e-7b4d-4e8a-9c2f-5d6e7f8a9b0c"
TENANT = "8d3e5f7a-1b2c-4d6e-9f8a-0b1c2d3e4f5a"
RG = "rg-aci-demo"
NET = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"
GW = "agw-demo"
GW_ID = f"{NET}/applicationGateways/{GW}"
ZONE = "corp.internal"
REVERSE_ZONE = "2.0.10.in-addr.arpa"
ACI_PREFIX = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerInstance/containerGroups"
CG1, CG2 = f"{ACI_PREFIX}/cg-demo-app-1", f"{ACI_PREFIX}/cg-demo-app-2"

# Fast knobs: the SDK honours sub-second Retry-After, so LROs and throttling cost milliseconds.
FAST = dict(op_duration=0.0, aci_op_duration=0.0, retry_after=0.02)

_FOREIGN_CREDENTIAL_VARS = (
    "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE", "AZURE_USERNAME", "AZURE_PASSWORD", "MSI_ENDPOINT", "MSI_SECRET",
    "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "AZURE_TOKEN_CREDENTIALS",
)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(SEED, **FAST) as emulator:
        yield emulator


@pytest.fixture
def identity_env(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Dict[str, str]:
    for name in _FOREIGN_CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", emu.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", emu.identity_header)
    return emu.env()


@pytest.fixture
def credential(identity_env: Dict[str, str]) -> Any:
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def client_kwargs(emu: Emulator, **extra: Any) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = dict(base_url=emu.base_url, connection_verify=emu.ca_path, polling_interval=0.01)
    kwargs.update(extra)
    return kwargs


@pytest.fixture
def network(emu: Emulator, credential: Any) -> Any:
    from azure.mgmt.network import NetworkManagementClient

    return NetworkManagementClient(credential, SUB, **client_kwargs(emu))


@pytest.fixture
def privatedns(emu: Emulator, credential: Any) -> Any:
    from azure.mgmt.privatedns import PrivateDnsManagementClient

    return PrivateDnsManagementClient(credential, SUB, **client_kwargs(emu))


@pytest.fixture
def publicdns(emu: Emulator, credential: Any) -> Any:
    from azure.mgmt.dns import DnsManagementClient

    return DnsManagementClient(credential, SUB, **client_kwargs(emu))


@pytest.fixture
def aci(emu: Emulator, credential: Any) -> Any:
    from azure.mgmt.containerinstance import ContainerInstanceManagementClient

    return ContainerInstanceManagementClient(credential, SUB, **client_kwargs(emu))


class Raw:
    """Plain HTTPS requests to the emulator, for wire-level assertions."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.verify = emu.ca_path
        self.session.headers["Authorization"] = "Bearer emulator-test-token"

    def __call__(self, method: str, path: str, body: Any = None, *, api_version: str = "2026-03-01",
                 headers: Dict[str, str] = None, raw: bytes = None, params: Dict[str, str] = None) -> requests.Response:
        query = dict(params or {})
        if api_version is not None:
            query["api-version"] = api_version
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        url = path if path.startswith("https://") else self.emu.base_url + path
        # verify per request: a REQUESTS_CA_BUNDLE in the environment would override session.verify.
        return self.session.request(method, url, params=query, data=data, headers=hdrs, timeout=10,
                                    verify=self.emu.ca_path)


@pytest.fixture
def raw(emu: Emulator) -> Iterator[Raw]:
    client = Raw(emu)
    yield client
    client.session.close()


def load_spec(relpath: str) -> Dict[str, Any]:
    return json.loads((SPECS / relpath).read_text(encoding="utf-8"))
