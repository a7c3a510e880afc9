"""The registrar treats each of Azure's three "busy" answers as busy: re-read, re-plan, retry.

429 RetryableError / RetryableErrorDueToAnotherOperation (bosh-azure-cpi#179), the same with
capitalised keys Error/Code/Message (cloud-provider-azure#792), and 409 AnotherOperationInProgress
(azure-cli#2120), on the gateway PUT and on a tags PATCH-free flow, in both If-Match modes.
"""
from __future__ import annotations

import pytest

from seeds import GW_ID, POOL_ID

A = "10.0.2.4"
ARGS = ("-t", POOL_ID, "--member", "cg-app-1", "--ip", A)
SHAPES = ["retryable", "retryable_caps", "conflict"]
MODES = [pytest.param(True, id="if-match-enforced"), pytest.param(False, id="if-match-ignored")]


def _pool_ips(emu):
    gw = emu.get(GW_ID)
    pool = next(p for p in gw["properties"]["backendAddressPools"] if p["name"] == "aci-pool")
    return [e.get("ipAddress") for e in pool["properties"]["backendAddresses"]]


@pytest.mark.parametrize("enforce", MODES)
@pytest.mark.parametrize("shape", SHAPES)
def test_each_busy_shape_is_retried_after_a_fresh_read(cli, emulator, shape, enforce):
    emulator.set(enforce_if_match=enforce, retry_after=1)
    emulator.add_fault("busy", shape=shape, method="PUT", path="applicationGateways/[^/]+$", count=2)
    proc = cli.register(*ARGS)
    assert proc.returncode == 0, proc.stderr
    assert A in _pool_ips(emulator)
    log = emulator.log()
    puts = [e for e in log if e["method"] == "PUT" and e["resource_id"] == GW_ID.lower()]
    assert [e["status"] for e in puts][:2] == ([409, 409] if shape == "conflict" else [429, 429])
    assert puts[-1]["status"] in (200, 201)
    # Each retry follows a fresh read of the gateway (never a replay of the old body).
    for put in puts[1:]:
        before = [e for e in log if e["time"] < put["time"] and e["resource_id"] == GW_ID.lower()]
        assert before[-1]["method"] == "GET", [(e["method"], e["status"]) for e in before]
    assert "retrying" in proc.stderr


NAMED = ["retryable", "conflict", "retryable_caps"]


@pytest.mark.parametrize("shape", NAMED)
def test_each_busy_shape_is_named_as_busy_in_the_log(cli, emulator, shape):
    """The retry message names the busy code, so an operator can tell 'gateway busy' from
    throttling: for the capitalised shape azure-core parses no code (its ARM error format reads
    only the lower-case 'error' key), so the registrar has to read the body itself."""
    emulator.add_fault("busy", shape=shape, method="PUT", path="applicationGateways/[^/]+$", count=1)
    proc = cli.register(*ARGS)
    assert proc.returncode == 0, proc.stderr
    expected = "AnotherOperationInProgress" if shape == "conflict" else "RetryableErrorDueToAnotherOperation"
    assert expected in proc.stderr or "code=RetryableError" in proc.stderr, proc.stderr
