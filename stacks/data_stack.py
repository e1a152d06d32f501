"""Stateful stack: VPC, Redis (with its AUTH secret) and the application secrets."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from constructs import Construct

from cdk_app.config import EnvConfig
from stacks.constructs.encryption import DataKey
from stacks.constructs.network import Network
from stacks.constructs.redis_queue import RedisQueue
from stacks.constructs.secrets import AppSecrets


class DataStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        self.data_key = DataKey(self, "DataKey", env_name=config.name, removal_policy=removal).key
        self.network = Network(
            self,
            "Network",
            config=config.network,
            availability_zones=config.availability_zones,
            removal_policy=removal,
            encryption_key=self.data_key,
        )
        self.redis = RedisQueue(
            self,
            "Redis",
            config=config.redis,
            vpc=self.network.vpc,
            env_name=config.name,
            removal_policy=removal,
            encryption_key=self.data_key,
        )
        self.secrets = AppSecrets(
            self, "Secrets", env_name=config.name, removal_policy=removal, encryption_key=self.data_key
        )

        CfnOutput(self, "RedisEndpoint", value=self.redis.primary_endpoint, description="Redis primary endpoint")
        CfnOutput(self, "RedisUrl", value=self.redis.url, description="REDIS_URL (TLS)")
        CfnOutput(self, "RedisAuthSecretArn", value=self.redis.auth_secret.secret_arn)
        CfnOutput(self, "ApiKeysSecretArn", value=self.secrets.api_keys.secret_arn)
        CfnOutput(self, "WebhookSigningSecretArn", value=self.secrets.webhook_signing.secret_arn)
