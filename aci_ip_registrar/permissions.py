"""What a run needs from Azure RBAC, and whether the caller holds it (wire notes §2.6, §12.6).

Each target kind says what it needs (`Resource.needs`: (scope, action) pairs; App Gateway adds
the linked scopes its document names). This module adds `Microsoft.ContainerInstance/
containerGroups/read` on the `--container-group` (register and the continuing modes) or on each
`sync` scope, reads the caller's effective permissions through the Authorization permissions API
(one paged GET per distinct scope), and matches them as ARM does: an action is allowed when some
entry's `actions` match it and that same entry's `notActions` do not; `*` matches any run of
characters; case-insensitive.

Three users: the pre-write check of every run (`require`, called by runner.run_once), the `check`
preflight and `watch --preflight` (`preflight`), and the least-privilege role (`role_definition`,
`assignments`, printed by `roles`).

The permissions API lists role assignments only. Deny assignments and conditions are not in it, so
"missing" is certain and "present" is not (CAVEAT).
"""
from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from . import targets
from .azure_errors import translate
from .errors import CredentialUnavailable, PermissionDenied, RegistrarError
from .retry import Budget, with_retries

log = logging.getLogger("aci_ip_registrar.permissions")

API_VERSION = "2022-04-01"          # Permissions_ListForResourceGroup / _ListForResource
ACI_READ = "Microsoft.ContainerInstance/containerGroups/read"
REGISTER, SYNC = "register", "sync"
PRESENT, MISSING, UNKNOWN = "present", "missing", "unknown"
CAVEAT = ("the permissions API shows role assignments only: deny assignments and role assignment "
          "conditions are not visible to it, so 'present' means a role grants the action, and "
          "Azure may still refuse it")

Need = Tuple[str, str]              # (scope, action), as Resource.needs returns them


# -- ARM's matching rules -----------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _pattern(pattern: str) -> "re.Pattern[str]":
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")),
                      re.IGNORECASE | re.DOTALL)


def matches(pattern: str, action: str) -> bool:
    """`*` matches any run of characters, slashes included (`Microsoft.Network/*/read`)."""
    return _pattern(pattern).fullmatch(action) is not None


def allowed(entries: Iterable[dict], action: str) -> bool:
    """True when one entry's actions match `action` and that same entry's notActions do not: a
    notAction removes the action from its own role only, never from another assignment."""
    return any(any(matches(p, action) for p in entry.get("actions") or [])
               and not any(matches(p, action) for p in entry.get("notActions") or [])
               for entry in entries)


def checkable(scope: str) -> bool:
    """The permissions API answers for a resource group or a resource, not a subscription."""
    return len([part for part in scope.split("/") if part]) >= 4


def is_container(scope: str) -> bool:
    """A subscription or resource group: a role assigned there covers every resource in it."""
    return len([part for part in scope.split("/") if part]) <= 4


def subscription_of(scope: str) -> Optional[str]:
    match = re.match(r"/subscriptions/([^/]+)", scope, re.IGNORECASE)
    return match.group(1) if match else None


# -- what a run needs ---------------------------------------------------------------------------

class Demand(NamedTuple):
    """What one party of a run needs: a target's resource, a container group, a sync scope."""
    label: str
    kind: str
    needs: List[Need]
    problem: Optional[RegistrarError] = None     # the resource could not be read (403)


def unique(needs: Iterable[Need]) -> List[Need]:
    seen, out = set(), []
    for scope, action in needs:
        key = (scope.rstrip("/").lower(), action.lower())
        if key not in seen:
            seen.add(key)
            out.append((scope.rstrip("/"), action))
    return out


def _read(resource, budget: Budget):
    def attempt(_n):
        try:
            return resource.read(budget)
        except Exception as exc:  # translated once, here
            raise translate(exc, resource.label) from None
    return with_retries(attempt, what=resource.label, budget=budget)


