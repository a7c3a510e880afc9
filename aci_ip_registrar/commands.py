"""The commands besides register: deregister, watch, status, sync, roles and check. Imported
only when one of them runs (cli.LazyGroup), so a boot builds register's options alone."""
from __future__ import annotations

import math
import sys

import click

from . import errors as E
from .cli import (_TARGET_OPTIONS, _apply_options, _duty_options, _duty_settings, _emit, _fail,
                  _interrupted, _opt, _stay, _stop_on_signals, build_settings, log,
                  run_register)
from .config import Settings, check_member, split_targets


@click.command("deregister")
@_TARGET_OPTIONS
def deregister_command(**p):
    """Remove the member's address and ledger entry from every target.

    Touches nothing the member does not own: an address another member's entry claims stays,
    manual and foreign entries stay byte for byte. Use it before deleting a group, or by hand."""
    from . import logs
    from .runner import Report
    logs.setup(p["verbose"], p["log_format"])
    _stop_on_signals()
    p.update(ip=None, interface=None, allow_any_ip=False, on_failure="exit", start_jitter=0.0,
             command=())
    report = Report(None, None, bool(p["dry_run"]))
    try:
        settings = build_settings(p)
        if settings.member is None:
            settings.member = check_member(settings.container_group.name)
        code = run_register(settings, p["output"], report=report, leave=True)
    except E.RegistrarError as exc:
        code = _fail(exc, p["output"])
    except E.Interrupted as stop:
        code = _interrupted(stop, report, p["output"])
    sys.exit(code)


@click.command("watch")
@_TARGET_OPTIONS
@_opt("--ip", env="IP", help="Use this IP instead of discovering it.")
@_opt("--interface", env="INTERFACE", help="Read the IP from this interface.")
@_opt("--allow-any-ip", env="ALLOW_ANY_IP", is_flag=True, help="Allow public addresses.")
@_opt("--preflight/--no-preflight", env="PREFLIGHT", default=True, show_default=True,
      help="First check the identity's permissions (as `check`); exit 5 if one is missing.")
@_duty_options(drain=False)
def watch_command(**p):
    """Sidecar: register, then keep verifying every --interval and repair drift; deregister on
    SIGTERM and exit 0. Serves /healthz and /readyz with --health-port."""
    from . import logs
    logs.setup(p["verbose"], p["log_format"])
    _stop_on_signals()
    p.update(on_failure="exit", start_jitter=0.0, command=())
    try:
        settings = build_settings(p)
        if settings.member is None:
            settings.member = check_member(settings.container_group.name)
        if p["preflight"]:
            _preflight(settings)
        code = _stay(settings, p, None, first_tick=True)
    except E.RegistrarError as exc:
        code = _fail(exc, p["output"])
    except E.Interrupted as stop:
        code = _interrupted(stop, _empty_report(p), p["output"])
    sys.exit(code)


def _empty_report(p: dict):
    from .runner import Report
    return Report(None, None, bool(p.get("dry_run")))


@click.command("status")
@_TARGET_OPTIONS
@_opt("--ip", env="IP", help="Check drift against this IP (else the member's ledger entry).")
@_opt("--interface", env="INTERFACE", help="Check drift against this interface's IP.")
@_opt("--allow-any-ip", env="ALLOW_ANY_IP", is_flag=True, help="Allow public addresses.")
def status_command(**p):
    """Read every target and show members, addresses, manual and foreign entries, and drift.

    Writes nothing. Exit 0 when in sync, 8 when a target has drifted (for pipeline gates)."""
    from . import logs
    from .clients import Clients
    from .output import render_status
    from .retry import Budget
    from .status import status
    logs.setup(p["verbose"], p["log_format"])
    p.update(on_failure="exit", start_jitter=0.0, command=())
    try:
        settings = build_settings(p, member_required=False)
        budget = Budget(settings.timeout)
        clients = Clients(settings.arm_endpoint, settings.ca_bundle, settings.poll_interval)
        try:
            member, ip = settings.member, None
            if settings.ip or settings.interface or settings.container_group:
                from .discovery import discover
                ip, _ = discover(settings, clients, budget)
                member = member or check_member(settings.container_group.name)
            data = status(settings.targets, clients, budget, member, ip)
        finally:
            clients.close()
    except E.RegistrarError as exc:
        sys.exit(_fail(exc, p["output"]))
    _emit(render_status(data, p["output"]))
    sys.exit(E.EXIT_OK if data["status"] == "in-sync" else E.EXIT_DRIFT)


