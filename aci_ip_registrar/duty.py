"""Staying on duty after boot (design.md, "Continuing modes"): `register --supervise`, `watch`
and `sync --interval` loop the runner's one pass under supervisor.supervise, with the health
endpoint fed from each pass. The CLI builds the settings and exits with what `keep` returns."""
from __future__ import annotations

import logging
from typing import Callable, List, Optional

from .errors import EXIT_CONFIG, EXIT_PERMISSION, EXIT_UNSAFE, RegistrarError
from .retry import Budget
from .runner import WRITTEN, Report, drift, run_once

log = logging.getLogger("aci_ip_registrar.duty")


class OnDuty:
    """One member's duty: `tick` verifies every target with one read each and writes only on
    drift; `deregister` leaves every target within a deadline."""

    def __init__(self, settings, clients, discover_ip: Callable, supersede: bool = False):
        self.settings = settings
        self.clients = clients
        self.discover_ip = discover_ip            # budget -> (ip, source)
        self.supersede = supersede
        self.member = settings.member

    def tick(self) -> dict:
        budget = Budget(self.settings.timeout)
        ip, source = self.discover_ip(budget)
        report = Report(self.member, ip, self.settings.dry_run, ip_source=source)
        try:
            run_once(self.settings.targets, {self.member: ip}, self.clients, budget, report,
                     supersede=self.supersede)
        except RegistrarError as exc:
            if not report.outcomes:
                raise          # nothing was read: say nothing new about readiness
            # Soft (transient, retried next pass) or hard (configuration, permission, refusal:
            # a person must act); both leave the loop running.
            hard = exc.exit_code in (EXIT_CONFIG, EXIT_PERMISSION, EXIT_UNSAFE)
            (log.error if hard else log.warning)("on duty: %s%s", exc.message,
                                                 " (needs attention)" if hard else "")
            return _result(report, ok=False, error=exc.message)
        return _result(report, ok=True)

    def deregister(self, seconds: float) -> dict:
        report = Report(self.member, None, self.settings.dry_run, ip_source="deregister")
        run_once(self.settings.targets, {self.member: None}, self.clients, Budget(seconds),
                 report, supersede=self.supersede)
        statuses = {o.plan.resource.label: o.status for o in report.outcomes}
        log.warning("deregistered member=%s targets=%s", self.member, statuses)
        return statuses


def _result(report: Report, ok: bool, error: Optional[str] = None) -> dict:
    repaired = [r for o in report.outcomes if o.status == WRITTEN for r in drift(o)]
    if repaired:
        log.warning("repaired drift (%d resource(s)): %s",
                    sum(o.status == WRITTEN for o in report.outcomes), "; ".join(repaired))
    return {"ok": ok, "error": error, "member": report.member, "ip": report.ip,
            "repairs": sum(o.status == WRITTEN for o in report.outcomes),
            "repaired": repaired, "reads": report.reads, "writes": report.writes,
            "targets": {o.plan.resource.label: o.status for o in report.outcomes}}


class FleetDuty:
    """`sync --interval`: each tick is one fleet pass; SIGTERM has nothing to deregister."""

    def __init__(self, one_pass: Callable[[], Report]):
        self.one_pass = one_pass

    def tick(self) -> dict:
        report = self.one_pass()
        return _result(report, ok=True)

    def deregister(self, seconds: float) -> None:
        return None


def keep(duty, argv: Optional[List[str]], *, interval: float, drain_delay: float,
         deregister_timeout: float, timeout: float, health: Optional[tuple],
         first_tick: bool) -> int:
    """Loop `duty` under the supervisor (with `argv` as the child, or none), serving health on
    `health` = (host, port) when given. Returns the exit status."""
    from .health import HealthState, start_health_server, tick_recorder
    from .supervisor import supervise
    state = HealthState(stale_after=2 * interval + timeout)
    record = tick_recorder(state)
    server = start_health_server(health[0], health[1], state) if health else None
    if server is not None:
        log.info("health endpoint on %s:%d (/healthz, /readyz)", health[0], server.port)
    try:
        if first_tick:
            _first(duty, record)
        else:
            record({"ok": True, "repairs": 0, "note": "registered at boot"}, None)
        return supervise(argv, duty, interval=interval, jitter=0.1, drain_delay=drain_delay,
                         deregister_timeout=deregister_timeout, log=log,
                         on_tick_result=record)
    finally:
        if server is not None:
            server.close()


def _first(duty, record) -> None:
    """The first pass before the loop starts (watch, sync): a failure is soft, as in the loop."""
    try:
        record(duty.tick(), None)
    except RegistrarError as exc:
        log.warning("tick: failed: %s", exc.message)
        record(None, exc)
