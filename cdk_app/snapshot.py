"""Stable, comparable templates: CDK version metadata dropped and 64-hex asset hashes masked.

Used by the snapshot tests (tests/infra/test_snapshots.py) and by `make diff` (cdk_app.diff), so the
committed snapshots and the freshly synthesized templates are normalised the same way.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

HASH_RE = re.compile(r"[0-9a-f]{64}")
ASSET_HASH = "<ASSET_HASH>"
REPO_ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT_DIR = REPO_ROOT / "tests" / "infra" / "__snapshots__" / "test_snapshots"


def mask_hashes(value: Any) -> Any:
    """Replace every 64-hex asset hash (asset paths, S3 keys, image tags) with a placeholder."""
    return json.loads(HASH_RE.sub(ASSET_HASH, json.dumps(value)))


def stable_template(template: dict) -> dict:
    """The template without AWS::CDK::Metadata (changes with every CDK release) and with hashes masked."""
    t = json.loads(json.dumps(template))
    t.get("Resources", {}).pop("CDKMetadata", None)
    t.get("Conditions", {}).pop("CDKMetadataAvailable", None)
    if "Conditions" in t and not t["Conditions"]:
        del t["Conditions"]
    return mask_hashes(t)


def baseline_path(env_name: str, kind: str) -> Path:
    """The committed snapshot of stack `Ngrs-<env>-<kind>` (kind: Data | Service)."""
    return SNAPSHOT_DIR / f"test_stack_snapshot[{env_name}-{kind}].json"
