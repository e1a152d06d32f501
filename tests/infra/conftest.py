"""Shared, session-scoped synthesized deployments (each synth costs ~8 s, so each shape is built once).

`deployment("dev", "distributed", "apprunner")` returns a `Synth`: the Deployment, the assembly directory
and the parsed templates. Synthesis runs with cdk.json's context (feature flags, cached AZs) and the
cdk-nag plugin registered, so every synth here is also the nag gate (it raises on any unacknowledged
finding).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
# jsii needs node; the Makefile puts node_modules/.bin on PATH, do the same for a bare pytest run.
os.environ["PATH"] = os.pathsep.join([str(REPO_ROOT / "node_modules" / ".bin"), os.environ.get("PATH", "")])

@dataclass
class Synth:
    deployment: Any
    outdir: Path
    templates: dict[str, dict]  # stack name -> template

    def template(self, kind: str) -> dict:
        """kind: 'Data' or 'Service'."""
        return self.templates[f"{self.deployment.config.stack_prefix}-{kind}"]


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str, str], Synth]:
    from cdk_app.app import build_app, cdk_json_context

    cache: dict[tuple[str, str, str], Synth] = {}

    def get(env: str, mode: str = "distributed", api_runtime: str = "apprunner") -> Synth:
        key = (env, mode, api_runtime)
        if key not in cache:
            outdir = tmp_path_factory.mktemp(f"cdkout-{env}-{mode}-{api_runtime}")
            context = {**cdk_json_context(), "env": env, "mode": mode, "api_runtime": api_runtime}
            deployment = build_app(context=context, outdir=str(outdir))
            assembly = deployment.app.synth()
            templates = {s.stack_name: s.template for s in assembly.stacks}
            cache[key] = Synth(deployment=deployment, outdir=outdir, templates=templates)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
