"""ARM tag limits, and the silent rewrites Private DNS makes to tags and metadata."""

from __future__ import annotations

from typing import Any, Dict, Optional

from .errors import ArmError

# Azure Resource Manager limits (learn.microsoft.com azure-resource-manager/management/tag-resources,
# "Limitations"; azure-wire-notes 12.2): 50 tags, names up to 512 characters, values up to 256.
MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256


def check_tags(tags: Any, what: str = "tags") -> None:
    """Refuse (400) a tag set past ARM's limits rather than store any of it."""
    if not isinstance(tags, dict):
        return
    if len(tags) > MAX_TAGS:
        raise ArmError(400, "InvalidTagCount" if what == "tags" else "InvalidMetadataCount",
                       f"The number of {what} ({len(tags)}) exceeds the maximum of {MAX_TAGS}.")
    for name, value in tags.items():
        if len(str(name)) > MAX_TAG_NAME:
            raise ArmError(400, "InvalidTagNameLength",
                           f"The tag name '{str(name)[:40]}...' exceeds the maximum length of "
                           f"{MAX_TAG_NAME} characters.")
        if isinstance(value, str) and len(value) > MAX_TAG_VALUE:
            raise ArmError(400, "InvalidTagValueLength",
                           f"The tag value of '{str(name)[:40]}' exceeds the maximum length of "
                           f"{MAX_TAG_VALUE} characters.")


def drop_metadata_keys_with_spaces(meta: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Private DNS drops metadata keys containing spaces without an error (azure-rest-api-specs#8555)."""
    if not isinstance(meta, dict):
        return meta
    return {k: v for k, v in meta.items() if " " not in k}


def drop_tags_with_colons(tags: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Private DNS zones drop tags whose name contains ':' without an error (azure-rest-api-specs#11748)."""
    if not isinstance(tags, dict):
        return tags
    return {k: v for k, v in tags.items() if ":" not in k}


def lower_resource_group(resource_id: str) -> str:
    """Private DNS returns resource group names lower-cased in ids (azure-rest-api-specs#6641)."""
    parts = resource_id.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            parts[i + 1] = parts[i + 1].lower()
            break
    return "/".join(parts)
