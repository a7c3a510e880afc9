"""Shared fixtures: the emulator over HTTPS on loopback and the real CLI as a process."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seeds import seed as make_seed  # noqa: E402


def cli_path() -> list:
    script = Path(sys.executable).with_name("aci-ip-registrar")
    return [str(script)] if script.exists() else [sys.executable, "-m", "aci_ip_registrar"]


def base_env() -> dict:
    """A clean environment: nothing from the developer's Azure login, and the IMDS probe of
    DefaultAzureCredential pointed at a closed loopback port instead of 169.254.169.254."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AZURE_", "ACI_IP_REGISTRAR_", "IDENTITY_", "MSI_"))
           and k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = "http://127.0.0.1:9"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(autouse=True)
def _no_imds(monkeypatch):
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")


class Cli:
    def __init__(self, emu):
        self.emu = emu

    def env(self, **extra) -> dict:
        env = base_env()
        if self.emu is not None:
            env.update(self.emu.env())
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def run(self, *args, env=None, timeout=60, input=None):
        return subprocess.run(cli_path() + [str(a) for a in args], env=env or self.env(),
                              capture_output=True, text=True, timeout=timeout, input=input)

    def register(self, *args, **kw):
        return self.run("register", "--poll-interval", "0.05", *args, **kw)

    def json(self, *args, **kw):
        proc = self.register("--output", "json", *args, **kw)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def emulator():
    from aci_ip_registrar.emulator import Emulator
    with Emulator(make_seed(), op_duration=0.1, retry_after=0.05) as emu:
        yield emu


@pytest.fixture
def cli(emulator):
    return Cli(emulator)


def wait_until(predicate, timeout: float = 15.0) -> bool:
    """Poll `predicate` every 50 ms until it holds or `timeout` seconds pass."""
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def writes(emu) -> list:
    return [e for e in emu.log() if e["kind"] == "write"]


def reads(emu) -> list:
    return [e for e in emu.log() if e["kind"] == "read"]


def have(cmd: str) -> bool:
    return shutil.which(cmd) is not None
