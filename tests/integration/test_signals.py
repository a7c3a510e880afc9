"""Signals before the app starts, with the registrar as PID 1 of a PID namespace: SIGTERM,
SIGINT and SIGHUP stop it promptly, start no new write, never start the app, and exit 128+N."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import cli_path, writes
from seeds import POOL_ID

def _children(pid: int) -> list:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _ns_pid(pid: int) -> list:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("NSpid:"):
            return [int(x) for x in line.split()[1:]]
    return []


def _start_as_pid1(cli, marker: Path, *extra):
    argv = ["unshare", "--pid", "--fork", "--mount-proc"] + cli_path() + [
        "register", "-t", POOL_ID, "--member", "cg-app-1", "--ip", "10.0.2.4",
        "--poll-interval", "0.05", "--timeout", "120", *extra, "--",
        sys.executable, "-c", f"open({str(marker)!r}, 'w').write('started')"]
    proc = subprocess.Popen(argv, env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 10
    while time.time() < deadline and not _children(proc.pid):
        time.sleep(0.02)
    (child,) = _children(proc.pid)
    assert _ns_pid(child)[-1] == 1          # the registrar really is PID 1 of its namespace
    return proc, child


def _wait_for(emulator, kind: str, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(e["kind"] == kind for e in emulator.log()):
            return
        time.sleep(0.02)
    raise AssertionError(f"no {kind} request in the emulator's log")


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130),
                                      (signal.SIGHUP, 129)])
def test_signal_while_polling_a_stuck_gateway_update(cli, emulator, tmp_path, sig, code):
    emulator.set(op_duration=float("inf"))
    marker = tmp_path / "app-started"
    proc, child = _start_as_pid1(cli, marker, "--output", "json")
    _wait_for(emulator, "poll")
    sent = time.time()
    os.kill(child, sig)
    out, err = proc.communicate(timeout=10)
    elapsed = time.time() - sent
    assert proc.returncode == code, err
    assert elapsed < 2.0, elapsed
    assert not marker.exists()
    assert f"stopped by {signal.Signals(sig).name} before the app started" in err
    assert "pending: appgw agw-prod/aci-pool" in err
    assert "Aborted!" not in err and "Traceback" not in err
    assert all(line.startswith("[aci-ip-registrar]") for line in err.splitlines()), err
    assert json.loads(out.strip().splitlines()[-1])["exit_code"] == code
    assert len([e for e in writes(emulator) if e["method"] == "PUT"]) == 1


def test_sigterm_while_waiting_for_a_busy_gateway_writes_nothing(cli, emulator, tmp_path):
    emulator.set(op_duration=float("inf"), queued_share=0.0)   # Updating for as long as it runs
    first = subprocess.Popen(cli_path() + ["register", "-t", POOL_ID, "--member", "cg-other",
                                           "--ip", "10.0.2.9", "--timeout", "60"],
                             env=cli.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(emulator, "poll")      # somebody else's update is now running
        emulator.clear_log()
        marker = tmp_path / "app-started"
        proc, child = _start_as_pid1(cli, marker)
        deadline = time.time() + 20
        while time.time() < deadline and len([e for e in emulator.log()
                                              if e["kind"] == "read"]) < 2:
            time.sleep(0.02)          # it has read the busy gateway at least twice: waiting
        sent = time.time()
        os.kill(child, signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 143, err
        assert time.time() - sent < 2.0
        assert not marker.exists()
        assert writes(emulator) == []
    finally:
        first.kill()
        first.wait()
