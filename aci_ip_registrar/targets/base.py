"""The small base every target kind fills: read one Azure resource, write it conditionally.

Reading, planning, ordering, dry run, logging and retrying live in runner.py and retry.py; a target
module only knows how its resource looks on the wire. Several configured targets on one resource
(two pools on one gateway) are one Resource: one read, at most one write.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..config import TargetSpec
from ..planner import LedgerEntry, TargetPlan


@dataclass
class Observed:
    exists: bool
    etag: Optional[str]
    addresses: Dict[str, List[str]]                   # target child -> IPs it holds
    ledgers: Dict[str, Dict[str, LedgerEntry]]        # target child -> ledger
    busy: Optional[str] = None                        # a state to let settle before writing
    extra: List[str] = field(default_factory=list)    # resource-level changes (TTL, create)
    model: Any = None                                 # the SDK object to modify and write back


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
    def write(self, observed: Observed, plans: Dict[str, TargetPlan], budget) -> Observed:
        """Write the planned state conditionally on observed.etag; return the state read back."""

    def changes(self, observed: Observed, spec: TargetSpec) -> List[str]:
        """Resource-level changes beyond addresses and ledger (TTL, creation). Pure."""
        return []
