"""Every acknowledged cdk-nag (AwsSolutions) finding, each on the narrowest construct and with its reason.

checkov skips are recorded next to the resource (CloudFormation metadata `checkov.skip`) by
`record_checkov_skips` below, so the template itself carries each exception and its reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct

from stacks.constructs.runtime import PUT_METRIC_DATA_REASON

if TYPE_CHECKING:
    from cdk_app.app import Deployment

AUTH_ROTATION_REASON = (
    "No Secrets Manager rotation: ElastiCache cannot consume a rotated AUTH token automatically (no "
    "SecretTargetAttachment for replication groups). Rotation is the documented two-step "
    "ModifyReplicationGroup ROTATE/SET procedure (docs/runbook.md, 'Rotating secrets')."
)
CLIENT_SECRET_ROTATION_REASON = (
    "No automatic rotation: API keys and the webhook signing key are shared with API clients / webhook "
    "receivers, so rotation must be coordinated with them (docs/runbook.md, 'Rotating secrets')."
)
ECR_AUTH_REASON = (
    "ecr:GetAuthorizationToken has no resource-level permissions (AWS requires Resource '*'); image pulls "
    "themselves are limited to the CDK container-assets repository."
)

TASK_PROTECTION_REASON = (
    "Task scale-in protection must name the task ARN, which is only known at run time; the resource is "
    "limited to the tasks of this service's own cluster (task/<cluster>/*)."
)
ENV_VARS_REASON = (
    "Only non-secret settings are plain environment variables (endpoint, prefix, sizes, metric names); "
    "every secret is injected from Secrets Manager through the task definition's secrets."
)


_RECORD: list[tuple[str, str, str]] = []


def ack(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge `rule_id` (e.g. 'AwsSolutions-SMG4' or a granular 'AwsSolutions-IAM5[...]') on scope."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
    _RECORD.append((scope.node.path, rule_id, reason))


def checkov_skip(resource: CfnResource, check_id: str, comment: str) -> None:
    """Record a checkov skip on the resource itself (CloudFormation metadata `checkov.skip`)."""
    _RECORD.append((resource.node.path, check_id, comment))
    meta = resource.get_metadata("checkov") or {}
    skips = [s for s in meta.get("skip", []) if s.get("id") != check_id]
    skips.append({"id": check_id, "comment": comment})
    resource.add_metadata("checkov", {**meta, "skip": skips})


CUSTOM_RESOURCE_LAMBDA_SKIPS = {
    "CKV_AWS_115": "CDK-managed custom-resource handler run only during deployments; no concurrency limit needed.",
    "CKV_AWS_116": "CDK-managed custom-resource handler invoked synchronously by CloudFormation, which reports "
    "failures itself; a DLQ would never receive anything.",
    "CKV_AWS_117": "CDK-managed custom-resource handler only calls the EC2 API to strip the default SG rules; "
    "it needs no VPC access (and would need NAT/endpoints inside one).",
}


def record_checkov_skips(deployment: "Deployment") -> None:
    for stack in deployment.stacks:
        for node in stack.node.find_all():
            if isinstance(node, CfnResource) and node.cfn_resource_type == "AWS::Lambda::Function":
                if "Custom::" in node.node.path:
                    for check_id, comment in CUSTOM_RESOURCE_LAMBDA_SKIPS.items():
                        checkov_skip(node, check_id, comment)


def acknowledge_findings(deployment: "Deployment") -> list[tuple[str, str, str]]:
    """Apply every acknowledgement and checkov skip; return them as (construct path, rule id, reason)."""
    _RECORD.clear()
    _apply(deployment)
    deployment.acknowledgements.extend(_RECORD)
    result = list(_RECORD)
    _RECORD.clear()
    return result


def _apply(deployment: "Deployment") -> None:
    record_checkov_skips(deployment)
    data, service, cfg = deployment.data, deployment.service, deployment.config

    ack(data.redis.auth_secret, "AwsSolutions-SMG4", AUTH_ROTATION_REASON)
    for secret in (data.secrets.api_keys, data.secrets.webhook_signing):
        ack(secret, "AwsSolutions-SMG4", CLIENT_SECRET_ROTATION_REASON)

    rg = data.redis.replication_group
    ack(
        rg,
        "AwsSolutions-AEC5",
        "Port 6379 is kept: the port is not a security control here; the SG admits only the API and worker "
        "SGs, TLS is required and AUTH is enforced. Clients and docs use the standard port.",
    )
    if not cfg.redis.multi_az:
        ack(
            rg,
            "AwsSolutions-AEC4",
            f"{cfg.name}: a single Redis node to save cost (config redis.num_cache_clusters=1); prod runs "
            "Multi-AZ with automatic failover (config validation enforces it).",
        )

    api = service.api
    ack(api.role, "AwsSolutions-IAM5[Resource::*]", PUT_METRIC_DATA_REASON)
    if api.runtime_name == "apprunner":
        access_role = api.service.node.find_child("AccessRole")
        ack(access_role, "AwsSolutions-IAM5[Resource::*]", ECR_AUTH_REASON)
    else:
        ack(api.task_definition.execution_role, "AwsSolutions-IAM5[Resource::*]", ECR_AUTH_REASON)
        ack(api.task_definition, "AwsSolutions-ECS2", ENV_VARS_REASON)
        ack(
            api.alb_security_group,
            "AwsSolutions-EC23",
            "The internet-facing API load balancer must accept clients from anywhere on its listener port; "
            "tasks behind it admit 8080 only from this SG, and every API call needs an API key.",
        )
        bucket = api.access_logs.node.default_child
        checkov_skip(bucket, "CKV_AWS_18", "This bucket is the ALB access-log destination itself (no log-of-logs).")
        checkov_skip(
            bucket, "CKV_AWS_21", "Write-once access logs that expire by lifecycle rule; versioning adds nothing."
        )
        checkov_skip(
            api.alb_security_group.node.default_child,
            "CKV_AWS_260",
            "Internet-facing API load balancer: port 80 is its public listener (HTTP when no certificate is "
            "configured, else a redirect to HTTPS).",
        )
        if not api.https:
            listener = api.listener.node.default_child
            reason = (
                f"{cfg.name} config has no api.certificate_arn (no domain/ACM certificate in this account yet): "
                "the ALB listens on HTTP. Set certificate_arn to get an HTTPS listener with TLS 1.2+ and an "
                "HTTP->HTTPS redirect (docs/deploy.md)."
            )
            checkov_skip(listener, "CKV_AWS_2", reason)
            checkov_skip(listener, "CKV_AWS_103", reason)
        ack(
            api.access_logs,
            "AwsSolutions-S1",
            "This bucket is the ALB access-log destination itself; logging it to another bucket would only "
            "move the finding. It is private, SSL-only, SSE-S3 and expires objects.",
        )

    stack = Stack.of(service)
    cluster_id = stack.get_logical_id(service.cluster.node.default_child)  # type: ignore[arg-type]
    partition = stack.resolve(stack.partition)
    partition = partition if isinstance(partition, str) else "<AWS::Partition>"
    task_protection_id = (
        f"AwsSolutions-IAM5[Resource::arn:{partition}:ecs:{cfg.region}:{cfg.account}:task/<{cluster_id}>/*]"
    )
    if getattr(api, "task_protection", False):
        ack(api.role, task_protection_id, TASK_PROTECTION_REASON)

    if service.workers is not None:
        workers = service.workers
        ack(workers.role, "AwsSolutions-IAM5[Resource::*]", PUT_METRIC_DATA_REASON)
        ack(workers.role, task_protection_id, TASK_PROTECTION_REASON)
        ack(workers.task_definition.execution_role, "AwsSolutions-IAM5[Resource::*]", ECR_AUTH_REASON)
        ack(workers.task_definition, "AwsSolutions-ECS2", ENV_VARS_REASON)


def main() -> int:
    """`python -m cdk_app.nag [-c env=prod ...]`: print every acknowledgement/skip as a Markdown table."""
    import argparse

    from cdk_app.app import build_app, cdk_json_context

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("-c", "--context", action="append", default=[], help="KEY=VALUE")
    args = parser.parse_args()
    context = cdk_json_context()
    context.update(dict(item.split("=", 1) for item in args.context))
    deployment = build_app(context=context, nag=False)
    print(f"| construct ({deployment.config.name}, {deployment.mode}, {deployment.api_runtime}) | rule | reason |")
    print("|---|---|---|")
    for path, rule_id, reason in deployment.acknowledgements:
        print(f"| `{path}` | `{rule_id}` | {reason} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
