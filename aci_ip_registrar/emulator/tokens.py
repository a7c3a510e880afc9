"""Managed-identity tokens: the IMDS form ACI containers use, and the App Service form.

IMDS (MicrosoftDocs azure-docs container-instances-managed-identity.md; msal/managed_identity.py
_obtain_token_on_azure_vm): GET {AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token
?api-version=2018-02-01&resource=R with `Metadata: true`; expires_in/expires_on come as strings.

azure-identity 1.27 hands App Service to msal (msal/managed_identity.py
_obtain_token_on_app_service): GET IDENTITY_ENDPOINT?api-version=2019-08-01&resource=R with the
header X-IDENTITY-HEADER, and it needs access_token and expires_on back.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import time
import uuid
from typing import Any, Dict, Optional, Tuple

# Fixed identities so messages and claims are stable across runs.
DEFAULT_TENANT_ID = "72c0e1a4-5b3d-4f6e-9a8b-1c2d3e4f5a6b"
PRINCIPAL_OBJECT_ID = "4a5b6c7d-8e9f-4a1b-8c2d-3e4f5a6b7c8d"
PRINCIPAL_CLIENT_ID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
TOKEN_LIFETIME = 24 * 3600  # managed-identity tokens live about a day


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint(resource: str, tenant_id: str, *, client_id: Optional[str] = None) -> Tuple[str, int]:
    """A JWT with the claims Azure clients read. The signature is random bytes, not verifiable."""
    now = int(time.time())
    exp = now + TOKEN_LIFETIME
    header = {"typ": "JWT", "alg": "RS256", "kid": "aci-ip-registrar-emulator"}
    claims = {
        "aud": resource,
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": now,
        "nbf": now,
        "exp": exp,
        "tid": tenant_id,
        "oid": PRINCIPAL_OBJECT_ID,
        "sub": PRINCIPAL_OBJECT_ID,
        "appid": client_id or PRINCIPAL_CLIENT_ID,
        "idtyp": "app",
        "uti": uuid.uuid4().hex,
        "ver": "1.0",
    }
    segments = [
        _b64url(json.dumps(header, separators=(",", ":")).encode()),
        _b64url(json.dumps(claims, separators=(",", ":")).encode()),
        _b64url(os.urandom(32)),
    ]
    return ".".join(segments), exp


def claims_of(token: str) -> Optional[Dict[str, Any]]:
    """The unverified payload of a JWT, or None if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def token_response(
    query: Dict[str, str], header_value: Optional[str], secret: str, tenant_id: str
) -> Tuple[int, Dict[str, Any], Optional[str]]:
    """(status, body, token) for one token request, with App Service's error shape."""

    def fail(status: int, message: str) -> Tuple[int, Dict[str, Any], None]:
        return status, {"statusCode": status, "message": message, "correlationId": str(uuid.uuid4())}, None

    if header_value is None:
        return fail(400, "Required header X-IDENTITY-HEADER is missing.")
    if not hmac.compare_digest(header_value.encode(), secret.encode()):
        return fail(401, "The X-IDENTITY-HEADER value is not valid.")
    if not query.get("api-version"):
        return fail(400, "Required query parameter api-version is missing.")
    resource = query.get("resource")
    if not resource:
        return fail(400, "Required query parameter resource is missing.")
    client_id = query.get("client_id") or None
    token, expires_on = mint(resource, tenant_id, client_id=client_id)
    body = {
        "access_token": token,
        "expires_on": str(expires_on),  # App Service sends epoch seconds as a string
        "resource": resource,
        "token_type": "Bearer",
        "client_id": client_id or PRINCIPAL_CLIENT_ID,
    }
    return 200, body, token


def imds_token_response(
    query: Dict[str, str], metadata_header: Optional[str], tenant_id: str
) -> Tuple[int, Dict[str, Any], Optional[str]]:
    """(status, body, token) for one IMDS token request, with IMDS's OAuth-style error shape."""

    def fail(status: int, error: str, description: str) -> Tuple[int, Dict[str, Any], None]:
        return status, {"error": error, "error_description": description}, None

    if (metadata_header or "").lower() != "true":
        return fail(400, "invalid_request", "Required metadata header not specified")
    if not query.get("api-version"):
        return fail(400, "invalid_request", "Required query variable 'api-version' is missing")
    resource = query.get("resource")
    if not resource:
        return fail(400, "invalid_request", "Required query variable 'resource' is missing")
    client_id = query.get("client_id") or None
    token, expires_on = mint(resource, tenant_id, client_id=client_id)
    now = int(time.time())
    body = {
        "access_token": token,
        "client_id": client_id or PRINCIPAL_CLIENT_ID,
        "expires_in": str(expires_on - now),  # IMDS sends every number as a string
        "expires_on": str(expires_on),
        "ext_expires_in": str(expires_on - now),
        "not_before": str(now),
        "resource": resource,
        "token_type": "Bearer",
    }
    return 200, body, token