SYNC_HELP = """Reconcile every target with the container groups the ACI API lists.

Lists the groups in each --scope (a subscription or resource group ID), keeps those matching
every --tag KEY=VALUE, settles each one's state with a GET (lists show a stopped group as
Succeeded), and plans all memberships at once: one write per gateway and per record set. A member
whose group is gone, stopped, failed or renamed is pruned, unless the list was incomplete or the
prune would remove more than --max-prune-share of a target's members or empty it (exit 7; --force
overrides). Exit 0 when nothing changed, 9 when the pass wrote changes."""


@click.command("sync", help=SYNC_HELP)
@_TARGET_OPTIONS
@_opt("--scope", "scopes", env="SCOPES", multiple=True, required=True, metavar="ID",
      help="/subscriptions/{id} or /subscriptions/{id}/resourceGroups/{rg} (repeatable).")
@_opt("--tag", "tags", env="TAG_SELECTOR", multiple=True, metavar="KEY=VALUE",
      help="Only groups carrying this tag (repeatable; all must match).")
@_opt("--member-tag", env="MEMBER_TAG", metavar="KEY",
      help="Take each group's member name from this tag (default: the group's name).")
@_opt("--prune/--no-prune", env="PRUNE", default=True, show_default=True,
      help="Remove members whose groups are gone, stopped, failed or renamed.")
@_opt("--max-prune-share", env="MAX_PRUNE_SHARE", type=float, default=0.3, show_default=True,
      help="Refuse to prune more than this share of a target's members.")
@_opt("--force", env="FORCE", is_flag=True, help="Prune past --max-prune-share, or empty a target.")
@_opt("--interval", env="INTERVAL", type=float, default=0.0, show_default=True,
      help="Seconds between passes; 0 runs one pass and exits.")
@_opt("--health-port", env="HEALTH_PORT", type=int, default=None,
      help="With --interval: serve /healthz and /readyz on this port.")
@_opt("--health-host", env="HEALTH_HOST", default="0.0.0.0", show_default=True,
      help="Address the health endpoint listens on.")
def sync_command(**p):
    from . import logs
    from .clients import Clients
    from .fleet import parse_scope, parse_tag_selector
    from .output import render
    from .planner import Guard
    from .retry import Budget
    from .runner import Report, sync
    logs.setup(p["verbose"], p["log_format"])
    _stop_on_signals()
    output = p["output"]
    p.update(ip=None, interface=None, allow_any_ip=False, on_failure="exit", start_jitter=0.0,
             command=())
    report = Report(None, None, bool(p["dry_run"]))
    try:
        settings = build_settings(p, member_required=False)
        scopes = [parse_scope(s) for s in split_targets(p["scopes"])]
        tags = dict(parse_tag_selector(t) for t in p["tags"])
        share = p["max_prune_share"]
        if not (math.isfinite(share) and 0 <= share <= 1):
            raise E.ConfigError(f"--max-prune-share {share:g} must be between 0 and 1")
        clients = Clients(settings.arm_endpoint, settings.ca_bundle, settings.poll_interval)

        def one_pass(into=None):
            into = into or Report(None, None, bool(p["dry_run"]))
            return sync(settings, clients, Budget(settings.timeout), into, scopes, tags,
                        p["member_tag"], p["prune"], Guard(share, p["force"]))
        try:
            if p["interval"]:
                from .duty import FleetDuty, keep
                p.update(deregister_timeout=1.0)
                numbers = _duty_settings(p)
                sys.exit(keep(FleetDuty(one_pass), None, timeout=settings.timeout,
                              first_tick=True, **numbers))
            one_pass(report)
        finally:
            clients.close()
    except E.RegistrarError as exc:
        sys.exit(_fail(exc, output, report))
    except E.Interrupted as stop:
        sys.exit(_interrupted(stop, report, output))
    _emit(render(report, output))
    changed = any(o.status in ("written", "would-write") for o in report.outcomes)
    sys.exit(E.EXIT_CHANGED if changed else E.EXIT_OK)


# -- permissions: roles and check ----------------------------------------------------------------

_PERMISSION_OPTIONS = _apply_options(
    _opt("--for", "mode", env="FOR", type=click.Choice(["register", "sync"]), default="register",
         show_default=True, help="The runs to cover: register (boot, --supervise, watch, "
                                 "deregister) or sync."),
    _opt("--scope", "scopes", env="SCOPES", multiple=True, metavar="ID",
         help="With --for sync: the scopes sync lists container groups in (as sync --scope)."),
)


