"""A boot's network waits, started while Python imports azure-core.

A no-op boot spends most of its time importing; its network part is the managed-identity token
(IMDS in ACI can take tens of milliseconds, more on a cold start) and the TLS handshake with ARM
(DNS, TCP and TLS: a few round trips). runner.register starts both in one thread as soon as the IP
and the member name have passed their checks (a bad one sends nothing), before azure-core is
imported; the credential takes the token answer as its first attempt (identity.py) and the
transport takes the connection as the first one it opens to ARM (transport.py). Each is exactly the
request or connection that would have been made later, so retries, errors and counts stay as they
were: a failure is handed over and raised where it would have happened. Standard library only.
"""
from __future__ import annotations

import http.client
import threading
from typing import Callable, List, Optional
from urllib.parse import urlsplit

from . import imds, tls

CONNECT_TIMEOUT = 300       # azure-core's default connection_timeout, the transport's too


class Early:
    """One step run in the head-start thread; `result()` waits for it and returns its value or
    raises what it raised."""

    def __init__(self, step: Callable[[], object]):
        self._step = step
        self._done = threading.Event()
        self._value: object = None
        self._error: Optional[BaseException] = None
        self._discarded = False

    def run(self) -> None:
        try:
            self._value = self._step()
        except BaseException as exc:      # handed over, raised where the step was needed
            self._error = exc
        self._done.set()
        if self._discarded:
            self._close()

    def result(self):
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value

    def discard(self) -> None:
        """Not needed after all: close what it opened (now, or when it finishes)."""
        self._discarded = True
        if self._done.is_set():
            self._close()

    def _close(self) -> None:
        close = getattr(self._value, "close", None)
        if close is not None:
            close()


class TokenStart(Early):
    """The credential's first token request (ImdsCredential._get)."""

    def __init__(self, authority: str, path: str, connect_timeout: float):
        self.authority, self.path = authority, path
        self._taken = False
        super().__init__(lambda: imds.get(authority, path, connect_timeout, imds.TIMEOUT))

    def answer(self, authority: str, path: str) -> Optional[imds.Answer]:
        """The answer, once, if it is the request the caller was about to send; else None."""
        if self._taken or (authority, path) != (self.authority, self.path):
            return None
        self._taken = True
        return self.result()


def token(resource: str) -> Optional[TokenStart]:
    """What ImdsCredential.from_environment() would send first; None when the environment
    selects another credential."""
    if imds.uses_other_credential():
        return None
    authority, client_id = imds.from_environment()
    authority, connect_timeout = imds.endpoint(authority)
    return TokenStart(authority, imds.target(resource, client_id), connect_timeout)


def connection(url: str, verify) -> Optional[Early]:
    """The transport's first connection to `url`'s host, with its TLS settings; None when it
    would go through a proxy (requests' path) or is not HTTPS."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or tls.env_proxy("https"):
        return None

    def connect() -> http.client.HTTPConnection:
        conn = tls.connection("https", parts.hostname, parts.port, CONNECT_TIMEOUT,
                              tls.context(*tls.key(verify, None, True)))
        conn.connect()
        return conn
    return Early(connect)


def start(steps: List[Optional[Early]]) -> None:
    """Run the steps one after the other in a daemon thread (the token first: it is the one
    the first read waits for)."""
    steps = [s for s in steps if s is not None]
    if steps:
        threading.Thread(target=lambda: [s.run() for s in steps], name="head-start",
                         daemon=True).start()
