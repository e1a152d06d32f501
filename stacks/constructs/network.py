"""VPC with public, private-with-egress and isolated subnets, NAT per config, and VPC flow logs."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_app.config import NetworkConfig
from stacks.constructs._util import retention


class Network(Construct):
    """The service VPC.

    Subnets: ``public`` (NAT gateways, public ALB), ``private`` (PRIVATE_WITH_EGRESS: App Runner VPC
    connector, Fargate tasks) and ``isolated`` (PRIVATE_ISOLATED: ElastiCache). All traffic is logged to a
    CloudWatch log group with retention.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: NetworkConfig,
        availability_zones: tuple[str, ...],
        removal_policy: RemovalPolicy,
        encryption_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.cidr),
            availability_zones=list(availability_zones),
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
            enable_dns_hostnames=True,
            enable_dns_support=True,
        )
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=retention(config.flow_log_retention_days),
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )
        self.flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

