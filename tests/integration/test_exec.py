"""The handoff as a real process: PID kept, signals reach the app, exit codes and argv intact."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import cli_path, writes
from seeds import POOL_ID

PY = sys.executable


def _register(cli, *command):
    return cli_path() + ["register", "-t", POOL_ID, "--member", "cg-app-1", "--ip", "10.0.2.4",
                         "--poll-interval", "0.05", "--"] + list(command)


def test_pid_kept_env_passed_and_no_fds_leaked(cli, emulator):
    code = ("import os,json;print(json.dumps({'pid':os.getpid(),'foo':os.environ.get('FOO'),"
            "'fds':sorted(int(f) for f in os.listdir('/proc/self/fd'))}))")
    proc = subprocess.Popen(_register(cli, PY, "-c", code), env=cli.env(FOO="bar baz"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    data = json.loads(out.strip().splitlines()[-1])
    assert data["pid"] == proc.pid
    assert data["foo"] == "bar baz"
    # 0-2 plus the one listdir itself opened: nothing of the SDK's sockets or files.
    assert len(data["fds"]) <= 4 and set(data["fds"]) >= {0, 1, 2}, data["fds"]
    assert len(writes(emulator)) == 1


def test_sigterm_reaches_app_and_exit_code_is_the_apps(cli, emulator):
    code = ("import signal,sys,time\n"
            "signal.signal(signal.SIGTERM, lambda *a: (print('got-term', flush=True), sys.exit(42)))\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen(_register(cli, PY, "-c", code), env=cli.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    line = ""
    while time.time() < deadline and "ready" not in line:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
    assert "ready" in line, proc.stderr.read()
    os.kill(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert "got-term" in out
    assert proc.returncode == 42


@pytest.mark.parametrize("status", [0, 3, 37])
def test_exit_status_passes_through(cli, emulator, status):
    proc = subprocess.run(_register(cli, "sh", "-c", f"exit {status}"), env=cli.env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == status


def test_argv_arrives_byte_for_byte(cli, emulator):
    argv = ["with space", 'double"quote', "single'quote", "", "--target", "-v", "$HOME",
            "*", "ünïcødé", "a\nb", "--"]
    code = "import sys,json;print(json.dumps(sys.argv[1:]))"
    proc = subprocess.run(_register(cli, PY, "-c", code, *argv), env=cli.env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == argv


def test_command_not_found_is_127(cli, emulator):
    proc = subprocess.run(_register(cli, "no-such-command-xyz", "arg"), env=cli.env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 127
    assert "[aci-ip-registrar] no-such-command-xyz: command not found" in proc.stderr


def test_not_executable_is_126(cli, emulator, tmp_path):
    script = tmp_path / "app.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    proc = subprocess.run(_register(cli, str(script)), env=cli.env(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 126
    assert f"[aci-ip-registrar] {script}:" in proc.stderr


def test_no_command_exits_zero_after_registering(cli, emulator):
    proc = subprocess.run(_register(cli)[:-1], env=cli.env(), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(writes(emulator)) == 1


def test_entrypoint_script_execs_registrar(cli, emulator, tmp_path):
    from conftest import ROOT
    env = cli.env(ACI_IP_REGISTRAR_TARGETS=POOL_ID, ACI_IP_REGISTRAR_MEMBER="cg-app-1",
                  ACI_IP_REGISTRAR_IP="10.0.2.4", ACI_IP_REGISTRAR_POLL_INTERVAL="0.05")
    env["PATH"] = os.path.dirname(cli_path()[0]) + os.pathsep + env.get("PATH", "")
    code = "import os;print(os.getpid())"
    proc = subprocess.Popen([str(ROOT / "entrypoint.sh"), PY, "-c", code], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert int(out.strip().splitlines()[-1]) == proc.pid
    assert len(writes(emulator)) == 1
