"""The ownership ledger: where each target keeps it, and how it is read as untrusted input.

App Gateway: the gateway's resource tags, packed, since Azure allows only 50 tags per resource:
    aciipr:<pool>:<n> = <entry>,<entry>,...      entry := member "=" ipv4 ["+a"] [">" ipv4]
Private DNS: record-set metadata, packed the same way: aciipr__<n> = <entry>,<entry>,...
    (earlier releases wrote one key per member, aciipr_<member, '-' as '_'> = ipv4 [">" ipv4])
`>` marks an old IP kept while a suspected swap settles (planner.py); `+a` was written by earlier
releases for an "adopted" address and is read as a plain owned entry.

Tags and metadata are edited by people, IaC tools and other programs, so the ledger is parsed
strictly (design.md, "The ledger is untrusted input"). An item that does not parse, a member that
appears more than once (in any case, in any tag), an IP no container can hold, or a value over
Azure's limits is *foreign*: reported once, copied back byte for byte, never used to add, keep or
remove anything. The one exception is a foreign item that names the member itself: that key is
the member's own, so its next write replaces it (acting on none of the addresses it named).
"""
from __future__ import annotations

import re
from typing import Collection, Dict, List, Mapping, NamedTuple, Optional, Tuple

from .names import is_member, is_unicast_text
from .planner import EMPTY, LedgerEntry

TAG_PREFIX = "aciipr:"
META_PREFIX = "aciipr_"
META_PACKED = "aciipr__"
MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
_TAG_NAME_FORBIDDEN = set('<>%&\\?/')
_INDEX = re.compile(r"0|[1-9][0-9]{0,3}")
_VALUE = re.compile(r"(?P<ip>[0-9.]+)(?P<a>\+a)?(?:>(?P<old>[0-9.]+))?")
_META_MEMBER = re.compile(r"[a-z0-9](?:[a-z0-9_]{0,61}[a-z0-9])?")


class Foreign(NamedTuple):
    where: str                  # tag name or metadata key
    text: str                   # the item exactly as found
    why: str
    owner: Optional[str]        # the member it seems to name, lower-cased (None: cannot tell)
    whole: bool = False         # the whole tag/key is foreign (bad name, value over the limit)

    def describe(self) -> str:
        return f"{self.where}: {self.text[:80]!r} ({self.why})"


class Ledger(NamedTuple):
    entries: Mapping[str, LedgerEntry] = EMPTY
    foreign: Tuple[Foreign, ...] = ()

    def foreign_of(self, member: str) -> List[Foreign]:
        return [f for f in self.foreign if f.owner == member]

    def foreign_not_of(self, member: str) -> List[Foreign]:
        return [f for f in self.foreign if f.owner != member]

    def kept_foreign(self, replaced: Collection[str]) -> List[Foreign]:
        """The foreign items a write copies back: all but those of members rewriting their own."""
        return [f for f in self.foreign if f.owner not in replaced]


def decode(value: str) -> Tuple[Optional[LedgerEntry], str]:
    """(entry, "") or (None, why)."""
    if len(value) > MAX_TAG_VALUE:
        return None, f"over {MAX_TAG_VALUE} characters"
    match = _VALUE.fullmatch(value)
    if not match:
        return None, "not ipv4[+a][>ipv4]"
    ip, old = match.group("ip"), match.group("old")
    for addr in (ip, old):
        if addr is not None and not is_unicast_text(addr):
            return None, f"{addr!r} is not a unicast IPv4 address a container can hold"
    if old == ip:
        return None, "the released IP is the current one"
    return LedgerEntry(ip, bool(match.group("a")), old), ""


def encode(entry: LedgerEntry) -> str:
    # '+a' is no longer written: an adopted address is owned (a wiped ledger is re-claimed).
    return entry.ip + (f">{entry.release}" if entry.release else "")


def _count(items) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for _, _, owner, _, _, _ in items:
        if owner:
            counts[owner] = counts.get(owner, 0) + 1
    return counts


