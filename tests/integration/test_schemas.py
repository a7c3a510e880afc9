"""Every request the real SDK sends and every response the emulator returns during a registration,
validated against the published OpenAPI schemas (tests/data/azure-specs) with jsonschema.

Covered operations, the ones the product uses: App Gateway GET and PUT and the operation status
poll, Private DNS record set GET and PUT, ACI container group GET (list: tests/emulator/test_schemas.py),
and the Authorization permissions list of the pre-write check.
"""
from __future__ import annotations

import pytest

import spec_schemas as S
from conftest import Cli
from seeds import CG_RG, POOL_ID, REC_ID, container_group, record

A = "10.0.2.4"
MODES = [pytest.param(True, id="if-match-enforced"), pytest.param(False, id="if-match-ignored")]



def validate_log(emu) -> set:
    seen, problems = S.validate_log(emu)
    assert problems == []
    return seen


@pytest.mark.parametrize("enforce", MODES)
def test_a_registration_matches_the_published_schemas(emulator, enforce):
    cg_id = f"{CG_RG}/containerGroups/cg-app-1"
    emulator.seed({"resources": [container_group("cg-app-1", A), record("app", ["10.0.2.77"])]})
    emulator.set(log_bodies=True, enforce_if_match=enforce)
    gw_id = POOL_ID.rsplit("/", 2)[0]
    fired = []

    def change_before_our_first_put(entry):
        # Enforced, this makes one 412 on the way, so an error body is validated too.
        if entry["method"] == "PUT" and "applicationGateways" in entry["path"] and not fired:
            fired.append(entry)
            emulator.put(emulator.get(gw_id))

    emulator.add_request_hook(change_before_our_first_put)
    out = Cli(emulator).json("-t", POOL_ID, "-t", REC_ID, "--container-group", cg_id)
    assert out["ip"] == A
    seen = validate_log(emulator)
    log = [e for e in emulator.log() if e["kind"] != "token"]
    assert all(e["response_body"] is not None for e in log if e["status"] != 204)
    assert all(e["request_body"] is not None for e in log if e["method"] == "PUT")
    assert {("gateway", "GET"), ("gateway", "PUT"), ("operation", "GET"),
            ("precord", "GET"), ("precord", "PUT"), ("cgroup", "GET"),
            ("permissions", "GET")} <= seen
    statuses = {e["status"] for e in emulator.log() if e["method"] == "PUT"}
    assert (412 in statuses) == enforce
