"""Azure credential and the one ARM pipeline of a run.

Targets and discovery read and write JSON through `Clients.arm` (pipeline.py): one azure-core
pipeline on one transport (transport.py), so one TLS connection per host for the whole run.
Retries are off there (retry_total=0): azure-core re-sends an identical PUT body on 429/5xx,
which for a whole-gateway PUT reverts a neighbour's change (azure-cli#28615). All retrying
happens in retry.py, around a fresh read-modify-write.

The SDK clients stay available for code that wants models (imported on first use only); they
share the same transport, so they share its connection too.
"""
from __future__ import annotations

import logging
import os
from typing import Dict, Optional, Tuple

from .errors import ConfigError

log = logging.getLogger(__name__)


class Clients:
    def __init__(self, arm_endpoint: str, ca_bundle: Optional[str], poll_interval: float,
                 credential=None):
        self.arm_endpoint = arm_endpoint.rstrip("/")
        self.ca_bundle = ca_bundle
        self.poll_interval = poll_interval
        self._credential = credential
        self._early_token = self._early_connection = None
        self._started = False
        self._arm = None
        self._transport = None
        self._cache: Dict[Tuple[str, str], object] = {}

    def head_start(self) -> None:
        """Send the first token request and open the ARM connection now, in a thread, while the
        caller goes on importing (headstart.py); the credential and the transport take them.
        Once per Clients, and only what nothing has done yet (discovery may have read ARM)."""
        if self._started:
            return
        self._started = True
        from . import headstart
        if self._credential is None:
            self._early_token = headstart.token(self.arm_endpoint)
        if self._transport is None:
            self._early_connection = headstart.connection(self.arm_endpoint,
                                                          self.ca_bundle or True)
        headstart.start([self._early_token, self._early_connection])

    @property
    def credential(self):
        if self._credential is None:
            from .identity import default_credential
            # AZURE_CLIENT_ID selects a user-assigned managed identity (read by the credential).
            try:
                self._credential = default_credential(self._early_token)
            except (ValueError, OSError) as exc:
                # EnvironmentCredential loads AZURE_CLIENT_CERTIFICATE_PATH when constructed.
                path = os.environ.get("AZURE_CLIENT_CERTIFICATE_PATH", "")
                raise ConfigError(f"client certificate {path!r} (AZURE_CLIENT_CERTIFICATE_PATH) "
                                  f"cannot be loaded: {exc}") from None
        return self._credential

    @property
    def transport(self):
        if self._transport is None:
            from .transport import HttpClientTransport
            self._transport = HttpClientTransport(connection_verify=self.ca_bundle or True)
            if self._early_connection is not None:
                self._transport.expect(self.arm_endpoint, self._early_connection)
                self._early_connection = None
        return self._transport

    @property
    def arm(self):
        """The JSON pipeline every target and discovery use."""
        if self._arm is None:
            from .pipeline import Arm
            self._arm = Arm(self.arm_endpoint, self.credential, self.ca_bundle, self.transport)
        return self._arm

    def _kwargs(self) -> dict:
        return dict(
            base_url=self.arm_endpoint,
            credential_scopes=[self.arm_endpoint + "/.default"],
            connection_verify=self.ca_bundle or True,
            retry_total=0,
            polling_interval=self.poll_interval,
            transport=self.transport,
        )

    def _get(self, kind: str, subscription: str, factory):
        key = (kind, subscription.lower())
        if key not in self._cache:
            self._cache[key] = factory(self.credential, subscription, **self._kwargs())
        return self._cache[key]

    def network(self, subscription: str):
        from azure.mgmt.network import NetworkManagementClient
        return self._get("network", subscription, NetworkManagementClient)

    def private_dns(self, subscription: str):
        from azure.mgmt.privatedns import PrivateDnsManagementClient
        return self._get("privatedns", subscription, PrivateDnsManagementClient)

    def container_instance(self, subscription: str):
        from azure.mgmt.containerinstance import ContainerInstanceManagementClient
        return self._get("aci", subscription, ContainerInstanceManagementClient)

    def close(self) -> None:
        closers = list(self._cache.values()) + ([self._arm] if self._arm else []) + \
            ([self._transport] if self._transport else [])
        for client in closers:
            try:
                client.close()
            except Exception:  # closing is best effort before exec
                log.debug("client close failed", exc_info=True)
        self._cache.clear()
        self._arm = self._transport = None
        if self._early_connection is not None:       # never used: no ARM call was made
            self._early_connection.discard()
            self._early_connection = None
        close = getattr(self._credential, "close", None)
        if close:
            try:
                close()
            except Exception:
                log.debug("credential close failed", exc_info=True)
