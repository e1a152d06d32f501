"""DataStack: network, Redis and secrets — the security-critical properties, asserted one by one."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from infra_helpers import only, resources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dev(synth):
    return synth("dev").template("Data")


@pytest.fixture(scope="module")
def prod(synth):
    return synth("prod").template("Data")


def test_redis_encryption_and_tls_required(dev, prod):
    for t in (dev, prod):
        rg = only(t, "AWS::ElastiCache::ReplicationGroup")["Properties"]
        assert rg["AtRestEncryptionEnabled"] is True
        assert rg["TransitEncryptionEnabled"] is True
        assert rg["TransitEncryptionMode"] == "required"
        assert rg["Engine"] == "redis" and rg["EngineVersion"].startswith("7.")
        assert "NumNodeGroups" not in rg  # cluster mode disabled


def test_redis_auth_is_a_dynamic_reference(dev):
    Template.from_json(dev).has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup",
        {
            "AuthToken": {
                "Fn::Join": [
                    "",
                    ["{{resolve:secretsmanager:", {"Ref": Match.string_like_regexp("^RedisAuthToken")}, ":SecretString:::}}"],
                ]
            }
        },
    )
    secret = resources(dev, "AWS::SecretsManager::Secret")
    auth = next(v for k, v in secret.items() if k.startswith("RedisAuthToken"))
    gen = auth["Properties"]["GenerateSecretString"]
    assert gen["ExcludePunctuation"] is True and 16 <= gen["PasswordLength"] <= 128


def test_prod_redis_multi_az_with_failover(prod):
    rg = only(prod, "AWS::ElastiCache::ReplicationGroup")
    assert rg["Properties"]["MultiAZEnabled"] is True
    assert rg["Properties"]["AutomaticFailoverEnabled"] is True
    assert rg["Properties"]["NumCacheClusters"] >= 2
    assert rg["DeletionPolicy"] == "Snapshot"
    assert rg["Properties"]["SnapshotRetentionLimit"] == 7


def test_dev_redis_single_node_no_failover(dev):
    rg = only(dev, "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert rg["NumCacheClusters"] == 1
    assert rg["MultiAZEnabled"] is False and rg["AutomaticFailoverEnabled"] is False
    assert rg["SnapshotRetentionLimit"] == 1


def test_redis_noeviction_parameter_group(dev):
    pg = only(dev, "AWS::ElastiCache::ParameterGroup")["Properties"]
    assert pg["CacheParameterGroupFamily"] == "redis7"
    assert pg["Properties"] == {"maxmemory-policy": "noeviction"}


def test_redis_logs_to_cloudwatch_with_retention(dev):
    rg = only(dev, "AWS::ElastiCache::ReplicationGroup")["Properties"]
    kinds = {c["LogType"] for c in rg["LogDeliveryConfigurations"]}
    assert kinds == {"slow-log", "engine-log"}
    groups = resources(dev, "AWS::Logs::LogGroup")
    for conf in rg["LogDeliveryConfigurations"]:
        ref = conf["DestinationDetails"]["CloudWatchLogsDetails"]["LogGroup"]["Ref"]
        assert groups[ref]["Properties"]["RetentionInDays"] == 14
        assert "KmsKeyId" in groups[ref]["Properties"]


def test_redis_security_group_has_no_rules_of_its_own(dev):
    rg = only(dev, "AWS::ElastiCache::ReplicationGroup")["Properties"]
    sg_id = rg["SecurityGroupIds"][0]["Fn::GetAtt"][0]
    sg = dev["Resources"][sg_id]["Properties"]
    assert "SecurityGroupIngress" not in sg
    # allow_all_outbound=False: CDK's "no egress" placeholder rule only
    assert sg["SecurityGroupEgress"] == [
        {"CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic", "FromPort": 252, "IpProtocol": "icmp", "ToPort": 86}
    ]
    # no standalone ingress rule in the data stack (clients add theirs from the service stack)
    assert not resources(dev, "AWS::EC2::SecurityGroupIngress")


def test_redis_in_isolated_subnets(dev):
    subnet_group = only(dev, "AWS::ElastiCache::SubnetGroup")["Properties"]
    for ref in subnet_group["SubnetIds"]:
        assert ref["Ref"].startswith("NetworkVpcisolatedSubnet")


def test_vpc_subnet_tiers_nat_and_flow_logs(dev, prod):
    for t, nats, azs in ((dev, 1, 2), (prod, 3, 3)):
        assert len(resources(t, "AWS::EC2::NatGateway")) == nats
        subnets = resources(t, "AWS::EC2::Subnet")
        for tier in ("public", "private", "isolated"):
            assert sum(1 for k in subnets if k.startswith(f"NetworkVpc{tier}Subnet")) == azs
        flow = only(t, "AWS::EC2::FlowLog")["Properties"]
        assert flow["TrafficType"] == "ALL" and flow["ResourceType"] == "VPC"


def test_secrets_generated_and_kms_encrypted(dev):
    secrets = resources(dev, "AWS::SecretsManager::Secret")
    assert len(secrets) == 3
    for s in secrets.values():
        assert "GenerateSecretString" in s["Properties"] and "SecretString" not in s["Properties"]
        assert "KmsKeyId" in s["Properties"]
    key = only(dev, "AWS::KMS::Key")["Properties"]
    assert key["EnableKeyRotation"] is True


def test_outputs(dev):
    outputs = dev["Outputs"]
    for name in ("RedisEndpoint", "RedisUrl", "RedisAuthSecretArn", "ApiKeysSecretArn", "WebhookSigningSecretArn"):
        assert name in outputs
    assert outputs["RedisUrl"]["Value"]["Fn::Join"][1][0] == "rediss://"
