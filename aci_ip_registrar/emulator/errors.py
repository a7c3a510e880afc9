"""ARM-shaped errors: one exception type, rendered as ``{"error": {...}}`` bodies."""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class ArmError(Exception):
    """An error the emulator answers with, in the ARM common error format."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Optional[List[Dict[str, Any]]] = None,
        headers: Optional[Dict[str, str]] = None,
        target: Optional[str] = None,
        capitalised: bool = False,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})
        self.target = target
        self.capitalised = capitalised

    def body(self) -> Dict[str, Any]:
        error: Dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details is not None:
            error["details"] = self.details
        if self.capitalised:
            # Some NRP answers spell every key capitalised (cloud-provider-azure#792).
            return {"Error": _capitalise(error)}
        return {"error": error}


def _capitalise(node: Any) -> Any:
    if isinstance(node, dict):
        return {k[:1].upper() + k[1:]: _capitalise(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_capitalise(v) for v in node]
    return node


def bad_request(code: str, message: str, **kw: Any) -> ArmError:
    return ArmError(400, code, message, **kw)


def invalid_content(reason: str) -> ArmError:
    # ARM's wording for a body it cannot deserialize.
    return ArmError(
        400,
        "InvalidRequestContent",
        f"The request content was invalid and could not be deserialized: '{reason}'.",
    )


def invalid_format(path: str, reason: str) -> ArmError:
    # NRP's wording: a generic message with the offending JSON path in details.
    return ArmError(
        400,
        "InvalidRequestFormat",
        "Cannot parse the request.",
        details=[{"code": "InvalidJson", "message": f"{reason} Path '{path}'."}],
    )


def resource_not_found(rtype: str, name: str, rg: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{rtype}/{name}' under resource group '{rg}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def parent_not_found(parent: str) -> ArmError:
    return ArmError(
        404,
        "ParentResourceNotFound",
        "Can not perform requested operation on nested resource. "
        f"Parent resource '{parent}' not found.",
    )


def invalid_resource_type(rtype: str, namespace: str, api_version: str) -> ArmError:
    return ArmError(
        404,
        "InvalidResourceType",
        f"The resource type '{rtype}' could not be found in the namespace '{namespace}' "
        f"for api version '{api_version}'.",
    )


def method_not_allowed(method: str, allowed: List[str]) -> ArmError:
    return ArmError(
        405,
        "MethodNotAllowed",
        f"The requested resource does not support http method '{method}'.",
        headers={"Allow": ", ".join(allowed)},
    )
