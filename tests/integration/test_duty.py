"""Staying on duty through the real CLI, SDK and credential chain: `register --supervise` as PID 1,
`watch` with its health endpoint, drift repaired, `status` as a pipeline gate."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import Cli, cli_path, wait_until, writes
from seeds import GW_ID, POOL_ID, REC_ID, gateway, record, seed as make_seed

A, B = "10.0.2.4", "10.0.2.5"
MANUAL = "10.0.2.200"

APP = r"""
import os, signal, sys, time
events = os.environ["APP_EVENTS"]
def note(what):
    with open(events, "a") as fh:
        fh.write(f"{time.time():.6f} {what}\n")
def on(signum, _):
    note(signal.Signals(signum).name)
    if signum == signal.SIGTERM:
        sys.exit(int(os.environ.get("APP_TERM_CODE", "0")))
for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1):
    signal.signal(s, on)
note(f"start pid={os.getpid()}")
if os.fork() == 0:                   # an orphan that exits at once: PID 1 must reap it
    if os.fork() == 0:
        os._exit(0)
    os._exit(0)
mode = sys.argv[1] if len(sys.argv) > 1 else "wait"
if mode.startswith("exit:"):
    time.sleep(0.5)
    sys.exit(int(mode[5:]))
if mode == "kill":
    time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)
while True:
    time.sleep(0.05)
