"""The request log (Python, HTTP, click command) and the export lines."""

from __future__ import annotations

import json
import shlex

import requests
from click.testing import CliRunner

from aci_ip_registrar.emulator.commands import emulator_log_command, export_lines
from aci_ip_registrar.emulator.reqlog import FIELDS

from .conftest import GW, GW_ID, RG


def test_log_entries_carry_every_field(network, emu):
    gw = network.application_gateways.get(RG, GW)
    network.application_gateways.begin_create_or_update(RG, GW, gw, headers={"If-Match": gw.etag}).result()
    log = emu.log()
    assert all(set(entry) == set(FIELDS) for entry in log)
    kinds = [e["kind"] for e in log]
    assert kinds == ["token", "read", "write", "poll", "read"]
    put = log[2]
    assert put["method"] == "PUT" and put["path"] == GW_ID and put["query"] == {"api-version": "2026-03-01"}
    assert put["resource_id"] == GW_ID.lower()
    assert put["if_match"] == gw.etag == put["etag_at_arrival"]
    assert put["etag"] != gw.etag and put["op_id"] and put["op_status"] == "InProgress"
    assert put["user_agent"].startswith("azsdk-python-mgmt-network/")
    assert put["client_request_id"]
    poll = log[3]
    assert poll["op_id"] == put["op_id"] and poll["op_status"] == "Succeeded" and poll["resource_id"] == GW_ID.lower()
    assert poll["client_request_id"] == put["client_request_id"]  # the SDK re-sends it while polling
    assert emu.counts() == {"reads": 2, "writes": 1, "polls": 1, "tokens": 1, "other": 0, "faults": 0, "total": 5}
    emu.clear_log()
    assert emu.log() == [] and emu.counts()["total"] == 0


def test_log_and_counts_over_https_without_auth(emu, raw):
    raw("GET", GW_ID)
    log = requests.get(emu.base_url + "/_emulator/log", verify=emu.ca_path, timeout=5).json()
    counts = requests.get(emu.base_url + "/_emulator/counts", verify=emu.ca_path, timeout=5).json()
    assert [e["path"] for e in log] == [GW_ID]
    assert counts["reads"] == 1 and counts["total"] == 1  # reading the log is not logged


def test_emulator_log_command(emu, raw, monkeypatch):
    raw("GET", GW_ID)
    emu.add_fault("throttle", count=1)
    raw("GET", GW_ID)
    monkeypatch.setenv("ACI_IP_REGISTRAR_ARM_ENDPOINT", emu.base_url)
    monkeypatch.setenv("ACI_IP_REGISTRAR_CA_BUNDLE", emu.ca_path)
    result = CliRunner().invoke(emulator_log_command, [])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3
    assert f"GET    200 read  {GW_ID}" in lines[0]
    assert "429" in lines[1] and "fault=throttle" in lines[1] and "error_code=TooManyRequests" in lines[1]
    assert lines[2] == "reads=2 writes=0 polls=0 tokens=0 other=0 faults=1 total=2"
    as_json = CliRunner().invoke(emulator_log_command, ["--json", "--clear"])
    data = json.loads(as_json.output)
    assert len(data["log"]) == 2 and data["counts"]["faults"] == 1
    assert emu.counts()["total"] == 0


def test_emulator_log_command_reports_an_unreachable_endpoint(emu):
    result = CliRunner().invoke(emulator_log_command, ["--endpoint", "https://127.0.0.1:9", "--ca-bundle", emu.ca_path])
    assert result.exit_code == 1
    assert "cannot read the emulator log from https://127.0.0.1:9" in result.output


def test_export_lines_are_shell_quoted():
    text = export_lines({"A": "plain", "B": "with space'quote", "C": "$(rm -rf /)"})
    assert text.splitlines()[0] == "export A=plain"
    parsed = dict(line.split(" ", 1)[1].split("=", 1) for line in text.splitlines())
    assert {k: shlex.split(v)[0] for k, v in parsed.items()} == {"A": "plain", "B": "with space'quote", "C": "$(rm -rf /)"}
