"""`make diff`: offline `cdk diff --template` of freshly synthesized stacks against the committed snapshots.

    python -m cdk_app.diff [--env dev|prod|all] [--fail-on destructive|any-change|broadening|never]

For each environment (default: both) the app is synthesized in-process (default mode and API runtime,
no AWS calls, AZs from cdk.json), every template is normalised exactly like the snapshots (AWS::CDK::Metadata
dropped, asset hashes masked: image/code changes are not infrastructure changes), and each stack is diffed
with the pinned cdk CLI against tests/infra/__snapshots__/test_snapshots/test_stack_snapshot[<env>-<Kind>].json.
Exit 1 if any stack has a change of the --fail-on kind (default: destructive = replace, delete or orphan).

Updating the baseline is deliberate: `.venv/bin/python -m pytest tests/infra/test_snapshots.py
--snapshot-update`, then review and commit the snapshot diff (docs/deploy.md, "Reviewing changes").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cdk_app.snapshot import REPO_ROOT, baseline_path, stable_template

OUT_ROOT = REPO_ROOT / "cdk.out" / "diff"


def cdk_command() -> list[str]:
    local = REPO_ROOT / "node_modules" / ".bin" / "cdk"
    return [str(local)] if local.exists() else ["npx", "--no-install", "cdk"]


def synthesize(env_name: str) -> tuple[Path, list[str]]:
    """Synthesize `env_name` into cdk.out/diff/<env>, normalise the templates; return (dir, stack names)."""
    from cdk_app.app import build_app, cdk_json_context

    outdir = OUT_ROOT / env_name
    shutil.rmtree(outdir, ignore_errors=True)
    deployment = build_app(context={**cdk_json_context(), "env": env_name}, outdir=str(outdir))
    assembly = deployment.app.synth()
    names = []
    for stack in assembly.stacks:
        path = outdir / stack.template_file
        path.write_text(json.dumps(stable_template(stack.template), indent=2, sort_keys=True) + "\n")
        names.append(stack.stack_name)
    return outdir, names


def diff_stack(outdir: Path, stack: str, baseline: Path, fail_on: str) -> int:
    cmd = [
        *cdk_command(), "diff", "--app", str(outdir), "--template", str(baseline),
        "--fail-on", fail_on, "--exclusively", "--no-color", "--no-notices", stack,
    ]
    env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1"}
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    for line in (proc.stdout + proc.stderr).splitlines():
        if not line.startswith("npm warn"):
            print(line)
    return proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=["dev", "prod", "all"], default="all")
    parser.add_argument(
        "--fail-on", choices=["destructive", "any-change", "broadening", "never"], default="destructive"
    )
    args = parser.parse_args(argv)
    envs = ["dev", "prod"] if args.env == "all" else [args.env]
    failed: list[str] = []
    for env_name in envs:
        outdir, stacks = synthesize(env_name)
        for stack in stacks:
            kind = stack.rsplit("-", 1)[1]
            baseline = baseline_path(env_name, kind)
            if not baseline.exists():
                print(f"!! {stack}: no committed baseline at {baseline.relative_to(REPO_ROOT)}")
                failed.append(stack)
                continue
            print(f"=== {stack} vs {baseline.relative_to(REPO_ROOT)} (fail on {args.fail_on})")
            if diff_stack(outdir, stack, baseline, args.fail_on) != 0:
                failed.append(stack)
    if failed:
        print(f"cdk diff: {args.fail_on} changes (or errors) in: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"cdk diff: no {args.fail_on} changes in {len(envs)} environment(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
