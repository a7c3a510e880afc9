"""IMDS on the wire, standard library only, and the boot's head start on it.

A no-op boot spends most of its time importing azure-core; its one slow network step in Azure is
the managed-identity token (IMDS in ACI can take tens of milliseconds, more on a cold start). So a
boot starts that request in a thread before the imports (`HeadStart`), and the credential
(identity.py) takes its answer as its own first attempt: the same request, the same retries
and errors afterwards, only sent earlier. Importing nothing beyond the standard library here is
the point; the credential's logic (cache, retries, refusals, fallback) stays in identity.py.
"""
from __future__ import annotations

import http.client
import os
import threading
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


class HeadStart:
    """The first token request for `resource`, sent now in a daemon thread. `answer()` waits
    for it and returns it, or raises what the request raised, once; None when it was for
    another request than the caller's."""

    def __init__(self, authority: str, path: str, connect_timeout: float,
                 timeout: float = TIMEOUT):
        self.authority, self.path = authority, path
        self._answer: Optional[Answer] = None
        self._error: Optional[BaseException] = None
        self._taken = False
        self._thread = threading.Thread(target=self._run, name="imds-head-start", daemon=True,
                                        args=(connect_timeout, timeout))
        self._thread.start()

    @classmethod
    def for_environment(cls, resource: str) -> Optional["HeadStart"]:
        """The request ImdsCredential.from_environment() would send first, or None when the
        environment selects another credential."""
        if uses_other_credential():
            return None
        authority, client_id = from_environment()
        return cls((authority or IMDS_AUTHORITY).rstrip("/"), target(resource, client_id),
                   TIMEOUT if authority else PROBE_TIMEOUT)

    def _run(self, connect_timeout: float, timeout: float) -> None:
        try:
            self._answer = get(self.authority, self.path, connect_timeout, timeout)
        except BaseException as exc:      # handed to the credential, raised there
            self._error = exc

    def answer(self, authority: str, path: str) -> Optional[Answer]:
        if self._taken or (authority, path) != (self.authority, self.path):
            return None
        self._taken = True
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._answer
