"""App assembly: pick the environment config and the deployment shape from context, build the stacks,
register cdk-nag (AwsSolutions) and record every acknowledged finding with its reason.

Context (``-c key=value`` or cdk.json):
    env          dev | prod                        (default: dev)
    mode         distributed | all-in-one          (default: the env config's default_mode)
    api_runtime  apprunner | ecs                   (default: the env config's default_api_runtime)

Nothing here calls AWS: stacks are env-pinned to the config's account/region and the AZs are cached in
cdk.json (and set from the config when absent), so synth, tests and `cdk diff --template` run offline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from cdk_app.config import API_RUNTIMES, MODES, EnvConfig, get_config, validate
from cdk_app.nag import acknowledge_findings
from stacks.data_stack import DataStack
from stacks.service_stack import ServiceStack

REPO_ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = REPO_ROOT / "cdk.json"


@dataclass
class Deployment:
    app: App
    config: EnvConfig
    mode: str
    api_runtime: str
    data: DataStack
    service: ServiceStack
    #: (construct path, rule/check id, reason) of every cdk-nag acknowledgement and checkov skip
    acknowledgements: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def stacks(self) -> tuple[DataStack, ServiceStack]:
        return (self.data, self.service)


def cdk_json_context() -> dict[str, Any]:
    """The context block of cdk.json (feature flags, cached AZs, defaults): tests build apps with it."""
    return dict(json.loads(CDK_JSON.read_text())["context"])


def _choice(app: App, key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = app.node.try_get_context(key)
    value = default if value in (None, "") else str(value)
    if value not in allowed:
        raise ValueError(f"context {key}={value!r}: expected one of {list(allowed)}")
    return value


def build_app(
    *,
    context: dict[str, Any] | None = None,
    outdir: str | None = None,
    nag: bool = True,
    config_override: EnvConfig | None = None,
) -> Deployment:
    """Build the app for the environment chosen by context. `context` is merged over nothing (the CLI
    passes cdk.json itself); tests pass `{**cdk_json_context(), "env": ...}`. `config_override` replaces
    the selected environment's config (tests of config variants, e.g. with a certificate)."""
    kwargs: dict[str, Any] = {}
    if context is not None:
        kwargs["context"] = context
    if outdir is not None:
        kwargs["outdir"] = outdir
    app = App(**kwargs)

    config = config_override or get_config(_choice(app, "env", "dev", ("dev", "prod")))
    validate(config)
    mode = _choice(app, "mode", config.default_mode, MODES)
    api_runtime = _choice(app, "api_runtime", config.default_api_runtime, API_RUNTIMES)

    # Offline synth: the VPC asks for the AZs of the pinned account/region; answer from the config.
    if app.node.try_get_context(config.az_context_key) is None:
        app.node.set_context(config.az_context_key, list(config.availability_zones))

    env = Environment(account=config.account, region=config.region)
    prefix = config.stack_prefix
    data = DataStack(
        app,
        f"{prefix}-Data",
        config=config,
        env=env,
        description=f"NGRS solver {config.name}: VPC, Redis queue, secrets (stateful)",
        termination_protection=config.retain_data,
    )
    service = ServiceStack(
        app,
        f"{prefix}-Service",
        config=config,
        data=data,
        mode=mode,  # type: ignore[arg-type]
        api_runtime=api_runtime,  # type: ignore[arg-type]
        env=env,
        description=f"NGRS solver {config.name}: API ({api_runtime}), workers, monitoring ({mode})",
    )
    for stack in (data, service):
        Tags.of(stack).add("project", "ngrs-solver")
        Tags.of(stack).add("environment", config.name)

    deployment = Deployment(app=app, config=config, mode=mode, api_runtime=api_runtime, data=data, service=service)
    acknowledge_findings(deployment)
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return deployment
