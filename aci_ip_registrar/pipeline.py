"""ARM resources as JSON through one azure-core pipeline.

The management SDKs cost about half the import floor (azure-mgmt-network 33 loads every model
when any part of it is imported) and a no-op boot only reads. Reads and writes go as plain JSON
through the SDK's own transport and policies: the same user agent shape, the same CA settings,
retries off (retry.py re-reads and re-plans instead; azure-cli#28615), one transport
(transport.py: http.client, so no requests or urllib3 on a no-op boot), so one TLS connection per
host for the whole run. The long-running gateway PUT is polled by
azure-mgmt-core's ARMPolling, imported only on the write path.

Errors are raised as the SDK raises them (azure-core exceptions carrying status, the ARM error
code and the response headers), so azure_errors.translate sees no difference.
"""
from __future__ import annotations

import platform
import sys
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

from azure.core import PipelineClient
from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError,
                                   ResourceExistsError, ResourceNotFoundError,
                                   ResourceNotModifiedError, map_error)
from azure.core.pipeline import policies
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest

from . import __version__
from .transport import HttpClientTransport

# What the generated SDK clients map before falling back to HttpResponseError (wire notes §9).
ERROR_MAP = {401: ClientAuthenticationError, 404: ResourceNotFoundError,
             409: ResourceExistsError, 304: ResourceNotModifiedError}


def _user_agent() -> str:
    # The SDK's shape, without platform.platform(): on Linux it scans the interpreter binary
    # for the glibc version, 10-30 ms of a no-op boot.
    v = sys.version_info
    return (f"azsdk-python-aci-ip-registrar/{__version__} Python/{v.major}.{v.minor}.{v.micro} "
            f"({platform.system()}-{platform.release()}-{platform.machine()})")


def quote_etag(etag: str) -> str:
    """If-Match as azure-mgmt-privatedns 2.x sends it: quoted unless weak, '*' or quoted."""
    if etag == "*" or etag.startswith(('W/"', '"')):
        return etag
    return f'"{etag}"'


def raise_for(response, error_map: Optional[Dict[int, type]] = None) -> None:
    """Raise what the generated SDK would for this response."""
    map_error(response.status_code, response, {**ERROR_MAP, **(error_map or {})})
    raise HttpResponseError(response=response)


class Arm:
    """GET/PUT of ARM resources as JSON; one pipeline, one transport, for the whole run."""

    def __init__(self, endpoint: str, credential, ca_bundle: Optional[str],
                 transport: Optional[HttpTransport] = None):
        self.endpoint = endpoint.rstrip("/")
        self.transport = transport or HttpClientTransport(connection_verify=ca_bundle or True)
        auth = policies.BearerTokenCredentialPolicy(credential, self.endpoint + "/.default")
        self.client = PipelineClient(self.endpoint, transport=self.transport, policies=[
            policies.RequestIdPolicy(),
            policies.HeadersPolicy({"Accept": "application/json"}),
            policies.UserAgentPolicy(_user_agent()),
            policies.ProxyPolicy(),
            policies.RetryPolicy(retry_total=0),
            auth,
            policies.HttpLoggingPolicy(),   # -vvv: redacted request and response lines
        ])

    def url(self, resource_id: str, api_version: str) -> str:
        # As the SDK quotes path segments; record names ('@', '*') go unquoted (skip_quote).
        return f"{self.endpoint}{quote(resource_id, safe='/@*')}?api-version={api_version}"

    def send(self, method: str, resource_id: str, api_version: str, *, body: Any = None,
             headers: Optional[Dict[str, str]] = None, **kwargs):
        request = HttpRequest(method, self.url(resource_id, api_version), headers=headers,
                              json=body)
        return self.client.send_request(request, _return_pipeline_response=True, **kwargs)

    def get(self, resource_id: str, api_version: str, **kwargs) -> Dict[str, Any]:
        response = self.send("GET", resource_id, api_version, **kwargs).http_response
        if response.status_code != 200:
            raise_for(response)
        return response.json()

    def put(self, resource_id: str, api_version: str, body: Dict[str, Any],
            headers: Dict[str, str], error_map: Optional[Dict[int, type]] = None,
            **kwargs) -> Tuple[Any, Dict[str, Any]]:
        """(pipeline response, document) of a PUT answered 200 or 201."""
        pipeline_response = self.send("PUT", resource_id, api_version, body=body,
                                      headers=headers, **kwargs)
        response = pipeline_response.http_response
        if response.status_code not in (200, 201):
            raise_for(response, error_map)
        return pipeline_response, response.json()

    def list(self, collection_id: str, api_version: str, **kwargs) -> List[Dict[str, Any]]:
        """Every item of a paged ARM list, following nextLink on this endpoint only (the
        bearer token goes with each page)."""
        url, items = self.url(collection_id, api_version), []
        while url:
            if not url.startswith(self.endpoint + "/"):
                raise HttpResponseError(message=f"nextLink {url[:120]!r} leaves {self.endpoint}")
            response = self.client.send_request(HttpRequest("GET", url),
                                                _return_pipeline_response=True,
                                                **kwargs).http_response
            if response.status_code != 200:
                raise_for(response)
            page = response.json()
            items += page.get("value") or []
            url = page.get("nextLink")
        return items

    def delete(self, resource_id: str, api_version: str, headers: Dict[str, str],
               error_map: Optional[Dict[int, type]] = None, **kwargs) -> int:
        """A synchronous DELETE answered 200, or 204 when there was nothing to delete."""
        response = self.send("DELETE", resource_id, api_version, headers=headers,
                             **kwargs).http_response
        if response.status_code not in (200, 204):
            raise_for(response, error_map)
        return response.status_code

    def begin_put(self, resource_id: str, api_version: str, body: Dict[str, Any],
                  headers: Dict[str, str], poll_interval: float, **kwargs):
        """A long-running PUT, polled as the network SDK polls it (ARMPolling, no lro_options:
        a final GET of the resource)."""
        from azure.core.polling import LROPoller
        from azure.mgmt.core.polling.arm_polling import ARMPolling
        initial, _ = self.put(resource_id, api_version, body, headers, **kwargs)
        polling = ARMPolling(poll_interval, **kwargs)
        return LROPoller(self.client, initial, _json_of, polling)

    def close(self) -> None:
        self.client.close()


def _json_of(pipeline_response) -> Dict[str, Any]:
    return pipeline_response.http_response.json()


__all__ = ["Arm", "quote_etag", "raise_for"]
