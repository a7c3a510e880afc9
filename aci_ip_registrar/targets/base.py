"""The small base every target kind fills: read one Azure resource, render the planned state,
name what Azure would refuse in it, and write it conditionally.

Reading, planning, checking, ordering, dry run, logging and retrying live in runner.py and
retry.py; a target module only knows how its resource looks on the wire. Several configured
targets on one resource (two pools on one gateway) are one Resource: one read, at most one write.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..config import TargetSpec
from ..ledger import Ledger
from ..planner import TargetPlan


@dataclass(frozen=True)
class Observed:
    exists: bool
    etag: Optional[str]
    addresses: Dict[str, List[str]]                   # target child -> IPs it holds
    ledgers: Dict[str, Ledger]                        # target child -> ledger as read
    busy: Optional[str] = None                        # a state to let settle before writing
    model: Any = None                                 # the JSON document as read (never mutated)


class Resource(ABC):
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

    @abstractmethod
    def write(self, observed: Observed, body: Any, budget) -> Observed:
        """Write `body` conditionally on observed.etag; return the state read back."""
