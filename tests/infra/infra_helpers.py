"""Pure helpers for the infra tests (imported as `infra_helpers`; tests/infra is on sys.path)."""

from __future__ import annotations

import json
import re
from typing import Any

HASH_RE = re.compile(r"[0-9a-f]{64}")


def mask_hashes(value: Any) -> Any:
    """Replace every 64-hex asset hash (asset paths, S3 keys, image tags) with a placeholder."""
    return json.loads(HASH_RE.sub("<ASSET_HASH>", json.dumps(value)))


def stable_template(template: dict) -> dict:
    """The template without CDK version metadata, hashes masked: what snapshots and diff baselines hold."""
    t = json.loads(json.dumps(template))
    t.get("Resources", {}).pop("CDKMetadata", None)
    t.get("Conditions", {}).pop("CDKMetadataAvailable", None)
    if "Conditions" in t and not t["Conditions"]:
        del t["Conditions"]
    return mask_hashes(t)


def resources(template: dict, type_name: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


def only(template: dict, type_name: str) -> dict:
    found = resources(template, type_name)
    assert len(found) == 1, f"expected one {type_name}, got {list(found)}"
    return next(iter(found.values()))