def _dedupe(items: List[Tuple[str, str, Optional[str], Optional[LedgerEntry], str, bool]],
            counts: Optional[Dict[str, int]] = None) -> Ledger:
    """items: (where, text, owner, entry, why, whole). A member named twice is foreign everywhere
    (`counts`: how often each member is named across every place one ledger is kept)."""
    counts = counts if counts is not None else _count(items)
    entries: Dict[str, LedgerEntry] = {}
    foreign: List[Foreign] = []
    for where, text, owner, entry, why, whole in items:
        if entry is not None and owner and counts[owner] > 1:
            entry, why = None, "member appears more than once"
        if entry is None:
            foreign.append(Foreign(where, text, why, owner, whole))
        else:
            entries[owner] = entry
    return Ledger(entries, tuple(foreign))


# --- App Gateway tags -------------------------------------------------------------------------

def _pool_prefix(pool: str) -> str:
    return f"{TAG_PREFIX}{pool.lower()}:"


def _tag_item(where: str, item: str):
    name, sep, value = item.partition("=")
    owner = name.strip().lower() or None
    if not sep:
        return where, item, owner if owner and is_member(owner) else None, None, \
            "not member=ip", False
    if not is_member(name):
        return where, item, owner, None, "member name not in the ledger grammar", False
    entry, why = decode(value)
    return where, item, name, entry, why, False


def _packed_items(mapping: Mapping[str, str], prefix: str) -> list:
    """The items of every `<prefix><n>` key: `member=entry` joined by commas."""
    items = []
    for key, value in (mapping or {}).items():
        if not key.lower().startswith(prefix):
            continue
        value = value or ""
        if not _INDEX.fullmatch(key[len(prefix):]):
            items.append((key, value, None, None, f"key is not {prefix}<n>", True))
        elif len(value) > MAX_TAG_VALUE:
            items.append((key, value, None, None, f"value over {MAX_TAG_VALUE} characters", True))
        else:
            items.extend(_tag_item(key, item) for item in value.split(","))
    return items


def read_tags(tags: Mapping[str, str], pool: str) -> Ledger:
    return _dedupe(_packed_items(tags, _pool_prefix(pool)))


def _pack(ledger: Mapping[str, LedgerEntry]) -> List[str]:
    values: List[str] = []
    for member in sorted(ledger):
        item = f"{member}={encode(ledger[member])}"
        if values and len(values[-1]) + 1 + len(item) <= MAX_TAG_VALUE:
            values[-1] += "," + item
        else:
            values.append(item)
    return values


def write_tags(tags: Mapping[str, str], pool: str, before: Ledger,
               after: Mapping[str, LedgerEntry], replaced: Collection[str]) -> Dict[str, str]:
    """Tags with this pool's valid ledger replaced by `after`. Foreign items stay in the tag they
    were found in, byte for byte, except those of `replaced` members (rewritten by their own)."""
    return _write_packed(tags, _pool_prefix(pool), before, after, replaced)


def _write_packed(mapping: Mapping[str, str], prefix: str, before: Ledger,
                  after: Mapping[str, LedgerEntry], replaced: Collection[str],
                  drop: Collection[str] = ()) -> Dict[str, str]:
    """`mapping` with the packed `<prefix><n>` keys rewritten for `after`, foreign items kept in
    their key, and the keys in `drop` removed."""
    out = {k: v for k, v in (mapping or {}).items()
           if not k.lower().startswith(prefix) and k not in drop}
    kept: Dict[str, List[str]] = {}
    for item in before.kept_foreign(replaced):
        if item.where.lower().startswith(prefix):
            kept.setdefault(item.where, []).append(item.text)
    for name, texts in kept.items():
        out[name] = ",".join(texts)
    used = {name.lower() for name in kept}
    index = 0
    for value in _pack(after):
        while f"{prefix}{index}" in used:
            index += 1
        out[f"{prefix}{index}"] = value
        index += 1
    return out


