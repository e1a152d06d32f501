"""Stateless stack: the image, the API (App Runner or ECS), the workers (distributed mode), monitoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from cdk_app.config import ApiRuntime, EnvConfig, Mode
from stacks.constructs.api_apprunner import AppRunnerApi
from stacks.constructs.api_ecs import EcsApi
from stacks.constructs.cluster import ComputeCluster
from stacks.constructs.monitoring import Monitoring
from stacks.constructs.runtime import base_runtime, grant_secret_decrypt
from stacks.constructs.workers import Workers
from stacks.data_stack import DataStack

REPO_ROOT = Path(__file__).resolve().parent.parent


class ServiceStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        data: DataStack,
        mode: Mode,
        api_runtime: ApiRuntime,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        vpc = data.network.vpc
        redis = data.redis

        # One image for API and workers; context = repository root, filtered by .dockerignore.
        self.image = ecr_assets.DockerImageAsset(
            self,
            "Image",
            directory=str(REPO_ROOT),
            file="service/Dockerfile",
            platform=ecr_assets.Platform.LINUX_AMD64,
        )
        # Re-import the data key and the secrets here: grants on an imported key go into this stack's
        # role policies instead of the key policy in DataStack (which would make the stacks cyclic).
        data_key = kms.Key.from_key_arn(self, "DataKey", data.data_key.key_arn)

        def imported(construct_id: str, secret: sm.ISecret) -> sm.ISecret:
            return sm.Secret.from_secret_attributes(
                self, construct_id, secret_complete_arn=secret.secret_arn, encryption_key=data_key
            )

        runtime = base_runtime(
            config=config,
            redis_url=redis.url,
            redis_auth=imported("RedisAuthSecret", redis.auth_secret),
            api_keys=imported("ApiKeysSecret", data.secrets.api_keys),
            webhook_signing=imported("WebhookSigningSecret", data.secrets.webhook_signing),
        )
        if mode == "distributed":
            api_runtime_env = runtime.with_env(START_WORKERS="false")
        else:
            api_runtime_env = runtime.with_env(
                START_WORKERS="true",
                SOLVER_WORKERS=str(config.api.all_in_one_solver_workers),
                SOLVER_THREADS=str(config.api.all_in_one_solver_threads),
            )

        self.cluster = ComputeCluster(self, "Compute", vpc=vpc).cluster

        all_in_one = mode == "all-in-one"
        if api_runtime == "apprunner":
            self.api: AppRunnerApi | EcsApi = AppRunnerApi(
                self,
                "Api",
                config=config.api,
                env_name=config.name,
                vpc=vpc,
                image=self.image,
                runtime=api_runtime_env,
                metric_namespace=config.metrics.namespace,
                cpu=config.api.all_in_one_apprunner_cpu if all_in_one else config.api.apprunner_cpu,
                memory=config.api.all_in_one_apprunner_memory if all_in_one else config.api.apprunner_memory,
            )
        else:
            self.api = EcsApi(
                self,
                "Api",
                config=config.api,
                env_name=config.name,
                cluster=self.cluster,
                vpc=vpc,
                image=self.image,
                runtime=api_runtime_env,
                metric_namespace=config.metrics.namespace,
                # all-in-one: the API task also solves, so it gets the worker task size
                cpu=config.workers.cpu if all_in_one else config.api.ecs_cpu,
                memory_mib=config.workers.memory_mib if all_in_one else config.api.ecs_memory_mib,
                removal_policy=removal,
                encryption_key=data_key,
                task_protection=all_in_one,
            )
        # SG-to-SG 6379, written from the compute side (the ingress lands in this stack: no cycle).
        self.api.connections.allow_to(redis.security_group, ec2.Port.tcp(redis.port), "API to Redis")

        self.workers: Workers | None = None
        if mode == "distributed":
            self.workers = Workers(
                self,
                "Workers",
                config=config.workers,
                metrics=config.metrics,
                env_name=config.name,
                cluster=self.cluster,
                vpc=vpc,
                image=self.image,
                runtime=runtime,
                removal_policy=removal,
                encryption_key=data_key,
            )
            self.workers.connections.allow_to(redis.security_group, ec2.Port.tcp(redis.port), "workers to Redis")

        # Roles that read the secrets at start-up need the data key (see grant_secret_decrypt).
        secret_readers = [self.api.role if api_runtime == "apprunner" else self.api.task_definition.execution_role]
        if self.workers is not None:
            secret_readers.append(self.workers.task_definition.execution_role)
        for reader in secret_readers:
            grant_secret_decrypt(reader, key_arn=data.data_key.key_arn, region=config.region)

        self.monitoring = Monitoring(
            self,
            "Monitoring",
            env_name=config.name,
            alarms=config.alarms,
            metrics=config.metrics,
            api=self.api,
            redis_replication_group_id=redis.replication_group_id,
            redis_node_count=config.redis.num_cache_clusters,
            cluster=self.cluster,
            worker_service=self.workers.service if self.workers else None,
            worker_config=config.workers,
            scaling_metric=self.workers.excess_backlog if self.workers else None,
            removal_policy=removal,
        )

        CfnOutput(self, "ApiUrl", value=self.api.url, description=f"API base URL ({api_runtime})")
        CfnOutput(self, "DashboardUrl", value=self.monitoring.dashboard_url)
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
        CfnOutput(self, "ClusterName", value=self.cluster.cluster_name)
        CfnOutput(
            self,
            "WorkerServiceName",
            value=self.workers.service_name if self.workers else "none (all-in-one mode)",
        )
        CfnOutput(self, "Mode", value=f"{mode}/{api_runtime}")
