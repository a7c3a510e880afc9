"""Render a run's report for stdout (text or JSON). Pure: returns strings, never prints."""
from __future__ import annotations

import json
from typing import Optional

from .runner import UNCHANGED, Report

# The JSON "action" of a target; "none" kept from the first release for unchanged targets.
_ACTION = {UNCHANGED: "none"}


def report_dict(report: Report) -> dict:
    targets = []
    for outcome in report.outcomes:
        planned = outcome.plan
        for spec in planned.resource.specs:
            plan = planned.plans[spec.ref.child]
            targets.append({
                "target": spec.ref.id, "label": spec.label, "kind": spec.ref.kind,
                "mode": spec.mode, "current": plan.current, "add": plan.add,
                "remove": plan.remove, "result": plan.result,
                "owners": {m: e.ip for m, e in sorted(plan.ledger_after.items())},
                "foreign": [f.describe() for f in planned.observed.ledgers[spec.ref.child].foreign],
                "changes": planned.extra, "notes": plan.notes,
                "refusals": [r for r in planned.refusals if spec.label in r],
                "action": _ACTION.get(outcome.status, outcome.status),
                "reason": outcome.reason, "attempts": outcome.attempts,
                "etag": planned.observed.etag,
            })
    data = {"status": "ok", "member": report.member, "ip": report.ip, "ip_source": report.ip_source,
            "dry_run": report.dry_run, "offline": report.offline_reason, "targets": targets}
    data["arm"] = {"target_reads": report.reads, "target_writes": report.writes}
    if report.fleet is not None:
        fleet = report.fleet
        data["fleet"] = {"complete": fleet.complete, "problems": fleet.problems,
                         "groups": [{"name": g.name, "resource_group": g.resource_group,
                                     "member": g.member, "state": g.state,
                                     "ip": g.ip if g.running else None}
                                    for g in fleet.groups]}
        data["arm"].update(list_pages=fleet.list_pages, group_reads=fleet.group_reads)
    if report.error is not None:
        data.update(status="error", exit_code=report.error.exit_code, error=report.error.message)
    return data


def render(report: Report, fmt: str) -> str:
    data = report_dict(report)
    if fmt == "json":
        return json.dumps(data, sort_keys=True)
    if report.fleet is not None:
        f = data["fleet"]
        running = sum(1 for g in f["groups"] if g["ip"])
        lines = [f"fleet: {len(f['groups'])} group(s), {running} running"
                 + ("" if f["complete"] else "  [incomplete: nothing pruned]")
                 + ("  [dry run]" if report.dry_run else "")]
        lines += [f"  problem: {p}" for p in f["problems"]]
    else:
        lines = [f"member {data['member']}  ip {data['ip'] or '-'} ({report.ip_source or '-'})"
                 + ("  [dry run]" if report.dry_run else "")]
    if report.offline_reason:
        lines.append(f"offline plan: {report.offline_reason}")
    for t in data["targets"]:
        lines.append(f"{t['label']}  [{t['mode']}]  {t['action']}"
                     + (f" ({t['attempts']} attempts)" if t["attempts"] > 1 else "")
                     + (f": {t['reason']}" if t["reason"] else ""))
        lines.append(f"  current: {_ips(t['current'])}")
        lines.append(f"  add:     {_ips(t['add'])}")
        lines.append(f"  remove:  {_ips(t['remove'])}")
        owners = ", ".join(f"{m}={ip}" for m, ip in t["owners"].items())
        lines.append(f"  owners:  {owners or '-'}")
        for label, values in (("change", t["changes"]), ("note", t["notes"]),
                              ("foreign", t["foreign"]), ("refused", t["refusals"])):
            lines += [f"  {label + ':':<8} {v}" for v in values]
    arm = data["arm"]
    lines.append("ARM: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in arm.items()))
    if report.error is not None:
        lines.append(f"error (exit {report.error.exit_code}): {report.error.message}")
    return "\n".join(lines)


def error_dict(message: str, exit_code: int, pending: Optional[list] = None) -> str:
    data = {"status": "error", "exit_code": exit_code, "error": message}
    if pending is not None:
        data["pending"] = pending
    return json.dumps(data, sort_keys=True)


def _ips(values) -> str:
    return ", ".join(values) if values else "-"


def render_status(data: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, sort_keys=True)
    head = f"status: {data['status']}"
    if data["member"]:
        head += f"  (member {data['member']}" + (f", ip {data['ip']})" if data["ip"] else ")")
    lines = [head]
    for t in data["targets"]:
        lines.append(f"{t['label']}  [{t['mode']}]" + ("" if t["exists"] else "  (does not exist)"))
        lines.append(f"  addresses: {_ips(t['addresses'])}")
        members = ", ".join(f"{m}={ip}" for m, ip in t["members"].items())
        lines.append(f"  members:   {members or '-'}")
        lines.append(f"  manual:    {_ips(t['manual'])}")
        lines += [f"  foreign:   {f}" for f in t["foreign"]]
        lines += [f"  drift:     {d}" for d in t["drift"]]
    return "\n".join(lines)
