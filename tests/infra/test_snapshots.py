"""One syrupy JSON snapshot per stack (dev and prod, default shape), 64-hex asset hashes masked.

These files are also the baselines of `make diff` (python -m cdk_app.diff). Update deliberately with
`.venv/bin/python -m pytest tests/infra/test_snapshots.py --snapshot-update` and review the git diff.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from infra_helpers import stable_template

pytestmark = pytest.mark.slow


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("env_name,kind", [("dev", "Data"), ("dev", "Service"), ("prod", "Data"), ("prod", "Service")])
def test_stack_snapshot(synth, snapshot_json, env_name, kind):
    assert stable_template(synth(env_name).template(kind)) == snapshot_json
