"""Azure SDK exceptions become the project's errors here, and only here.

Retryable (re-read and re-plan): 412, 409 AnotherOperationInProgress, 429 of any code, an
operation that ended Canceled/superseded or busy, 5xx, connection errors. Everything else fails
fast with a message a person can act on.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Optional

from .errors import (ConfigError, CredentialUnavailable, PermissionDenied, RegistrarError,
                     RegistrationFailed,
                     Retryable)

SUBNET_JOIN = "Microsoft.Network/virtualNetworks/subnets/join/action"
# Codes inside a Failed/Canceled operation status that a fresh read-modify-write can cure.
_TRANSIENT_OP_CODES = {
    "canceled", "canceledandsupersededduetoanotheroperation", "anotheroperationinprogress",
    "retryableerrorduetoanotheroperation", "retryableerror", "internalservererror",
    "gatewayerror", "serviceunavailable", "toomanyrequests", "operationpreempted",
}
_PERMISSION_OP_CODES = {"applicationgatewayinsufficientpermissiononsubnet",
                        "linkedauthorizationfailed", "authorizationfailed"}
_TLS_HINT = re.compile(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSLError", re.I)


def _codes(exc) -> list:
    error = getattr(exc, "error", None)
    out = []
    while error is not None:
        if getattr(error, "code", None):
            out.append(error.code)
        details = getattr(error, "details", None) or []
        error = details[0] if details else None
    return out or _body_codes(exc)


def _body_codes(exc) -> list:
    """Codes from the raw body, keys in any case: NRP sometimes answers busy with
    `Error`/`Code`/`Details` (cloud-provider-azure#792), which azure-core does not parse."""
    try:
        body = json.loads(exc.response.text())
    except Exception:  # no response, not JSON: no code to read
        return []
    out = []
    node = _key(body, "error") if isinstance(body, dict) else None
    while isinstance(node, dict):
        if _key(node, "code"):
            out.append(str(_key(node, "code")))
        details = _key(node, "details") or []
        node = details[0] if isinstance(details, list) and details else None
    return out


def _key(node: dict, name: str):
    return next((v for k, v in node.items() if k.lower() == name), None)


def _message(exc) -> str:
    error = getattr(exc, "error", None)
    text = getattr(error, "message", None) or getattr(exc, "message", None) or str(exc)
    return " ".join(str(text).split())[:600]


def _retry_after(exc) -> Optional[float]:
    """Seconds the service asked us to wait: Retry-After (seconds or an HTTP date), then the
    millisecond forms, in azure-core's order. None when absent or unreadable."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    lowered = {str(k).lower(): str(v).strip() for k, v in headers.items()}
    for name, scale in (("retry-after", 1.0), ("retry-after-ms", 0.001),
                        ("x-ms-retry-after-ms", 0.001)):
        value = lowered.get(name)
        if not value:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            return None
    return None


def _permission(exc, target: str, codes: list) -> PermissionDenied:
    text = _message(exc)
    if any(c.lower() == "applicationgatewayinsufficientpermissiononsubnet" for c in codes):
        subnet = re.search(r"(/subscriptions/\S+?/subnets/[^\s.,;']+)", text)
        scope = subnet.group(1) if subnet else "the gateway's subnet"
        return PermissionDenied(
            f"{target}: permission denied: the identity needs {SUBNET_JOIN} on {scope} "
            f"(the network RP checks it on every gateway update) [{codes[0]}]",
            target=target, code=codes[0])
    action = re.findall(r"action(?:\(s\))? '([^']+)'", text)
    scope = re.findall(r"scope(?:\(s\))? '([^']+)'", text)
    if action:
        where = f" on {scope[-1]}" if scope else ""
        return PermissionDenied(f"{target}: permission denied: the identity needs "
                                f"{action[-1]}{where} [{codes[0] if codes else 403}]",
                                target=target, status=403, code=codes[0] if codes else None)
    return PermissionDenied(f"{target}: permission denied: {text}", target=target,
                            code=codes[0] if codes else None)


def translate(exc: BaseException, target: str) -> RegistrarError:
    """Map any exception from an Azure call on `target` to a RegistrarError."""
    if isinstance(exc, RegistrarError):
        return exc
    from azure.core import exceptions as ae

    if isinstance(exc, ae.ClientAuthenticationError):
        status = getattr(exc, "status_code", None)
        if status is None:  # raised by the credential, not by ARM
            first = _message(exc).split(".")[0]
            return CredentialUnavailable(f"{target}: no usable Azure credential: {first}",
                                    target=target)
        return PermissionDenied(f"{target}: authentication rejected ({status}): "
                                f"{_message(exc)}", target=target, status=status)
    if isinstance(exc, (ae.ServiceRequestError, ae.ServiceResponseError)):
        text = _message(exc)
        if _TLS_HINT.search(text):
            return ConfigError(f"{target}: TLS verification failed against the ARM endpoint; "
                               f"give --ca-bundle with the endpoint's CA", target=target)
        return Retryable(f"{target}: connection error: {text[:200]}", target=target,
                         code="ConnectionError")
    if isinstance(exc, ae.HttpResponseError):
        return _translate_http(exc, target)
    return RegistrationFailed(f"{target}: unexpected error: {type(exc).__name__}: {exc}",
                              target=target)


def _translate_http(exc, target: str) -> RegistrarError:
    status = getattr(exc, "status_code", None)
    codes = _codes(exc)
    code = codes[0] if codes else None
    lowered = {c.lower() for c in codes}
    text = _message(exc)
    where = dict(target=target, status=status, code=code)
    # An LRO that ended Failed/Canceled surfaces with the poll's 200.
    if status in (200, 201, 202, None):
        if lowered & _PERMISSION_OP_CODES:
            return _permission(exc, target, codes)
        if lowered & _TRANSIENT_OP_CODES or not codes:
            return Retryable(f"{target}: operation ended {code or 'without status'}: {text}",
                             **where)
        return RegistrationFailed(f"{target}: operation failed [{code}]: {text}", **where)
    if status == 412:
        return Retryable(f"{target}: etag changed since it was read (412)", **where)
    if status == 429:
        return Retryable(f"{target}: throttled (429 {code}): {text}",
                         retry_after=_retry_after(exc), **where)
    if status == 409 and "anotheroperationinprogress" in lowered:
        return Retryable(f"{target}: another operation in progress (409)",
                         retry_after=_retry_after(exc), **where)
    if status is not None and status >= 500:
        return Retryable(f"{target}: server error ({status} {code})",
                         retry_after=_retry_after(exc), **where)
    if status == 403 or lowered & _PERMISSION_OP_CODES:
        return _permission(exc, target, codes)
    if status == 404:
        what = "its parent (zone or gateway) does not exist" if "parentresourcenotfound" in \
            lowered else "it does not exist"
        return ConfigError(f"{target}: not found: {what} [{code}]", **where)
    return RegistrationFailed(f"{target}: Azure refused the request ({status} {code}): {text}",
                              **where)
