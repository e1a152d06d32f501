"""Policy gates on synthesized assemblies: cdk-nag (AwsSolutions), cfn-lint, checkov.

Four shapes are checked: dev and prod in the default shape (distributed, App Runner), prod with the ECS
API runtime, and dev all-in-one on ECS. Every synth already runs with the nag plugin registered (any
unacknowledged finding raises), and `validate_scope` is asserted explicitly here as well.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

SHAPES = [
    ("dev", "distributed", "apprunner"),
    ("prod", "distributed", "apprunner"),
    ("prod", "distributed", "ecs"),
    ("dev", "all-in-one", "ecs"),
]
IDS = ["-".join(s) for s in SHAPES]


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_cdk_nag_zero_unacknowledged_findings(synth, shape):
    from cdk_nag import AwsSolutionsChecks

    deployment = synth(*shape).deployment
    report = AwsSolutionsChecks().validate_scope(deployment.app)
    assert report.success, [v.rule_name for v in report.violations]
    assert not report.violations


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_every_acknowledgement_has_a_reason(synth, shape):
    acks = synth(*shape).deployment.acknowledgements
    assert acks
    for path, rule_id, reason in acks:
        assert rule_id.startswith(("AwsSolutions-", "CKV_AWS_")), rule_id
        assert len(reason) >= 40, (path, rule_id, reason)


def test_nag_actually_fires_without_acknowledgements():
    """Guard against a silently disabled gate: the same app without acknowledgements has findings."""
    from cdk_nag import AwsSolutionsChecks

    import cdk_app.app as app_module
    from cdk_app.app import build_app, cdk_json_context

    original = app_module.acknowledge_findings
    app_module.acknowledge_findings = lambda deployment: []
    try:
        deployment = build_app(context={**cdk_json_context(), "env": "dev"}, nag=False)
    finally:
        app_module.acknowledge_findings = original
    rules = {v.rule_name.split("[")[0] for v in AwsSolutionsChecks().validate_scope(deployment.app).violations}
    assert {"AwsSolutions-SMG4", "AwsSolutions-AEC5"} <= rules, rules


@pytest.mark.parametrize("shape", [SHAPES[0], SHAPES[2], SHAPES[3]], ids=[IDS[0], IDS[2], IDS[3]])
def test_cfn_lint_zero_errors(synth, shape):
    outdir = synth(*shape).outdir
    templates = sorted(str(p) for p in outdir.glob("*.template.json"))
    assert len(templates) == 2
    proc = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "json", "--", *templates],
        capture_output=True, text=True, timeout=300,
    )
    findings = json.loads(proc.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert not errors, json.dumps(errors, indent=1)[:3000]
    assert proc.returncode & 2 == 0  # cfn-lint exit bitmask: 2 = error


@pytest.mark.parametrize("shape", [SHAPES[1], SHAPES[2], SHAPES[3]], ids=[IDS[1], IDS[2], IDS[3]])
def test_checkov_zero_unsuppressed_failures(synth, shape, repo_root):
    checkov = repo_root / ".venv-checkov" / "bin" / "checkov"
    if not checkov.exists():
        pytest.skip("checkov venv missing: run `make install`")
    outdir = synth(*shape).outdir
    proc = subprocess.run(
        [str(checkov), "-d", str(outdir), "--framework", "cloudformation", "--compact",
         "--skip-download", "-o", "json"],
        capture_output=True, text=True, timeout=600,
    )
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r["results"]["failed_checks"]]
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    assert not failed, [(c["check_id"], c["resource"]) for c in failed]
    assert sum(r["summary"]["passed"] for r in reports) > 50
    for check in skipped:
        comment = check["check_result"].get("suppress_comment") or ""
        assert len(comment) >= 40, (check["check_id"], check["resource"])
    assert sum(r["summary"]["skipped"] for r in reports) == len(skipped)