def demands(specs, clients, budget: Budget, mode: str, container_group=None,
            scopes: Sequence = (), tolerate_denied: bool = False) -> List[Demand]:
    """Read every target (read-only) and say what a run of `mode` needs. With tolerate_denied a
    target the caller may not read is kept, with what its kind needs unread (App Gateway: its
    linked scopes are then unknown); any other read failure raises."""
    out: List[Demand] = []
    for resource in targets.build(specs, clients):
        observed, problem = None, None
        try:
            observed = _read(resource, budget)
        except PermissionDenied as exc:
            if not tolerate_denied or isinstance(exc, CredentialUnavailable):
                raise
            problem = exc
        out.append(Demand(resource.label, resource.KIND,
                          unique(resource.needs(observed, True)), problem))
    if mode == REGISTER and container_group is not None:
        out.append(Demand(f"container group {container_group.name}", "container-group",
                          [(container_group.id, ACI_READ)]))
    if mode == SYNC:
        out += [Demand(f"sync scope {scope.label}", "sync-scope", [(scope.label, ACI_READ)])
                for scope in scopes]
    return out


# -- what the caller holds ----------------------------------------------------------------------

class Permissions:
    """The caller's effective permissions per scope: one paged GET each, kept for the run. A
    scope that cannot be read holds the error instead."""

    def __init__(self, arm, budget: Budget, retry: bool = False):
        self.arm, self.budget, self.retry = arm, budget, retry
        self._cache: Dict[str, object] = {}

    def entries(self, scope: str):
        key = scope.rstrip("/").lower()
        if key not in self._cache:
            self._cache[key] = self._fetch(scope.rstrip("/"))
        return self._cache[key]

    def _fetch(self, scope: str):
        if not checkable(scope):
            return RegistrarError(f"{scope}: not checked: the permissions API answers for "
                                  f"resource groups and resources, not for a subscription",
                                  code="NotCheckable")
        label = f"permissions at {scope}"

        def attempt(_n):
            try:
                return self.arm.list(f"{scope}/providers/Microsoft.Authorization/permissions",
                                     API_VERSION, **self.budget.call_kwargs())
            except Exception as exc:  # translated once, here
                raise translate(exc, label) from None
        try:
            return with_retries(attempt, what=label, budget=self.budget) if self.retry \
                else attempt(1)
        except RegistrarError as exc:
            return exc

    def state(self, scope: str, action: str) -> Tuple[str, Optional[RegistrarError]]:
        entries = self.entries(scope)
        if isinstance(entries, RegistrarError):
            return UNKNOWN, entries
        return (PRESENT if allowed(entries, action) else MISSING), None


class Row(NamedTuple):
    label: str
    kind: str
    scope: str
    action: str
    state: str
    reason: Optional[str] = None


class Verdict:
    """What evaluate() found, row by row."""

    def __init__(self, mode: str, demands: List[Demand]) -> None:
        self.mode = mode
        self.demands = demands
        self.rows: List[Row] = []
        self.errors: Dict[str, RegistrarError] = {}       # scope -> why unknown

    def of(self, state: str) -> List[Row]:
        return [row for row in self.rows if row.state == state]

    def missing_text(self) -> str:
        return "; ".join(f"{row.label} needs {row.action} on {row.scope}"
                         for row in self.of(MISSING))

    def refused(self) -> Optional[PermissionDenied]:
        """Why a run would not be allowed: an action missing, or a target the caller may not
        read; None when neither."""
        if self.of(MISSING):
            return PermissionDenied(f"permission denied: {self.missing_text()} (no role "
                                    f"assignment of the caller grants it)",
                                    target=self.of(MISSING)[0].label, code="MissingPermission")
        denied = [d.problem for d in self.demands if d.problem is not None]
        return denied[0] if denied else None

    def failure(self) -> Optional[RegistrarError]:
        """refused(), else why some scope could not be checked (a subscription scope, which the
        API does not answer for, is only noted); None when a run would be allowed."""
        unknown = [e for e in self.errors.values() if e.code != "NotCheckable"]
        return self.refused() or (unknown[0] if unknown else None)


