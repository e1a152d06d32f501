"""Solver workers: a Fargate service running `python -m service worker`, step-scaled on the backlog.

Scaling (numbers from `WorkerConfig.scaling`): the backlog metric (NGRS/Solver QueueLength, dimension
Environment, 60 s, Maximum) drives two step-scaling policies. Scale-out: alarm when the excess backlog
(backlog - desired tasks x SOLVER_WORKERS) >= the first step, one datapoint, adds tasks in growing steps.
Scale-in: alarm at backlog <= 0 for N consecutive periods, removes one task per cooldown. No CPU target tracking: CPU says nothing about queued solves, and a
CPU-driven scale-in would fight the backlog policy. Busy tasks hold ECS task scale-in protection (set by
the worker around each job), so a scale-in never stops a running solve.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_app.config import MetricsConfig, WorkerConfig
from stacks.constructs._util import retention
from stacks.constructs.runtime import (
    WORKER_COMMAND,
    ServiceRuntime,
    put_metric_data_statement,
    task_protection_statement,
    service_security_group,
)


def backlog_metric(*, metrics: MetricsConfig, env_name: str, period_seconds: int = 60, statistic: str = "Maximum") -> cw.Metric:
    """The backlog metric the service publishes (waiting + running jobs), one dimension Environment."""
    return cw.Metric(
        namespace=metrics.namespace,
        metric_name=metrics.queue_metric,
        dimensions_map={metrics.dimension_name: env_name},
        period=Duration.seconds(period_seconds),
        statistic=statistic,
        label="Backlog (waiting + running jobs)",
    )


def scale_out_intervals(config: WorkerConfig) -> list[appscaling.ScalingInterval]:
    """Config steps -> CDK intervals; a zero-change band below the first step leaves only the upper alarm."""
    steps = config.scaling.scale_out_steps
    intervals = [appscaling.ScalingInterval(lower=0, upper=steps[0][0], change=0)]
    for lower, upper, change in steps:
        intervals.append(appscaling.ScalingInterval(lower=lower, upper=upper, change=change))
    return intervals


def scale_in_intervals(config: WorkerConfig) -> list[appscaling.ScalingInterval]:
    """backlog <= 0 -> scale_in_change; anything above is a no-change band (no upper alarm)."""
    return [
        appscaling.ScalingInterval(upper=0, change=config.scaling.scale_in_change),
        appscaling.ScalingInterval(lower=config.scaling.scale_out_steps[0][0], change=0),
    ]


class Workers(Construct):
    """Exposes `service`, `role`, `connections`, `log_group`, `task_definition`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: WorkerConfig,
        metrics: MetricsConfig,
        env_name: str,
        cluster: ecs.ICluster,
        vpc: ec2.IVpc,
        image: ecr_assets.DockerImageAsset,
        runtime: ServiceRuntime,
        removal_policy: RemovalPolicy,
        encryption_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = service_security_group(
            self, "SecurityGroup", vpc=vpc, description=f"NGRS {env_name} workers (no ingress; egress to Redis and AWS APIs)"
        )
        self.connections = self.security_group.connections

        self.role = iam.Role(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"NGRS {env_name} worker task: task scale-in protection, publish backlog metric",
        )
        self.role.add_to_policy(task_protection_statement(self, cluster.cluster_name))
        self.role.add_to_policy(put_metric_data_statement(metrics.namespace))

        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=config.cpu,
            memory_limit_mib=config.memory_mib,
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
        self.task_definition.add_container(
            "worker",
            image=ecs.ContainerImage.from_docker_image_asset(image),
            command=list(WORKER_COMMAND),
            environment={
                **runtime.environment,
                "SOLVER_WORKERS": str(config.solver_workers),
                "SOLVER_THREADS": str(config.vcpus),
            },
            secrets={name: ecs.Secret.from_secrets_manager(s) for name, s in runtime.secrets.items()},
            logging=ecs.LogDrivers.aws_logs(stream_prefix="worker", log_group=self.log_group),
            # SIGTERM -> hand the running job back; 120 s before SIGKILL (Fargate maximum).
            stop_timeout=Duration.seconds(config.stop_timeout_seconds),
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=self.task_definition,
            security_groups=[self.security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
            # desired count is owned by auto scaling after creation
            desired_count=config.min_tasks,
        )

        scaling = config.scaling
        metric = backlog_metric(
            metrics=metrics,
            env_name=env_name,
            period_seconds=scaling.metric_period_seconds,
            statistic=scaling.metric_statistic,
        )
        # Scale-out watches the *excess* backlog: jobs beyond what the tasks already asked for can take
        # (backlog - desired tasks x slots). On the raw backlog, one long solve on one task would keep the
        # alarm in ALARM and add a task every cooldown up to max. Scale-in watches the raw backlog.
        desired = cw.Metric(
            namespace="ECS/ContainerInsights",
            metric_name="DesiredTaskCount",
            dimensions_map={"ClusterName": cluster.cluster_name, "ServiceName": self.service.service_name},
            period=Duration.seconds(scaling.metric_period_seconds),
            statistic="Maximum",
        )
        self.excess_backlog = cw.MathExpression(
            expression=f"backlog - FILL(desired, REPEAT) * {config.solver_workers}",
            using_metrics={"backlog": metric, "desired": desired},
            label="Excess backlog (jobs without a worker slot)",
            period=Duration.seconds(scaling.metric_period_seconds),
        )
        self.scalable = self.service.auto_scale_task_count(
            min_capacity=config.min_tasks, max_capacity=config.max_tasks
        )
        self.scalable.scale_on_metric(
            "BacklogScaleOut",
            metric=self.excess_backlog,
            scaling_steps=scale_out_intervals(config),
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=Duration.seconds(scaling.scale_out_cooldown_seconds),
            evaluation_periods=scaling.scale_out_evaluation_periods,
            datapoints_to_alarm=scaling.scale_out_evaluation_periods,
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
        )
        self.scalable.scale_on_metric(
            "BacklogScaleIn",
            metric=metric,
            scaling_steps=scale_in_intervals(config),
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=Duration.seconds(scaling.scale_in_cooldown_seconds),
            evaluation_periods=scaling.scale_in_evaluation_periods,
            datapoints_to_alarm=scaling.scale_in_evaluation_periods,
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
        )

    @property
    def service_name(self) -> str:
        return self.service.service_name
