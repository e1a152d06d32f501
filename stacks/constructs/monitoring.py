"""Alarms to an SSL-only, KMS-encrypted SNS topic, and one dashboard for the whole service."""

from __future__ import annotations

from typing import Protocol

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_app.config import AlarmConfig, MetricsConfig, WorkerConfig
from stacks.constructs.workers import backlog_metric


class ApiMetrics(Protocol):
    def metric_5xx(self) -> cw.IMetric: ...
    def metric_latency(self) -> cw.IMetric: ...
    def metric_requests(self) -> cw.IMetric: ...


class Monitoring(Construct):
    """Exposes `topic`, `alarms` (name -> Alarm), `dashboard`, `dashboard_url`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        alarms: AlarmConfig,
        metrics: MetricsConfig,
        api: ApiMetrics,
        redis_replication_group_id: str,
        redis_node_count: int,
        cluster: ecs.ICluster,
        worker_service: ecs.FargateService | None,
        worker_config: WorkerConfig,
        scaling_metric: cw.IMetric | None,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        key = kms.Key(
            self,
            "TopicKey",
            description=f"NGRS {env_name} alarm topic encryption",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        # CloudWatch alarms publish to an encrypted topic only if the key lets them use it.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        self.topic = sns.Topic(
            self, "AlarmTopic", display_name=f"NGRS {env_name} alarms", enforce_ssl=True, master_key=key
        )
        action = cw_actions.SnsAction(self.topic)
        self.alarms: dict[str, cw.Alarm] = {}

        def add(name: str, alarm: cw.Alarm) -> None:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms[name] = alarm

        backlog = backlog_metric(metrics=metrics, env_name=env_name)
        add(
            "BacklogHigh",
            cw.Alarm(
                self,
                "BacklogHigh",
                alarm_description=(
                    f"NGRS {env_name}: backlog >= {alarms.backlog_high_threshold} jobs for "
                    f"{alarms.backlog_high_evaluation_periods} minutes (workers at max or not consuming)"
                ),
                metric=backlog,
                threshold=alarms.backlog_high_threshold,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=alarms.backlog_high_evaluation_periods,
                datapoints_to_alarm=alarms.backlog_high_evaluation_periods,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            ),
        )

        running = desired = None
        if worker_service is not None:
            dims = {"ClusterName": cluster.cluster_name, "ServiceName": worker_service.service_name}
            running = cw.Metric(
                namespace="ECS/ContainerInsights", metric_name="RunningTaskCount",
                dimensions_map=dims, statistic="Minimum", period=Duration.minutes(1), label="Running tasks",
            )
            desired = cw.Metric(
                namespace="ECS/ContainerInsights", metric_name="DesiredTaskCount",
                dimensions_map=dims, statistic="Maximum", period=Duration.minutes(1), label="Desired tasks",
            )
            if worker_config.min_tasks > 0:
                add(
                    "WorkersBelowMin",
                    cw.Alarm(
                        self,
                        "WorkersBelowMin",
                        alarm_description=(
                            f"NGRS {env_name}: running workers < {worker_config.min_tasks} (min) for "
                            f"{alarms.running_workers_evaluation_periods} minutes"
                        ),
                        metric=running,
                        threshold=worker_config.min_tasks,
                        comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                        evaluation_periods=alarms.running_workers_evaluation_periods,
                        datapoints_to_alarm=alarms.running_workers_evaluation_periods,
                        treat_missing_data=cw.TreatMissingData.BREACHING,
                    ),
                )

        add(
            "Api5xx",
            cw.Alarm(
                self,
                "Api5xx",
                alarm_description=f"NGRS {env_name}: API returned >= {alarms.api_5xx_threshold} 5xx in 5 minutes",
                metric=api.metric_5xx(),
                threshold=alarms.api_5xx_threshold,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            ),
        )

        node_ids = [f"{i:03d}" for i in range(1, redis_node_count + 1)]

        def redis_max(metric_name: str, key: str, label: str) -> cw.IMetric:
            per_node = {
                f"{key}{i}": cw.Metric(
                    namespace="AWS/ElastiCache",
                    metric_name=metric_name,
                    dimensions_map={"CacheClusterId": f"{redis_replication_group_id}-{node}"},
                    statistic="Maximum",
                    period=Duration.minutes(1),
                )
                for i, node in enumerate(node_ids)
            }
            return cw.MathExpression(
                expression="MAX([" + ",".join(per_node) + "])",
                using_metrics=per_node,
                label=label,
                period=Duration.minutes(1),
            )

        redis_cpu = redis_max("EngineCPUUtilization", "cpu", "Redis engine CPU % (max node)")
        redis_mem = redis_max("DatabaseMemoryUsagePercentage", "mem", "Redis memory % (max node)")
        add(
            "RedisCpu",
            cw.Alarm(
                self, "RedisCpu",
                alarm_description=f"NGRS {env_name}: Redis engine CPU >= {alarms.redis_engine_cpu_percent}%",
                metric=redis_cpu, threshold=alarms.redis_engine_cpu_percent,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=5, datapoints_to_alarm=5,
                treat_missing_data=cw.TreatMissingData.MISSING,
            ),
        )
        add(
            "RedisMemory",
            cw.Alarm(
                self, "RedisMemory",
                alarm_description=(
                    f"NGRS {env_name}: Redis memory >= {alarms.redis_memory_percent}% "
                    "(noeviction: writes fail when full)"
                ),
                metric=redis_mem, threshold=alarms.redis_memory_percent,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=5, datapoints_to_alarm=5,
                treat_missing_data=cw.TreatMissingData.MISSING,
            ),
        )
        redis_lag = None
        if redis_node_count > 1:
            redis_lag = redis_max("ReplicationLag", "lag", "Redis replication lag s (max replica)")
            add(
                "RedisReplicationLag",
                cw.Alarm(
                    self, "RedisReplicationLag",
                    alarm_description=(
                        f"NGRS {env_name}: Redis replication lag >= {alarms.redis_replication_lag_seconds} s"
                    ),
                    metric=redis_lag, threshold=alarms.redis_replication_lag_seconds,
                    comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    evaluation_periods=5, datapoints_to_alarm=3,
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                ),
            )

        def job_metric(name: str, statistic: str, label: str) -> cw.Metric:
            return cw.Metric(
                namespace=metrics.namespace, metric_name=name,
                dimensions_map={metrics.dimension_name: env_name},
                statistic=statistic, period=Duration.minutes(5), label=label,
            )

        dashboard_name = f"Ngrs-{env_name}"
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Backlog vs worker tasks",
                left=[m for m in (backlog, scaling_metric) if m is not None],
                right=[m for m in (desired, running) if m is not None],
                width=12,
            ),
            cw.GraphWidget(
                title="Job duration (s) and failures",
                left=[
                    job_metric(metrics.duration_metric, "Average", "avg"),
                    job_metric(metrics.duration_metric, "p90", "p90"),
                    job_metric(metrics.duration_metric, "Maximum", "max"),
                ],
                right=[job_metric(metrics.failed_metric, "Sum", "failed jobs")],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(title="API latency (p95)", left=[api.metric_latency()], width=8),
            cw.GraphWidget(title="API requests and 5xx", left=[api.metric_requests()], right=[api.metric_5xx()], width=8),
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=8),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Redis",
                left=[redis_cpu, redis_mem],
                right=[redis_lag] if redis_lag is not None else [],
                width=24,
            ),
        )
        self.dashboard_url = (
            f"https://{stack.region}.console.aws.amazon.com/cloudwatch/home?region={stack.region}"
            f"#dashboards:name={dashboard_name}"
        )
