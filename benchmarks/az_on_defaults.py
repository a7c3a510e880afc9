"""The Azure CLI flow and the registrar against the emulator's unkind defaults (issue 10).

    python benchmarks/az_on_defaults.py [--time-scale 0.1]

Defaults are Azure's (If-Match ignored, queued-then-applying operations, integer Retry-After, IMDS
tokens), only shrunk by --time-scale (0.1: 6 s gateway updates, Retry-After 1 s; below ~0.05 the
integer Retry-After rounds to 0 and the CLI, which sets no polling interval, waits its SDK's 30 s).
Runs `az login --identity` + `az network application-gateway address-pool update` (benchmarks/_az.py,
installed once into benchmarks/.az-venv), then the registrar on the same gateway, and prints what each
did and what the pool holds. Exit 0 when both succeeded and both addresses are in the pool.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import seeds  # noqa: E402
from _az import AzCli, ensure_az_venv  # noqa: E402
from conftest import base_env, cli_path  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.1)
    args = parser.parse_args()
    from aci_ip_registrar.emulator import Emulator

    az, how = ensure_az_venv(lambda m: print(m, file=sys.stderr))
    if az is None:
        print(f"azure-cli not available: {how}")
        return 2
    with Emulator(seeds.seed(), time_scale=args.time_scale) as emu:
        knobs = emu.knobs
        env = base_env()
        env.update(emu.env())
        cli = AzCli(az, emu, env)
        try:
            cli.setup()
            az_run = cli.script(seeds.RG, seeds.GW, "aci-pool", ["10.0.2.200", "10.0.5.5"])
        finally:
            cli.close()
        az_log = emu.log()
        emu.clear_log()
        reg = subprocess.run(cli_path() + ["register", "-t", seeds.POOL_ID, "--member", "cg-app-1",
                                           "--ip", "10.0.5.6", "--timeout", "120"],
                             env=env, capture_output=True, text=True, timeout=180)
        pool = emu.get(seeds.POOL_ID)["properties"]["backendAddresses"]
        reg_log = emu.log()
    ips = [e.get("ipAddress") for e in pool]

    def summary(log):
        return {"requests": len(log), "tokens": sum(e["kind"] == "token" for e in log),
                "token_paths": sorted({e["path"] for e in log if e["kind"] == "token"}),
                "puts": [(e["status"], bool(e["if_match"])) for e in log if e["method"] == "PUT"],
                "polls": sum(e["kind"] == "poll" for e in log)}

    out = {"knobs": {k: (list(v) if isinstance(v, tuple) else v) for k, v in knobs.items()},
           "az": {"code": az_run["code"], "steps": az_run["steps"], "stderr": az_run["stderr"][-600:],
                  **summary(az_log)},
           "registrar": {"code": reg.returncode, "stderr": reg.stderr[-600:], **summary(reg_log)},
           "pool": ips}
    print(json.dumps(out, indent=1))
    ok = az_run["code"] == 0 and reg.returncode == 0 and {"10.0.5.5", "10.0.5.6"} <= set(ips)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
