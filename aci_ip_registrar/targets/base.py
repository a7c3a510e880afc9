"""The small base every target kind fills: parse its resource ID, read one Azure resource, render
the planned state, name what Azure would refuse in it, write it conditionally, and say which RBAC
actions that takes.

Reading, planning, checking, ordering, dry run, logging and retrying live in runner.py and
retry.py; a target module only knows how its resource looks on the wire. Several configured
targets on one resource (two pools on one gateway) are one Resource: one read, at most one write.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from ..config import TargetSpec
from ..ledger import Ledger
from ..planner import TargetPlan
from ..resource_ids import TargetRef

Need = Tuple[str, str]      # (scope, RBAC action)


class Observed(NamedTuple):
    exists: bool
    etag: Optional[str]
    addresses: Dict[str, List[str]]                   # target child -> IPs it holds
    ledgers: Dict[str, Ledger]                        # target child -> ledger as read
    busy: Optional[str] = None                        # a state to let settle before writing
    model: Any = None                                 # the JSON document as read (never mutated)


class Resource(ABC):
    KIND = ""                   # the registry name (targets/__init__.py)
    ID_FORM = ""                # the ID shape, for error messages
    # Per-target options beyond mode: name -> parser(raw_id, text) -> value.
    OPTIONS: Dict[str, Callable[[str, str], Any]] = {}

    @classmethod
    @abstractmethod
    def parse(cls, raw: str, parts: List[str]) -> Optional[TargetRef]:
        """A TargetRef if the ID (its scope already checked) is this kind's; None if its shape
        belongs to another kind of the same resource type; ConfigError if it is this kind's
        but wrong."""

    @classmethod
    def id_form(cls) -> str:
        return cls.ID_FORM

    @classmethod
    def resolve(cls, spec: TargetSpec, specs: List[TargetSpec]) -> TargetSpec:
        """The spec completed from the run's other targets (a PTR's host from an A target)."""
        return spec

    @classmethod
    def fqdn(cls, spec: TargetSpec) -> Optional[str]:
        """The DNS name this target publishes, if it is a name (A record sets)."""
        return None

    def __init__(self, specs: List[TargetSpec], clients):
        self.specs = specs
        self.clients = clients
        ref = specs[0].ref
        self.subscription = ref.subscription
        self.resource_group = ref.resource_group
        self.resource_id = ref.resource_id

    @property
    def label(self) -> str:
        return ", ".join(s.label for s in self.specs)

    @abstractmethod
    def read(self, budget) -> Observed:
        """GET the resource. Raise ConfigError if it or a named child does not exist."""

    @abstractmethod
    def render(self, observed: Observed, plans: Dict[str, TargetPlan]) -> Any:
        """The JSON document to write: a copy of observed.model with the plans applied. Pure."""

    def refusals(self, observed: Observed) -> List[str]:
        """Why this resource must not be touched at all, whatever the plan. Pure."""
        return []

    def problems(self, body: Any) -> List[str]:
        """What Azure would refuse in `body` (limits); checked before any write. Pure."""
        return []

    def changes(self, observed: Observed, spec: TargetSpec) -> List[str]:
        """Resource-level changes beyond addresses and ledger (TTL, creation). Pure."""
        return []

    def check_address(self, spec: TargetSpec, ip: str) -> List[str]:
        """Refusals for holding `ip` in this target (raise ConfigError if it never could)."""
        return []

    def blocked(self, observed: Observed, plans: Dict[str, TargetPlan]) -> Dict[str, Dict[str, str]]:
        """Members whose address this resource cannot take in this plan, per child, with why:
        they are planned again as leaving, and the plan notes why. Pure."""
        return {}

    @abstractmethod
    def needs(self, observed: Optional[Observed], writing: bool) -> List[Need]:
        """The RBAC actions a run needs, each with its scope: reading, and writing if
        `writing`. `observed` is None when the resource could not be read."""

    @abstractmethod
    def write(self, observed: Observed, body: Any, budget) -> Observed:
        """Write `body` conditionally on observed.etag; return the state read back."""
