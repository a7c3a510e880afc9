"""Chaos harness: N registrar processes boot at once against one gateway and one shared Private
DNS record while the emulator injects random faults; some members restart with new IPs during
the run and some pairs swap IPs. When all have exited, an invariant checker verifies I1, I2, I3,
I5 and I7 (design.md) over the final state and the request log.

Full size (documented in README), both If-Match modes, ignored first:
    nice python tests/chaos_harness.py --n 50 --fault-rate 0.2 --seeds 1-20 --if-match both \
        --json benchmarks/results/chaos-n50.json
Any failure reproduces from the seed it prints.

With If-Match ignored (the emulator's default, as Azure may behave: wire notes 12.2) a one-shot
registrar can lose a neighbour's address to a stale PUT; the harness then counts I1/I2/I7
violations and missing members as measured figures, and fails only on I3 and I5 (which the code
prevents in both modes). With If-Match enforced any violation fails.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import seeds  # noqa: E402
from conftest import base_env, cli_path  # noqa: E402

# "busy" draws each hit from Azure's three busy answers (429 RetryableError, the same with
# capitalised keys, 409 AnotherOperationInProgress).
FAULT_KINDS = ["throttle", "busy", "conflict", "server_error", "unavailable",
               "drop", "delay", "op_canceled"]
INVARIANTS = ("I1", "I2", "I3", "I5", "I7")
# Violations the code prevents whatever the gateway does with If-Match.
ALWAYS = ("I3", "I5")
MANUAL_IP = "10.0.2.200"
DNS_MANUAL = "10.0.2.77"


@dataclass
class Member:
    name: str
    ip: str
    generation: int = 0
    proc: subprocess.Popen = None
    exit_code: int = None
    history: List[str] = field(default_factory=list)


def ip_for(i: int, gen: int) -> str:
    return f"10.{10 + gen}.{i // 200}.{10 + i % 200}"


def _seed() -> dict:
    data = seeds.seed(records=[seeds.record("app", [DNS_MANUAL], {"team": "web"})])
    return data


def _start(member: Member, env: dict, timeout: float) -> None:
    args = cli_path() + ["register", "-t", seeds.POOL_ID, "-t", seeds.REC_ID,
                         "--member", member.name, "--ip", member.ip, "--timeout", str(timeout),
                         "--poll-interval", "0.1", "--start-jitter", "0.5"]
    member.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)


def run_seed(seed: int, n: int, fault_rate: float, if_match: bool, restarts: float = 0.2,
             swaps: int = 2, timeout: float = 150.0, op_duration: float = 0.2,
             verbose: bool = False) -> dict:
    from aci_ip_registrar.emulator import Emulator

    rng = random.Random(seed)
    with Emulator(_seed(), op_duration=op_duration, retry_after=0.1,
                  enforce_if_match=if_match, busy_seed=seed) as emu:
        before_gw = seeds.strip_volatile(emu.get(seeds.GW_ID))
        for index, kind in enumerate(FAULT_KINDS):
            emu.add_fault(kind, path=r"applicationGateways|privateDnsZones",
                          probability=fault_rate / len(FAULT_KINDS), seed=seed * 100 + index,
                          retry_after=1, delay=0.5)
        env = base_env()
        env.update(emu.env())
        members = [Member(f"cg-{i:03d}", ip_for(i, 0)) for i in range(n)]
        for m in members:
            m.history.append(m.ip)
            _start(m, env, timeout)
        # Restarts during the run: new IPs for some, swapped IPs for some pairs.
        picked = rng.sample(range(n), min(n, 2 * swaps + max(1, int(n * restarts))))
        pairs = [(picked[2 * k], picked[2 * k + 1]) for k in range(min(swaps, len(picked) // 2))]
        singles = picked[2 * len(pairs):]
        events = []
        for a, b in pairs:
            events.append((rng.uniform(0.5, 6.0), "swap", a, b))
        for a in singles:
            events.append((rng.uniform(0.5, 6.0), "move", a, None))
        events.sort()
        t0 = time.time()
        for when, what, a, b in events:
            time.sleep(max(0.0, t0 + when - time.time()))
            group = [a] if what == "move" else [a, b]
            for idx in group:
                proc = members[idx].proc
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)   # the container restarts
                proc.wait()
                proc.stderr.close()
            if what == "swap":
                members[a].ip, members[b].ip = members[b].ip, members[a].ip
            else:
                members[a].ip = ip_for(a, members[a].generation + 1)
            for idx in group:
                members[idx].generation += 1
                members[idx].history.append(members[idx].ip)
                _start(members[idx], env, timeout)
        failures = {}
        readback_repairs = 0
        for m in members:
            m.exit_code = m.proc.wait(timeout=timeout + 60)
            err = m.proc.stderr.read()
            m.proc.stderr.close()
            readback_repairs += err.count("code=ReadBackMismatch")
            if m.exit_code != 0:
                failures[m.name] = err.strip().splitlines()[-1:] if err else []
        result = check(emu, members, before_gw)
        counts = emu.counts()
        log = emu.log()
        puts = [e for e in log if e["kind"] == "write" and e["method"] == "PUT"]
        stale = [e for e in puts if e["status"] in (200, 201) and e.get("if_match")
                 and e["if_match"] != e.get("etag_at_arrival")
                 and e.get("resource_id") == seeds.GW_ID.lower()]
        missing = missing_members(emu, members)
        result.update({
            "violations_by_invariant": {inv: sum(1 for v in result["violations"] if v.startswith(inv))
                                        for inv in INVARIANTS},
            "missing": missing,
            "exit_codes": sorted(m.exit_code for m in members),
            "readback_repairs": readback_repairs,
            "stale_puts_accepted": len(stale),
            "stale_puts_delayed": sum(1 for e in stale if e.get("fault") == "delay"),
            "seed": seed, "n": n, "fault_rate": fault_rate, "if_match": if_match,
            "requests": counts["total"], "faults_injected": sum(1 for e in log if e["fault"]),
            "puts": len(puts), "puts_412": sum(1 for e in puts if e["status"] == 412),
            "restarts": len(singles), "swapped_pairs": len(pairs),
            "failed_processes": failures, "seconds": round(time.time() - t0, 1),
        })
        return result


def missing_members(emu, members: List[Member]) -> List[dict]:
    """Members whose current address is not in a target at the end, with their exit codes."""
    gw = emu.get(seeds.GW_ID)
    pool = next(p for p in gw["properties"]["backendAddressPools"] if p["name"] == "aci-pool")
    pool_ips = {e.get("ipAddress") for e in pool["properties"].get("backendAddresses", [])}
    dns_ips = {r["ipv4Address"] for r in emu.get(seeds.REC_ID)["properties"].get("aRecords", [])}
    out = []
    for m in members:
        where = [w for w, ips in (("pool", pool_ips), ("dns", dns_ips)) if m.ip not in ips]
        if where:
            out.append({"member": m.name, "ip": m.ip, "where": where, "exit_code": m.exit_code})
    return out


def summarise(results: List[dict], if_match: bool) -> dict:
    rs = [r for r in results if r["if_match"] == if_match]
    codes: Dict[str, int] = {}
    for r in rs:
        for m in r["missing"]:
            codes[str(m["exit_code"])] = codes.get(str(m["exit_code"]), 0) + 1
    return {
        "if_match": "enforced" if if_match else "ignored", "seeds": len(rs),
        "violations_by_invariant": {inv: sum(r["violations_by_invariant"][inv] for r in rs)
                                    for inv in INVARIANTS},
        "members_missing": sum(len(r["missing"]) for r in rs),
        "members_missing_from_pool": sum(1 for r in rs for m in r["missing"] if "pool" in m["where"]),
        "members_missing_from_dns": sum(1 for r in rs for m in r["missing"] if "dns" in m["where"]),
        "seeds_with_missing": sum(1 for r in rs if r["missing"]),
        "exit_codes_of_missing": codes,
        "failed_processes": sum(len(r["failed_processes"]) for r in rs),
        "stale_puts_accepted": sum(r["stale_puts_accepted"] for r in rs),
        "requests": sum(r["requests"] for r in rs),
        "faults": sum(r["faults_injected"] for r in rs),
    }


def check(emu, members: List[Member], before_gw: dict) -> dict:
    violations: List[str] = []
    gw = emu.get(seeds.GW_ID)
    pool = next(p for p in gw["properties"]["backendAddressPools"] if p["name"] == "aci-pool")
    entries = pool["properties"].get("backendAddresses", [])
    pool_ips = [e["ipAddress"] for e in entries if e.get("ipAddress")]
    rec = emu.get(seeds.REC_ID)
    dns_ips = [r["ipv4Address"] for r in rec["properties"].get("aRecords", [])]
    current = {m.name: m.ip for m in members}
    live = set(current.values())
    ever = {ip for m in members for ip in m.history}
    from aci_ip_registrar.ledger import ledger_from_metadata, ledger_from_tags
    ledgers = {"pool": ledger_from_tags(gw.get("tags", {}), "aci-pool"),
               "dns": ledger_from_metadata(rec["properties"].get("metadata", {}))}
    for where, ips in (("pool", pool_ips), ("dns", dns_ips)):
        # I1: every member whose final run succeeded is present.
        for m in members:
            if m.exit_code == 0 and m.ip not in ips:
                violations.append(f"I1 {where}: {m.name} {m.ip} missing")
        # I2: no stale registrar-written IP remains.
        for ip in ips:
            if ip in ever and ip not in live:
                violations.append(f"I2 {where}: stale {ip} still present")
        # I7: the ledger describes the data.
        for member, entry in ledgers[where].items():
            if entry.release:
                violations.append(f"I7 {where}: {member} still holds release {entry.release}")
            if member in current and entry.ip != current[member] and \
                    next(m for m in members if m.name == member).exit_code == 0:
                violations.append(f"I7 {where}: ledger {member}={entry.ip}, member is at "
                                  f"{current[member]}")
            if entry.ip not in ips:
                violations.append(f"I7 {where}: ledger {member}={entry.ip} not in target")
        if len(ips) != len(set(ips)):
            violations.append(f"I3 {where}: duplicate entries {sorted(ips)}")
    # I3: nothing the registrar does not own changed.
    if MANUAL_IP not in pool_ips:
        violations.append("I3 pool: manual IP lost")
    if {"fqdn": "legacy.corp.internal"} not in entries:
        violations.append("I3 pool: FQDN entry lost")
    if seeds.strip_volatile(gw) != before_gw:
        violations.append("I3 gateway: parts other than the pool and ledger changed")
    if DNS_MANUAL not in dns_ips or rec["properties"]["metadata"].get("team") != "web":
        violations.append("I3 dns: manual record or foreign metadata lost")
    # I5: every write was conditional on an etag that a read returned.
    seen_etags = set()
    for entry in emu.log():
        if entry["kind"] == "read" and entry.get("etag"):
            seen_etags.add(entry["etag"].strip('"'))
        if entry["kind"] == "write" and entry["method"] == "PUT":
            cond = (entry.get("if_match") or entry.get("if_none_match") or "").strip('"')
            if not cond:
                violations.append(f"I5: unconditional PUT at {entry['time']:.3f}")
            elif cond != "*" and cond not in seen_etags:
                violations.append(f"I5: PUT with If-Match {cond} no read returned")
    return {"violations": violations, "pool_size": len(pool_ips), "dns_size": len(dns_ips)}


def _seeds(text: str) -> List[int]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--seeds", default="1-3")
    parser.add_argument("--if-match", choices=["on", "off", "both"], default="both")
    parser.add_argument("--op-duration", type=float, default=0.2)
    parser.add_argument("--json", help="write all results to this file")
    args = parser.parse_args(argv)
    # Ignored first: it is the emulator's default and the mode Azure may have.
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.if_match]
    results = []
    for if_match in modes:
        for seed in _seeds(args.seeds):
            res = run_seed(seed, args.n, args.fault_rate, if_match, op_duration=args.op_duration)
            results.append(res)
            print(f"seed={seed} if_match={'on' if if_match else 'off'} n={args.n} "
                  f"requests={res['requests']} faults={res['faults_injected']} "
                  f"puts={res['puts']} (412: {res['puts_412']}) restarts={res['restarts']} "
                  f"swaps={res['swapped_pairs']} failed={len(res['failed_processes'])} "
                  f"readback_repairs={res['readback_repairs']} "
                  f"stale_puts_accepted={res['stale_puts_accepted']} "
                  f"(delayed {res['stale_puts_delayed']}) "
                  f"violations={res['violations_by_invariant']} missing={len(res['missing'])} "
                  f"{res['seconds']}s", flush=True)
            for v in res["violations"]:
                print(f"    {v}", flush=True)
            for m in res["missing"]:
                print(f"    missing {m['member']} {m['ip']} from {'+'.join(m['where'])} "
                      f"(exit {m['exit_code']})", flush=True)
            for name, err in res["failed_processes"].items():
                print(f"    failed {name}: {err}", flush=True)
    summary = [summarise(results, if_match) for if_match in modes]
    for s in summary:
        print(f"TOTAL if_match={s['if_match']}: seeds={s['seeds']} n={args.n} "
              f"fault_rate={args.fault_rate} requests={s['requests']} faults={s['faults']} "
              f"violations={s['violations_by_invariant']} members_missing={s['members_missing']} "
              f"(pool {s['members_missing_from_pool']}, dns {s['members_missing_from_dns']}, "
              f"in {s['seeds_with_missing']} seeds) exit_codes_of_missing={s['exit_codes_of_missing']} "
              f"failed_processes={s['failed_processes']} "
              f"stale_puts_accepted={s['stale_puts_accepted']}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"command": " ".join(sys.argv), "summary": summary,
                                               "results": results}, indent=1))
    bad = sum(len(r["violations"]) for r in results if r["if_match"])
    bad += sum(r["violations_by_invariant"][inv] for r in results if not r["if_match"] for inv in ALWAYS)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
