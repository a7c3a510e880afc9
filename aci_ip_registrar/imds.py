"""IMDS on the wire, standard library only, so that a boot can send the first token request
before azure-core is imported (headstart.py). The credential's logic (cache, retries, refusals,
fallback) is in identity.py."""
from __future__ import annotations

import http.client
import os
from typing import Dict, Optional, Tuple
from urllib.parse import urlencode, urlsplit

IMDS_AUTHORITY = "http://169.254.169.254"
IMDS_PATH = "/metadata/identity/oauth2/token"
API_VERSION = "2018-02-01"
TIMEOUT = 10.0                # seconds for each socket operation once connected
PROBE_TIMEOUT = 1.0           # connect timeout for the default link-local authority
# Any of these selects another credential (or another managed-identity form) in
# DefaultAzureCredential's chain: then the chain decides, exactly as before.
OTHER_CREDENTIALS = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME",
                     "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "MSI_ENDPOINT",
                     "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "AZURE_TOKEN_CREDENTIALS")

Answer = Tuple[int, Dict[str, str], bytes]      # status, lower-cased headers, body


def uses_other_credential(environ=None) -> bool:
    environ = os.environ if environ is None else environ
    return any(environ.get(name) for name in OTHER_CREDENTIALS)


def from_environment(environ=None) -> Tuple[Optional[str], Optional[str]]:
    """(authority, client_id) as the environment sets them (None: the defaults)."""
    environ = os.environ if environ is None else environ
    return (environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or None,
            environ.get("AZURE_CLIENT_ID") or None)


def endpoint(authority: Optional[str], timeout: float = TIMEOUT,
             probe_timeout: float = PROBE_TIMEOUT) -> Tuple[str, float]:
    """(the authority to ask, its connect timeout). An authority given explicitly is known to be
    there (azure-identity skips its probe then too); the default link-local one is tried with
    the probe's short timeout."""
    return ((authority or IMDS_AUTHORITY).rstrip("/"),
            timeout if authority is not None else probe_timeout)


def target(resource: str, client_id: Optional[str]) -> str:
    query = {"api-version": API_VERSION, "resource": resource}
    if client_id:
        query["client_id"] = client_id
    return IMDS_PATH + "?" + urlencode(query)


def get(authority: str, path: str, connect_timeout: float, timeout: float) -> Answer:
    """One token request on its own connection. Raises OSError or HTTPException."""
    parts = urlsplit(authority)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname, parts.port, timeout=connect_timeout)
    try:
        conn.connect()
        conn.sock.settimeout(timeout)
        conn.request("GET", parts.path.rstrip("/") + path,
                     headers={"Metadata": "true", "Accept": "application/json"})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()
