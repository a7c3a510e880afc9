"""The bad-input corpus (tests/data/bad_inputs.json) through the real CLI: each case gets its
documented exit code, a one-line message naming the problem, and zero writes.

Case format:
    name         unique
    args         the register command line; {POOL}, {REC}, {SUB}, {POOL_UPPER} and the files
                 {NOT_PEM}, {BAD_PEM}, {EMPTY}, {DIR} are substituted (also in message and env)
    exit         the documented exit code (errors.EXIT_CODES)
    message      a fragment of stderr that names the problem
    no_requests  true: the error is known without Azure, so the emulator sees no request at all
                 (no token, no read); false: the case needs a read (seeded ledger, fault, missing
                 resource) and only the absence of writes is asserted
    seed, fault  optional: a SEEDS builder applied over the default seed; a fault to inject
    env          optional: extra environment variables for the CLI
    absent       optional: a string (or list) that must appear neither on stderr nor on stdout
                 (a secret in the input)
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from aci_ip_registrar.errors import EXIT_CODES
from conftest import writes
from seeds import POOL_ID, REC_ID, SUB, gateway, record, seed as make_seed

CASES = json.loads((Path(__file__).parents[1] / "data" / "bad_inputs.json").read_text(
    encoding="utf-8"))

SEEDS = {
    "record_held": lambda: {"resources": [record("app", ["10.0.2.9"],
                                                 {"aciipr_cg_other": "10.0.2.9"})]},
    "record_garbage": lambda: {"resources": [record("app", ["10.0.2.9"],
                                                    {"aciipr_cg_other": "garbage"})]},
    "pool_held": lambda: make_seed(gw=gateway(tags={"aciipr:aci-pool:0": "cg-other=10.0.2.200"})),
    "pool_garbage": lambda: make_seed(gw=gateway(tags={"aciipr:aci-pool:0": "cg-other=garbage"})),
    "tags_full": lambda: make_seed(gw=gateway(tags={f"tag{i}": "x" for i in range(50)})),
    "tag_long": lambda: make_seed(gw=gateway(tags={"env": "prod", "note": "x" * 257})),
    "tag_name_bad": lambda: make_seed(gw=gateway(tags={"env": "prod", "a/b": "x"})),
    "auto_registered": lambda: {"resources": [dict(
        record("app", ["10.0.2.9"]),
        properties={"ttl": 10, "isAutoRegistered": True,
                    "aRecords": [{"ipv4Address": "10.0.2.9"}]})]},
}

KEYS = {"name", "args", "exit", "message", "no_requests", "seed", "fault", "env", "absent"}


def _files(tmp_path) -> dict:
    not_pem = tmp_path / "not-a-cert.pem"
    not_pem.write_text("hello\n")
    bad_pem = tmp_path / "garbage.pem"
    bad_pem.write_text("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n")
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    directory = tmp_path / "a-directory"
    directory.mkdir()
    return {"{NOT_PEM}": str(not_pem), "{BAD_PEM}": str(bad_pem), "{EMPTY}": str(empty),
            "{DIR}": str(directory)}


def _subst(tmp_path) -> dict:
    return {"{POOL}": POOL_ID, "{REC}": REC_ID, "{SUB}": SUB,
            "{POOL_UPPER}": POOL_ID.replace("resourceGroups/rg-net", "RESOURCEGROUPS/RG-NET")
            .replace("aci-pool", "ACI-POOL"), **_files(tmp_path)}


def _expand(text: str, subst: dict) -> str:
    for key, value in subst.items():
        text = text.replace(key, value)
    return text


def _absent(case) -> list:
    value = case.get("absent") or []
    return [value] if isinstance(value, str) else list(value)


def test_corpus_is_large_enough():
    assert len(CASES) >= 100
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_is_well_formed(case):
    assert set(case) <= KEYS, set(case) - KEYS
    assert case["exit"] in EXIT_CODES and case["exit"] != 0
    assert case["message"].strip()
    assert isinstance(case["no_requests"], bool), "say whether the case may reach Azure"
    if case.get("seed"):
        assert case["seed"] in SEEDS
    if case.get("seed") or case.get("fault"):
        assert not case["no_requests"], "a seeded or faulted case needs a read"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input(cli, emulator, case, tmp_path):
    subst = _subst(tmp_path)
    if case.get("seed"):
        emulator.seed(SEEDS[case["seed"]]())
    if case.get("fault"):
        fault = dict(case["fault"])
        emulator.add_fault(fault.pop("kind"), **fault)
    env = cli.env(**{k: _expand(v, subst) for k, v in (case.get("env") or {}).items()})
    emulator.clear_log()
    proc = cli.register("--timeout", "20", *[_expand(a, subst) for a in case["args"]], env=env)
    assert proc.returncode == case["exit"], (proc.stdout, proc.stderr)
    assert _expand(case["message"], subst) in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert errors, proc.stderr
    assert "Traceback" not in proc.stderr
    for secret in _absent(case):
        assert secret not in proc.stderr, proc.stderr
        assert secret not in proc.stdout, proc.stdout
    assert writes(emulator) == []
    if case["no_requests"]:
        assert emulator.log() == [], "known without Azure, yet the emulator was asked"
