"""Median latency of an App Gateway GET through azure-mgmt-network against the emulator.

    /work/venv/bin/python benchmarks/emulator_latency.py [--count 1000] [--in-process] [--json]

By default the emulator runs as its own process (`python -m aci_ip_registrar.emulator`), so server
and client do not share a GIL; --in-process starts it inside this process instead.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "examples" / "emulator-seed.json"
RG, GW = "rg-aci-demo", "agw-demo"


def _spawn() -> "tuple[subprocess.Popen, Dict[str, str]]":
    proc = subprocess.Popen([sys.executable, "-m", "aci_ip_registrar.emulator", "--seed", str(SEED), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    exports = proc.stdout.read()  # the emulator closes stdout after its export lines
    env = {}
    for line in exports.splitlines():
        key, _, value = line[len("export "):].partition("=")
        env[key] = shlex.split(value)[0]
    return proc, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    proc = emu = None
    if args.in_process:
        from aci_ip_registrar.emulator import Emulator

        emu = Emulator(SEED).start()
        env = emu.env()
    else:
        proc, env = _spawn()
    os.environ.update(env)
    try:
        from azure.identity import DefaultAzureCredential
        from azure.mgmt.network import NetworkManagementClient

        client = NetworkManagementClient(DefaultAzureCredential(), env["AZURE_SUBSCRIPTION_ID"],
                                         base_url=env["ACI_IP_REGISTRAR_ARM_ENDPOINT"],
                                         connection_verify=env["ACI_IP_REGISTRAR_CA_BUNDLE"])
        for _ in range(args.warmup):
            client.application_gateways.get(RG, GW)
        samples = []
        for _ in range(args.count):
            started = time.perf_counter()
            client.application_gateways.get(RG, GW)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        if emu is not None:
            emu.stop()
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
            proc.stdout.close()
    samples.sort()
    result = {
        "count": len(samples),
        "mode": "in-process" if args.in_process else "separate process",
        "median_ms": round(statistics.median(samples), 3),
        "p90_ms": round(samples[int(len(samples) * 0.9) - 1], 3),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "min_ms": round(samples[0], 3),
        "max_ms": round(samples[-1], 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"App Gateway GET via azure-mgmt-network, {result['count']} calls ({result['mode']}):")
        print(f"  median {result['median_ms']} ms  p90 {result['p90_ms']} ms  p99 {result['p99_ms']} ms  "
              f"mean {result['mean_ms']} ms  min {result['min_ms']} ms  max {result['max_ms']} ms")


if __name__ == "__main__":
    main()
