"""What every container of the service gets: plain environment, secrets, and the metric-publish grant.

Kept runtime-agnostic (App Runner and ECS both consume it) so the API runtime stays a one-module swap.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as sm

from constructs import Construct

from cdk_app.config import EnvConfig

CONTAINER_PORT = 8080
HEALTH_PATH = "/health"
API_COMMAND = ("python", "-m", "service", "api", "--host", "0.0.0.0", "--port", str(CONTAINER_PORT))
WORKER_COMMAND = ("python", "-m", "service", "worker")


def service_security_group(scope: Construct, construct_id: str, *, vpc: ec2.IVpc, description: str) -> ec2.SecurityGroup:
    """A container security group with no ingress and egress only on 443 (AWS APIs, HTTPS webhooks); the
    Redis rule (6379) is added by the stack from this side, and any ingress by the caller."""
    sg = ec2.SecurityGroup(scope, construct_id, vpc=vpc, description=description, allow_all_outbound=False)
    sg.add_egress_rule(
        ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS: AWS APIs (ECR, Secrets Manager, CloudWatch) and webhooks"
    )
    return sg


@dataclass(frozen=True)
class ServiceRuntime:
    """Plain (non-secret) environment and Secrets Manager secrets shared by API and workers."""

    environment: dict[str, str]
    secrets: dict[str, sm.ISecret]

    def with_env(self, **extra: str) -> "ServiceRuntime":
        return ServiceRuntime(environment={**self.environment, **extra}, secrets=dict(self.secrets))


def base_runtime(
    *,
    config: EnvConfig,
    redis_url: str,
    redis_auth: sm.ISecret,
    api_keys: sm.ISecret,
    webhook_signing: sm.ISecret,
) -> ServiceRuntime:
    """The environment contract of the service (README "Configuration"), minus role-specific keys."""
    return ServiceRuntime(
        environment={
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": config.redis_key_prefix,
            "RESULT_TTL_SECONDS": str(config.result_ttl_seconds),
            "METRICS_ENABLED": "true",
            "METRICS_NAMESPACE": config.metrics.namespace,
            "METRICS_QUEUE_METRIC": config.metrics.queue_metric,
            "DEPLOY_ENV": config.name,
            "HOST": "0.0.0.0",
        },
        secrets={
            "REDIS_PASSWORD": redis_auth,
            "API_KEYS": api_keys,
            "WEBHOOK_SIGNING_SECRET": webhook_signing,
        },
    )


def task_protection_statement(scope: Construct, cluster_name: str) -> iam.PolicyStatement:
    """ECS task scale-in protection for the tasks of one cluster (the worker sets it around each job)."""
    return iam.PolicyStatement(
        sid="TaskScaleInProtection",
        actions=["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"],
        resources=[
            Stack.of(scope).format_arn(
                service="ecs",
                resource="task",
                resource_name=f"{cluster_name}/*",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )
        ],
    )


def put_metric_data_statement(namespace: str) -> iam.PolicyStatement:
    """cloudwatch:PutMetricData limited to one namespace. PutMetricData has no resource-level
    permissions, so Resource must be "*"; the namespace condition is the scope."""
    return iam.PolicyStatement(
        sid="PublishBacklogMetrics",
        actions=["cloudwatch:PutMetricData"],
        resources=["*"],
        conditions={"StringEquals": {"cloudwatch:namespace": namespace}},
    )


PUT_METRIC_DATA_REASON = (
    "cloudwatch:PutMetricData supports no resource-level permissions (AWS requires Resource '*'); "
    "the statement is limited by the condition cloudwatch:namespace = the service metric namespace."
)


def grant_secret_decrypt(role: iam.IRole, *, key_arn: str, region: str) -> None:
    """kms:Decrypt on the data key, only when called through Secrets Manager (secret reads need it; the
    key lives in DataStack, so the grant is written into this role's policy rather than the key policy)."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="DecryptSecretsViaSecretsManager",
            actions=["kms:Decrypt"],
            resources=[key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
        )
    )
