"""Statistics, the emulator's request log read per run, `-X importtime` and cProfile summaries."""
from __future__ import annotations

import collections
import math
import re
import statistics
import sys
from typing import Any, Dict, Iterable, List, Optional, Sequence

# "perms": reads of the Authorization permissions API, the pre-write permission check of a run
# that writes (one per scope its writes need); counted apart from the targets' own reads.
KINDS = ("reads", "perms", "writes", "polls", "tokens", "other")
_KIND_KEY = {"read": "reads", "write": "writes", "poll": "polls", "token": "tokens"}
_PERMISSIONS = "/providers/microsoft.authorization/permissions"


def is_permissions_read(entry: Dict[str, Any]) -> bool:
    return _PERMISSIONS in (entry.get("path") or "").lower()


def permission_scope(entry: Dict[str, Any]) -> Optional[str]:
    """The scope a permissions read asked about, None for any other request."""
    path = entry.get("path") or ""
    at = path.lower().find(_PERMISSIONS)
    return path[:at] if at >= 0 else None


# -- statistics -------------------------------------------------------------------------------
def pct(values: Sequence[float], q: float) -> Optional[float]:
    """Percentile with linear interpolation between closest ranks (numpy's default)."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary(values: Sequence[float], digits: int = 4) -> Dict[str, Any]:
    xs = [v for v in values if v is not None]
    if not xs:
        return {"n": 0, "median": None, "p95": None, "min": None, "max": None}
    return {"n": len(xs), "median": round(statistics.median(xs), digits),
            "p95": round(pct(xs, 0.95), digits), "min": round(min(xs), digits),
            "max": round(max(xs), digits)}


# -- the request log ----------------------------------------------------------------------------
def resource_of(entry: Dict[str, Any]) -> str:
    path = (entry.get("resource_id") or entry.get("path") or "").lower()
    if is_permissions_read(entry):
        return "perm"
    if "/applicationgateways/" in path:
        return "gw"
    if "/privatednszones/" in path:
        return "dns"
    if "/dnszones/" in path:
        return "pubdns"
    if "/containergroups/" in path:
        return "aci"
    if (entry.get("path") or "").rstrip("/").lower() == "/subscriptions":
        return "subs"
    if "metadata/endpoints" in path:
        return "meta"
    return "-"


def counts(log: Iterable[Dict[str, Any]]) -> Dict[str, int]:
    out = {k: 0 for k in KINDS}
    for e in log:
        out["perms" if is_permissions_read(e) else _KIND_KEY.get(e.get("kind"), "other")] += 1
    return out


def pattern(log: Sequence[Dict[str, Any]]) -> str:
    """The requests of one run in order, e.g. 'T R:gw R:dns W:gw P*5 R:gw W:dns'."""
    marks = []
    for e in log:
        kind = e.get("kind")
        if kind == "token":
            mark = "T"
        elif kind == "poll":
            mark = "P"
        else:
            letter = {"read": "R", "write": "W"}.get(kind, "O")
            mark = f"{letter}:{resource_of(e)}"
            status = e.get("status")
            if status and int(status) >= 400:
                mark += f"!{status}"
        if marks and marks[-1][0] == mark:
            marks[-1][1] += 1
        else:
            marks.append([mark, 1])
    return " ".join(m if n == 1 else f"{m}*{n}" for m, n in marks)


def per_resource(log: Sequence[Dict[str, Any]]) -> Dict[str, Dict[str, int]]:
    """Reads before the first write, writes, and read-backs (reads after a write) per resource."""
    out: Dict[str, Dict[str, int]] = {}
    for e in log:
        if e.get("kind") not in ("read", "write", "poll"):
            continue
        res = resource_of(e)
        if res in ("subs", "meta", "perm", "-"):
            continue
        row = out.setdefault(res, {"reads": 0, "writes": 0, "readbacks": 0, "polls": 0})
        if e["kind"] == "write":
            row["writes"] += 1
        elif e["kind"] == "poll":
            row["polls"] += 1
        elif row["writes"]:
            row["readbacks"] += 1
        else:
            row["reads"] += 1
    return out


def poll_gaps(log: Sequence[Dict[str, Any]]) -> Dict[str, List[float]]:
    """Per operation: seconds from the PUT to the first poll, and between later polls."""
    first: List[float] = []
    later: List[float] = []
    op_put: Dict[str, float] = {}
    last: Dict[str, float] = {}
    for e in log:
        op = e.get("op_id")
        if not op:
            continue
        if e.get("kind") == "write":
            op_put[op] = e["time"]
            last[op] = e["time"]
        elif e.get("kind") == "poll" and op in last:
            (later if last[op] != op_put.get(op) else first).append(e["time"] - last[op])
            last[op] = e["time"]
    return {"first": first, "between": later}


def op_wait(log: Sequence[Dict[str, Any]]) -> float:
    """Seconds the client spent waiting on gateway operations: first PUT to last poll."""
    total = 0.0
    start: Dict[str, float] = {}
    end: Dict[str, float] = {}
    for e in log:
        op = e.get("op_id")
        if not op:
            continue
        if e.get("kind") == "write":
            start.setdefault(op, e["time"])
        elif e.get("kind") == "poll":
            end[op] = e["time"]
    for op, t0 in start.items():
        total += max(0.0, end.get(op, t0) - t0)
    return total


def gateway_busy(log: Sequence[Dict[str, Any]], op_duration: float) -> Dict[str, Any]:
    """How much of the time from the first accepted PUT to the end of the last operation the
    gateway spent running an operation, and the idle gaps between operations. An operation runs
    from its PUT for op_duration, or until the next accepted PUT supersedes it."""
    starts = sorted(e["time"] for e in log if e.get("kind") == "write" and e.get("op_id")
                    and int(e.get("status") or 0) in (200, 201))
    if not starts:
        return {"busy_fraction": None, "idle_gaps_s": summary([])}
    busy, idle = 0.0, []
    for i, t in enumerate(starts):
        nxt = starts[i + 1] if i + 1 < len(starts) else None
        end = t + op_duration if nxt is None else min(t + op_duration, nxt)
        busy += end - t
        if nxt is not None and nxt > t + op_duration:
            idle.append(nxt - (t + op_duration))
    span = (starts[-1] + op_duration) - starts[0]
    return {"busy_fraction": round(busy / span, 3) if span > 0 else None,
            "idle_gaps_s": summary(idle, 3)}


def distinct(items: Iterable[str]) -> List[Dict[str, Any]]:
    return [{"pattern": k, "runs": v} for k, v in collections.Counter(items).most_common()]


# -- python -X importtime -------------------------------------------------------------------------
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")
GROUPS = [
    ("azure-mgmt-network", ("azure.mgmt.network",)),
    ("azure-mgmt-privatedns", ("azure.mgmt.privatedns",)),
    ("azure-mgmt-* (other)", ("azure.mgmt.dns", "azure.mgmt.containerinstance")),
    ("azure-identity", ("azure.identity",)),
    ("msal", ("msal", "msal_extensions")),
    ("azure-core, azure-mgmt-core", ("azure.core", "azure.mgmt.core", "azure.common")),
    ("cryptography, jwt, cffi", ("cryptography", "jwt", "cffi", "_cffi_backend")),
    ("requests, urllib3, certifi, idna, charset_normalizer",
     ("requests", "urllib3", "certifi", "idna", "charset_normalizer")),
    ("click", ("click",)),
    ("tenacity", ("tenacity",)),
    ("aci_ip_registrar", ("aci_ip_registrar",)),
    ("isodate, typing_extensions", ("isodate", "typing_extensions")),
    ("netifaces", ("netifaces", "_netifaces")),
]


def _group(module: str) -> str:
    for name, prefixes in GROUPS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    top = module.split(".")[0]
    if top in getattr(sys, "stdlib_module_names", ()) or top.startswith("_"):
        return "stdlib"
    return "other third-party"


def importtime(stderr: str, top: int = 12) -> Dict[str, Any]:
    rows = []
    for line in stderr.splitlines():
        m = _IMPORT_LINE.match(line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), len(m.group(3)) - 1, m.group(4)))
    if not rows:
        return {"total_s": None, "modules": 0}
    total = sum(r[0] for r in rows)
    groups: Dict[str, int] = collections.Counter()
    for self_us, _, _, name in rows:
        groups[_group(name)] += self_us
    level0 = min(r[2] for r in rows)
    tops = sorted((r for r in rows if r[2] == level0), key=lambda r: -r[1])[:top]
    selfs = sorted(rows, key=lambda r: -r[0])[:top]
    return {
        "total_s": round(total / 1e6, 4),
        "modules": len(rows),
        "by_package_s": {k: round(v / 1e6, 4) for k, v in groups.most_common()},
        "top_level_cumulative_s": [{"module": r[3], "s": round(r[1] / 1e6, 4)} for r in tops],
        "top_self_s": [{"module": r[3], "s": round(r[0] / 1e6, 4)} for r in selfs],
    }


# -- cProfile ---------------------------------------------------------------------------------------
def profile_summary(path: str, top: int = 12) -> Dict[str, Any]:
    """Where a boot's time goes: total, the part spent importing, the functions with the most
    own time, and the registrar's own functions by cumulative time."""
    import pstats
    stats = pstats.Stats(path)
    rows = []
    total = imports = 0.0
    for (filename, line, func), (cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = filename
        for marker in ("site-packages/", "lib/python3"):
            if marker in short:
                short = short.split(marker, 1)[1]
                break
        if "aci_ip_registrar/" in short:
            short = "aci_ip_registrar/" + short.split("aci_ip_registrar/", 1)[1]
        if func == "_find_and_load":
            imports = max(imports, ct)
        total = max(total, ct)
        rows.append({"function": f"{short}:{line}({func})", "calls": nc,
                     "tottime_s": round(tt, 4), "cumtime_s": round(ct, 4),
                     "ours": short.startswith("aci_ip_registrar/")})
    own = sorted(rows, key=lambda r: -r["tottime_s"])[:top]
    ours = sorted((r for r in rows if r["ours"]), key=lambda r: -r["cumtime_s"])[:top]
    for r in rows:
        r.pop("ours")
    return {"total_s": round(total, 4), "importing_s": round(imports, 4),
            "top_own_time": own, "registrar_functions_cumulative": ours}
