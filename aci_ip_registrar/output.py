"""Render a run's report for stdout (text or JSON). Pure: returns strings, never prints."""
from __future__ import annotations

import json

from .runner import Planned, Report


def _action(planned: Planned, dry_run: bool) -> str:
    if not planned.changed:
        return "none"
    if dry_run:
        return "would-write"
    return "written" if planned.wrote else "none"


def report_dict(report: Report, ip_source: str) -> dict:
    targets = []
    for planned in report.planned:
        for spec in planned.resource.specs:
            plan = planned.plans[spec.ref.child]
            targets.append({
                "target": spec.ref.id, "label": spec.label, "kind": spec.ref.kind,
                "mode": spec.mode, "current": plan.current, "add": plan.add,
                "remove": plan.remove, "result": plan.result,
                "owners": {m: e.ip for m, e in sorted(plan.ledger_after.items())},
                "changes": planned.extra, "notes": plan.notes,
                "action": _action(planned, report.dry_run), "attempts": planned.attempts,
                "etag": planned.observed.etag,
            })
    return {"status": "ok", "member": report.member, "ip": report.ip, "ip_source": ip_source,
            "dry_run": report.dry_run, "offline": report.offline_reason, "targets": targets}


def render(report: Report, ip_source: str, fmt: str) -> str:
    data = report_dict(report, ip_source)
    if fmt == "json":
        return json.dumps(data, sort_keys=True)
    lines = [f"member {data['member']}  ip {data['ip']} ({ip_source})"
             + ("  [dry run]" if report.dry_run else "")]
    if report.offline_reason:
        lines.append(f"offline plan: {report.offline_reason}")
    for t in data["targets"]:
        lines.append(f"{t['label']}  [{t['mode']}]  {t['action']}"
                     + (f" ({t['attempts']} attempts)" if t["attempts"] > 1 else ""))
        lines.append(f"  current: {_ips(t['current'])}")
        lines.append(f"  add:     {_ips(t['add'])}")
        lines.append(f"  remove:  {_ips(t['remove'])}")
        owners = ", ".join(f"{m}={ip}" for m, ip in t["owners"].items())
        lines.append(f"  owners:  {owners or '-'}")
        for change in t["changes"]:
            lines.append(f"  change:  {change}")
        for note in t["notes"]:
            lines.append(f"  note:    {note}")
    return "\n".join(lines)


def error_dict(message: str, exit_code: int) -> str:
    return json.dumps({"status": "error", "exit_code": exit_code, "error": message},
                      sort_keys=True)


def _ips(values) -> str:
    return ", ".join(values) if values else "-"
