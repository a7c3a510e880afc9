"""Secret hygiene: tokens, the identity header and a client secret never reach any output."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import ROOT
from seeds import POOL_ID, REC_ID

CANARY_SECRET = "canary-client-secret-7f3a9c2e5b1d"


def _all_secrets(emu):
    tokens = list(emu.issued_tokens)
    assert tokens, "the emulator issued no token: the credential chain did not run"
    parts = [t.split(".")[-1] for t in tokens if t.count(".") == 2 and len(t.split(".")[-1]) > 8]
    return tokens + parts + [emu.identity_header, CANARY_SECRET]


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("scenario", ["success", "failure"])
def test_no_secret_in_any_output(cli, emulator, log_format, scenario):
    if scenario == "failure":
        emulator.add_fault("forbidden", method="PUT", path="applicationGateways")
        emulator.add_fault("throttle", method="GET", path="privateDnsZones", count=1,
                           retry_after=1)
    env = cli.env(AZURE_CLIENT_SECRET=CANARY_SECRET, AZURE_CLIENT_ID="00000000-1111-2222-3333-444444444444")
    proc = cli.register("-t", POOL_ID, "-t", REC_ID, "--member", "cg-app-1", "--ip", "10.0.2.4",
                        "-vvv", "--log-format", log_format, "--output", "json", env=env)
    assert proc.returncode == (0 if scenario == "success" else 5), proc.stderr
    assert "http_logging_policy" in proc.stderr or "Request URL" in proc.stderr, \
        "the SDK's HTTP logging did not run at -vvv"
    text = proc.stdout + proc.stderr
    for secret in _all_secrets(emulator):
        assert secret not in text
    assert not re.search(r"Bearer\s+ey", text)
    if log_format == "json":
        for line in proc.stderr.splitlines():
            json.loads(line)


def test_no_shell_true_and_no_tls_off_switch(cli):
    sources = list((ROOT / "aci_ip_registrar").rglob("*.py"))
    assert sources
    for path in sources:
        text = path.read_text()
        assert "shell=True" not in text, path
        if "emulator" not in path.parts:
            assert not re.search(r"verify\s*=\s*False|CERT_NONE", text), path
    help_text = cli.run("register", "--help").stdout.lower()
    for word in ("insecure", "no-verify", "skip-verify", "disable-tls", "no-tls"):
        assert word not in help_text
