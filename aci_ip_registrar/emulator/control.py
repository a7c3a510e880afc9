"""The Python API (`Emulator`) and the emulator-only /_emulator/* HTTP routes."""

from __future__ import annotations

import copy
import secrets
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from . import aci, dns, gateway, rbac, seeding, tls
from .arm import ArmApp, IdentityApp, encode
from .errors import ArmError
from .reqlog import RequestLog
from .server import LoopbackServer
from .state import Store
from .wire import Request, Response, error_response, new_guid

IDENTITY_PATH = "/msi/token"


class Emulator:
    """A loopback Azure Resource Manager for the real SDK clients. See docs/emulator.md."""

    def __init__(
        self,
        seed: Union[None, Dict[str, Any], str, Path] = None,
        *,
        port: int = 0,
        workdir: Union[None, str, Path] = None,
        identity_port: int = 0,
        **knobs: Any,
    ) -> None:
        """Knobs (op_duration, retry_after, enforce_if_match, time_scale, ...) default to Azure's
        behaviour; see docs/emulator.md."""
        self._store = Store()
        self.set(**knobs)
        self._log = RequestLog()
        self.issued_tokens: List[str] = []
        self.identity_header = secrets.token_urlsafe(24)
        self._port, self._identity_port = port, identity_port
        self._workdir_arg = Path(workdir) if workdir is not None else None
        self._workdir: Optional[Path] = None
        self._ca_path: Optional[Path] = None
        self._arm: Optional[LoopbackServer] = None
        self._idp: Optional[LoopbackServer] = None
        self._arm_app = ArmApp(self._store, self._log)
        self._identity_app = IdentityApp(
            self._store, self._log, self.identity_header, IDENTITY_PATH, self.issued_tokens
        )
        if seed is not None:
            self.seed(seed)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> "Emulator":
        if self._arm is not None:
            raise RuntimeError("the emulator is already running")
        if self._workdir_arg is not None:
            self._workdir_arg.mkdir(parents=True, exist_ok=True)
            self._workdir = self._workdir_arg
        else:
            self._workdir = Path(tempfile.mkdtemp(prefix="aci-ip-registrar-emulator-"))
        ca, chain, key = tls.generate(self._workdir)
        self._ca_path = ca
        self._arm = LoopbackServer(self._port, self._route, tls.server_context(chain, key))
        try:
            self._idp = LoopbackServer(self._identity_port, self._identity_app.handle, None)
        except OSError:
            self._arm.server_close()
            self._arm = None
            raise
        self._arm.start()
        self._idp.start()
        return self

    def stop(self) -> None:
        servers = [s for s in (self._arm, self._idp) if s is not None]
        stoppers = [threading.Thread(target=s.shutdown) for s in servers]  # in parallel: each waits a poll
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        for server in servers:
            server.server_close()
            server.close_connections()
        self._arm = self._idp = None
        if self._workdir is not None and self._workdir_arg is None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._arm is not None

    def _server(self, which: str) -> LoopbackServer:
        server = self._arm if which == "arm" else self._idp
        if server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return server

    # -- what clients need ---------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self._server("arm").base_url

    @property
    def port(self) -> int:
        return self._server("arm").port

    @property
    def ca_path(self) -> str:
        self._server("arm")
        return str(self._ca_path)

    @property
    def identity_endpoint(self) -> str:
        return self._server("identity").base_url + IDENTITY_PATH

    @property
    def imds_authority(self) -> str:
        """The IMDS base URL for AZURE_POD_IDENTITY_AUTHORITY_HOST (azure-identity and msal read it)."""
        return self._server("identity").base_url

    def env(self) -> Dict[str, str]:
        """What a client needs. The identity variables follow the identity_form knob: IMDS
        (AZURE_POD_IDENTITY_AUTHORITY_HOST, as in an ACI container) or App Service
        (IDENTITY_ENDPOINT + IDENTITY_HEADER)."""
        env = {
            "ACI_IP_REGISTRAR_ARM_ENDPOINT": self.base_url,
            "ACI_IP_REGISTRAR_CA_BUNDLE": self.ca_path,
            "REQUESTS_CA_BUNDLE": self.ca_path,
        }
        if self.knobs["identity_form"] == "appservice":
            env.update(IDENTITY_ENDPOINT=self.identity_endpoint, IDENTITY_HEADER=self.identity_header)
        else:
            env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = self.imds_authority
        env["AZURE_SUBSCRIPTION_ID"] = self.subscription_id
        return env

    @property
    def subscription_id(self) -> str:
        with self._store.lock:
            return self._store.first_subscription()

    @property
    def tenant_id(self) -> str:
        with self._store.lock:
            return self._store.tenant_id()

    # -- state ---------------------------------------------------------------------------
    def seed(self, data: Union[Dict[str, Any], str, Path]) -> None:
        seeding.apply(self._store, data)

    def put(self, resource: Dict[str, Any]) -> None:
        """Set a resource by its id, as an out-of-band change (always a new etag)."""
        seeding.put_one(self._store, copy.deepcopy(resource))

    def get(self, resource_id: str) -> Optional[Dict[str, Any]]:
        """The resource as a GET would show it now (a deep copy); also gateway child resources."""
        key = resource_id.rstrip("/").lower()
        with self._store.lock:
            res = self._store.get(key)
            if res is not None and res.kind == "gateway":
                res = gateway.settle(self._store, res)
                return copy.deepcopy(gateway.visible(self._store, res)) if res is not None else None
            if res is not None:
                if res.kind == "cgroup":
                    aci.settle(self._store, res)
                doc = dns.render_zone(self._store, res) if res.kind in ("pzone", "zone") else res.doc
                return copy.deepcopy(doc)
            for gw in list(self._store.of_kind("gateway")):
                gw_key = gw.doc["id"].lower() + "/"
                if key.startswith(gw_key):
                    gw = gateway.settle(self._store, gw)
                    if gw is None:
                        return None
                    coll, _, name = key[len(gw_key):].partition("/")
                    for ckey, items in gateway.visible(self._store, gw)["properties"].items():
                        if ckey.lower() == coll and isinstance(items, list):
                            for item in items:
                                if isinstance(item, dict) and str(item.get("name", "")).lower() == name:
                                    return copy.deepcopy(item)
        return None

    def _cgroup(self, resource_id: str) -> Any:
        res = self._store.get(resource_id.lower(), "cgroup")
        if res is None:
            raise KeyError(f"no container group {resource_id}")
        return res

    def restart_container_group(self, resource_id: str, new_ip: Optional[str] = None) -> str:
        """Restart at once (a platform restart); returns the new private IP."""
        with self._store.lock:
            return aci.restart_group(self._store, self._cgroup(resource_id), new_ip)

    def stop_container_group(self, resource_id: str) -> None:
        """Stop at once: state Stopped, the private IP released."""
        with self._store.lock:
            aci.stop_group(self._store, self._cgroup(resource_id))

    def start_container_group(self, resource_id: str, new_ip: Optional[str] = None) -> str:
        """Start at once; returns the (new) private IP."""
        with self._store.lock:
            return aci.start_group(self._store, self._cgroup(resource_id), new_ip)

    # -- RBAC ----------------------------------------------------------------------------------
    def set_role_assignments(self, assignments: Optional[List[Dict[str, Any]]]) -> None:
        """The caller's role assignments: a list of {"scope", "actions", "notActions"} (notActions
        optional; dataActions/notDataActions optional too), or None for RBAC off (the default:
        everything allowed). Replaces the current list. ValueError on a malformed list."""
        normalized = rbac.normalize(assignments)
        with self._store.lock:
            self._store.role_assignments = normalized

    def apply_role(self, role_definition: Dict[str, Any], scopes: List[str]) -> List[Dict[str, Any]]:
        """Assign a custom role (the JSON `az role definition create` takes: Name, IsCustom,
        Description, Actions, NotActions, DataActions, NotDataActions, AssignableScopes) at each of
        `scopes`: the caller's assignments become exactly one per scope (replacing the current
        ones). Returns them. ValueError for a scope outside the role's AssignableScopes."""
        assignments = rbac.from_role(role_definition, scopes)
        with self._store.lock:
            self._store.role_assignments = assignments
        return copy.deepcopy(assignments)

    @property
    def role_assignments(self) -> Optional[List[Dict[str, Any]]]:
        """A copy of the current assignments (notActions filled in), or None when RBAC is off."""
        with self._store.lock:
            return copy.deepcopy(self._store.role_assignments)

    def set(self, **knobs: Any) -> None:
        with self._store.lock:
            self._store.knobs.update(**knobs)
            if "busy_seed" in knobs:
                self._store.busy_rng.seed(self._store.knobs.busy_seed)

    @property
    def knobs(self) -> Dict[str, Any]:
        with self._store.lock:
            return dict(vars(self._store.knobs))

    # -- faults and the log ----------------------------------------------------------------
    def add_fault(self, kind: str, *, method: Optional[str] = None, path: Optional[str] = None,
                  count: Optional[int] = None, probability: Optional[float] = None,
                  seed: Optional[int] = None, **params: Any) -> int:
        return self._store.faults.add(kind, method=method, path=path, count=count,
                                      probability=probability, seed=seed, **params)

    def remove_fault(self, fault_id: int) -> bool:
        return self._store.faults.remove(fault_id)

    def faults(self) -> List[Dict[str, Any]]:
        return self._store.faults.list()

    def clear_faults(self) -> None:
        self._store.faults.clear()

    def log(self) -> List[Dict[str, Any]]:
        return self._log.entries()

    def clear_log(self) -> None:
        self._log.clear()

    def counts(self) -> Dict[str, int]:
        return self._log.counts()

    def add_request_hook(self, hook: Any) -> Any:
        """Call hook(entry) for every ARM request on arrival, before any fault takes effect and before
        it is handled, in the request's thread (tests act at an exact point instead of sleeping)."""
        self._store.hooks.append(hook)
        return hook

    def remove_request_hook(self, hook: Any) -> None:
        if hook in self._store.hooks:
            self._store.hooks.remove(hook)

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> Dict[str, Any]:
        """Block until a logged request satisfies predicate(entry); return that entry.
        TimeoutError if none does within timeout seconds."""
        return self._log.wait_for(predicate, timeout)

    def add_log_listener(self, listener: Any) -> None:
        """Call listener(entry) after every request (the CLI uses it for its access log)."""
        self._log.listeners.append(listener)

    # -- HTTP ------------------------------------------------------------------------------
    def _route(self, req: Request) -> Response:
        if req.path.lower().startswith("/_emulator"):
            try:
                resp = self._control(req)
            except ArmError as err:
                resp = error_response(err)
            except (ValueError, TypeError, KeyError) as exc:
                resp = error_response(ArmError(400, "InvalidEmulatorRequest", str(exc)))
            resp.body = encode(resp.body)
            resp.headers.setdefault("x-ms-request-id", new_guid())
            return resp
        return self._arm_app.handle(req)

    def _control(self, req: Request) -> Response:
        """Emulator-only routes, no auth (loopback only): log, counts, faults, knobs, roles, seed."""
        what, method = req.path.lower()[len("/_emulator"):].strip("/"), req.method
        if what == "log" and method == "GET":
            return Response(200, self.log())
        if what == "log" and method == "DELETE":
            self.clear_log()
            return Response(204)
        if what == "counts" and method == "GET":
            return Response(200, self.counts())
        if what == "faults" and method == "GET":
            return Response(200, self.faults())
        if what == "faults" and method == "POST":
            spec = req.json_object()
            return Response(201, {"id": self.add_fault(spec.pop("kind", ""), **spec)})
        if what == "faults" and method == "DELETE":
            self.clear_faults()
            return Response(204)
        if what == "knobs" and method == "GET":
            return Response(200, _jsonable(self.knobs))
        if what == "knobs" and method in ("POST", "PATCH"):
            self.set(**req.json_object())
            return Response(200, _jsonable(self.knobs))
        if what == "roles" and method == "GET":
            return Response(200, {"roleAssignments": self.role_assignments})
        if what == "roles" and method in ("PUT", "POST"):
            assignments = rbac.load(req.json())
            with self._store.lock:
                self._store.role_assignments = assignments
            return Response(200, {"roleAssignments": self.role_assignments})
        if what == "roles" and method == "DELETE":
            self.set_role_assignments(None)
            return Response(204)
        if what == "seed" and method == "POST":
            self.seed(req.json_object())
            return Response(204)
        if what == "resource" and method == "GET":
            doc = self.get(req.query.get("id", ""))
            if doc is None:
                raise ArmError(404, "ResourceNotFound", f"No resource {req.query.get('id')!r}.")
            return Response(200, doc)
        if what == "restart" and method == "POST":
            return Response(200, {"ip": self.restart_container_group(req.query.get("id", ""), req.query.get("ip"))})
        if what == "start" and method == "POST":
            return Response(200, {"ip": self.start_container_group(req.query.get("id", ""), req.query.get("ip"))})
        if what == "stop" and method == "POST":
            self.stop_container_group(req.query.get("id", ""))
            return Response(204)
        raise ArmError(404, "NotFound", f"No emulator route {method} {req.path}.")


def _jsonable(knobs: Dict[str, Any]) -> Dict[str, Any]:
    # json has no infinity; "inf" round-trips through float().
    return {k: ("inf" if isinstance(v, float) and v == float("inf") else list(v) if isinstance(v, tuple) else v)
            for k, v in knobs.items()}