def evaluate(demands_: List[Demand], permissions: Permissions, mode: str = REGISTER) -> Verdict:
    verdict = Verdict(mode, demands_)
    for demand in demands_:
        for scope, action in demand.needs:
            state, error = permissions.state(scope, action)
            if error is not None:
                verdict.errors.setdefault(scope.lower(), error)
            verdict.rows.append(Row(demand.label, demand.kind, scope, action, state,
                                    error.message if error is not None else None))
    return verdict


def preflight(settings, clients, budget: Budget, mode: str = REGISTER,
              scopes: Sequence = ()) -> Verdict:
    """`check` and `watch --preflight`: read every target, then every needed scope's
    permissions; writes nothing."""
    needed = demands(settings.targets, clients, budget, mode, settings.container_group, scopes,
                     tolerate_denied=True)
    return evaluate(needed, Permissions(clients.arm, budget, retry=True), mode)


def require(plans, clients, budget: Budget) -> None:
    """The pre-write check (design.md: a missing permission known in advance refuses before the
    first write). Only resources that would be written are looked up, and only for the actions
    their write adds to the read that already succeeded; nothing to write, no request. When the
    permissions cannot be read, one warning and the run goes on: Azure refuses the write itself."""
    writing = [p for p in plans if p.changed]
    if not writing:
        return
    needed = []
    for plan in writing:
        reads = {(s.lower(), a.lower()) for s, a in plan.resource.needs(plan.observed, False)}
        needs = [n for n in unique(plan.resource.needs(plan.observed, True))
                 if (n[0].lower(), n[1].lower()) not in reads]
        needed.append(Demand(plan.resource.label, plan.resource.KIND, needs))
    verdict = evaluate(needed, Permissions(clients.arm, budget))
    if verdict.errors:
        first = next(iter(verdict.errors.values()))
        log.warning("permissions not checked before writing (%d scope(s)): %s; going ahead, "
                    "Azure refuses a write the identity may not make", len(verdict.errors),
                    first.message)
    if verdict.of(MISSING):
        raise PermissionDenied(f"permission denied, nothing written: {verdict.missing_text()} "
                               f"(no role assignment of the caller grants it)",
                               target=verdict.of(MISSING)[0].label, code="MissingPermission")


# -- the least-privilege role -------------------------------------------------------------------

_ACI_KINDS = ("container-group", "sync-scope")
MODE_WORDS = {REGISTER: "register (boot, supervise, watch, deregister)", SYNC: "sync"}


def role_definition(demands_: List[Demand], name: str, mode: str) -> dict:
    """A custom role in `az role definition create` form: exactly the union of the actions."""
    actions: Dict[str, str] = {}
    subscriptions: Dict[str, str] = {}
    for demand in demands_:
        for scope, action in demand.needs:
            actions.setdefault(action.lower(), action)
            sub = subscription_of(scope)
            if sub:
                subscriptions.setdefault(sub.lower(), f"/subscriptions/{sub}")
    kinds = ", ".join(sorted({d.kind for d in demands_ if d.kind not in _ACI_KINDS}))
    groups = " and reading container groups" if any(d.kind in _ACI_KINDS for d in demands_) \
        else ""
    return {
        "Name": name,
        "IsCustom": True,
        "Description": f"aci-ip-registrar {MODE_WORDS[mode]}: exactly the actions its targets "
                       f"({kinds}){groups} need; generated by `aci-ip-registrar roles`. Assign "
                       f"it only at the scopes that command lists.",
        "Actions": sorted(actions.values(), key=str.lower),
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": sorted(subscriptions.values(), key=str.lower),
    }


