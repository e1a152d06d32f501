"""ElastiCache Redis 7 replication group for the job queue (no L2 exists for replication groups).

Cluster mode disabled; Multi-AZ with automatic failover when the config has >= 2 nodes; encryption at
rest and in transit (TLS required); AUTH token from a generated Secrets Manager secret, rendered into the
template only as a `{{resolve:secretsmanager:...}}` dynamic reference; `noeviction` (a queue must never
lose keys to eviction); daily snapshots; slow and engine logs to CloudWatch with retention. The security
group has no rules of its own: clients add SG-to-SG 6379 ingress from their side (`allow_from`).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from cdk_app.config import RedisConfig
from stacks.constructs._util import retention

REDIS_PORT = 6379


class RedisQueue(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: RedisConfig,
        vpc: ec2.IVpc,
        env_name: str,
        removal_policy: RemovalPolicy,
        encryption_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.port = REDIS_PORT

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"NGRS {env_name} Redis: 6379 only from the API and worker security groups",
            allow_all_outbound=False,
        )
        self.connections = ec2.Connections(
            security_groups=[self.security_group], default_port=ec2.Port.tcp(REDIS_PORT)
        )

        # AUTH: 16-128 printable chars; punctuation excluded (AUTH accepts only a few symbols).
        self.auth_secret = sm.Secret(
            self,
            "AuthToken",
            description=f"NGRS {env_name}: Redis AUTH token (REDIS_PASSWORD)",
            generate_secret_string=sm.SecretStringGenerator(exclude_punctuation=True, password_length=64),
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )

        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "SubnetGroup",
            description=f"NGRS {env_name} Redis, isolated subnets",
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        )
        parameter_group = elasticache.CfnParameterGroup(
            self,
            "ParameterGroup",
            cache_parameter_group_family="redis7",
            description=f"NGRS {env_name} Redis 7: noeviction (queue data must never be evicted)",
            properties={"maxmemory-policy": "noeviction"},
        )

        self.slow_log_group = logs.LogGroup(
            self, "SlowLog", retention=retention(config.log_retention_days), removal_policy=removal_policy,
            encryption_key=encryption_key,
        )
        self.engine_log_group = logs.LogGroup(
            self, "EngineLog", retention=retention(config.log_retention_days), removal_policy=removal_policy,
            encryption_key=encryption_key,
        )

        def log_delivery(log_type: str, group: logs.LogGroup):
            return elasticache.CfnReplicationGroup.LogDeliveryConfigurationRequestProperty(
                destination_type="cloudwatch-logs",
                log_format="json",
                log_type=log_type,
                destination_details=elasticache.CfnReplicationGroup.DestinationDetailsProperty(
                    cloud_watch_logs_details=elasticache.CfnReplicationGroup.CloudWatchLogsDestinationDetailsProperty(
                        log_group=group.log_group_name
                    )
                ),
            )

        multi_az = config.multi_az
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_description=f"NGRS {env_name} job queue (Redis Streams)",
            engine="redis",
            engine_version=config.engine_version,
            cache_node_type=config.node_type,
            num_cache_clusters=config.num_cache_clusters,
            automatic_failover_enabled=multi_az,
            multi_az_enabled=multi_az,
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=self.auth_secret.secret_value.unsafe_unwrap(),
            port=REDIS_PORT,
            cache_subnet_group_name=subnet_group.ref,
            cache_parameter_group_name=parameter_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            snapshot_retention_limit=config.snapshot_retention_days,
            snapshot_window=config.snapshot_window,
            preferred_maintenance_window=config.maintenance_window,
            auto_minor_version_upgrade=True,
            log_delivery_configurations=[
                log_delivery("slow-log", self.slow_log_group),
                log_delivery("engine-log", self.engine_log_group),
            ],
        )
        self.replication_group.apply_removal_policy(
            RemovalPolicy.SNAPSHOT if removal_policy == RemovalPolicy.RETAIN else RemovalPolicy.DESTROY
        )

    @property
    def primary_endpoint(self) -> str:
        return self.replication_group.attr_primary_end_point_address

    @property
    def replication_group_id(self) -> str:
        return self.replication_group.ref

    @property
    def url(self) -> str:
        """REDIS_URL for clients: TLS (rediss) to the primary endpoint."""
        return f"rediss://{self.primary_endpoint}:{REDIS_PORT}"
