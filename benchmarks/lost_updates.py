"""8 registrars at once against one gateway, If-Match ignored vs enforced, N repetitions.

    nice python benchmarks/lost_updates.py --reps 20 [--n 8] [--op-duration 0.3] \
        --json benchmarks/results/lost-updates-8.json

Runs on the emulator's defaults (queued then applying operations, any write supersedes, integer
Retry-After), ignored mode first. Prints, per mode, how often a member's IP was missing at the end
(and the exit codes of those members; exit 0 and missing = a lost update), the PUT counts, and the
stale writes the emulator accepted (a PUT whose If-Match was not the gateway's newest etag when it
arrived: the cause of every lost update).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import seeds  # noqa: E402
from conftest import base_env, cli_path  # noqa: E402


def one_round(enforce: bool, n: int, op_duration: float) -> dict:
    from aci_ip_registrar.emulator import Emulator
    with Emulator(seeds.seed(), op_duration=op_duration, retry_after=0.05,
                  enforce_if_match=enforce) as emu:
        env = base_env()
        env.update(emu.env())
        procs = []
        started = time.time()
        for i in range(n):
            args = cli_path() + ["register", "-t", seeds.POOL_ID, "--member", f"cg-app-{i}",
                                 "--ip", f"10.0.3.{10 + i}", "--poll-interval", "0.05",
                                 "--timeout", "90"]
            procs.append(subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        codes = [p.wait(timeout=120) for p in procs]
        elapsed = time.time() - started
        gw = emu.get(seeds.GW_ID)
        pool = next(p for p in gw["properties"]["backendAddressPools"] if p["name"] == "aci-pool")
        present = {e.get("ipAddress") for e in pool["properties"]["backendAddresses"]}
        missing = [i for i in range(n) if f"10.0.3.{10 + i}" not in present]
        lost = [i for i in missing if codes[i] == 0]
        puts = [e for e in emu.log() if e["kind"] == "write" and e["method"] == "PUT"]
        stale = [e for e in puts if e["status"] in (200, 201)
                 and e["if_match"] and e["if_match"] != e["etag_at_arrival"]]
        return {"lost": len(lost), "missing": len(missing),
                "exit_codes_of_missing": [codes[i] for i in missing], "exit_codes": codes,
                "failed": sum(1 for c in codes if c), "puts": len(puts),
                "puts_412": sum(1 for e in puts if e["status"] == 412),
                "canceled_ops": sum(1 for e in emu.log() if e.get("op_status") == "Canceled"
                                    and e["kind"] == "poll"),
                "stale_accepted": len(stale), "foreign_kept": "10.0.2.200" in present,
                "seconds": round(elapsed, 2)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--op-duration", type=float, default=0.3)
    parser.add_argument("--json")
    args = parser.parse_args()
    out = {}
    for enforce in (False, True):
        rounds = [one_round(enforce, args.n, args.op_duration) for _ in range(args.reps)]
        mode = "if-match enforced" if enforce else "if-match ignored"
        out[mode] = rounds
        codes = [c for r in rounds for c in r["exit_codes_of_missing"]]
        print(f"{mode}: reps={len(rounds)} rounds_with_missing={sum(1 for r in rounds if r['missing'])} "
              f"members_missing={sum(r['missing'] for r in rounds)} "
              f"exit_codes_of_missing={ {str(c): codes.count(c) for c in sorted(set(codes))} } "
              f"lost_ips(exit 0)={sum(r['lost'] for r in rounds)} failed={sum(r['failed'] for r in rounds)} "
              f"puts median={statistics.median(r['puts'] for r in rounds)} "
              f"total={sum(r['puts'] for r in rounds)} 412s={sum(r['puts_412'] for r in rounds)} "
              f"stale_writes_accepted={sum(r['stale_accepted'] for r in rounds)} "
              f"foreign_kept={all(r['foreign_kept'] for r in rounds)} "
              f"median_s={statistics.median(r['seconds'] for r in rounds)}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"command": " ".join(sys.argv), **out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