def tag_problems(tags: Mapping[str, str], label: str, what: str = "the gateway's tags",
                 noun: str = "tags") -> List[str]:
    """What Azure would refuse in a resource's tag set (wire notes §12.2). Record-set metadata
    is held to the same limits: Azure's own are not documented, and refusing before a write is
    the safe side."""
    problems = []
    for name, value in (tags or {}).items():
        if len(name) > MAX_TAG_NAME:
            problems.append(f"{label}: tag name {name[:40]!r}... is {len(name)} characters, over "
                            f"Azure's limit of {MAX_TAG_NAME}")
        elif _TAG_NAME_FORBIDDEN & set(name):
            problems.append(f"{label}: tag name {name!r} holds a character Azure forbids "
                            f"(< > % & \\ ? /)")
        if len(value or "") > MAX_TAG_VALUE:
            problems.append(f"{label}: tag {name!r} has a {len(value)}-character value, over "
                            f"Azure's limit of {MAX_TAG_VALUE}; Azure would refuse any update")
    if len(tags or {}) > MAX_TAGS:
        ours = sum(1 for k in tags if k.lower().startswith((TAG_PREFIX, META_PREFIX)))
        problems.append(f"{label}: {what} are full: the update needs {len(tags)} {noun} "
                        f"({ours} of them ledger entries), over the limit of {MAX_TAGS}. Remove "
                        f"unused {noun} or members that are gone")
    return problems


# --- Private DNS metadata ----------------------------------------------------------------------
# Packed like the tags, in keys aciipr__<n> (a member name never starts with '_', so these never
# collide with the one-key-per-member form aciipr_<member> that earlier releases wrote; that form
# is still read, and migrated into the packed keys by the next write).

def meta_key(member: str) -> str:
    """The key earlier releases wrote for one member."""
    return META_PREFIX + member.replace("-", "_")


def _meta_item(key: str, value: str):
    rest = key[len(META_PREFIX):]
    owner = rest.lower().replace("_", "-") or None
    if not key.startswith(META_PREFIX) or not _META_MEMBER.fullmatch(rest) \
            or not is_member(rest.replace("_", "-")):
        return key, value, owner, None, "key is not aciipr_<member>", True
    entry, why = decode(value or "")
    return key, value, owner, entry, why, True


def _metadata_items(metadata: Mapping[str, str]) -> list:
    legacy = [_meta_item(k, v) for k, v in (metadata or {}).items()
              if k.lower().startswith(META_PREFIX) and not k.lower().startswith(META_PACKED)]
    return legacy + _packed_items(metadata, META_PACKED)


def read_metadata(metadata: Mapping[str, str]) -> Ledger:
    return _dedupe(_metadata_items(metadata))


def read_metadata_sets(sets: Mapping[str, Mapping[str, str]],
                       addresses: Mapping[str, str]) -> Dict[str, Ledger]:
    """One ledger kept across several record sets (PTR: one record set per address), read per
    set. A member named in more than one set is foreign in all of them, and an entry whose
    address is not its record set's (`addresses`: set -> the IP it is for) is foreign."""
    items = {}
    for name, metadata in sets.items():
        items[name] = [(where, text, owner, None, "its address is not this record set's", whole)
                       if entry is not None and entry.ip != addresses[name]
                       else (where, text, owner, entry, why, whole)
                       for where, text, owner, entry, why, whole in _metadata_items(metadata)]
    counts = _count([item for its in items.values() for item in its])
    return {name: _dedupe(its, counts) for name, its in items.items()}


def write_metadata(metadata: Mapping[str, str], before: Ledger,
                   after: Mapping[str, LedgerEntry], replaced: Collection[str]) -> Dict[str, str]:
    kept = {f.where for f in before.kept_foreign(replaced)}
    legacy = {k for k in (metadata or {}) if k.lower().startswith(META_PREFIX)
              and not k.lower().startswith(META_PACKED) and k not in kept}
    return _write_packed(metadata, META_PACKED, before, after, replaced, drop=legacy)


# Convenience for tests and tools: the valid entries only.
def ledger_from_tags(tags: Mapping[str, str], pool: str) -> Dict[str, LedgerEntry]:
    return read_tags(tags, pool).entries


def ledger_from_metadata(metadata: Mapping[str, str]) -> Dict[str, LedgerEntry]:
    return read_metadata(metadata).entries
