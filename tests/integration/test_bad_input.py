"""The bad-input corpus (tests/data/bad_inputs.json) through the real CLI: each case gets its
documented exit code, a one-line message naming the problem, and zero writes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import writes
from seeds import POOL_ID, REC_ID, SUB, gateway, record, seed as make_seed

CASES = json.loads((Path(__file__).parents[1] / "data" / "bad_inputs.json").read_text())

SEEDS = {
    "record_held": lambda: {"resources": [record("app", ["10.0.2.9"],
                                                 {"aciipr_cg_other": "10.0.2.9"})]},
    "tags_full": lambda: make_seed(gw=gateway(tags={f"tag{i}": "x" for i in range(50)})),
    "auto_registered": lambda: {"resources": [dict(record("app", ["10.0.2.9"]),
                                                   properties={"ttl": 10,
                                                               "isAutoRegistered": True,
                                                               "aRecords": [{"ipv4Address": "10.0.2.9"}]})]},
}


def _expand(args, tmp_path):
    not_pem = tmp_path / "not-a-cert.pem"
    not_pem.write_text("hello\n")
    subst = {"{POOL}": POOL_ID, "{REC}": REC_ID, "{SUB}": SUB, "{NOT_PEM}": str(not_pem),
             "{POOL_UPPER}": POOL_ID.replace("resourceGroups/rg-net", "RESOURCEGROUPS/RG-NET")
             .replace("aci-pool", "ACI-POOL")}
    out = []
    for arg in args:
        for key, value in subst.items():
            arg = arg.replace(key, value)
        out.append(arg)
    return out


def test_corpus_is_large_enough():
    assert len(CASES) >= 40
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input(cli, emulator, case, tmp_path):
    if case.get("seed"):
        emulator.seed(SEEDS[case["seed"]]())
    if case.get("fault"):
        fault = dict(case["fault"])
        emulator.add_fault(fault.pop("kind"), **fault)
    emulator.clear_log()
    proc = cli.register("--timeout", "20", *_expand(case["args"], tmp_path))
    assert proc.returncode == case["exit"], (proc.stdout, proc.stderr)
    assert case["message"] in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert errors, proc.stderr
    assert "Traceback" not in proc.stderr
    assert writes(emulator) == []
