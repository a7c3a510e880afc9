"""JSON schemas from the published OpenAPI 2.0 files in tests/data/azure-specs, for jsonschema.

Strict on purpose, so a renamed field fails: every object schema that declares properties and no
additionalProperties gets additionalProperties: false, after its allOf parts are merged into it
(allOf with additionalProperties: false in each part would reject the other parts' fields).
OpenAPI 2.0 details handled: x-ms-enum modelAsString (an extensible enum: any string), null for an
optional property (autorest-generated clients accept it), and $refs into files that were not copied
(stand-ins.json says what replaces each; enums of network common.json become plain strings and
virtualNetwork.json types any object, since the emulator never fills those read-only fields).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import jsonschema

SPECS = Path(__file__).resolve().parent / "data" / "azure-specs"
_STAND_INS = json.loads((SPECS / "stand-ins.json").read_text(encoding="utf-8"))["definitions"]


def load(relpath: str) -> Dict[str, Any]:
    return json.loads((SPECS / relpath).read_text(encoding="utf-8"))


class Spec:
    def __init__(self, relpath: str) -> None:
        self.relpath = relpath
        self.doc = load(relpath)
        self.defs: Dict[str, Any] = {}   # flattened, under "#/$defs/<name>"
        self.external: Dict[str, str] = {}  # $ref -> what replaced it

    # -- operations ------------------------------------------------------------------------
    def operation(self, operation_id: str) -> Dict[str, Any]:
        for item in self.doc["paths"].values():
            for method, op in item.items():
                if method != "parameters" and op.get("operationId") == operation_id:
                    return op
        raise KeyError(operation_id)

    def request_schema(self, operation_id: str) -> Dict[str, Any]:
        op = self.operation(operation_id)
        body = next(p for p in op["parameters"] if isinstance(p, dict) and p.get("in") == "body")
        return self.schema(body["schema"])

    def response_schema(self, operation_id: str, status: int) -> Optional[Dict[str, Any]]:
        responses = self.operation(operation_id)["responses"]
        resp = responses.get(str(status)) or responses.get("default")
        if resp is None:
            raise AssertionError(f"{operation_id} declares no response {status}: {sorted(responses)}")
        return self.schema(resp["schema"]) if resp.get("schema") else None

    def definition(self, name: str) -> Dict[str, Any]:
        return self.schema({"$ref": f"#/definitions/{name}"})

    # -- compiling -------------------------------------------------------------------------
    def schema(self, node: Dict[str, Any]) -> Dict[str, Any]:
        root = self._convert(node)
        return dict(root, **{"$defs": self.defs})

    def _ref(self, ref: str) -> Dict[str, Any]:
        if ref.startswith("#/definitions/"):
            name = ref[len("#/definitions/"):]
            if name not in self.defs:
                self.defs[name] = {}  # placeholder breaks cycles
                self.defs[name] = self._convert(self.doc["definitions"][name])
            return {"$ref": f"#/$defs/{name}"}
        path, _, pointer = ref.partition("#")
        name = pointer.rsplit("/", 1)[-1]
        key = f"ext:{name}"
        if key not in self.defs:
            if name in _STAND_INS:
                self.external[ref] = "stand-ins.json"
                self.defs[key] = {}
                self.defs[key] = self._convert(_STAND_INS[name], stand_in=True)
            elif path.endswith("common.json"):
                self.external[ref] = "string (an enum of network common.json)"
                self.defs[key] = {"type": "string"}
            else:
                self.external[ref] = "any (not copied; read-only, never filled by the emulator)"
                self.defs[key] = {}
        return {"$ref": f"#/$defs/{key}"}

    def _resolve(self, node: Dict[str, Any], stand_in: bool = False) -> Dict[str, Any]:
        """The flattened schema a node stands for (following $refs), for merging allOf parts."""
        if "$ref" in node:
            ref = node["$ref"]
            if stand_in and ref.startswith("#/definitions/"):
                ref = "ext:" + ref.rsplit("/", 1)[-1]
                return self.defs.get(ref) or self._convert(_STAND_INS[ref[4:]], stand_in=True)
            target = self._ref(ref)["$ref"][len("#/$defs/"):]
            return self.defs[target]
        return self._convert(node, stand_in)

    def _convert(self, node: Any, stand_in: bool = False) -> Any:
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if stand_in and ref.startswith("#/definitions/"):
                ref = "./stand-ins.json#/definitions/" + ref.rsplit("/", 1)[-1]
            return self._ref(ref)
        out: Dict[str, Any] = {}
        props: Dict[str, Any] = {}
        required: List[str] = list(node.get("required", []))
        closed = "additionalProperties" in node
        for part in node.get("allOf", []):
            merged = self._resolve(part, stand_in)
            props.update(copy.deepcopy(merged.get("properties", {})))
            required += merged.get("required", [])
            closed = closed or "additionalProperties" in merged and merged["additionalProperties"] is not False
        for key, value in node.items():
            if key in ("allOf", "required", "properties", "discriminator", "example", "description",
                       "readOnly", "x-ms-enum", "x-ms-client-name", "x-ms-client-flatten",
                       "x-ms-identifiers", "x-ms-azure-resource", "x-ms-mutability",
                       "x-ms-secret", "x-nullable", "x-ms-discriminator-value", "title", "format"):
                continue
            if key.startswith("x-"):
                continue
            if key == "items":
                out["items"] = self._convert(value, stand_in)
            elif key == "additionalProperties":
                out[key] = self._convert(value, stand_in) if isinstance(value, dict) else value
            elif key == "enum" and (node.get("x-ms-enum") or {}).get("modelAsString", False):
                continue  # an extensible enum: any string
            else:
                out[key] = copy.deepcopy(value)
        for name, value in (node.get("properties") or {}).items():
            props[name] = self._convert(value, stand_in)
        if props:
            # Optional properties may be null on the wire (autorest clients accept it).
            out["properties"] = {k: (v if k in required else {"anyOf": [{"type": "null"}, v]})
                                 for k, v in props.items()}
            if not closed:
                out["additionalProperties"] = False
        if required:
            out["required"] = sorted(set(required))
        return out


_SPECS: Dict[str, Spec] = {}


def spec(relpath: str) -> Spec:
    if relpath not in _SPECS:
        _SPECS[relpath] = Spec(relpath)
    return _SPECS[relpath]


def errors(schema: Dict[str, Any], instance: Any) -> List[str]:
    """Every violation, as 'path: message' (empty when the instance is valid)."""
    validator = jsonschema.Draft202012Validator(schema)

    def leaves(err):
        # Through the {"anyOf": [null, schema]} wrappers, to the error that names the field.
        inner = [c for c in err.context or [] if c.relative_schema_path and c.relative_schema_path[0] != 0]
        if err.validator == "anyOf" and inner:
            for c in inner:
                yield from leaves(c)
        else:
            yield err

    out = []
    for err in validator.iter_errors(instance):
        for leaf in leaves(err):
            out.append(f"/{'/'.join(str(p) for p in leaf.absolute_path)}: {leaf.message[:300]}")
    return sorted(set(out))


# Operations the product uses, by (route kind, method) as the emulator's log names them.
GATEWAY = "network/applicationGateway.json"
PRIVATE_DNS = "privatedns/privatedns.json"
ACI = "containerinstance/containerInstance.json"
AUTHORIZATION = "authorization/authorization-RoleDefinitionsCalls.json"
STAND_INS = "stand-ins"


def stand_in(name: str) -> Dict[str, Any]:
    s = Spec.__new__(Spec)
    s.relpath, s.doc, s.defs, s.external = STAND_INS, {"definitions": {}}, {}, {}
    return s.schema({"$ref": f"./stand-ins.json#/definitions/{name}"})


# (route kind, method) as the emulator names them -> (spec, operationId); None: the ARM RPC async
# operation status (stand-ins.json AsyncOperationStatus).
OPERATIONS = {
    ("gateway", "GET"): (GATEWAY, "ApplicationGateways_Get"),
    ("gateway", "PUT"): (GATEWAY, "ApplicationGateways_CreateOrUpdate"),
    ("gateway", "PATCH"): (GATEWAY, "ApplicationGateways_UpdateTags"),
    ("gateway", "DELETE"): (GATEWAY, "ApplicationGateways_Delete"),
    ("operation", "GET"): None,
    ("precord", "GET"): (PRIVATE_DNS, "RecordSets_Get"),
    ("precord", "PUT"): (PRIVATE_DNS, "RecordSets_CreateOrUpdate"),
    ("precord", "PATCH"): (PRIVATE_DNS, "RecordSets_Update"),
    ("precord", "DELETE"): (PRIVATE_DNS, "RecordSets_Delete"),
    ("precords", "GET"): (PRIVATE_DNS, "RecordSets_ListByType"),
    ("cgroup", "GET"): (ACI, "ContainerGroups_Get"),
    ("cgroups", "GET"): (ACI, "ContainerGroups_ListByResourceGroup"),
    # The pre-write permission check; the resource-group form answers with the same schema.
    ("permissions", "GET"): (AUTHORIZATION, "Permissions_ListForResource"),
}
# Fields the 2026-03-01 ApplicationGatewayCreate example sends that the copied 2026-03-01
# applicationGateway.json does not declare (the example is ahead of the description).
EXAMPLE_AHEAD_OF_SPEC = ("advancedRoutingConditionSets", "advancedRoutingMaps", "'authConfigs'",
                         "'advancedRoutingMap'")


def validate_log(emu, ignore=()) -> "tuple[set, list]":
    """Validate every logged ARM request and response body (the log_bodies knob) against its
    operation's schema. Returns (operations seen, problems)."""
    from aci_ip_registrar.emulator import routes

    seen, problems = set(), []
    for entry in emu.log():
        if entry["kind"] == "token":
            continue
        key = (routes.parse(entry["path"]).kind, entry["method"])
        if key not in OPERATIONS:
            problems.append(f"no schema mapped for {key} ({entry['path']})")
            continue
        seen.add(key)
        target = OPERATIONS[key]
        if target is None:
            problems += [f"poll: {e}" for e in errors(stand_in("AsyncOperationStatus"), entry["response_body"])]
            continue
        sp = spec(target[0])
        if entry["method"] in ("PUT", "PATCH"):
            problems += [f"{target[1]} request: {e}" for e in
                         errors(sp.request_schema(target[1]), entry["request_body"])]
        schema = sp.response_schema(target[1], entry["status"])
        if schema is not None:
            problems += [f"{target[1]} {entry['status']} response: {e}"
                         for e in errors(schema, entry["response_body"])]
    return seen, [p for p in problems if not any(i in p for i in ignore)]
