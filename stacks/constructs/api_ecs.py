"""The HTTP API on ECS Fargate behind an internet-facing ALB (the alternative to App Runner).

The same image and environment as App Runner; the ALB terminates HTTP (or HTTPS when the config has a
certificate ARN) and health-checks /health; tasks run in the private subnets with their own SG.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_app.config import ApiConfig
from stacks.constructs._util import retention
from stacks.constructs.runtime import (
    API_COMMAND,
    CONTAINER_PORT,
    HEALTH_PATH,
    ServiceRuntime,
    put_metric_data_statement,
    task_protection_statement,
    service_security_group,
)


class EcsApi(Construct):
    """Exposes `url`, `connections` (the task SG), `role` (task role), `service`, `alb`, metrics."""

    runtime_name = "ecs"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ApiConfig,
        env_name: str,
        cluster: ecs.ICluster,
        vpc: ec2.IVpc,
        image: ecr_assets.DockerImageAsset,
        runtime: ServiceRuntime,
        metric_namespace: str,
        cpu: int,
        memory_mib: int,
        removal_policy: RemovalPolicy,
        encryption_key: kms.IKey,
        task_protection: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        https = config.certificate_arn is not None
        self.https = https

        self.alb_security_group = ec2.SecurityGroup(
            self,
            "AlbSecurityGroup",
            vpc=vpc,
            description=f"NGRS {env_name} public API load balancer",
            allow_all_outbound=False,
        )
        listen_port = 443 if https else 80
        self.alb_security_group.add_ingress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(listen_port), "public API clients"
        )
        if https:
            self.alb_security_group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(80), "redirect to HTTPS")
        self.security_group = service_security_group(
            self, "TaskSecurityGroup", vpc=vpc, description=f"NGRS {env_name} API tasks: 8080 from the ALB only"
        )
        self.connections = self.security_group.connections
        self.alb_security_group.connections.allow_to(
            self.security_group, ec2.Port.tcp(CONTAINER_PORT), "ALB to API tasks"
        )

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(config.access_log_retention_days))],
            removal_policy=removal_policy,
            auto_delete_objects=False,
        )
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_group=self.alb_security_group,
            drop_invalid_header_fields=True,
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
            # Solves are enqueue-and-poll; no request needs long idle connections.
            idle_timeout=Duration.seconds(60),
        )
        self.alb.log_access_logs(self.access_logs, prefix="alb")

        self.role = iam.Role(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"NGRS {env_name} API (ECS task): publish backlog metric",
        )
        self.role.add_to_policy(put_metric_data_statement(metric_namespace))
        self.task_protection = task_protection
        if task_protection:  # all-in-one: in-process workers protect their task while solving
            self.role.add_to_policy(task_protection_statement(self, cluster.cluster_name))
        self.task_definition = task = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            task_role=self.role,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=retention(config.log_retention_days), removal_policy=removal_policy,
            encryption_key=encryption_key,
        )
        task.add_container(
            "api",
            image=ecs.ContainerImage.from_docker_image_asset(image),
            command=list(API_COMMAND),
            environment={**runtime.environment, "PORT": str(CONTAINER_PORT)},
            secrets={name: ecs.Secret.from_secrets_manager(s) for name, s in runtime.secrets.items()},
            port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT)],
            logging=ecs.LogDrivers.aws_logs(stream_prefix="api", log_group=self.log_group),
            stop_timeout=Duration.seconds(30),
            readonly_root_filesystem=False,
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task,
            desired_count=config.ecs_desired_count,
            security_groups=[self.security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
            health_check_grace_period=Duration.seconds(60),
        )
        target_group = elbv2.ApplicationTargetGroup(
            self,
            "Targets",
            vpc=vpc,
            port=CONTAINER_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            targets=[self.service],
            health_check=elbv2.HealthCheck(
                path=HEALTH_PATH, healthy_http_codes="200", interval=Duration.seconds(15)
            ),
            deregistration_delay=Duration.seconds(30),
        )
        if https:
            self.listener = self.alb.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[elbv2.ListenerCertificate.from_arn(config.certificate_arn)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                default_target_groups=[target_group],
                open=False,
            )
            self.alb.add_redirect(source_port=80, target_port=443)
            self.url = "https://" + self.alb.load_balancer_dns_name
        else:
            self.listener = self.alb.add_listener(
                "Http",
                port=80,
                protocol=elbv2.ApplicationProtocol.HTTP,
                default_target_groups=[target_group],
                open=False,
            )
            self.url = "http://" + self.alb.load_balancer_dns_name

    def metric_5xx(self) -> cw.IMetric:
        return self.alb.metrics.http_code_target(
            elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=Duration.minutes(5), statistic="Sum"
        )

    def metric_latency(self) -> cw.IMetric:
        return self.alb.metrics.target_response_time(period=Duration.minutes(5), statistic="p95")

    def metric_requests(self) -> cw.IMetric:
        return self.alb.metrics.request_count(period=Duration.minutes(5), statistic="Sum")
