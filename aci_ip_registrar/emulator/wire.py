"""Request/response plumbing shared by the route handlers: JSON bodies, etags, paging."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import urlencode

from .errors import ArmError, invalid_content

DEFAULT_API_VERSION = "2026-03-01"


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, repeated slashes collapsed, no query
    query: Dict[str, str]  # keys lower-cased, first value wins
    headers: Mapping[str, str]  # case-insensitive (email.message.Message)
    body: bytes
    base_url: str
    bearer_claims: Optional[Dict[str, Any]] = None

    def header(self, name: str) -> Optional[str]:
        value = self.headers.get(name)
        return value if value is None else str(value)

    @property
    def api_version(self) -> str:
        return self.query.get("api-version") or DEFAULT_API_VERSION

    def json(self) -> Any:
        if not self.body.strip():
            raise invalid_content("The request body is empty")
        try:
            return json.loads(self.body.decode("utf-8"))
        except UnicodeDecodeError:
            raise invalid_content("The request body is not valid UTF-8") from None
        except json.JSONDecodeError as exc:
            raise invalid_content(
                f"{exc.msg}. Path '', line {exc.lineno}, position {exc.colno}"
            ) from None

    def json_object(self) -> Dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise invalid_content(
                f"Expected a JSON object but found {type(data).__name__}. Path '', line 1, position 1"
            )
        return data


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON, bytes -> as is, None -> empty
    headers: Dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    # Request-log extras filled in by handlers.
    resource_id: Optional[str] = None
    etag: Optional[str] = None
    error_code: Optional[str] = None
    op_id: Optional[str] = None
    op_status: Optional[str] = None
    fault: Optional[str] = None


def error_response(err: ArmError) -> Response:
    return Response(err.status, err.body(), dict(err.headers), error_code=err.code)


def new_guid() -> str:
    return str(uuid.uuid4())


def weak_etag() -> str:
    # NRP etags look like W/"<guid>".
    return f'W/"{new_guid()}"'


def normalize_etag(value: str) -> str:
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip().strip('"')


def etag_matches(header_value: str, current: Optional[str]) -> bool:
    """True when the If-Match / If-None-Match header names the current etag."""
    if current is None:
        return False
    want = normalize_etag(current)
    return any(
        part.strip() == "*" or normalize_etag(part) == want
        for part in header_value.split(",")
        if part.strip()
    )


def retry_after_headers(seconds: float, integer_only: bool = True) -> Dict[str, str]:
    """Retry-After for operation responses, 429s and throttle faults.

    Integer mode (the default): whole seconds, as the spec types it (int32) and real services
    send; a scaled-down test value under half a second becomes 0, and a client then polls at its
    own interval (azure-core LRO pollers fall back to polling_interval when Retry-After is 0).
    Decimal mode: azure-core 1.41 reads Retry-After *before* retry-after-ms
    (azure/core/pipeline/policies/_utils.py get_retry_after) and parses it with float(), so a
    sub-second value is sent as a decimal, plus retry-after-ms.
    """
    seconds = max(0.0, float(seconds))
    if integer_only:
        return {"Retry-After": str(int(math.floor(seconds + 0.5)))}
    header = str(math.ceil(seconds)) if seconds >= 1 else f"{max(seconds, 0.001):.3f}".rstrip("0").rstrip(".")
    return {"Retry-After": header, "retry-after-ms": str(max(1, int(round(seconds * 1000))))}


def knob_retry_after(knobs: Any, seconds: Optional[float] = None) -> Dict[str, str]:
    """Retry-After from the knobs: `seconds` (default the retry_after knob) times time_scale."""
    base = knobs.retry_after if seconds is None else seconds
    return retry_after_headers(knobs.scaled(base), knobs.integer_retry_after)


def paginate(
    req: Request, items: List[Any], page_size: int, *, honour_top: bool = False
) -> Dict[str, Any]:
    """One page of a list result; nextLink is absolute and carries an opaque $skiptoken."""
    try:
        offset = max(0, int(req.query.get("$skiptoken", "0")))
    except ValueError:
        raise ArmError(400, "InvalidSkipToken", "The skip token is invalid.") from None
    limit = max(1, int(page_size))
    top = req.query.get("$top")
    if honour_top and top:
        try:
            limit = min(limit, max(1, int(top)))
        except ValueError:
            raise ArmError(400, "InvalidTopParameter", f"The $top value '{top}' is invalid.") from None
    page = items[offset : offset + limit]
    result: Dict[str, Any] = {"value": page}
    if offset + limit < len(items):
        params = {"api-version": req.api_version}
        if honour_top and top:
            params["$top"] = top
        params["$skiptoken"] = str(offset + limit)
        result["nextLink"] = f"{req.base_url}{req.path}?{urlencode(params)}"
    return result