"""


def pool_ips(emu):
    for p in emu.get(GW_ID)["properties"]["backendAddressPools"]:
        if p["name"] == "aci-pool":
            return [e["ipAddress"] for e in p["properties"].get("backendAddresses", [])
                    if e.get("ipAddress")]


def _events(path: Path):
    if not path.exists():
        return []
    return [(float(t), what) for t, what in
            (line.split(" ", 1) for line in path.read_text().splitlines())]


def _children(pid):
    p = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in p.read_text().split()] if p.exists() else []


def _supervised(cli, tmp_path, mode="wait", *extra, term_code="0"):
    run_dir = tmp_path / mode.replace(":", "-")
    run_dir.mkdir()
    events = run_dir / "events"
    app = run_dir / "app.py"
    app.write_text(APP)
    argv = ["unshare", "--pid", "--fork", "--mount-proc"] + cli_path() + [
        "register", "--supervise", "-t", POOL_ID, "--member", "cg-a", "--ip", A,
        "--poll-interval", "0.05", "--interval", "0.5", "--drain-delay", "0.5",
        "--deregister-timeout", "5", *extra, "--", sys.executable, str(app), mode]
    env = cli.env(APP_EVENTS=str(events), APP_TERM_CODE=term_code)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 30
    while time.time() < deadline and not any("start" in w for _, w in _events(events)):
        time.sleep(0.05)
    assert any("start" in w for _, w in _events(events)), proc.stderr.read() if proc.poll() \
        is not None else "app did not start"
    (registrar,) = _children(proc.pid)
    return proc, registrar, events


def test_supervise_forwards_signals_reaps_and_deregisters_before_the_app_stops(cli, emulator,
                                                                               tmp_path):
    proc, pid1, events = _supervised(cli, tmp_path, term_code="7")
    assert A in pool_ips(emulator)
    for sig in (signal.SIGHUP, signal.SIGUSR1):
        os.kill(pid1, sig)
    time.sleep(0.6)
    zombies = [p for p in os.listdir("/proc") if p.isdigit() and _is_zombie_child(int(p), pid1)]
    assert zombies == []
    sent = time.time()
    os.kill(pid1, signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    took = time.time() - sent
    assert proc.returncode == 7, err                      # the app's own exit status
    got = [w for _, w in _events(events)]
    assert "SIGHUP" in got and "SIGUSR1" in got
    term_at = next(t for t, w in _events(events) if w == "SIGTERM")
    puts = [e for e in writes(emulator) if e["method"] == "PUT"]
    assert A not in pool_ips(emulator) and MANUAL in pool_ips(emulator)
    assert puts[-1]["time"] < term_at                     # left the pool before the app's SIGTERM
    assert took < 5 + 0.5 + 3.0, took                     # within deregister + drain bounds


def _is_zombie_child(pid: int, parent: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] == "Z" and int(fields[1]) == parent


def test_supervise_passes_exit_codes_and_signals_through(cli, emulator, tmp_path):
    proc, _, _ = _supervised(cli, tmp_path, "exit:3")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3, err
    assert A not in pool_ips(emulator)                    # the app ended: deregistered
    proc, _, _ = _supervised(cli, tmp_path, "kill")
    proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGKILL


def test_supervise_repairs_drift_between_passes(cli, emulator, tmp_path):
    proc, pid1, _ = _supervised(cli, tmp_path)
    try:
        gw = emulator.get(GW_ID)                          # a deployment resets the gateway
        gw["tags"] = {"env": "prod"}
        gw["properties"]["backendAddressPools"][0]["properties"]["backendAddresses"] = [
            {"ipAddress": MANUAL}]
        emulator.put(gw)
        deadline = time.time() + 10
        while time.time() < deadline and A not in pool_ips(emulator):
            time.sleep(0.05)
        assert A in pool_ips(emulator)
        assert emulator.get(GW_ID)["tags"]["aciipr:aci-pool:0"] == f"cg-a={A}"   # owned
    finally:
        os.kill(pid1, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert "repaired drift" in err and "cg-a's address 10.0.2.4 missing" in err


def _get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


_wait = wait_until


def test_watch_health_follows_the_address(cli, emulator, tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    emulator.add_fault("delay", method="GET", path="applicationGateways", count=1, delay=2.0)
    proc = subprocess.Popen(cli_path() + [
        "watch", "-t", POOL_ID, "--member", "cg-a", "--ip", A, "--poll-interval", "0.05",
        "--interval", "0.5", "--health-port", str(port), "--health-host", "127.0.0.1"],
        env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait(lambda: _reachable(port))
        assert _get(port, "/readyz")[0] == 503             # first registration still running
        assert _get(port, "/healthz")[0] == 200
        assert _wait(lambda: _get(port, "/readyz")[0] == 200)
        assert A in pool_ips(emulator)
        emulator.add_fault("forbidden", method="PUT", path="applicationGateways")
        gw = emulator.get(GW_ID)                          # removed behind its back
        gw["properties"]["backendAddressPools"][0]["properties"]["backendAddresses"] = [
            {"ipAddress": MANUAL}]
        emulator.put(gw)
        assert _wait(lambda: _get(port, "/readyz")[0] == 503)
        emulator.clear_faults()
        assert _wait(lambda: _get(port, "/readyz")[0] == 200)
        status, body = _get(port, "/readyz")
        assert A in pool_ips(emulator)
        assert body["counters"]["repairs"] >= 2
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert A not in pool_ips(emulator) and MANUAL in pool_ips(emulator)   # deregistered


def _reachable(port):
    try:
        _get(port, "/healthz")
        return True
    except OSError:
        return False


def test_status_gates_a_pipeline_in_shared_and_exclusive_targets(emulator):
    emulator.seed(make_seed(gw=gateway(tags={"aciipr:aci-pool:0": "cg-b=10.0.2.5,junk"}),
                            records=[record("app", ["10.0.2.77"])]))
    cli = Cli(emulator)
    targets = ["-t", POOL_ID, "-t", REC_ID + ";mode=exclusive"]
    emulator.clear_log()
    drift = cli.run("status", *targets, "--member", "cg-a", "--ip", A, "--output", "json")
    assert drift.returncode == 8, drift.stderr
    data = json.loads(drift.stdout)
    pool, rec = data["targets"]
    assert pool["members"] == {"cg-b": "10.0.2.5"} and pool["manual"] == [MANUAL]
    assert pool["foreign"] and any("missing" in d for d in pool["drift"])
    assert rec["manual"] == ["10.0.2.77"]
    assert writes(emulator) == []
    assert cli.run("register", *targets, "--member", "cg-a", "--ip", A).returncode == 0
    ok = cli.run("status", *targets, "--member", "cg-a", "--ip", A)
    assert ok.returncode == 0, ok.stdout
    assert "status: in-sync" in ok.stdout
    assert cli.run("deregister", *targets, "--member", "cg-a").returncode == 0
    gone = cli.run("status", *targets, "--member", "cg-a")
    assert gone.returncode == 8 and "no ledger entry for cg-a" in gone.stdout
    from aci_ip_registrar.ledger import read_tags
    ledger = read_tags(emulator.get(GW_ID)["tags"], "aci-pool")
    assert {m: e.ip for m, e in ledger.entries.items()} == {"cg-b": "10.0.2.5"}
    assert [f.text for f in ledger.foreign] == ["junk"]
    assert pool_ips(emulator) == [MANUAL]


def test_watch_dry_run_never_writes(cli, emulator):
    proc = subprocess.Popen(cli_path() + [
        "watch", "-t", POOL_ID, "--member", "cg-a", "--ip", A, "--poll-interval", "0.05",
        "--interval", "0.3", "--dry-run"], env=cli.env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        # Gateway reads: the preflight's, then one per pass (each pass also looks up the
        # permissions its would-be write needs).
        assert _wait(lambda: len([e for e in emulator.log() if e["kind"] == "read" and
                                  "authorization/permissions" not in e["path"].lower()]) >= 3)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert writes(emulator) == [] and A not in pool_ips(emulator)
