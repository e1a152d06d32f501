"""`make diff` machinery: the offline cdk diff passes on an unchanged baseline and fails on a destructive one."""

from __future__ import annotations

import json
import shutil

import pytest

from cdk_app.diff import diff_stack
from cdk_app.snapshot import baseline_path, stable_template

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def normalised_assembly(synth, tmp_path_factory):
    s = synth("dev")
    outdir = tmp_path_factory.mktemp("diff-assembly")
    shutil.copytree(s.outdir, outdir, dirs_exist_ok=True)
    for name, template in s.templates.items():
        (outdir / f"{name}.template.json").write_text(json.dumps(stable_template(template), sort_keys=True))
    return outdir


def test_unchanged_baseline_passes(normalised_assembly):
    assert diff_stack(normalised_assembly, "Ngrs-dev-Data", baseline_path("dev", "Data"), "destructive") == 0


def test_destructive_change_fails(normalised_assembly, tmp_path):
    baseline = json.loads(baseline_path("dev", "Data").read_text())
    # the baseline had a resource the new template drops -> "destroy"
    baseline["Resources"]["LegacyQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    # and a replacement of the Redis group (cluster mode change) -> "replace"
    rg = next(v for v in baseline["Resources"].values() if v["Type"] == "AWS::ElastiCache::ReplicationGroup")
    rg["Properties"]["Port"] = 6380
    tampered = tmp_path / "baseline.json"
    tampered.write_text(json.dumps(baseline))
    assert diff_stack(normalised_assembly, "Ngrs-dev-Data", tampered, "destructive") == 1
    assert diff_stack(normalised_assembly, "Ngrs-dev-Data", tampered, "never") == 0
