"""Staying right after boot, measured: one-shot registrations against a gateway that ignores
If-Match, beside watchers (issue 11) and a fleet `sync` pass (issue 12), plus the cost of staying
on duty and one sync pass over 250 groups.

    python benchmarks/duty.py                       # full size: N=50, 20% faults (about 8 min)
    python benchmarks/duty.py --n 8 --quick         # CI size (tests/test_duty_benchmark.py)

Everything runs against the loopback emulator. Each storm starts N processes within --spread
seconds; faults are spread over the busy, throttle, server-error, drop and delay kinds on every
gateway and DNS request, with probability --fault-rate. Prints a Markdown table and writes JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import seeds  # noqa: E402
from conftest import base_env, cli_path  # noqa: E402

FAULT_KINDS = ["throttle", "another_operation", "conflict", "server_error", "unavailable",
               "drop", "delay", "op_canceled"]
MANUAL, DNS_MANUAL = "10.0.2.200", "10.0.2.77"
SCOPE = f"/subscriptions/{seeds.SUB}"


def ip_for(i: int) -> str:
    return f"10.0.{3 + i // 200}.{10 + i % 200}"


def _groups(n: int) -> list:
    return [seeds.container_group(f"cg-{i:03d}", ip_for(i)) for i in range(n)]


def _state(emu, n: int) -> dict:
    gw = emu.get(seeds.GW_ID)
    pool = next(p for p in gw["properties"]["backendAddressPools"] if p["name"] == "aci-pool")
    pool_ips = {e.get("ipAddress") for e in pool["properties"].get("backendAddresses", [])}
    rec_ips = {r["ipv4Address"] for r in emu.get(seeds.REC_ID)["properties"]["aRecords"]}
    missing = [f"cg-{i:03d}" for i in range(n)
               if ip_for(i) not in pool_ips or ip_for(i) not in rec_ips]
    foreign_ok = MANUAL in pool_ips and DNS_MANUAL in rec_ips and \
        gw["tags"].get("env") == "prod" and gw["tags"].get("owner") == "platform-team"
    return {"missing": missing, "foreign_intact": foreign_ok}


def _faults(emu, rate: float, seed: int) -> None:
    for index, kind in enumerate(FAULT_KINDS):
        emu.add_fault(kind, path=r"applicationGateways|privateDnsZones",
                      probability=rate / len(FAULT_KINDS), seed=seed * 100 + index,
                      retry_after=1, delay=0.5)


def _writes(emu) -> int:
    return sum(1 for e in emu.log() if e["kind"] == "write")


def _spawn(args_for, n: int, env: dict, spread: float, rng) -> list:
    procs, t0 = [], time.time()
    for i, at in sorted(enumerate(rng.uniform(0, spread) for _ in range(n)), key=lambda x: x[1]):
        time.sleep(max(0.0, t0 + at - time.time()))
        procs.append((i, subprocess.Popen(args_for(i), env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True)))
    return procs


def storm(mode: str, n: int, rate: float, seed: int, spread: float, interval: float,
          op: float) -> dict:
    """mode: oneshot, oneshot+sync, watch or supervise."""
    from aci_ip_registrar.emulator import Emulator
    rng = random.Random(seed)
    data = seeds.seed(records=[seeds.record("app", [DNS_MANUAL])], groups=_groups(n))
    with Emulator(data, op_duration=op, retry_after=0.1) as emu:
        emu.set(enforce_if_match=False)              # the unkind side: If-Match ignored
        _faults(emu, rate, seed)
        env = base_env()
        env.update(emu.env())
        targets = ["-t", seeds.POOL_ID, "-t", seeds.REC_ID, "--poll-interval", "0.1"]
        marks = Path(os.environ.get("TMPDIR", "/tmp")) / f"duty-boots-{os.getpid()}"
        marks.mkdir(exist_ok=True)
        if mode == "watch":
            def args_for(i):
                return cli_path() + ["watch", *targets, "--member", f"cg-{i:03d}", "--ip",
                                     ip_for(i), "--interval", str(interval), "--timeout", "60"]
        elif mode == "supervise":
            def args_for(i):     # the app notes when it started: that member's boot is done
                app = f"date +%s.%N > {marks}/cg-{i:03d}; exec sleep 3600"
                return cli_path() + ["register", "--supervise", *targets, "--member",
                                     f"cg-{i:03d}", "--ip", ip_for(i), "--interval",
                                     str(interval), "--timeout", "150", "--drain-delay", "0",
                                     "--deregister-timeout", "2", "--", "sh", "-c", app]
        else:
            def args_for(i):
                return cli_path() + ["register", *targets, "--member", f"cg-{i:03d}", "--ip",
                                     ip_for(i), "--timeout", "150"]
        t0 = time.time()
        procs = _spawn(args_for, n, env, spread, rng)
        last_boot = time.time()
        result = {"mode": mode, "n": n, "fault_rate": rate, "seed": seed}
        if mode in ("watch", "supervise"):
            result.update(_watch_until_converged(emu, n, procs, last_boot, interval,
                                                 marks if mode == "supervise" else None))
        else:
            codes = {f"cg-{i:03d}": p.wait(timeout=400) for i, p in procs}
            for _, p in procs:
                p.stderr.close()
            after = _state(emu, n)
            result.update(converged_s=None if after["missing"] else round(time.time() - t0, 1),
                          missing_after_boot=len(after["missing"]),
                          missing_exit_codes=sorted({codes[m] for m in after["missing"]}),
                          nonzero_exits=sum(1 for c in codes.values() if c))
            boot_writes = _writes(emu)
            if mode == "oneshot+sync":
                result.update(_sync_pass(emu, env, n))
        final = _state(emu, n)
        writes = _writes(emu) if mode in ("watch", "supervise") else boot_writes
        result.update(missing_at_end=len(final["missing"]), foreign_intact=final["foreign_intact"],
                      writes=writes, writes_per_member=round(writes / n, 2),
                      seconds=round(time.time() - t0, 1))
        return result


def _watch_until_converged(emu, n, procs, last_boot, interval, marks=None) -> dict:
    deadline = last_boot + max(300.0, 10 * interval)
    converged = None
    while time.time() < deadline:
        if not _state(emu, n)["missing"]:
            converged = time.time()
            break
        time.sleep(0.1)
    # The last process up: its first token request (spawn times include 50 interpreters
    # starting on 2 cores).
    tokens = sorted(e["time"] for e in emu.log() if e["kind"] == "token")
    last_up = tokens[n - 1] if len(tokens) >= n else None
    within = converged is not None and converged - last_boot <= 2 * interval
    time.sleep(2 * interval)                    # still right two intervals later?
    still = _state(emu, n)
    # Read the apps' start marks only now: a member's last write shows in the emulator a few
    # milliseconds before its app starts, and each mark carries its own time anyway.
    booted = sorted(float(p.read_text()) for p in marks.iterdir()) if marks else []
    last_booted = booted[-1] if len(booted) == n else None
    for _, p in procs:
        # Measure convergence, not 50 deregistrations: watchers are killed; supervisors get
        # SIGTERM (bounded deregistration) so their apps do not outlive them.
        p.send_signal(signal.SIGTERM if marks else signal.SIGKILL)
    for _, p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stderr.close()
    return {"converged_after_last_boot_s": None if converged is None
            else round(converged - last_boot, 1), "within_two_intervals": within,
            "converged_after_last_up_s": None if converged is None or last_up is None
            else round(converged - last_up, 1),
            "members_booted": len(booted) if marks else None,
            "converged_after_last_registered_s": None if converged is None or last_booted is None
            else round(max(0.0, converged - last_booted), 1),
            "within_two_intervals_of_last_registered": None if last_booted is None
            else converged is not None and converged - last_booted <= 2 * interval,
            "missing_two_intervals_later": len(still["missing"]), "interval_s": interval}


def _sync_pass(emu, env, n) -> dict:
    emu.clear_log()
    started = time.time()
    proc = subprocess.run(cli_path() + ["sync", "--scope", SCOPE, "-t", seeds.POOL_ID, "-t",
                                        seeds.REC_ID, "--output", "json", "--poll-interval",
                                        "0.1", "--timeout", "200"],
                          env=env, capture_output=True, text=True, timeout=400)
    log = emu.log()
    gw_puts = sum(1 for e in log if e["kind"] == "write" and e["method"] == "PUT"
                  and e.get("resource_id") == seeds.GW_ID.lower())
    return {"sync_exit": proc.returncode, "sync_s": round(time.time() - started, 1),
            "sync_gateway_puts": gw_puts,
            "sync_writes": sum(1 for e in log if e["kind"] == "write"),
            "missing_after_sync": len(_state(emu, n)["missing"])}


def fleet_pass(op: float, n: int = 250) -> dict:
    """One sync pass over n groups in 3 resource groups (250: 2 list pages of 200), at a
    scaled gateway operation pace."""
    from aci_ip_registrar.emulator import Emulator
    groups = []
    for i in range(n):
        g = seeds.container_group(f"cg-{i:03d}", ip_for(i))
        g["id"] = g["id"].replace("/resourceGroups/rg-net/", f"/resourceGroups/rg-app-{i % 3}/")
        groups.append(g)
    data = seeds.seed(records=[seeds.record("app", [DNS_MANUAL])], groups=groups)
    with Emulator(data, op_duration=op, retry_after=max(0.1, op / 10)) as emu:
        emu.set(page_size=200, enforce_if_match=False)
        env = base_env()
        env.update(emu.env())
        started = time.time()
        proc = subprocess.run(cli_path() + ["sync", "--scope", SCOPE, "-t", seeds.POOL_ID,
                                            "-t", seeds.REC_ID, "--output", "json",
                                            "--poll-interval", "0.1", "--timeout", "300"],
                              env=env, capture_output=True, text=True, timeout=600)
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        log = emu.log()
        return {"exit": proc.returncode, "seconds": round(time.time() - started, 1),
                "op_duration_s": op, "arm": out["arm"],
                "gateway_puts": sum(1 for e in log if e["kind"] == "write"
                                    and e.get("resource_id") == seeds.GW_ID.lower()),
                "requests": {k: v for k, v in emu.counts().items()},
                "groups": n, "missing": len(_state(emu, n)["missing"])}


def idle_cost(interval: float, seconds: float) -> dict:
    """RSS and CPU of an idle watcher and an idle supervisor over `seconds`, and reads/hour."""
    from aci_ip_registrar.emulator import Emulator
    out = {}
    with Emulator(seeds.seed(records=[seeds.record("app", [])]), op_duration=0.1,
                  retry_after=0.05) as emu:
        env = base_env()
        env.update(emu.env())
        common = ["-t", seeds.POOL_ID, "-t", seeds.REC_ID, "--member", "cg-000", "--ip",
                  ip_for(0), "--interval", str(interval), "--poll-interval", "0.1"]
        for name, args in (("watch", ["watch", *common]),
                           ("supervise", ["register", "--supervise", *common, "--", "sleep",
                                          "3600"])):
            proc = subprocess.Popen(cli_path() + args, env=env, stderr=subprocess.DEVNULL)
            time.sleep(3.0)                      # registered and idle
            emu.clear_log()
            cpu0 = _cpu(proc.pid)
            time.sleep(seconds)
            reads = sum(1 for e in emu.log() if e["kind"] == "read")
            out[name] = {"rss_mb": _rss_mb(proc.pid), "cpu_s": round(_cpu(proc.pid) - cpu0, 3),
                         "over_s": seconds, "reads": reads,
                         "reads_per_hour_at_60s": round(reads / seconds * interval / 60 * 3600)}
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    return out


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--fault-rate", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--spread", type=float, default=3.0, help="boot window, seconds")
    ap.add_argument("--interval", type=float, default=5.0, help="watcher interval, seconds")
    ap.add_argument("--op", type=float, default=0.5, help="gateway operation, seconds")
    ap.add_argument("--quick", action="store_true", help="skip the 250-group pass and idle cost")
    ap.add_argument("--modes", default="oneshot,oneshot+sync,watch,supervise",
                    help="storms to run (comma-separated)")
    ap.add_argument("--out", default=str(HERE / "results" / "duty.json"))
    args = ap.parse_args(argv)
    results = {"storms": [storm(mode, args.n, args.fault_rate, args.seed, args.spread,
                                args.interval, args.op)
                          for mode in args.modes.split(",")]}
    if not args.quick:
        results["fleet"] = [fleet_pass(args.op, n) for n in (10, 50, 250)]
        results["idle"] = idle_cost(interval=2.0, seconds=10.0)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))
    return 0


def _within(flag, interval) -> str:
    return f"{'within' if flag else 'NOT within'} two {interval:g} s intervals"


def _storm_cells(r: dict):
    """(time to converge, notes) for one storm row."""
    if r["mode"] in ("watch", "supervise"):
        notes = f"missing two intervals later: {r['missing_two_intervals_later']}"
        if r["mode"] == "supervise":
            return (f"{r['converged_after_last_registered_s']} s after the last member finished "
                    f"registering and started its app "
                    f"({_within(r['within_two_intervals_of_last_registered'], r['interval_s'])}); "
                    f"{r['converged_after_last_boot_s']} s after the last process started", notes)
        return (f"{r['converged_after_last_boot_s']} s after the last process started, "
                f"{r.get('converged_after_last_up_s')} s after the last one was up "
                f"({_within(r['within_two_intervals'], r['interval_s'])} of the start)", notes)
    if r["mode"] == "oneshot":
        conv = "never (nothing runs after exit)" if r["missing_at_end"] else \
            f"{r['converged_s']} s"
        return conv, (f"exit codes of the missing: {r['missing_exit_codes'] or '-'}; "
                      f"non-zero exits: {r['nonzero_exits']}")
    return (f"one sync pass ({r['sync_s']} s, exit {r['sync_exit']})",
            f"missing after boot {r['missing_after_boot']}, after sync "
            f"{r['missing_after_sync']}; gateway PUTs in the pass: {r['sync_gateway_puts']}")


def table(results: dict) -> str:
    rows = ["| run | members missing at the end | writes per member | time to converge | "
            "notes |", "|---|---:|---:|---|---|"]
    for r in results["storms"]:
        conv, notes = _storm_cells(r)
        rows.append(f"| {r['mode']} (N={r['n']}, {r['fault_rate']:.0%} faults, If-Match "
                    f"ignored) | {r['missing_at_end']} | {r['writes_per_member']} | {conv} | "
                    f"{notes}; foreign intact: {r['foreign_intact']} |")
    if "fleet" in results:
        rows += ["\nOne `sync` pass (groups in 3 resource groups, list pages of 200, gateway "
                 f"operation {results['fleet'][0]['op_duration_s']} s):\n",
                 "| groups | list pages | group GETs | target reads | target writes | gateway "
                 "PUTs | seconds | missing |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for f in results["fleet"]:
            a = f["arm"]
            rows.append(f"| {f['groups']} | {a['list_pages']} | {a['group_reads']} | "
                        f"{a['target_reads']} | {a['target_writes']} | {f['gateway_puts']} | "
                        f"{f['seconds']} | {f['missing']} |")
    if "idle" in results:
        for name, c in results["idle"].items():
            rows.append(f"\nidle {name}: RSS {c['rss_mb']} MB, CPU {c['cpu_s']} s over "
                        f"{c['over_s']} s, reads per hour per member at the default 60 s "
                        f"interval: {c['reads_per_hour_at_60s']}")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
