"""Where a target keeps its ownership ledger, and the limits of those places.

App Gateway: resource tags on the gateway, one tag per (pool, member):
    aciipr:<pool>:<member> = <ip>[;adopted][;release=<old ip>]
Azure allows 50 tags per resource, tag names up to 512 characters (case-insensitive), values up to
256, and no `< > % & \\ ? /` in names. A full tag set is refused before anything is written.
Private DNS: record-set metadata, one key per member:  aciipr_<member with '-' as '_'> = <ip>[;adopted]
Member names are container-group names (lower-case letters, digits, hyphens), so the encodings are
unambiguous.
"""
from __future__ import annotations

import re
from typing import Dict, Mapping, Tuple

from .errors import UnsafePlanRefused
from .planner import LedgerEntry

TAG_PREFIX = "aciipr:"
META_PREFIX = "aciipr_"
MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
MEMBER_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _encode(entry: LedgerEntry) -> str:
    return entry.ip + (";adopted" if entry.adopted else "") + \
        (f";release={entry.release}" if entry.release else "")


def _decode(value: str) -> LedgerEntry:
    ip, *flags = [part.strip() for part in (value or "").split(";")]
    release = next((f[len("release="):] for f in flags if f.startswith("release=")), None)
    return LedgerEntry(ip, "adopted" in flags, release or None)


def tag_name(pool: str, member: str) -> str:
    return f"{TAG_PREFIX}{pool.lower()}:{member}"


def ledger_from_tags(tags: Mapping[str, str], pool: str) -> Dict[str, LedgerEntry]:
    prefix = f"{TAG_PREFIX}{pool.lower()}:"
    out = {}
    for key, value in (tags or {}).items():
        if key.lower().startswith(prefix):
            out[key[len(prefix):].lower()] = _decode(value)
    return out


def apply_to_tags(tags: Mapping[str, str], pool: str, before: Mapping[str, LedgerEntry],
                  after: Mapping[str, LedgerEntry], label: str) -> Dict[str, str]:
    """Tags with this pool's ledger changes applied; refuses a tag set Azure would reject."""
    out = dict(tags or {})
    lowered = {k.lower(): k for k in out}
    for member in before:
        if member not in after:
            out.pop(lowered.get(tag_name(pool, member), tag_name(pool, member)), None)
    for member, entry in after.items():
        if before.get(member) == entry:
            continue
        name = tag_name(pool, member)
        out.pop(lowered.get(name, name), None)
        out[name] = _encode(entry)
        if len(name) > MAX_TAG_NAME:
            raise UnsafePlanRefused(f"{label}: ledger tag name {name!r} is longer than "
                                    f"{MAX_TAG_NAME} characters", target=label)
    if len(out) > MAX_TAGS:
        raise UnsafePlanRefused(
            f"{label}: the gateway's tags are full ({len(tags or {})} of {MAX_TAGS}); the ledger "
            f"needs one tag per pool and member. Remove unused tags or stale 'aciipr:' entries",
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
