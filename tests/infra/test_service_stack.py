"""ServiceStack: API (App Runner and ECS), workers, scaling, IAM scope, secrets wiring, monitoring."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from cdk_app.config import DEV, PROD
from infra_helpers import only, resources

pytestmark = pytest.mark.slow

SECRET_NAMES = {"REDIS_PASSWORD", "API_KEYS", "WEBHOOK_SIGNING_SECRET"}


@pytest.fixture(scope="module")
def dev(synth):
    return synth("dev").template("Service")


@pytest.fixture(scope="module")
def prod_ecs(synth):
    return synth("prod", "distributed", "ecs").template("Service")


@pytest.fixture(scope="module")
def dev_aio_ecs(synth):
    return synth("dev", "all-in-one", "ecs").template("Service")


@pytest.fixture(scope="module")
def prod_aio_apprunner(synth):
    return synth("prod", "all-in-one", "apprunner").template("Service")


def _env(pairs: list[dict]) -> dict:
    return {p["Name"]: p["Value"] for p in pairs}


def _container(template: dict, name: str) -> dict:
    for td in resources(template, "AWS::ECS::TaskDefinition").values():
        for c in td["Properties"]["ContainerDefinitions"]:
            if c["Name"] == name:
                return c
    raise AssertionError(f"no container {name}")


# ---- Redis access: SG-to-SG 6379 only ---------------------------------------------------------------

def _redis_ingress(template: dict) -> list[dict]:
    return [r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
            if r["Properties"]["FromPort"] == 6379]


@pytest.mark.parametrize("shape", ["dev", "prod_ecs", "dev_aio_ecs"])
def test_redis_ingress_only_from_api_and_worker_sgs(shape, request):
    template = request.getfixturevalue(shape)
    rules = _redis_ingress(template)
    has_workers = bool(resources(template, "AWS::ECS::Service")) and shape != "dev_aio_ecs"
    sources = sorted(r["SourceSecurityGroupId"]["Fn::GetAtt"][0] for r in rules)
    expected = 2 if has_workers else 1
    assert len(rules) == expected, sources
    for r in rules:
        assert r["ToPort"] == 6379 and r["IpProtocol"] == "tcp"
        assert "CidrIp" not in r and "CidrIpv6" not in r
        assert "RedisSecurityGroup" in json.dumps(r["GroupId"])
    assert any(s.startswith("Api") for s in sources)
    if has_workers:
        assert any(s.startswith("Workers") for s in sources)
    # no CIDR ingress at all except the public ALB listener
    for r in resources(template, "AWS::EC2::SecurityGroupIngress").values():
        assert "CidrIp" not in r["Properties"]


def test_compute_sgs_egress_limited(dev):
    for sg in resources(dev, "AWS::EC2::SecurityGroup").values():
        for rule in sg["Properties"].get("SecurityGroupEgress", []):
            assert rule.get("IpProtocol") == "tcp" and rule["FromPort"] == rule["ToPort"] == 443, rule


# ---- App Runner API ------------------------------------------------------------------------------

def test_apprunner_api(dev):
    svc = only(dev, "AWS::AppRunner::Service")["Properties"]
    hc = svc["HealthCheckConfiguration"]
    assert hc["Protocol"] == "HTTP" and hc["Path"] == "/health"
    assert svc["NetworkConfiguration"]["EgressConfiguration"]["EgressType"] == "VPC"
    image = svc["SourceConfiguration"]["ImageRepository"]
    assert image["ImageRepositoryType"] == "ECR"
    conf = image["ImageConfiguration"]
    assert conf["Port"] == "8080"
    env = _env(conf["RuntimeEnvironmentVariables"])
    assert env["START_WORKERS"] == "false"
    assert env["METRICS_ENABLED"] == "true" and env["DEPLOY_ENV"] == "dev"
    assert env["REDIS_KEY_PREFIX"] == "ngrs"
    assert env["REDIS_URL"]["Fn::Join"][1][0] == "rediss://"
    assert not SECRET_NAMES & set(env)
    secrets = _env(conf["RuntimeEnvironmentSecrets"])
    assert set(secrets) == SECRET_NAMES
    connector = only(dev, "AWS::AppRunner::VpcConnector")["Properties"]
    assert all("privateSubnet" in json.dumps(s) for s in connector["Subnets"])


def test_apprunner_instance_role_least_privilege(dev):
    role_ref = only(dev, "AWS::AppRunner::Service")["Properties"]["InstanceConfiguration"]["InstanceRoleArn"]["Fn::GetAtt"][0]
    policies = [p for p in resources(dev, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role_ref}]]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == [
        "cloudwatch:PutMetricData", "kms:Decrypt", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
    ]
    for s in statements:
        if s["Resource"] == "*":
            assert s["Action"] == "cloudwatch:PutMetricData"
            assert s["Condition"] == {"StringEquals": {"cloudwatch:namespace": "NGRS/Solver"}}
        if s["Action"] == "kms:Decrypt":
            assert s["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}


# ---- workers -------------------------------------------------------------------------------------

def test_worker_task_definition(dev):
    worker = _container(dev, "worker")
    assert worker["Command"] == ["python", "-m", "service", "worker"]
    assert worker["StopTimeout"] == 120
    env = _env(worker["Environment"])
    assert env["SOLVER_WORKERS"] == "1" and env["SOLVER_THREADS"] == "1"
    assert "START_WORKERS" not in env
    assert not SECRET_NAMES & set(env)
    assert {s["Name"] for s in worker["Secrets"]} == SECRET_NAMES
    assert worker["LogConfiguration"]["LogDriver"] == "awslogs"
    log_group = dev["Resources"][worker["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] == DEV.workers.log_retention_days


def test_prod_worker_sizing(synth):
    t = synth("prod").template("Service")
    td = next(v for k, v in resources(t, "AWS::ECS::TaskDefinition").items() if k.startswith("WorkersTask"))
    assert td["Properties"]["Cpu"] == str(PROD.workers.cpu) and td["Properties"]["Memory"] == str(PROD.workers.memory_mib)
    env = _env(td["Properties"]["ContainerDefinitions"][0]["Environment"])
    assert env["SOLVER_THREADS"] == str(PROD.workers.cpu // 1024)


def test_worker_service_circuit_breaker_and_private(dev):
    svc = next(v for k, v in resources(dev, "AWS::ECS::Service").items() if k.startswith("Workers"))["Properties"]
    assert svc["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert svc["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    cluster = only(dev, "AWS::ECS::Cluster")["Properties"]
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]


def test_worker_task_role_scope(dev):
    Template.from_json(dev).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with([
                    {
                        "Sid": "TaskScaleInProtection",
                        "Effect": "Allow",
                        "Action": ["ecs:GetTaskProtection", "ecs:UpdateTaskProtection"],
                        "Resource": {"Fn::Join": ["", ["arn:aws:ecs:eu-west-1:111111111111:task/", {"Ref": Match.string_like_regexp("^ComputeCluster")}, "/*"]]},
                    },
                    {
                        "Sid": "PublishBacklogMetrics",
                        "Effect": "Allow",
                        "Action": "cloudwatch:PutMetricData",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"cloudwatch:namespace": "NGRS/Solver"}},
                    },
                ])
            },
            "Roles": [{"Ref": Match.string_like_regexp("^WorkersTaskRole")}],
        },
    )


def _policies(template: dict) -> dict[str, dict]:
    return {k.split("Policy")[0]: v["Properties"] for k, v in resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").items()}


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_step_scaling_matches_config(synth, env_name):
    cfg = DEV if env_name == "dev" else PROD
    t = synth(env_name).template("Service")
    policies = resources(t, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert len(policies) == 2
    assert all(p["Properties"]["PolicyType"] == "StepScaling" for p in policies.values())
    assert not any(p["Properties"].get("TargetTrackingScalingPolicyConfiguration") for p in policies.values())
    out = next(p for k, p in policies.items() if "ScaleOut" in k)["Properties"]["StepScalingPolicyConfiguration"]
    sin = next(p for k, p in policies.items() if "ScaleIn" in k)["Properties"]["StepScalingPolicyConfiguration"]
    steps = cfg.workers.scaling.scale_out_steps
    threshold = steps[0][0]
    expected = []
    for lower, upper, change in steps:
        step = {"MetricIntervalLowerBound": lower - threshold, "ScalingAdjustment": change}
        if upper is not None:
            step["MetricIntervalUpperBound"] = upper - threshold
        expected.append(step)
    assert out["StepAdjustments"] == expected
    assert out["AdjustmentType"] == sin["AdjustmentType"] == "ChangeInCapacity"
    assert out["Cooldown"] == cfg.workers.scaling.scale_out_cooldown_seconds
    assert sin["StepAdjustments"] == [{"MetricIntervalUpperBound": 0, "ScalingAdjustment": cfg.workers.scaling.scale_in_change}]
    assert sin["Cooldown"] == cfg.workers.scaling.scale_in_cooldown_seconds

    target = only(t, "AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (cfg.workers.min_tasks, cfg.workers.max_tasks)

    alarms = resources(t, "AWS::CloudWatch::Alarm")
    up = next(a for k, a in alarms.items() if "ScaleOutUpperAlarm" in k)["Properties"]
    down = next(a for k, a in alarms.items() if "ScaleInLowerAlarm" in k)["Properties"]
    assert up["Threshold"] == threshold and up["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert up["EvaluationPeriods"] == 1
    expr = next(m for m in up["Metrics"] if "Expression" in m)
    assert expr["Expression"] == f"backlog - FILL(desired, REPEAT) * {cfg.workers.solver_workers}"
    backlog = next(m for m in up["Metrics"] if m["Id"] == "backlog")["MetricStat"]
    assert backlog["Metric"]["Namespace"] == "NGRS/Solver" and backlog["Metric"]["MetricName"] == "QueueLength"
    assert backlog["Metric"]["Dimensions"] == [{"Name": "Environment", "Value": env_name}]
    assert backlog["Period"] == 60 and backlog["Stat"] == "Maximum"
    assert down["Threshold"] == 0 and down["ComparisonOperator"] == "LessThanOrEqualToThreshold"
    n = cfg.workers.scaling.scale_in_evaluation_periods
    assert down["EvaluationPeriods"] == down["DatapointsToAlarm"] == n >= 3
    (down_metric,) = down["Metrics"]
    assert down_metric["MetricStat"] == backlog  # raw backlog, same metric/period/statistic


# ---- ECS API runtime and all-in-one ---------------------------------------------------------------

def test_ecs_api_runtime(prod_ecs):
    assert not resources(prod_ecs, "AWS::AppRunner::Service")
    api = _container(prod_ecs, "api")
    assert api["Command"][:4] == ["python", "-m", "service", "api"]
    env = _env(api["Environment"])
    assert env["START_WORKERS"] == "false" and env["PORT"] == "8080"
    assert {s["Name"] for s in api["Secrets"]} == SECRET_NAMES
    tg = only(prod_ecs, "AWS::ElasticLoadBalancingV2::TargetGroup")["Properties"]
    assert tg["HealthCheckPath"] == "/health" and tg["Port"] == 8080 and tg["TargetType"] == "ip"
    alb = only(prod_ecs, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    attrs = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attrs["access_logs.s3.enabled"] == "true"
    assert attrs["deletion_protection.enabled"] == "true"  # prod
    # the public listener is the only CIDR ingress; tasks admit 8080 only from the ALB SG
    alb_sg = next(v for k, v in resources(prod_ecs, "AWS::EC2::SecurityGroup").items() if k.startswith("ApiAlbSecurityGroup"))
    assert [r["FromPort"] for r in alb_sg["Properties"]["SecurityGroupIngress"]] == [80]
    task_ingress = [r["Properties"] for r in resources(prod_ecs, "AWS::EC2::SecurityGroupIngress").values() if r["Properties"]["FromPort"] == 8080]
    assert len(task_ingress) == 1 and task_ingress[0]["SourceSecurityGroupId"]["Fn::GetAtt"][0].startswith("ApiAlbSecurityGroup")
    # workers still there in distributed mode
    assert len(resources(prod_ecs, "AWS::ECS::Service")) == 2


def test_all_in_one_ecs_has_no_worker_service(dev_aio_ecs):
    services = resources(dev_aio_ecs, "AWS::ECS::Service")
    assert len(services) == 1 and next(iter(services)).startswith("Api")
    assert not resources(dev_aio_ecs, "AWS::ApplicationAutoScaling::ScalingPolicy")
    env = _env(_container(dev_aio_ecs, "api")["Environment"])
    assert env["START_WORKERS"] == "true"
    assert env["SOLVER_WORKERS"] == str(DEV.api.all_in_one_solver_workers)
    assert env["SOLVER_THREADS"] == str(DEV.api.all_in_one_solver_threads)
    assert dev_aio_ecs["Outputs"]["WorkerServiceName"]["Value"] == "none (all-in-one mode)"
    # in-process workers protect their task while solving: same scoped grant as the workers
    Template.from_json(dev_aio_ecs).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
                "Sid": "TaskScaleInProtection",
                "Action": ["ecs:GetTaskProtection", "ecs:UpdateTaskProtection"],
            })])},
            "Roles": [{"Ref": Match.string_like_regexp("^ApiTaskRole")}],
        },
    )


def test_all_in_one_apprunner(prod_aio_apprunner):
    assert not resources(prod_aio_apprunner, "AWS::ECS::Service")
    conf = only(prod_aio_apprunner, "AWS::AppRunner::Service")["Properties"]["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"]
    env = _env(conf["RuntimeEnvironmentVariables"])
    assert env["START_WORKERS"] == "true" and env["SOLVER_WORKERS"] == str(PROD.api.all_in_one_solver_workers)
    instance = only(prod_aio_apprunner, "AWS::AppRunner::Service")["Properties"]["InstanceConfiguration"]
    assert instance["Cpu"] == PROD.api.all_in_one_apprunner_cpu and instance["Memory"] == PROD.api.all_in_one_apprunner_memory


# ---- monitoring and outputs ----------------------------------------------------------------------

def test_alarm_topic_enforces_ssl_and_is_encrypted(dev):
    topic = only(dev, "AWS::SNS::Topic")["Properties"]
    assert "KmsMasterKeyId" in topic
    Template.from_json(dev).has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        })])}},
    )


def test_alarms_route_to_topic(dev, synth):
    alarms = {k: v["Properties"] for k, v in resources(dev, "AWS::CloudWatch::Alarm").items() if k.startswith("Monitoring")}
    names = {k.split("Monitoring")[1] for k in alarms}
    for expected in ("BacklogHigh", "WorkersBelowMin", "Api5xx", "RedisCpu", "RedisMemory"):
        assert any(n.startswith(expected) for n in names), (expected, names)
    for a in alarms.values():
        assert len(a["AlarmActions"]) == 1
        assert a["AlarmActions"][0]["Ref"].startswith("MonitoringAlarmTopic")
    backlog = next(v for k, v in alarms.items() if "BacklogHigh" in k)
    assert backlog["Threshold"] == DEV.alarms.backlog_high_threshold
    assert backlog["EvaluationPeriods"] == DEV.alarms.backlog_high_evaluation_periods > 1
    # prod (2 nodes) also alarms on replication lag
    prod_alarms = resources(synth("prod").template("Service"), "AWS::CloudWatch::Alarm")
    assert any("RedisReplicationLag" in k for k in prod_alarms)


def test_dashboard_and_outputs(dev):
    dash = only(dev, "AWS::CloudWatch::Dashboard")["Properties"]
    body = json.dumps(dash["DashboardBody"])
    for needle in ("QueueLength", "DesiredTaskCount", "RunningTaskCount", "JobDurationSeconds", "5xxStatusResponses", "EngineCPUUtilization"):
        assert needle in body, needle
    for name in ("ApiUrl", "DashboardUrl", "WorkerServiceName", "AlarmTopicArn"):
        assert name in dev["Outputs"]


def test_ecs_api_with_certificate_serves_https(tmp_path):
    """With api.certificate_arn set, the ALB serves HTTPS (TLS 1.2+ policy) and redirects HTTP."""
    import dataclasses

    from cdk_app.app import build_app, cdk_json_context

    cert = "arn:aws:acm:eu-west-1:222222222222:certificate/00000000-0000-0000-0000-000000000000"
    cfg = dataclasses.replace(PROD, api=dataclasses.replace(PROD.api, certificate_arn=cert))
    deployment = build_app(
        context={**cdk_json_context(), "env": "prod", "api_runtime": "ecs"}, outdir=str(tmp_path), config_override=cfg
    )
    template = deployment.app.synth().get_stack_by_name("Ngrs-prod-Service").template
    listeners = [l["Properties"] for l in resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()]
    https = next(l for l in listeners if l["Port"] == 443)
    assert https["Protocol"] == "HTTPS" and https["Certificates"] == [{"CertificateArn": cert}]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    http = next(l for l in listeners if l["Port"] == 80)
    assert http["DefaultActions"][0]["Type"] == "redirect"
    assert http["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"
    assert template["Outputs"]["ApiUrl"]["Value"]["Fn::Join"][1][0] == "https://"
    # no checkov skips for the listener once HTTPS is on
    assert not any(rule in ("CKV_AWS_2", "CKV_AWS_103") for _, rule, _ in deployment.acknowledgements)