def assignments(demands_: List[Demand]) -> List[dict]:
    """Each scope once, in the order first needed, with the actions it serves."""
    by_scope: Dict[str, dict] = {}
    for demand in demands_:
        for scope, action in demand.needs:
            entry = by_scope.setdefault(scope.lower(), {"scope": scope, "actions": []})
            if action.lower() not in {a.lower() for a in entry["actions"]}:
                entry["actions"].append(action)
    for entry in by_scope.values():
        entry["actions"].sort(key=str.lower)
    return list(by_scope.values())


# -- rendering (pure: the CLI prints) ------------------------------------------------------------

def check_dict(verdict: Verdict, failure: Optional[RegistrarError]) -> dict:
    targets_ = []
    for demand in verdict.demands:
        rows = [r for r in verdict.rows if r.label == demand.label]
        targets_.append({
            "target": demand.label, "kind": demand.kind,
            "read_error": demand.problem.message if demand.problem else None,
            "needs": [{"scope": r.scope, "action": r.action, "state": r.state,
                       **({"reason": r.reason} if r.reason else {})} for r in rows],
            "missing": [{"scope": r.scope, "action": r.action} for r in rows
                        if r.state == MISSING]})
    status = "ok" if failure is None else ("missing" if verdict.of(MISSING) else "error")
    data = {"status": status, "for": verdict.mode, "targets": targets_,
            "missing": [{"target": r.label, "scope": r.scope, "action": r.action}
                        for r in verdict.of(MISSING)],
            "unverified": [{"target": r.label, "scope": r.scope, "action": r.action,
                            "reason": r.reason} for r in verdict.of(UNKNOWN)],
            "caveat": CAVEAT, "exit_code": failure.exit_code if failure else 0}
    if failure is not None:
        data["error"] = failure.message
    return data


def render_check(verdict: Verdict, failure: Optional[RegistrarError], fmt: str) -> str:
    data = check_dict(verdict, failure)
    if fmt == "json":
        return json.dumps(data, sort_keys=True)
    missing = len(data["missing"])
    head = {"ok": "a run would be allowed",
            "missing": f"{missing} permission(s) missing",
            "error": "could not be checked"}[data["status"]]
    lines = [f"check for {MODE_WORDS[verdict.mode]}: {head}"]
    for target in data["targets"]:
        lines.append(target["target"])
        if target["read_error"]:
            lines.append(f"  not readable: {target['read_error']}")
        lines += [f"  {n['state']:<8} {n['action']}  on {n['scope']}" for n in target["needs"]]
    reasons = sorted({r["reason"] for r in data["unverified"]})
    lines += [f"unverified: {reason}" for reason in reasons]
    lines.append(f"caveat: {CAVEAT}")
    if failure is not None:
        lines.append(f"error (exit {failure.exit_code}): {failure.message}")
    return "\n".join(lines)


def render_roles(role: dict, grants: List[dict], assignee: Optional[str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"role": role, "assignments": grants}, indent=2)
    import shlex      # only `roles` prints shell commands
    who = shlex.quote(assignee) if assignee else '"$PRINCIPAL_ID"'
    lines = ["# The custom role (save as role.json; az role definition create "
             "--role-definition @role.json):",
             json.dumps(role, indent=2), "",
             "# Its assignments, each scope once" + ("" if assignee else
                                                     " (set PRINCIPAL_ID to the identity's "
                                                     "object ID, or give --assignee)") + ":"]
    for grant in grants:
        lines.append(f"# {grant['scope']}: {', '.join(grant['actions'])}")
        lines.append(f"az role assignment create --assignee {who} --role "
                     f"{shlex.quote(role['Name'])} --scope {shlex.quote(grant['scope'])}")
    return "\n".join(lines)


__all__ = ["ACI_READ", "CAVEAT", "Demand", "Permissions", "Row", "Verdict", "allowed",
           "assignments", "demands", "evaluate", "matches", "preflight", "require",
           "render_check", "render_roles", "role_definition"]
