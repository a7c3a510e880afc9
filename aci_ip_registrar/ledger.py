"""Where a target keeps its ownership ledger, and the limits of those places.

App Gateway: the gateway's resource tags, packed, since Azure allows only 50 tags per resource:
    aciipr:<pool>:<n> = <member>=<ip>[+a][><old ip>],<member>=<ip>,...
with n = 0, 1, ... and each value at most 256 characters (about ten members per tag). Tag names are
at most 512 characters, case-insensitive, with no `< > % & \\ ? /`. The pool's whole ledger is
rewritten in the same PUT as the pool, so packing adds no race. A tag set that would exceed 50 is
refused before anything is written.
Private DNS: record-set metadata, one key per member: aciipr_<member, '-' as '_'> = <ip>[+a][><old ip>]
`+a` marks an adopted entry, `>` an old IP kept while a suspected swap settles (planner.py).
Member names are container-group names (lower-case letters, digits, hyphens), so the encodings
are unambiguous.
"""
from __future__ import annotations

import re
from typing import Dict, List, Mapping, Tuple

from .errors import UnsafePlanRefused
from .planner import LedgerEntry

TAG_PREFIX = "aciipr:"
META_PREFIX = "aciipr_"
MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
MEMBER_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _encode(entry: LedgerEntry) -> str:
    return entry.ip + ("+a" if entry.adopted else "") + \
        (f">{entry.release}" if entry.release else "")


def _decode(value: str) -> LedgerEntry:
    value, _, release = (value or "").strip().partition(">")
    adopted = value.endswith("+a")
    return LedgerEntry(value[:-2] if adopted else value, adopted, release or None)


def _pool_prefix(pool: str) -> str:
    return f"{TAG_PREFIX}{pool.lower()}:"


def ledger_from_tags(tags: Mapping[str, str], pool: str) -> Dict[str, LedgerEntry]:
    prefix = _pool_prefix(pool)
    out = {}
    for key, value in (tags or {}).items():
        if not key.lower().startswith(prefix):
            continue
        for item in (value or "").split(","):
            member, sep, encoded = item.strip().partition("=")
            if sep and member:
                out[member.lower()] = _decode(encoded)
    return out


def _pack(ledger: Mapping[str, LedgerEntry]) -> List[str]:
    values: List[str] = []
    for member in sorted(ledger):
        item = f"{member}={_encode(ledger[member])}"
        if values and len(values[-1]) + 1 + len(item) <= MAX_TAG_VALUE:
            values[-1] += "," + item
        else:
            values.append(item)
    return values


def apply_to_tags(tags: Mapping[str, str], pool: str, before: Mapping[str, LedgerEntry],
                  after: Mapping[str, LedgerEntry], label: str) -> Dict[str, str]:
    """Tags with this pool's ledger replaced by `after`; refuses a tag set Azure would reject."""
    prefix = _pool_prefix(pool)
    out = {k: v for k, v in (tags or {}).items() if not k.lower().startswith(prefix)}
    for index, value in enumerate(_pack(after)):
        out[f"{prefix}{index}"] = value
    if len(prefix) + 4 > MAX_TAG_NAME:
        raise UnsafePlanRefused(f"{label}: pool name too long for a ledger tag name", target=label)
    if len(out) > MAX_TAGS:
        raise UnsafePlanRefused(
            f"{label}: the gateway's tags are full: the ledger needs {len(_pack(after))} tag(s) "
            f"for {len(after)} member(s) and {len(out) - len(_pack(after))} other tags exist, "
            f"over Azure's limit of {MAX_TAGS}. Remove unused tags or members that are gone",
            target=label)
    return out


def meta_key(member: str) -> str:
    return META_PREFIX + member.replace("-", "_")


def ledger_from_metadata(metadata: Mapping[str, str]) -> Dict[str, LedgerEntry]:
    out = {}
    for key, value in (metadata or {}).items():
        if key.lower().startswith(META_PREFIX):
            out[key[len(META_PREFIX):].lower().replace("_", "-")] = _decode(value)
    return out


def apply_to_metadata(metadata: Mapping[str, str], before: Mapping[str, LedgerEntry],
                      after: Mapping[str, LedgerEntry]) -> Dict[str, str]:
    out = {k: v for k, v in (metadata or {}).items() if not k.lower().startswith(META_PREFIX)}
    for member, entry in after.items():
        out[meta_key(member)] = _encode(entry)
    return out


def split_member(value: str) -> Tuple[bool, str]:
    member = (value or "").strip().lower()
    return bool(MEMBER_RE.match(member)), member