def _permission_settings(p: dict):
    from .fleet import parse_scope
    p.update(ip=None, interface=None, allow_any_ip=False, on_failure="exit", start_jitter=0.0,
             command=())
    settings = build_settings(p, member_required=False)
    scopes = [parse_scope(s) for s in split_targets(p["scopes"])]
    if p["mode"] == "sync" and not scopes:
        raise E.UsageError("--for sync needs --scope (the scopes sync lists groups in)")
    if p["mode"] == "register" and scopes:
        raise E.UsageError("--scope is for --for sync; --for register takes --container-group")
    return settings, scopes


ROLES_HELP = """Print a least-privilege custom role and where to assign it.

Reads every target (read-only: the gateways' documents name the linked subnet, public IP and WAF
policy a gateway update needs) and prints the role, ready for `az role definition create`, with
exactly the actions the configured targets need for --for register (boot, --supervise, watch,
deregister; plus containerGroups/read on --container-group) or --for sync (plus containerGroups/read
on each --scope), and one `az role assignment create` per scope."""


@click.command("roles", help=ROLES_HELP)
@_TARGET_OPTIONS
@_PERMISSION_OPTIONS
@_opt("--role-name", env="ROLE_NAME", default="aci-ip-registrar", show_default=True,
      help="The custom role's name (unique in the tenant).")
@_opt("--assignee", env="ASSIGNEE", metavar="OBJECT_ID",
      help="The identity's object (principal) ID for the printed assignments.")
def roles_command(**p):
    from . import logs, permissions
    from .clients import Clients
    from .retry import Budget
    logs.setup(p["verbose"], p["log_format"])
    try:
        settings, scopes = _permission_settings(p)
        clients = Clients(settings.arm_endpoint, settings.ca_bundle, settings.poll_interval)
        try:
            needed = permissions.demands(settings.targets, clients, Budget(settings.timeout),
                                         p["mode"], settings.container_group, scopes)
        finally:
            clients.close()
    except E.RegistrarError as exc:
        sys.exit(_fail(exc, p["output"]))
    role = permissions.role_definition(needed, p["role_name"], p["mode"])
    grants = permissions.assignments(needed)
    for grant in grants:
        if permissions.is_container(grant["scope"]):
            log.warning("assigning the role at %s grants all its actions on every resource "
                        "there; a role with only %s is narrower", grant["scope"],
                        ", ".join(grant["actions"]))
    _emit(permissions.render_roles(role, grants, p["assignee"], p["output"]))


CHECK_HELP = """Preflight, read-only: would a run be allowed?

Resolves the credential, reads every target, works out what --for register (or --for sync) needs,
reads the caller's permissions at each scope (the Authorization permissions API) and reports per
target what is missing. Exit 0 when allowed, 5 naming each missing action and scope. Deny
assignments and conditions are not visible to that API: "present" is not a promise."""


@click.command("check", help=CHECK_HELP)
@_TARGET_OPTIONS
@_PERMISSION_OPTIONS
def check_command(**p):
    from . import logs, permissions
    from .clients import Clients
    from .retry import Budget
    logs.setup(p["verbose"], p["log_format"])
    _stop_on_signals()
    try:
        settings, scopes = _permission_settings(p)
        clients = Clients(settings.arm_endpoint, settings.ca_bundle, settings.poll_interval)
        try:
            verdict = permissions.preflight(settings, clients, Budget(settings.timeout),
                                            p["mode"], scopes)
        finally:
            clients.close()
    except E.RegistrarError as exc:
        sys.exit(_fail(exc, p["output"]))
    except E.Interrupted as stop:
        sys.exit(_interrupted(stop, _empty_report(p), p["output"]))
    failure = verdict.failure()
    for error in verdict.errors.values():
        log.warning("not verified: %s", error.message)
    if failure is not None:
        log.error("%s", failure.message)
    _emit(permissions.render_check(verdict, failure, p["output"]))
    sys.exit(failure.exit_code if failure is not None else E.EXIT_OK)


def _preflight(settings: Settings) -> None:
    """watch's first step: exit 5 at once when the identity lacks an action; when the check
    itself cannot run, a warning, and the loop starts as it would have."""
    from . import permissions
    from .clients import Clients
    from .retry import Budget
    clients = Clients(settings.arm_endpoint, settings.ca_bundle, settings.poll_interval)
    try:
        verdict = permissions.preflight(settings, clients, Budget(settings.timeout))
    except E.RegistrarError as exc:
        log.warning("preflight could not run: %s; starting anyway", exc.message)
        return
    finally:
        clients.close()
    refused, failure = verdict.refused(), verdict.failure()
    if refused is not None:
        raise refused
    if failure is not None:
        log.warning("preflight incomplete: %s; starting anyway", failure.message)
