#!/usr/bin/env python3
"""Benchmarks of aci-ip-registrar against the loopback emulator, with the Azure CLI as baseline.

    python benchmarks/run.py                 # the registrar, import floor, fleet, sizes
    python benchmarks/run.py --with-az       # ... and the Azure CLI startup script
    python benchmarks/run.py --tiny --out X  # CI smoke size: a few runs, a fleet of 3, no az

Prints a table and writes JSON to benchmarks/results/. See benchmarks/README.md for what every
figure means. Nothing leaves 127.0.0.1: the run re-executes itself inside a network namespace that
has only loopback (`unshare -n`) when it can, and records the interfaces it saw.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))  # the shared seed builder (tests/seeds.py)

import _analysis as A  # noqa: E402
from _az import (AZ_VENV, SIZE_VENV, AzCli, az_version, ensure_az_venv,  # noqa: E402
                 ensure_size_venv, installed_size, tree_hash)
from _imds import imds_env  # noqa: E402
from _proc import DATE, STAMP, Proc, base_env, registrar_cmd, run, self_check  # noqa: E402

SCHEMA = 2
# "The import floor" (issue 14): importing the SDK a Python tool for this job would use. Every
# registrar row is a ratio to FLOOR, and to the stdlib limit of the same targets (LIMIT).
FLOOR = "floor:pool"
FLOORS = {
    "pool": ("azure.identity", "azure.mgmt.network"),
    "pool+dns": ("azure.identity", "azure.mgmt.network", "azure.mgmt.privatedns"),
    "dns": ("azure.identity", "azure.mgmt.privatedns"),
}
CONFIGS = ("pool", "dns", "pool+dns")
RESOURCES = {"pool": 1, "dns": 1, "pool+dns": 2}
PACKAGES = ("aci-ip-registrar", "azure-identity", "azure-core", "azure-mgmt-core",
            "azure-mgmt-network", "azure-mgmt-privatedns", "msal", "cryptography", "requests",
            "click", "tenacity")


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# -- the machine ----------------------------------------------------------------------------------
def machine(packages: Dict[str, Optional[str]]) -> Dict[str, Any]:
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = round(kb / 2**20, 1)
    except (OSError, AttributeError):
        pass
    commit = None
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    dirty = None
    try:
        dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                                     "aci_ip_registrar", "pyproject.toml"],
                                    capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "ram_gib": ram,
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "python_executable": sys.executable,
            "packages": packages, "git_commit": commit, "package_uncommitted_changes": dirty,
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


def network_state(isolated_by: Optional[str]) -> Dict[str, Any]:
    """The interfaces of this process's network namespace (/proc/self/net/dev is per namespace;
    /sys/class/net is not, unless sysfs is remounted)."""
    try:
        lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
        ifaces = sorted(line.split(":", 1)[0].strip() for line in lines if ":" in line)
    except OSError:
        ifaces = []
    return {"isolated": bool(isolated_by) and ifaces == ["lo"], "method": isolated_by,
            "interfaces": ifaces}


def can_unshare() -> bool:
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    try:
        return subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"],
                              capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


# -- the measured interpreter ----------------------------------------------------------------------
# An editable install's .pth imports setuptools' finder (pathlib, re, importlib.util, ...) at every
# interpreter start, which the stdlib limit pays and the registrar mostly would anyway: an editable
# venv flatters the ratios. Users run a normal install, so that is measured by default.
PROBE = HERE / "_probe.py"


def measured_python(a, prep: Dict[str, Any]) -> Optional[str]:
    if a.interpreter == "current":
        return sys.executable
    venv = (prep.get("size") or {}).get("path")
    return str(Path(venv) / "bin" / "python") if venv else None


def _shown(path: str) -> str:
    try:
        return str(Path(path).relative_to(ROOT))
    except ValueError:
        return path


def measured_with(a, py: str, env: Dict[str, str], prep: Dict[str, Any]) -> Dict[str, Any]:
    """What the series ran with, as the measured interpreter reports it."""
    got = subprocess.run([py, str(PROBE), *PACKAGES], env=env, capture_output=True, text=True,
                         timeout=120)
    if got.returncode != 0:
        return {"interpreter": a.interpreter, "python": py, "error": got.stderr[-600:]}
    info = json.loads(got.stdout)
    install = {True: "editable", False: "pip install . (not editable)",
               None: "not installed"}[info.pop("editable")]
    out = {"interpreter": a.interpreter, **info, "install": install,
           "pythonpath": os.environ.get("PYTHONPATH")}
    if a.interpreter == "installed":
        stamp = SIZE_VENV / ".bench-ok"
        out.update(venv=_shown(info["prefix"]), built=(prep.get("size") or {}).get("how"),
                   source_hash=stamp.read_text().strip() if stamp.exists() else None,
                   from_venv=info["package_file"].startswith(info["prefix"] + os.sep))
    else:
        out["note"] = ("the running interpreter (--interpreter current, the default with --tiny "
                       "to keep CI fast): an editable install pays setuptools' editable finder "
                       "at every start")
    return out


def measured_line(mw: Dict[str, Any]) -> str:
    where = _shown(mw.get("python") or "?")
    if mw.get("interpreter") == "current":
        where += ", the running interpreter"
    return f"measured with: {mw.get('install', 'unknown install')} ({where})"


# -- the seed ---------------------------------------------------------------------------------------
def make_seed(records=(), gateway_tags=None):
    import seeds
    gw = seeds.gateway(tags=gateway_tags) if gateway_tags is not None else None
    return seeds.seed(gw=gw, records=[seeds.record(name) for name in records])


def ids():
    import seeds
    return seeds


# -- one measured registrar run -------------------------------------------------------------------
class Series:
    """Repeated runs of one thing; each run returns a sample dict with at least 'wall'."""

    def __init__(self, key: str, label: str, fn: Callable[[int], Dict[str, Any]], command: str):
        self.key, self.label, self.fn, self.command = key, label, fn, command
        self.samples: List[Dict[str, Any]] = []
        self.warm: List[Dict[str, Any]] = []
        self.i = 0

    def step(self, warm: bool = False) -> None:
        self.i += 1
        sample = self.fn(self.i)
        (self.warm if warm else self.samples).append(sample)

    def summary(self) -> Dict[str, Any]:
        ok = [s for s in self.samples if s.get("ok")]
        bad = [s for s in self.samples if not s.get("ok")]
        out: Dict[str, Any] = {
            "label": self.label, "command": self.command, "runs": len(self.samples),
            "failures": len(bad),
            "wall_s": A.summary([s["wall"] for s in ok]),
            # Round by round (None: failed), for ratios paired per round (paired() below).
            "wall_by_round": [round(s["wall"], 5) if s.get("ok") else None for s in self.samples],
            "rss_mb": A.summary([s["rss_mb"] for s in ok], 1),
            "cpu_s": A.summary([s.get("cpu") for s in ok]),
        }
        if bad:
            out["errors"] = [s.get("error") for s in bad[:3]]
        if ok and "counts" in ok[0]:
            out["requests_per_run"] = {k: statistics.median(s["counts"][k] for s in ok)
                                       for k in A.KINDS}
            out["request_patterns"] = A.distinct(s["pattern"] for s in ok)
            out["per_resource"] = [json.loads(p["pattern"]) for p in
                                   A.distinct(json.dumps(s["per_resource"], sort_keys=True)
                                              for s in ok)]
            out["first_request_s"] = A.summary([s.get("first_request") for s in ok])
            out["timeline"] = timeline(ok)
            firsts = [g for s in ok for g in s.get("gaps", {}).get("first", [])]
            betweens = [g for s in ok for g in s.get("gaps", {}).get("between", [])]
            if firsts or betweens:
                out["polling"] = {"put_to_first_poll_s": A.summary(firsts),
                                  "between_polls_s": A.summary(betweens),
                                  "op_wait_s": A.summary([s.get("op_wait") for s in ok])}
        if ok and "steps" in ok[0]:
            out["steps"] = {name: {"wall_s": A.summary([s["steps"][name]["wall"] for s in ok]),
                                   "rss_mb": A.summary([s["steps"][name]["rss_mb"] for s in ok], 1)}
                            for name in ok[0]["steps"]}
        return out


def sample_from(res, emu=None, expect_code: int = 0) -> Dict[str, Any]:
    s: Dict[str, Any] = {"wall": res.wall, "rss_mb": round(res.rss_mb, 1), "code": res.code,
                         "cpu": res.cpu_s, "ok": res.code == expect_code and res.wall is not None}
    if not s["ok"]:
        s["error"] = f"exit {res.code}: {res.tail(600)}"
    if emu is not None:
        entries = emu.log()
        s.update(counts=A.counts(entries), pattern=A.pattern(entries),
                 per_resource=A.per_resource(entries), gaps=A.poll_gaps(entries),
                 op_wait=round(A.op_wait(entries), 4),
                 first_request=(entries[0]["time"] - res.start) if entries else None,
                 timeline=[(_mark(e), round(e["time"] - res.start, 4)) for e in entries])
    return s


def _mark(e: Dict[str, Any]) -> str:
    return A.pattern([e])


def timeline(ok: List[Dict[str, Any]]) -> Optional[List[Dict[str, Any]]]:
    """Median time from process start to each request, over the runs with the commonest
    request sequence, then the app's start: where a boot's time goes."""
    if not ok or "timeline" not in ok[0]:
        return None
    common = A.distinct(s["pattern"] for s in ok)[0]["pattern"]
    runs = [s for s in ok if s["pattern"] == common]
    rows = []
    for i, (mark, _) in enumerate(runs[0]["timeline"]):
        rows.append({"request": mark, "at_s": round(statistics.median(r["timeline"][i][1]
                                                                      for r in runs), 4)})
    rows.append({"request": "app starts", "at_s": round(statistics.median(r["wall"]
                                                                          for r in runs), 4)})
    return rows


def floor_series(key: str, modules, env, py: str) -> Series:
    code = f"import {', '.join(modules)}; import os; os.execv({DATE!r}, {STAMP!r})"
    argv = [py, "-c", code]

    def one(_i: int) -> Dict[str, Any]:
        return sample_from(run(argv, env, timeout=120))
    return Series(f"floor:{key}", f"import floor: {' + '.join(m.replace('azure.', '') for m in modules)}",
                  one, f'python -c "import {", ".join(modules)}"')


def registrar_argv(py: str, targets: List[str], member: str, ip: str, extra=(), command=True,
                   cmd: Optional[List[str]] = None) -> List[str]:
    argv = (cmd or registrar_cmd(py)) + ["register"]
    for t in targets:
        argv += ["-t", t]
    argv += ["--member", member, "--ip", ip, *extra]
    if command:
        argv += ["--", *STAMP]
    return argv


def registrar_series(key: str, label: str, emu, env, py: str, targets: List[str], member: str,
                     ip_for: Callable[[int], str], extra=(), cmd: Optional[List[str]] = None,
                     shown_cmd: str = "aci-ip-registrar", cwd: Optional[str] = None) -> Series:
    def one(i: int) -> Dict[str, Any]:
        emu.clear_log()
        res = run(registrar_argv(py, targets, member, ip_for(i), extra=extra, cmd=cmd), env,
                  timeout=180, cwd=cwd)
        return sample_from(res, emu)
    shown = " ".join([f"{shown_cmd} register"] + [f"-t {t.split('/providers/')[1]}"
                                                  for t in targets]
                     + list(extra) + [f"--member {member} --ip IP -- date +%s.%N"])
    return Series(key, label, one, shown)


REFERENCE = HERE / "reference_boot.py"


def limit_series(key: str, label: str, emu, env, py: str, resource_ids: List[str], ip: str,
                 perm_scopes: Optional[List[str]] = None) -> Series:
    """The stdlib reference: one token, one GET per resource over one TLS connection, exec. With
    perm_scopes, the limit of a run that would write: the IP must be absent, and the permission
    reads of those scopes follow on the same connection."""
    opts = ["--absent"] + [x for sc in perm_scopes for x in ("--perm", sc)] \
        if perm_scopes is not None else []
    argv = [py, str(REFERENCE), *opts, ip, *resource_ids, "--", *STAMP]

    def one(_i: int) -> Dict[str, Any]:
        emu.clear_log()
        return sample_from(run(argv, env, timeout=120), emu)
    shown = ["--absent"] + [f"--perm {sc.split('/providers/')[-1]}" for sc in perm_scopes] \
        if perm_scopes is not None else []
    return Series(key, label, one, "python benchmarks/reference_boot.py "
                  + " ".join(shown + ["IP"] + [r.split("/providers/")[1] for r in resource_ids])
                  + " -- date +%s.%N")


def dry_run_reads(emu, env, py: str, targets: List[str], member: str, ip: str):
    """The resources and the permission scopes one (unmeasured) dry run reads, from the
    emulator's log, so the dry run's limit makes exactly its requests."""
    emu.clear_log()
    r = run(registrar_argv(py, targets, member, ip, extra=("--dry-run",)), env, timeout=180)
    if r.code != 0:
        log(f"setup dry run failed: {r.tail()}")
        return None
    reads: List[str] = []
    scopes: List[str] = []
    for e in emu.log():
        scope = A.permission_scope(e)
        if scope is not None:
            if scope not in scopes:  # a nextLink page asks the same scope again
                scopes.append(scope)
        elif e.get("kind") == "read" and e["path"] not in reads:
            reads.append(e["path"])
    return reads, scopes


def export_ref(ref: str, dest: Path) -> Optional[str]:
    """The package as committed at `ref` (git archive), for the "today" series. Returns the
    commit, or None when git cannot produce it."""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref],
                                capture_output=True, text=True, timeout=30, check=True).stdout.strip()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref,
                                  "aci_ip_registrar"], capture_output=True, timeout=60, check=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True,
                       timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return commit


def az_series(key: str, label: str, emu, az: AzCli, change: bool) -> Series:
    seeds = ids()
    state = {"ip": None}

    def one(i: int) -> Dict[str, Any]:
        pool = emu.get(seeds.POOL_ID)
        entries = [a.get("ipAddress") or a.get("fqdn") for a in
                   pool["properties"].get("backendAddresses", [])]
        entries = [e for e in entries if e]
        if change or state["ip"] is None:
            new = f"10.0.6.{(i % 240) + 2}"
            entries = [e for e in entries if e != state["ip"]] + [new]
            state["ip"] = new
        emu.clear_log()
        out = az.script(seeds.RG, seeds.GW, "aci-pool", entries)
        entries_log = emu.log()
        s = {"wall": out["wall"], "rss_mb": round(out["rss_kb"] / 1024, 1), "code": out["code"],
             "cpu": out["cpu_s"],
             "ok": out["code"] == 0 and out["wall"] is not None, "steps": out["steps"],
             "counts": A.counts(entries_log), "pattern": A.pattern(entries_log),
             "per_resource": A.per_resource(entries_log), "gaps": A.poll_gaps(entries_log),
             "op_wait": round(A.op_wait(entries_log), 4),
             "first_request": (entries_log[0]["time"] - out["start"]) if entries_log else None,
             "timeline": [(_mark(e), round(e["time"] - out["start"], 4)) for e in entries_log]}
        if not s["ok"]:
            s["error"] = out["stderr"]
        return s
    cmd = ("az login --identity -o none && az network application-gateway address-pool update "
           "-g rg-net --gateway-name agw-prod -n aci-pool --servers <pool's entries"
           + (" with this member's new IP" if change else ", unchanged") + "> -o none && date +%s.%N")
    return Series(key, label, one, cmd)


# -- extra views of one registrar boot --------------------------------------------------------
# First what a no-op boot loads, then what only the floor (and a retry, a write, a proxy or an
# SDK client's fallback transport) adds.
IMPORT_STEPS = ("azure.core", "azure.core.pipeline.transport", "click", "aci_ip_registrar.cli",
                "aci_ip_registrar.runner", "aci_ip_registrar.transport", "aci_ip_registrar.pipeline",
                "aci_ip_registrar.identity", "aci_ip_registrar.targets.appgw",
                "aci_ip_registrar.targets.private_dns", "azure.mgmt.core", "tenacity",
                "azure.core.pipeline.transport._requests_basic", "azure.identity", "msal",
                "azure.mgmt.network", "azure.mgmt.privatedns")


def import_steps_view(env, py: str) -> Dict[str, Any]:
    """One interpreter imports the registrar's dependencies one after the other and records its
    peak RSS and the clock after each: what the memory and the start-up are made of."""
    code = ("import json, resource, sys, time; t0 = time.perf_counter(); out = [['python', "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 0.0]]\n"
            f"for m in {list(IMPORT_STEPS)!r}:\n"
            "    __import__(m); out.append([m, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
            " time.perf_counter() - t0])\n"
            "print(json.dumps(out))")
    rows = []
    for _ in range(3):
        res = run([py, "-c", code], env, timeout=120)
        if res.code != 0:
            return {"error": res.tail()}
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    steps = []
    prev_kb, prev_t = 0, 0.0
    for i, (name, _kb, _t) in enumerate(rows[0]):
        kb = statistics.median(r[i][1] for r in rows)
        t = statistics.median(r[i][2] for r in rows)
        steps.append({"import": name, "peak_rss_mb": round(kb / 1024, 1),
                      "adds_mb": round((kb - prev_kb) / 1024, 1),
                      "adds_s": round(t - prev_t, 4)})
        prev_kb, prev_t = kb, t
    return {"steps": steps, "runs": len(rows),
            "how": "one interpreter imports these in order; peak RSS (ru_maxrss) and elapsed "
                   "time after each, median of 3"}


WATCHED = ("azure.core", "azure.mgmt.core", "azure.mgmt.network", "azure.mgmt.privatedns",
           "azure.mgmt.containerinstance", "azure.identity", "msal", "cryptography", "tenacity",
           "asyncio", "requests", "urllib3")


def importtime_view(emu, env, py: str, targets, member, ip) -> Dict[str, Any]:
    argv = registrar_argv(py, targets, member, ip)
    argv = [py, "-X", "importtime"] + (argv[1:] if argv[0] == py else argv)
    emu.clear_log()
    res = run(argv, env, timeout=180)
    out = A.importtime(res.stderr)
    names = {line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines()
             if line.startswith("import time:")}
    out["imported_sdk"] = sorted(n for n in names if n in WATCHED)
    out["wall_s_with_importtime"] = round(res.wall, 4) if res.wall else None
    out["exit"] = res.code
    out["command"] = "python -X importtime $(which aci-ip-registrar) register ... (a no-op boot)"
    return out


def profile_view(emu, env, py: str, targets, member, ip) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        prof = os.path.join(tmp, "boot.prof")
        argv = registrar_argv(py, targets, member, ip, command=False)
        script = argv[0] if argv[0] != py else None
        argv = ([py, "-m", "cProfile", "-o", prof, script] + argv[1:] if script
                else [py, "-m", "cProfile", "-o", prof, "-m"] + argv[2:])
        emu.clear_log()
        res = run(argv, env, timeout=180)
        if res.code != 0 or not os.path.exists(prof):
            return {"exit": res.code, "error": res.tail()}
        return {"exit": res.code, "command": "python -m cProfile $(which aci-ip-registrar) "
                "register ... (no command to exec, so the profile is written)",
                **A.profile_summary(prof)}


def connect_audit(argvs: Dict[str, List[str]], env) -> Dict[str, Any]:
    """Every connect() the processes made (strace -f), by destination."""
    strace = shutil.which("strace")
    if not strace:
        return {"measured": False, "reason": "strace not installed"}
    out: Dict[str, Any] = {"measured": True}
    pat = re.compile(r'connect\(\d+, \{sa_family=(AF_\w+)(?:, sin6?_port=htons\((\d+)\))?'
                     r'(?:, (?:sin_addr=inet_addr\("([^"]+)"\)|sin6_addr=inet_pton\(AF_INET6, '
                     r'"([^"]+)"\)|sun_path="([^"]*)"))?')
    for name, argv in argvs.items():
        with tempfile.NamedTemporaryFile(prefix="bench-strace-", delete=False) as fh:
            trace = fh.name
        try:
            res = run([strace, "-f", "-qq", "-e", "trace=connect", "-o", trace, *argv], env,
                      timeout=300)
            dests: Dict[str, int] = {}
            for line in Path(trace).read_text(errors="replace").splitlines():
                m = pat.search(line)
                if not m:
                    continue
                fam, port, v4, v6, unix = m.groups()
                key = (f"{v4}:{port}" if v4 else f"[{v6}]:{port}" if v6 else
                       f"unix:{unix}" if unix is not None else fam)
                dests[key] = dests.get(key, 0) + 1
            out[name] = {"exit": res.code, "connects": dests,
                         "only_loopback": all(k.startswith(("127.", "[::1]", "unix:", "AF_UNSPEC"))
                                              for k in dests)}
        finally:
            os.unlink(trace)
    return out


# -- the fleet ------------------------------------------------------------------------------------------
def fleet(py: str, n: int, op_duration: float, retry_after: float, timeout: float,
          gateway_tags: Optional[Dict[str, str]] = None, while_busy: str = "wait") -> Dict[str, Any]:
    """N registrars started together against one pool of the seed's gateway (which carries two
    tags of its own; gateway_tags replaces them)."""
    from aci_ip_registrar.emulator import Emulator
    seeds = ids()
    members = {f"fleet-{i:02d}": f"10.0.3.{i + 10}" for i in range(n)}
    # Explicit knobs (the emulator's defaults are Azure's): the benchmark scales Azure's ~10 s
    # Retry-After down to retry_after, which needs the decimal form; the fleet measures convergence
    # with If-Match enforced (lost updates in both modes: benchmarks/lost_updates.py).
    with Emulator(make_seed(gateway_tags=gateway_tags), op_duration=op_duration,
                  retry_after=retry_after, integer_retry_after=False, enforce_if_match=True) as emu:
        env = base_env(emu.env())
        before = emu.get(seeds.POOL_ID)["properties"]["backendAddresses"]
        tags_before = dict(emu.get(seeds.GW_ID).get("tags") or {})
        emu.clear_log()
        t0 = time.time()
        extra = ("--output", "json", "--while-busy", while_busy)
        procs = {m: Proc(registrar_argv(py, [seeds.POOL_ID], m, ip, extra=extra), env)
                 for m, ip in members.items()}
        spawned = time.time() - t0
        results = {m: p.wait(timeout) for m, p in procs.items()}
        entries = emu.log()
        final = emu.get(seeds.POOL_ID)["properties"]["backendAddresses"]
        gw = emu.get(seeds.GW_ID)
    held = {a.get("ipAddress") for a in final if a.get("ipAddress")}
    ok = {m for m, r in results.items() if r.code == 0 and r.ran_at}
    lost = sorted(m for m in ok if members[m] not in held)
    kept_manual = all(a in final for a in before)
    try:  # the package's own reader, so the check follows its ledger format
        from aci_ip_registrar.ledger import ledger_from_tags
        ledger = ledger_from_tags(gw.get("tags") or {}, "aci-pool")
        ledger_ok: Optional[bool] = all(m in ledger and ledger[m].ip == members[m] for m in ok)
    except (ImportError, AttributeError, TypeError):
        ledger_ok = None
    # PUTs and what became of them.
    op_final: Dict[str, str] = {}
    for e in entries:
        if e.get("op_id") and e.get("op_status"):
            op_final[e["op_id"]] = e["op_status"]
    puts = [e for e in entries if e["method"] == "PUT" and A.resource_of(e) == "gw"]
    outcome: Dict[str, int] = {}
    for e in puts:
        st = int(e.get("status") or 0)
        if st in (200, 201):
            key = {"Succeeded": "succeeded", "Canceled": "canceled (superseded)",
                   "Failed": "failed"}.get(op_final.get(e.get("op_id")), "never settled")
        else:
            key = f"rejected {st}" + (f" {e['error_code']}" if e.get("error_code") else "")
        outcome[key] = outcome.get(key, 0) + 1
    wasted = len(puts) - outcome.get("succeeded", 0)
    retry_codes: Dict[str, int] = {}
    attempts = []
    for r in results.values():
        for line in r.stderr.splitlines():
            m = re.search(r"retrying target=.* code=(\S+)", line)
            if m:
                retry_codes[m.group(1)] = retry_codes.get(m.group(1), 0) + 1
        for line in r.stdout.splitlines():
            if line.startswith("{"):
                try:
                    doc = json.loads(line)
                    attempts += [t.get("attempts", 1) for t in doc.get("targets", [])]
                except ValueError:
                    pass
    done = [results[m].ran_at - t0 for m in ok]
    codes: Dict[str, int] = {}
    for r in results.values():
        codes[str(r.code)] = codes.get(str(r.code), 0) + 1
    failures = [f"{m}: exit {r.code}: {r.tail(300)}" for m, r in results.items() if m not in ok]
    gaps = A.poll_gaps(entries)
    busy = A.gateway_busy(entries, op_duration)
    return {
        "members": n, "while_busy": while_busy, "op_duration_s": op_duration,
        "retry_after_s": retry_after,
        "gateway_tags_before": len(tags_before), "gateway_tags_after": len(gw.get("tags") or {}),
        "spawn_spread_s": round(spawned, 3),
        "all_registered_s": round(max(done), 3) if len(ok) == n else None,
        "member_registered_s": A.summary(done, 3),
        "exit_codes": codes, "registered": len(ok), "failed": n - len(ok),
        "failures": failures[:3],
        "puts": len(puts), "puts_per_member": round(len(puts) / n, 2),
        "put_outcomes": outcome, "wasted_puts": wasted,
        "lost_updates": len(lost), "lost_members": lost,
        "manual_entries_kept": kept_manual, "ledger_matches": ledger_ok,
        "final_pool_ips": len(held),
        "requests": A.counts(entries),
        "reads_per_member": round(A.counts(entries)["reads"] / n, 2),
        "gateway_busy_fraction": busy["busy_fraction"],
        "gateway_idle_between_ops_s": busy["idle_gaps_s"],
        "attempts_per_member": A.summary(attempts, 2),
        "retries_by_code": retry_codes,
        "between_polls_s": A.summary(gaps["between"]),
        "peak_rss_mb": A.summary([r.rss_mb for r in results.values()], 1),
    }


# -- targets -------------------------------------------------------------------------------------------
def limit_of(key: str) -> str:
    """The stdlib limit a series is held to: a dry run that would write, the one with its
    permission reads; every other series, the plain one of its targets."""
    cfg = key.split(":")[-1] if not key.startswith("az:") else "pool"
    return f"limit:dryrun:{cfg}" if "dryrun:" in key else f"limit:{cfg}"


def paired(series: Dict[str, Any], key: str, base: str) -> Optional[float]:
    """Median over rounds of key's wall / base's wall in the same round (issue 14 measures its
    ratios this way). Every round runs each series once, back to back, so a machine whose speed
    drifts (a shared VM: by half over minutes here) moves both alike; the ratio of two medians
    taken minutes apart does not."""
    a = (series.get(key) or {}).get("wall_by_round") or []
    b = (series.get(base) or {}).get("wall_by_round") or []
    ratios = [x / y for x, y in zip(a, b) if x and y]
    return round(statistics.median(ratios), 4) if ratios else None


def evaluate(res: Dict[str, Any], retry_after: float) -> List[Dict[str, Any]]:
    s, t = res["series"], []

    def med(key, what="wall_s"):
        return ((s.get(key) or {}).get(what) or {}).get("median")

    def add(target, figure, met):
        t.append({"target": target, "figure": figure, "met": met})

    def ratio(key, base):
        """(the per-round ratio, the target's figure; its text, with the ratio of the medians)"""
        p, reg, ref = paired(s, key, base), med(key), med(base)
        if p is None or not (reg and ref):
            return None, "n/a"
        return p, f"{p:.2f}x per round (medians {reg:.3f} s / {ref:.3f} s = {reg / ref:.2f}x)"

    for mode, name in (("noop", "no-op boot"), ("dryrun", "--dry-run")):
        for cfg in CONFIGS:
            lkey = limit_of(f"{mode}:{cfg}")
            r, text = ratio(f"{mode}:{cfg}", FLOOR)
            add(f"{name} ({cfg}) <= 0.4 x import floor (identity + mgmt.network)", text,
                r is not None and r <= 0.4)
            r, text = ratio(f"{mode}:{cfg}", lkey)
            add(f"{name} ({cfg}) <= 2.5 x stdlib limit ({cfg})" if mode == "noop" else
                f"{name} ({cfg}) <= 2.5 x stdlib limit with its permission reads ({lkey})",
                text, r is not None and r <= 2.5)
    for cfg in CONFIGS:
        rows = (s.get(f"noop:{cfg}") or {}).get("per_resource") or []
        good = bool(rows) and all(len(row) == RESOURCES[cfg] and
                                  all(v["reads"] == 1 and v["writes"] == 0 and v["polls"] == 0
                                      for v in row.values()) for row in rows)
        add(f"no-op boot ({cfg}): one read per resource, no writes", json.dumps(rows), good)
    for cfg in CONFIGS:
        rows = (s.get(f"dryrun:{cfg}") or {}).get("per_resource") or []
        good = bool(rows) and all(all(v["reads"] == 1 and v["writes"] == 0 for v in row.values())
                                  for row in rows)
        add(f"--dry-run ({cfg}): one read per resource, no writes", json.dumps(rows), good)
    for cfg in ("pool", "pool+dns"):
        rows = (s.get(f"change:{cfg}") or {}).get("per_resource") or []
        good = bool(rows) and all(
            all(v["reads"] == 1 and v["writes"] == 1 and
                v["readbacks"] == (1 if k == "gw" else 0) for k, v in row.items())
            for row in rows)
        add(f"change boot ({cfg}): one read + one write per resource, one read-back for the "
            "gateway", json.dumps(rows), good)
    for cfg in ("pool", "pool+dns"):
        new, old = med(f"change:{cfg}"), med(f"today:change:{cfg}")
        base = (res.get("baseline") or {}).get("ref") or "today"
        add(f"change boot ({cfg}) no slower than {base} (same run)",
            f"{new:.3f} s vs {old:.3f} s ({new / old:.2f}x)" if new and old
            else "baseline not measured", (new <= old) if new and old else None)
    polling = (s.get("change:pool+dns") or {}).get("polling") or {}
    worst = max(filter(None, [(polling.get("between_polls_s") or {}).get("max"),
                              (polling.get("put_to_first_poll_s") or {}).get("max")]), default=None)
    add("change boot: polls at the service's cadence (Retry-After "
        f"{retry_after:g} s), no 30 s sleeps",
        f"median gap {(polling.get('between_polls_s') or {}).get('median')} s, "
        f"longest {worst} s" if worst is not None else "no polls seen",
        worst is not None and worst <= retry_after + 0.25)
    for cfg in CONFIGS:
        peak = ((s.get(f"noop:{cfg}") or {}).get("rss_mb") or {}).get("max")
        add(f"peak RSS of a no-op boot ({cfg}) <= 40 MB (max of the runs)",
            f"{peak:.1f} MB (import floor {med(FLOOR, 'rss_mb') or 0:.1f} MB)" if peak else "n/a",
            peak is not None and peak <= 40)
    az = med("az:noop")
    for cfg in ("pool",):
        reg = med(f"noop:{cfg}")
        label = f"no-op boot ({cfg}) >= 10x faster than the Azure CLI script (same pool)"
        if az and reg:
            add(label, f"{az:.3f} s / {reg:.3f} s = {az / reg:.2f}x", az / reg >= 10)
        else:
            add(label, "Azure CLI not measured", None)
    az_rss = max(filter(None, [med("az:noop", "rss_mb"), med("az:change", "rss_mb")]),
                 default=None)
    peak = max(filter(None, [((s.get(f"{m}:pool") or {}).get("rss_mb") or {}).get("max")
                             for m in ("noop", "change")]), default=None)
    if peak:
        add("peak RSS (pool, no-op and change) below the Azure CLI's",
            f"{peak:.1f} MB vs {az_rss:.1f} MB" if az_rss else "Azure CLI not measured",
            (peak < az_rss) if az_rss else None)
    it = res.get("importtime") or {}
    if it.get("modules"):
        heavy = [m for m in it.get("imported_sdk", []) if m.startswith(
            ("azure.mgmt.network", "azure.identity", "msal", "tenacity", "asyncio", "requests",
             "urllib3"))]
        add("no-op boot imports none of azure.mgmt.network, azure.identity, msal, tenacity, "
            "asyncio, requests, urllib3", ", ".join(heavy) or "none imported", not heavy)
    fl = [f for f in res.get("fleet", []) if f]
    if fl:
        big = max(fl, key=lambda f: f["members"])
        add(f"fleet of {big['members']}: zero lost updates"
            + ("" if big["members"] >= 50 else " (target is for 50)"),
            f"{big['lost_updates']} lost, {big['failed']} failed, "
            f"{big['puts_per_member']} PUTs per member", big["lost_updates"] == 0
            and big["failed"] == 0)
    return t


# -- the table -----------------------------------------------------------------------------------------
def _f(x, fmt="{:.3f}"):
    return "n/a" if x is None else fmt.format(x)


def table(res: Dict[str, Any]) -> str:
    s = res["series"]
    m = res["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}, "
             f"Python {m['python']}; {m['date']}; load average at start "
             f"{' '.join(str(x) for x in res.get('load_average_at_start', []))}; network: "
             + ("loopback-only namespace (unshare -n)" if res["network"]["isolated"]
                else "host (only 127.0.0.1 used)")
             + (f"; commit {m['git_commit']}" if m.get("git_commit") else "")
             + (" + uncommitted changes" if m.get("package_uncommitted_changes") else "")
             + "; " + measured_line(res.get("measured_with") or {}), ""]
    if res.get("package_changed_during_run"):
        lines += ["**WARNING: the package's sources changed during this run.**", ""]
    def median(key):
        return ((s.get(key) or {}).get("wall_s") or {}).get("median")

    az = {m: median(f"az:{m}") for m in ("noop", "change")}
    lines.append("| run | median wall | p95 wall | x floor | x limit | CPU | peak RSS (MB) | reads "
                 "| perms | writes | polls | tokens | other | Azure CLI / this |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    order = [f"floor:{c}" for c in FLOORS]
    for cfg in CONFIGS:
        order += [f"limit:{cfg}", f"noop:{cfg}", f"limit:dryrun:{cfg}", f"dryrun:{cfg}",
                  f"today:noop:{cfg}"]
    order += ["az:noop"]
    for cfg in ("pool", "pool+dns"):
        order += [f"change:{cfg}", f"today:change:{cfg}"]
    order += ["az:change"]
    for key in order:
        row = s.get(key)
        if row is None:
            if key.startswith("az:"):
                lines.append(f"| Azure CLI script, {'no-op' if key == 'az:noop' else 'change'}"
                             f" | not measured | | | | | | | | | | | | |")
            continue
        w, r = row["wall_s"], row["rss_mb"]
        to_floor, to_limit = paired(s, key, FLOOR), paired(s, key, limit_of(key))
        ratio = f"{to_floor:.2f}" if to_floor is not None else ""
        vs_limit = "" if key.startswith("floor") or to_limit is None else f"{to_limit:.2f}"
        req = row.get("requests_per_run") or {}
        vs = ""
        mode = key.split(":")[-2] if key.count(":") else key
        if mode in ("noop", "change") and az.get(mode) and w["median"] and \
                not key.startswith("az:"):
            vs = f"{az[mode] / w['median']:.2f}x"
        rss = f"{r['median']:.1f}" if r["median"] else "n/a"
        if r.get("max") and r["max"] != r["median"]:
            rss += f" (max {r['max']:.1f})"
        fails = f" ({row['failures']} failed)" if row.get("failures") else ""
        cpu = (row.get("cpu_s") or {}).get("median")
        lines.append(f"| {row['label']}{fails} | {_f(w['median'])} s | {_f(w['p95'])} s | {ratio} "
                     f"| {vs_limit} | {_f(cpu, '{:.2f} s')} | {rss} | "
                     + " | ".join(_f(req.get(k), "{:g}") if req else "" for k in A.KINDS)
                     + f" | {vs} |")
    lines.append("")
    lines.append("x floor and x limit are medians of per-round ratios (each round runs every "
                 "row once, back to back; the targets below also give the ratio of the medians). "
                 "x floor: against the import floor, `python -c \"import azure.identity, "
                 "azure.mgmt.network\"` (issue 14's definition), for every row. x limit: against "
                 "the stdlib reference of the same targets (benchmarks/reference_boot.py: Python "
                 "start, one IMDS token, one HTTPS GET per resource over one TLS connection, "
                 "exec); the dry-run rows against the stdlib limit with permission reads of the "
                 "same targets (the same, with the IP absent, plus the permission reads of the "
                 "scopes the dry run reads, taken from its request log), every other row "
                 "against the plain one. CPU: user + system seconds of the process. Identity: "
                 + str(res.get("identity_form") or "App Service") + ".")
    noop = s.get("noop:pool+dns") or {}
    fr = (noop.get("first_request_s") or {}).get("median")
    if fr and noop["wall_s"]["median"]:
        lines.append(f"No-op boot (pool+dns): {fr:.3f} s from process start to the first Azure "
                     f"request (interpreter, imports, credential), "
                     f"{noop['wall_s']['median'] - fr:.3f} s from there to the app's first "
                     "instruction (token, reads, exec).")
    for key in ("noop:pool+dns", "change:pool+dns", "az:change"):
        tl = (s.get(key) or {}).get("timeline")
        if tl:
            lines.append(f"Timeline, {s[key]['label']} (median s from process start): "
                         + ", ".join(f"{r['request']} {r['at_s']:.3f}" for r in tl) + ".")
    steps = (res.get("by_import") or {}).get("steps")
    if steps:
        lines.append("Memory and time by import (one interpreter, in order): " + ", ".join(
            f"{st['import']} +{st['adds_mb']:g} MB/+{st['adds_s'] * 1000:.0f} ms" if i else
            f"python {st['peak_rss_mb']:g} MB" for i, st in enumerate(steps)) + ".")
    if res.get("fleet"):
        f0 = res["fleet"][0]
        lines.append("")
        lines.append(f"Fleet (gateway update {f0['op_duration_s']:g} s, Retry-After "
                     f"{f0['retry_after_s']:g} s; Azure: 45-90 s and ~10 s):")
        lines.append("")
        lines.append("| while busy | members | all registered | median member | PUTs | PUTs/member "
                     "| wasted PUTs | reads/member | gateway busy | lost updates | failed "
                     "| manual entries kept |")
        lines.append("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|")
        for f in res["fleet"]:
            wasted = ", ".join(f"{v} {k}" for k, v in f["put_outcomes"].items() if k != "succeeded")
            lines.append(f"| {f.get('while_busy', 'wait')} | {f['members']} "
                         f"| {_f(f['all_registered_s'], '{:.2f}')} s "
                         f"| {_f(f['member_registered_s']['median'], '{:.2f}')} s | {f['puts']} "
                         f"| {f['puts_per_member']} | {f['wasted_puts']}"
                         + (f" ({wasted})" if wasted else "") + f" | {f['reads_per_member']} "
                         f"| {_f(f['gateway_busy_fraction'], '{:.0%}')} | {f['lost_updates']} "
                         f"| {f['failed']} | {'yes' if f['manual_entries_kept'] else 'NO'} |")
    size = res.get("size") or {}
    if size:
        lines.append("")
        lines.append("| installed size (site-packages) | total | without pip/setuptools "
                     "| largest |")
        lines.append("|---|---:|---:|---|")
        for key, label in (("registrar", "aci-ip-registrar + dependencies"),
                           ("azure_cli", "azure-cli")):
            v = size.get(key) or {}
            if "site_packages_mb" in v:
                big = ", ".join(f"{k} {m:g}" for k, m in list(v["largest_mb"].items())[:4])
                lines.append(f"| {label} | {v['site_packages_mb']:g} MB "
                             f"| {v['without_pip_setuptools_mb']:g} MB | {big} |")
            else:
                lines.append(f"| {label} | not measured | | {v.get('reason', '')} |")
    it = res.get("importtime") or {}
    if it.get("by_package_s"):
        lines.append("")
        top = ", ".join(f"{k} {v:.3f}" for k, v in list(it["by_package_s"].items())[:8])
        lines.append(f"Import time of a no-op boot, pool+dns (-X importtime, s): total "
                     f"{it['total_s']:.3f} in {it['modules']} modules; by package: {top}")
        tops = ", ".join(f"{r['module']} {r['s']:.3f}" for r in
                         (it.get("top_level_cumulative_s") or [])[:10])
        lines.append(f"Top-level imports by cumulative time (s): {tops}")
        selfs = ", ".join(f"{r['module']} {r['s']:.3f}" for r in (it.get("top_self_s") or [])[:8])
        lines.append(f"Largest own import times (s): {selfs}")
        lines.append("SDK parts imported on the no-op path: "
                     + (", ".join(it.get("imported_sdk") or []) or "none of the watched ones"))
    if res.get("targets"):
        lines.append("")
        lines.append("| target | figure | met |")
        lines.append("|---|---|---|")
        for row in res["targets"]:
            met = {True: "yes", False: "**no**", None: "not measured"}[row["met"]]
            fig = row["figure"] if len(row["figure"]) < 90 else row["figure"][:87] + "..."
            lines.append(f"| {row['target']} | {fig} | {met} |")
    return "\n".join(lines)


START, END = "<!-- results:start -->", "<!-- results:end -->"


def update_readme(text: str, out: Path, command: str) -> None:
    readme = HERE / "README.md"
    body = readme.read_text()
    if START not in body or END not in body:
        log(f"{readme} has no {START} ... {END} markers; not updated")
        return
    try:
        shown = out.resolve().relative_to(ROOT)
    except ValueError:
        shown = out
    block = (f"{START}\n`{command}` wrote [`{shown}`]({Path(*shown.parts[1:]) if shown.parts[0] == 'benchmarks' else shown}).\n\n"
             f"{text}\n{END}")
    head, rest = body.split(START, 1)
    readme.write_text(head + block + rest.split(END, 1)[1])
    log(f"updated {readme}")


# -- main ---------------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=None,
                   help="measured runs per series (default 20; 3 with --tiny)")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured runs per series first")
    p.add_argument("--fleet", default=None,
                   help="fleet sizes, comma separated, '' for none (default 10,25,50; 3 with --tiny)")
    p.add_argument("--with-az", action="store_true",
                   help="measure the Azure CLI baseline (installs azure-cli into "
                        "benchmarks/.az-venv on first use)")
    p.add_argument("--az-runs", type=int, default=None, help="runs of the Azure CLI script "
                   "(default: --runs)")
    p.add_argument("--no-size", action="store_true", help="skip the installed-size measurement")
    p.add_argument("--interpreter", choices=("installed", "current"), default=None,
                   help="measure with benchmarks/.size-venv (pip install . of the working tree, "
                        "not editable, built before the run) or with the interpreter running "
                        "this script (default: installed; current with --tiny)")
    p.add_argument("--baseline", default=None, metavar="GIT_REF",
                   help="also measure the registrar as committed at GIT_REF ('today'; default "
                        "main, none with --tiny; '' for none)")
    p.add_argument("--tiny", action="store_true",
                   help="CI smoke size: 3 runs, fleet of 3, no az, no size, no audit")
    p.add_argument("--op-duration", type=float, default=0.2,
                   help="gateway update duration for single boots (s, default 0.2)")
    p.add_argument("--retry-after", type=float, default=0.05,
                   help="Retry-After the emulator sends for single boots (s, default 0.05)")
    p.add_argument("--fleet-op-duration", type=float, default=0.5,
                   help="gateway update duration for the fleet (s, default 0.5; Azure: 45-90)")
    p.add_argument("--fleet-while-busy", default=None,
                   help="registrar --while-busy modes to run the fleet with, comma-separated "
                        "(default wait,supersede; --tiny: wait)")
    p.add_argument("--fleet-retry-after", type=float, default=0.1,
                   help="Retry-After for the fleet (s, default 0.1; Azure sends about 10)")
    p.add_argument("--fleet-timeout", type=float, default=300.0,
                   help="kill a fleet member after this many seconds (default 300)")
    p.add_argument("--fleet-other-tags", type=int, default=None, metavar="K",
                   help="give the fleet's gateway K tags of its own instead of the seed's two "
                        "(the ledger shares Azure's 50-tag limit with them)")
    p.add_argument("--isolate", choices=("auto", "yes", "no"), default=None,
                   help="run inside a loopback-only network namespace (default: auto; no with "
                        "--tiny)")
    p.add_argument("--out", help="JSON path (default benchmarks/results/<date>[-tiny].json)")
    p.add_argument("--quiet-load", type=float, default=None, metavar="LOAD",
                   help="first wait (up to 15 min) until the 1-minute load average is below LOAD: "
                        "on a shared machine, other work inflates every figure")
    p.add_argument("--readme", action="store_true",
                   help="also put the table into benchmarks/README.md (between its result markers)")
    p.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.runs is None:
        a.runs = 3 if a.tiny else 20
    if a.fleet is None:
        a.fleet = "3" if a.tiny else "10,25,50"
    if a.tiny:
        a.no_size = True
    if a.interpreter is None:
        a.interpreter = "current" if a.tiny else "installed"
    if a.baseline is None:
        a.baseline = "" if a.tiny else "main"
    if a.isolate is None:
        a.isolate = "no" if a.tiny else "auto"
    a.fleet_sizes = [int(x) for x in a.fleet.split(",") if x.strip()]
    if a.fleet_while_busy is None:
        a.fleet_while_busy = "wait" if a.tiny else "wait,supersede"
    a.fleet_modes = [x.strip() for x in a.fleet_while_busy.split(",") if x.strip()]
    a.az_runs = a.az_runs if a.az_runs is not None else a.runs
    return a


def prepare(a) -> Dict[str, Any]:
    """Everything that may need the network (pip), done before entering the namespace."""
    prep: Dict[str, Any] = {}
    if a.with_az:
        az, how = ensure_az_venv(log)
        prep["az"] = {"path": str(az) if az else None, "how": how}
    if a.interpreter == "installed" or not a.no_size:
        venv, how = ensure_size_venv(log)
        prep["size"] = {"path": str(venv) if venv else None, "how": how}
    return prep


def main(argv=None) -> int:
    a = parse_args(argv)
    if not a.in_netns:
        prep = prepare(a)
        if a.isolate != "no":
            if can_unshare():
                log("re-running inside a network namespace with only loopback (unshare -n)")
                args = [x for x in (argv if argv is not None else sys.argv[1:])]
                os.environ["BENCH_PREP"] = json.dumps(prep)
                os.execvp("unshare", ["unshare", "-n", "sh", "-c",
                                      'ip link set lo up && exec "$@"', "sh", sys.executable,
                                      str(Path(__file__).resolve()), *args, "--in-netns"])
            if a.isolate == "yes":
                log("cannot create a network namespace (unshare -n); --isolate yes: stopping")
                return 2
            log("no network namespace available; running on the host's network (loopback only "
                "is used)")
    else:
        prep = json.loads(os.environ.pop("BENCH_PREP", "{}"))
    return measure(a, prep, "unshare -n" if a.in_netns else None)


def wait_quiet(limit: float, max_wait: float = 900.0) -> float:
    t0 = time.time()
    while os.getloadavg()[0] >= limit and time.time() - t0 < max_wait:
        log(f"load average {os.getloadavg()[0]:.2f} >= {limit:g}; waiting")
        time.sleep(15)
    return round(time.time() - t0, 1)


def measure(a, prep: Dict[str, Any], isolated_by: Optional[str]) -> int:
    from aci_ip_registrar.emulator import Emulator
    seeds = ids()
    py = measured_python(a, prep)
    if py is None:
        log(f"no installed venv to measure with ({(prep.get('size') or {}).get('how')}); "
            "--interpreter current measures with the running interpreter")
        return 1
    if a.interpreter == "installed":
        # Measured processes import the installed package, not a PYTHONPATH copy (this
        # process's own sys.path is already set).
        os.environ.pop("PYTHONPATH", None)
    env0 = base_env()
    mw = measured_with(a, py, env0, prep)
    if "error" in mw or mw.get("from_venv") is False:
        log(f"the measured interpreter does not import the installed package: {mw}")
        return 1
    log(measured_line(mw))
    waited = wait_quiet(a.quiet_load) if a.quiet_load else 0.0
    started = time.time()
    source_at_start = tree_hash()
    if a.interpreter == "installed":
        mw["matches_working_tree"] = mw["source_hash"] == source_at_start
    res: Dict[str, Any] = {
        "schema": SCHEMA,
        "command": "python benchmarks/run.py " + " ".join(
            x for x in sys.argv[1:] if x != "--in-netns"),
        "measured_with": mw,
        "machine": machine(mw["packages"]), "network": network_state(isolated_by),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "waited_for_quiet_s": waited,
        "config": {"runs": a.runs, "warmup": a.warmup, "az_runs": a.az_runs if a.with_az else 0,
                   "single_boot_emulator": {"op_duration_s": a.op_duration,
                                            "retry_after_s": a.retry_after},
                   "fleet_emulator": {"op_duration_s": a.fleet_op_duration,
                                      "retry_after_s": a.fleet_retry_after,
                                      "scale": "gateway update 0.5 s vs 45-90 s on Azure "
                                               "(1/90 to 1/180); Retry-After 0.1 s vs ~10 s"
                                      if (a.fleet_op_duration, a.fleet_retry_after) == (0.5, 0.1)
                                      else "custom"},
                   "tiny": a.tiny, "interpreter": a.interpreter},
    }
    res["rss_method"] = self_check(env0)
    res["rss_method"]["how"] = ("peak RSS is ru_maxrss from os.wait4() on the measured process; "
                                "Linux carries it across exec, so it is the Python process's peak")
    log(f"machine: {res['machine']['cpu']}, {res['machine']['cores']} cores; network: "
        f"{res['network']['interfaces']}")

    pool = seeds.POOL_ID
    rec = {name: f"{seeds.ZONE_ID}/A/{name}" for name in
           ("noop", "noop-dns", "change", "dry", "dry-dns", "today", "audit")}
    az_cli = None
    az_note = None
    # Decimal Retry-After: the scaled-down cadence (see fleet()); App Service identity form, which
    # the Azure CLI baseline's `az login --identity` setup was written for.
    with Emulator(make_seed(records=()), op_duration=a.op_duration, retry_after=a.retry_after,
                  integer_retry_after=False, identity_form="appservice") as emu, \
            contextlib.ExitStack() as stack:
        # The registrar runs as in an ACI container: managed identity in the IMDS form.
        env = base_env(imds_env(emu))
        res["identity_form"] = ("IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST, the emulator's own "
                                "IMDS route)")
        series: List[Series] = [floor_series(k, m, env0, py) for k, m in FLOORS.items()]
        targets = {"pool": [pool], "dns": [rec["noop-dns"]], "pool+dns": [pool, rec["noop"]]}
        reads = {"pool": [seeds.GW_ID], "dns": [rec["noop-dns"]],
                 "pool+dns": [seeds.GW_ID, rec["noop"]]}
        noop_members = {"pool": ("cg-noop-a", "10.0.2.4"), "pool+dns": ("cg-noop-b", "10.0.2.5"),
                        "dns": ("cg-noop-c", "10.0.2.6")}
        dry_targets = {"pool": [pool], "dns": [rec["dry-dns"]], "pool+dns": [pool, rec["dry"]]}
        dry_members = {"pool": ("cg-dry-a", 1), "pool+dns": ("cg-dry-b", 2), "dns": ("cg-dry-c", 3)}
        # The no-op and dry-run members are registered once, before anything is measured.
        setups = [(targets[c], *noop_members[c]) for c in CONFIGS] + \
                 [(dry_targets[c], m, f"10.0.8.{n}") for c, (m, n) in dry_members.items()]
        for tg, member, ip in setups:
            r = run(registrar_argv(py, tg, member, ip), env, timeout=180)
            if r.code != 0:
                log(f"setup registration failed: {r.tail()}")
                return 1
        # The dry run's limit makes the dry run's own requests, as one dry run of each cfg
        # shows them (scopes follow the package's permission check, so they are not hard-coded).
        # Dry runs never write, so the limit's IP (not one the dry runs use) is always absent.
        dry_ip = "10.0.9.1"
        dry_reads = {}
        for cfg in CONFIGS:
            got = dry_run_reads(emu, env, py, dry_targets[cfg], dry_members[cfg][0], dry_ip)
            if got is None:
                return 1
            dry_reads[cfg] = got
        res["dryrun_limit_requests"] = {cfg: {"resources": r, "permission_scopes": sc}
                                        for cfg, (r, sc) in dry_reads.items()}
        for cfg in CONFIGS:
            member, ip = noop_members[cfg]
            series.append(limit_series(f"limit:{cfg}", f"stdlib limit: token + GET per resource, "
                                       f"{cfg}", emu, env, py, reads[cfg], ip))
            series.append(registrar_series(f"noop:{cfg}", f"registrar no-op boot, {cfg}", emu,
                                           env, py, targets[cfg], member, lambda i, ip=ip: ip))
        for cfg in CONFIGS:
            member = dry_members[cfg][0]
            series.append(limit_series(
                f"limit:dryrun:{cfg}", "stdlib limit: token + GET per resource + permission "
                f"reads, {cfg}", emu, env, py, dry_reads[cfg][0], dry_ip, dry_reads[cfg][1]))
            series.append(registrar_series(
                f"dryrun:{cfg}", f"registrar --dry-run (new IP, would write), {cfg}", emu, env,
                py, dry_targets[cfg], member, lambda i: f"10.0.9.{(i % 240) + 2}",
                extra=("--dry-run",)))
        change_targets = {"pool": [pool], "pool+dns": [pool, rec["change"]]}
        for cfg, member, net in (("pool", "cg-change-a", 4), ("pool+dns", "cg-change-b", 5)):
            series.append(registrar_series(
                f"change:{cfg}", f"registrar change boot (new IP), {cfg}", emu, env,
                py, change_targets[cfg], member, lambda i, net=net: f"10.0.{net}.{(i % 240) + 2}"))
        res["baseline"] = {"ref": a.baseline, "measured": False}
        if a.baseline:
            where = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-today-")))
            commit = export_ref(a.baseline, where)
            # `python -m` puts the working directory first on sys.path: run from the export.
            today_env = dict(env, PYTHONPATH=str(where))
            check = run([py, "-c", "import aci_ip_registrar as m; print(m.__file__, flush=True); "
                         f"import os; os.execv({DATE!r}, {STAMP!r})"], today_env, timeout=60,
                        cwd=str(where))
            if commit and check.stdout.startswith(str(where)):
                res["baseline"].update(measured=True, commit=commit,
                                       package_file=check.stdout.splitlines()[0],
                                       how=f"git archive {a.baseline} ({commit}), run as "
                                           "PYTHONPATH=<it> python -m aci_ip_registrar, same "
                                           "environment (IMDS form)")
                today = [py, "-m", "aci_ip_registrar"]
                shown = f"PYTHONPATH=<{a.baseline}> python -m aci_ip_registrar"
                for cfg in ("pool", "pool+dns"):
                    member, ip = noop_members[cfg]
                    series.append(registrar_series(
                        f"today:noop:{cfg}", f"today ({a.baseline} {commit}): no-op boot, {cfg}",
                        emu, today_env, py, targets[cfg], member, lambda i, ip=ip: ip, cmd=today,
                        shown_cmd=shown, cwd=str(where)))
                today_targets = {"pool": [pool], "pool+dns": [pool, rec["today"]]}
                for cfg, member, net in (("pool", "cg-today-a", 10), ("pool+dns", "cg-today-b", 11)):
                    series.append(registrar_series(
                        f"today:change:{cfg}", f"today ({a.baseline} {commit}): change boot, {cfg}",
                        emu, today_env, py, today_targets[cfg], member,
                        lambda i, net=net: f"10.0.{net}.{(i % 240) + 2}", cmd=today,
                        shown_cmd=shown, cwd=str(where)))
            else:
                res["baseline"]["note"] = f"could not run {a.baseline}: {check.tail(300)}"
        if a.with_az:
            az_path = (prep.get("az") or {}).get("path")
            if not az_path:
                az_note = (prep.get("az") or {}).get("how") or "azure-cli not installed"
            else:
                # az logs in with the App Service form, as before (az login --identity).
                az_cli = AzCli(Path(az_path), emu, base_env(emu.env()))
                try:
                    az_cli.setup()
                except RuntimeError as exc:
                    az_note = f"setup failed: {exc}"
                    az_cli.close()
                    az_cli = None
            if az_cli:
                series.append(az_series("az:noop", "Azure CLI script, same pool, no change "
                                        "(it always writes)", emu, az_cli, change=False))
                series.append(az_series("az:change", "Azure CLI script, same pool, new IP",
                                        emu, az_cli, change=True))
        else:
            az_note = "not measured (run with --with-az)"
        log(f"warm-up: {a.warmup} run(s) per series")
        for _ in range(a.warmup):
            for s in series:
                s.step(warm=True)
        for i in range(max(a.runs, a.az_runs if az_cli else 0)):
            for s in series:
                if s.key.startswith("az:") and i >= a.az_runs:
                    continue
                if not s.key.startswith("az:") and i >= a.runs:
                    continue
                s.step()
            log(f"round {i + 1} done")
        res["series"] = {s.key: s.summary() for s in series}
        log("python -X importtime of a no-op boot")
        res["importtime"] = importtime_view(emu, env, py, targets["pool+dns"], "cg-noop-b",
                                            "10.0.2.5")
        log("memory and time by import")
        res["by_import"] = import_steps_view(env0, py)
        if not a.tiny:
            log("cProfile of a no-op and a change boot")
            res["profile"] = {
                "noop": profile_view(emu, env, py, targets["pool+dns"], "cg-noop-b", "10.0.2.5"),
                "change": profile_view(emu, env, py, change_targets["pool+dns"], "cg-change-b",
                                       "10.0.5.250")}
            log("connect() audit (strace)")
            argvs = {"registrar change boot": registrar_argv(py, [pool, rec["audit"]], "cg-audit",
                                                             "10.0.7.2")}
            if az_cli:
                cur = [x.get("ipAddress") or x.get("fqdn") for x in
                       emu.get(pool)["properties"]["backendAddresses"]]
                argvs["az login --identity"] = [az_cli.az, "login", "--identity", "-o", "none"]
                argvs["az ... address-pool update"] = [
                    az_cli.az, "network", "application-gateway", "address-pool", "update", "-g",
                    seeds.RG, "--gateway-name", seeds.GW, "-n", "aci-pool", "--servers",
                    *[c for c in cur if c], "-o", "none"]
            res["connect_audit"] = connect_audit(
                argvs, az_cli.env if az_cli else env)
        res["azure_cli"] = {"measured": az_cli is not None,
                            "version": az_version(Path(prep["az"]["path"])) if az_cli else None,
                            "note": az_note,
                            "setup_notes": az_cli.setup_notes if az_cli else [],
                            "config": ("own AZURE_CONFIG_DIR (seeded versionCheck.json, cloud "
                                       "'Emu' registered to the emulator and active, kept warm "
                                       "across runs), AZURE_CORE_COLLECT_TELEMETRY=false")
                            if az_cli else None}
        if az_cli:
            az_cli.close()
    res["fleet"] = []
    for mode in a.fleet_modes:
        for n in a.fleet_sizes:
            log(f"fleet of {n}, --while-busy {mode}")
            tags = (None if a.fleet_other_tags is None
                    else {f"team-tag-{i}": "x" for i in range(a.fleet_other_tags)})
            res["fleet"].append(fleet(py, n, a.fleet_op_duration, a.fleet_retry_after,
                                      a.fleet_timeout, tags, while_busy=mode))
    if not a.no_size:
        size: Dict[str, Any] = {}
        sv = (prep.get("size") or {}).get("path")
        size["registrar"] = installed_size(Path(sv)) if sv else {"reason": (prep.get("size") or {}).get("how")}
        size["registrar"]["venv"] = "fresh venv, pip install <this project> (not editable)"
        if az_cli is not None or (prep.get("az") or {}).get("path"):
            size["azure_cli"] = installed_size(AZ_VENV)
            size["azure_cli"]["venv"] = "fresh venv, pip install azure-cli"
        else:
            size["azure_cli"] = {"reason": "not installed (run with --with-az)"}
        res["size"] = size
    res["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    res["package_source_hash"] = source_at_start
    res["package_changed_during_run"] = tree_hash() != source_at_start
    if res["package_changed_during_run"]:
        log("WARNING: the package's sources changed during the run; figures mix two versions")
    res["targets"] = evaluate(res, a.retry_after)
    res["elapsed_s"] = round(time.time() - started, 1)
    text = table(res)
    res["table_markdown"] = text
    out = Path(a.out) if a.out else HERE / "results" / (
        dt.date.today().isoformat() + ("-tiny" if a.tiny else "") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1, sort_keys=False) + "\n")
    if a.readme:
        update_readme(text, out, res["command"])
    print(text)
    print(f"\nJSON: {out}  ({res['elapsed_s']} s; network: "
          f"{'loopback-only namespace' if res['network']['isolated'] else 'host'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
