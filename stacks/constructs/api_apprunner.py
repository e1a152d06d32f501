"""The HTTP API on AWS App Runner: the repository image, a VPC connector in the private subnets,
an HTTP health check on /health, secrets as runtime environment secrets, a least-privilege instance role.

Note: App Runner is closed to new AWS customers (30 Apr 2026); use `api_runtime=ecs` in that case.
"""

from __future__ import annotations

import aws_cdk.aws_apprunner_alpha as apprunner
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_app.config import ApiConfig
from stacks.constructs.runtime import (
    CONTAINER_PORT,
    HEALTH_PATH,
    ServiceRuntime,
    put_metric_data_statement,
    service_security_group,
)


class AppRunnerApi(Construct):
    """Exposes `url`, `connections` (the connector SG), `role`, and 5xx/latency/request metrics."""

    runtime_name = "apprunner"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ApiConfig,
        env_name: str,
        vpc: ec2.IVpc,
        image: ecr_assets.DockerImageAsset,
        runtime: ServiceRuntime,
        metric_namespace: str,
        cpu: str,
        memory: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = service_security_group(
            self,
            "ConnectorSecurityGroup",
            vpc=vpc,
            description=f"NGRS {env_name} App Runner VPC connector (egress to Redis and AWS APIs)",
        )
        self.connections = self.security_group.connections
        connector = apprunner.VpcConnector(
            self,
            "VpcConnector",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[self.security_group],
        )
        self.role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("tasks.apprunner.amazonaws.com"),
            description=f"NGRS {env_name} API (App Runner instance): read its secrets, publish backlog metric",
        )
        self.role.add_to_policy(put_metric_data_statement(metric_namespace))
        autoscaling = apprunner.AutoScalingConfiguration(
            self,
            "AutoScaling",
            min_size=config.apprunner_min_instances,
            max_size=config.apprunner_max_instances,
            max_concurrency=config.apprunner_max_concurrency,
        )
        self.service = apprunner.Service(
            self,
            "Service",
            source=apprunner.Source.from_asset(
                asset=image,
                image_configuration=apprunner.ImageConfiguration(
                    port=CONTAINER_PORT,
                    environment_variables=dict(runtime.environment),
                    environment_secrets={
                        name: apprunner.Secret.from_secrets_manager(secret)
                        for name, secret in runtime.secrets.items()
                    },
                ),
            ),
            cpu=apprunner.Cpu.of(cpu),
            memory=apprunner.Memory.of(memory),
            vpc_connector=connector,
            instance_role=self.role,
            auto_scaling_configuration=autoscaling,
            health_check=apprunner.HealthCheck.http(
                path=HEALTH_PATH,
                interval=Duration.seconds(10),
                timeout=Duration.seconds(5),
                healthy_threshold=1,
                unhealthy_threshold=3,
            ),
            is_publicly_accessible=True,
            auto_deployments_enabled=False,
        )
        self.url = "https://" + self.service.service_url
        self._dimensions = {"ServiceName": self.service.service_name, "ServiceID": self.service.service_id}

    def _metric(self, name: str, statistic: str) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/AppRunner",
            metric_name=name,
            dimensions_map=self._dimensions,
            statistic=statistic,
            period=Duration.minutes(5),
        )

    def metric_5xx(self) -> cw.Metric:
        return self._metric("5xxStatusResponses", "Sum")

    def metric_latency(self) -> cw.Metric:
        return self._metric("RequestLatency", "p95")

    def metric_requests(self) -> cw.Metric:
        return self._metric("Requests", "Sum")
