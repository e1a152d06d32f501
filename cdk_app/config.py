"""Per-environment deployment configuration: ONE frozen dataclass object per environment.

Every number the stacks use lives here (node types, counts, retention, NAT, worker sizing, the scaling
steps, alarm thresholds, metric names, cost estimates). Constructs receive these objects as typed
keyword arguments and never read context or the process environment themselves.

Public API (also used by the scaling simulator):

    from cdk_app.config import CONFIGS, get_config, EnvConfig, ScalingPolicyConfig
    cfg = get_config("dev")
    cfg.workers.scaling.scale_out_steps   # ((lower, upper|None, change), ...)

Scaling semantics (see `ScalingPolicyConfig`): the backlog metric B (waiting + running jobs, published every
`metric_period_seconds`, statistic `Maximum`) drives two step-scaling policies on the worker service:

* scale-out works on the excess backlog E = B - D * solver_workers, D = the service's desired task count
  (Container Insights DesiredTaskCount): jobs that no requested worker slot will take. Evaluated on
  `scale_out_evaluation_periods` datapoint(s), it adds `change` tasks for the step whose
  ``lower <= E < upper`` holds (upper None = open); while E stays >= the first lower bound the alarm
  stays in ALARM and Application Auto Scaling re-applies the step after each `scale_out_cooldown_seconds`.
  (On raw B, one long solve on one task would keep adding tasks up to max.)
* scale-in removes `-scale_in_change` task(s) only after B has been 0 for `scale_in_evaluation_periods`
  consecutive periods (all datapoints must breach), at most once per `scale_in_cooldown_seconds`; busy
  tasks hold ECS task scale-in protection, so scale-in never stops a running solve.

Both are clamped to [min_tasks, max_tasks] by Application Auto Scaling.

Mode and API runtime are chosen per deployment by context (`-c mode=...`, `-c api_runtime=...`); the
defaults below are what you get without them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["distributed", "all-in-one"]
ApiRuntime = Literal["apprunner", "ecs"]

MODES: tuple[str, ...] = ("distributed", "all-in-one")
API_RUNTIMES: tuple[str, ...] = ("apprunner", "ecs")

#: Placeholder accounts: replace with the real ones (and re-cache the AZs in cdk.json) before deploying.
PLACEHOLDER_ACCOUNTS = ("111111111111", "222222222222")


@dataclass(frozen=True)
class NetworkConfig:
    cidr: str
    nat_gateways: int  #: 1 in dev (cost), one per AZ in prod (AZ-independent egress)
    flow_log_retention_days: int


@dataclass(frozen=True)
class RedisConfig:
    engine_version: str  #: Redis OSS 7.x
    node_type: str
    num_cache_clusters: int  #: 1 primary + (n-1) replicas, cluster mode disabled
    snapshot_retention_days: int
    snapshot_window: str  #: UTC, hh:mm-hh:mm
    maintenance_window: str  #: UTC, ddd:hh:mm-ddd:hh:mm (must not overlap the snapshot window)
    log_retention_days: int
    #: Multi-AZ with automatic failover needs >= 2 nodes; derived, not configurable separately.

    @property
    def multi_az(self) -> bool:
        return self.num_cache_clusters >= 2


@dataclass(frozen=True)
class ScalingPolicyConfig:
    """Step scaling of the worker service on the backlog metric.

    scale_out_steps: ((lower, upper, change), ...) on the excess backlog E (module docstring) with
        ``lower <= E < upper`` (upper None = open); contiguous and ascending; the first lower bound is the
        scale-out alarm threshold.
    scale_in_change: tasks removed per scale-in action (negative).
    scale_in_evaluation_periods: the backlog must be 0 on this many consecutive periods before scale-in.
    """

    scale_out_steps: tuple[tuple[int, int | None, int], ...]
    scale_out_evaluation_periods: int
    scale_out_cooldown_seconds: int
    scale_in_change: int
    scale_in_evaluation_periods: int
    scale_in_cooldown_seconds: int
    metric_period_seconds: int = 60
    metric_statistic: str = "Maximum"

    def scale_out_change(self, excess_backlog: float) -> int:
        """Tasks added for a given excess backlog E (0 below the first step)."""
        for lower, upper, change in self.scale_out_steps:
            if excess_backlog >= lower and (upper is None or excess_backlog < upper):
                return change
        return 0

    @staticmethod
    def excess_backlog(backlog: float, desired_tasks: int, solver_workers: int) -> float:
        """E = backlog - desired tasks x solver slots per task (what the scale-out alarm watches)."""
        return backlog - desired_tasks * solver_workers


@dataclass(frozen=True)
class WorkerConfig:
    cpu: int  #: Fargate CPU units (1024 = 1 vCPU)
    memory_mib: int
    min_tasks: int
    max_tasks: int
    solver_workers: int  #: SOLVER_WORKERS per task; 1 = one solve per task (intended sizing)
    log_retention_days: int
    stop_timeout_seconds: int
    scaling: ScalingPolicyConfig

    @property
    def vcpus(self) -> int:
        return max(1, self.cpu // 1024)


@dataclass(frozen=True)
class ApiConfig:
    #: App Runner: cpu in vCPU units as App Runner strings ("1 vCPU"), memory ("2 GB").
    apprunner_cpu: str
    apprunner_memory: str
    apprunner_min_instances: int
    apprunner_max_instances: int
    apprunner_max_concurrency: int
    #: ECS runtime: Fargate task size and count behind the ALB.
    ecs_cpu: int
    ecs_memory_mib: int
    ecs_desired_count: int
    #: ACM certificate for the ALB (ECS runtime). None = HTTP listener only (acknowledged finding).
    certificate_arn: str | None
    log_retention_days: int
    #: SOLVER_WORKERS of the API process in all-in-one mode (START_WORKERS=true).
    all_in_one_solver_workers: int
    #: SOLVER_THREADS of the API process in all-in-one mode (per solve).
    all_in_one_solver_threads: int
    #: App Runner size in all-in-one mode (the API also solves): workers x threads <= vCPUs.
    all_in_one_apprunner_cpu: str
    all_in_one_apprunner_memory: str
    access_log_retention_days: int


@dataclass(frozen=True)
class AlarmConfig:
    backlog_high_threshold: int
    backlog_high_evaluation_periods: int
    api_5xx_threshold: int  #: 5xx responses per 5 minutes
    redis_engine_cpu_percent: int
    redis_memory_percent: int
    redis_replication_lag_seconds: int
    running_workers_evaluation_periods: int


@dataclass(frozen=True)
class MetricsConfig:
    namespace: str = "NGRS/Solver"
    queue_metric: str = "QueueLength"
    duration_metric: str = "JobDurationSeconds"
    failed_metric: str = "JobsFailed"
    dimension_name: str = "Environment"


@dataclass(frozen=True)
class CostLine:
    item: str
    monthly_usd: float


@dataclass(frozen=True)
class EnvConfig:
    name: str  #: "dev" | "prod": DEPLOY_ENV, stack-name part, metric dimension value
    account: str
    region: str
    availability_zones: tuple[str, ...]
    network: NetworkConfig
    redis: RedisConfig
    api: ApiConfig
    workers: WorkerConfig
    alarms: AlarmConfig
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    result_ttl_seconds: int = 3600
    redis_key_prefix: str = "ngrs"
    default_mode: Mode = "distributed"
    default_api_runtime: ApiRuntime = "apprunner"
    #: stateful resources are retained/snapshotted on stack deletion in prod, destroyed in dev
    retain_data: bool = False
    #: rough monthly on-demand estimate (eu-west-1 list prices, USD, at min capacity, excl. data
    #: transfer; verify with the AWS Pricing Calculator); rendered in docs/deploy.md
    monthly_cost_estimate: tuple[CostLine, ...] = ()

    @property
    def stack_prefix(self) -> str:
        return f"Ngrs-{self.name}"

    @property
    def az_context_key(self) -> str:
        return f"availability-zones:account={self.account}:region={self.region}"

    @property
    def monthly_cost_total(self) -> float:
        return round(sum(line.monthly_usd for line in self.monthly_cost_estimate), 2)


# Scale-out steps on the excess backlog E, chosen with bench/scaling_sim.py (docs/benchmarks.md §1): add what
# is missing, with a short cooldown (busy tasks are protected, so reacting fast costs no lost work). Against
# the first steps (+1/+3/+6 with a 120 s cooldown) they cut prod worker-minutes and the p95 queue wait.
SCALE_OUT_STEPS: tuple[tuple[int, int | None, int], ...] = (
    (1, 2, 1), (2, 3, 2), (3, 5, 3), (5, 10, 5), (10, None, 10),
)

DEV = EnvConfig(
    name="dev",
    account="111111111111",
    region="eu-west-1",
    availability_zones=("eu-west-1a", "eu-west-1b"),
    network=NetworkConfig(cidr="10.40.0.0/16", nat_gateways=1, flow_log_retention_days=14),
    redis=RedisConfig(
        engine_version="7.1",
        node_type="cache.t4g.small",
        num_cache_clusters=1,
        snapshot_retention_days=1,
        snapshot_window="02:00-03:00",
        maintenance_window="sun:04:00-sun:05:00",
        log_retention_days=14,
    ),
    api=ApiConfig(
        apprunner_cpu="1 vCPU",
        apprunner_memory="2 GB",
        apprunner_min_instances=1,
        apprunner_max_instances=2,
        apprunner_max_concurrency=50,
        ecs_cpu=512,
        ecs_memory_mib=1024,
        ecs_desired_count=1,
        certificate_arn=None,
        log_retention_days=14,
        all_in_one_solver_workers=1,
        all_in_one_solver_threads=1,
        all_in_one_apprunner_cpu="1 vCPU",
        all_in_one_apprunner_memory="2 GB",
        access_log_retention_days=30,
    ),
    workers=WorkerConfig(
        cpu=1024,
        memory_mib=2048,
        min_tasks=1,
        max_tasks=3,
        solver_workers=1,
        log_retention_days=14,
        stop_timeout_seconds=120,
        scaling=ScalingPolicyConfig(
            scale_out_steps=SCALE_OUT_STEPS,
            scale_out_evaluation_periods=1,
            scale_out_cooldown_seconds=60,
            scale_in_change=-3,  # backlog 0 = no job runs: every task is idle, drop to min_tasks
            scale_in_evaluation_periods=5,
            scale_in_cooldown_seconds=300,
        ),
    ),
    alarms=AlarmConfig(
        backlog_high_threshold=10,
        backlog_high_evaluation_periods=10,
        api_5xx_threshold=10,
        redis_engine_cpu_percent=80,
        redis_memory_percent=75,
        redis_replication_lag_seconds=5,
        running_workers_evaluation_periods=5,
    ),
    retain_data=False,
    monthly_cost_estimate=(
        CostLine("NAT gateway x1 (hourly, excl. data)", 35.04),
        CostLine("ElastiCache cache.t4g.small x1", 25.55),
        CostLine("App Runner 1 vCPU/2 GB x1 (provisioned idle + ~2 h/day active)", 16.0),
        CostLine("Fargate worker 1 vCPU/2 GB x1 (min tasks, 24/7)", 36.04),
        CostLine("CloudWatch logs, metrics, alarms, dashboard", 10.0),
        CostLine("Secrets Manager x3", 1.2),
        CostLine("KMS keys x2 (data key, alarm topic key)", 2.0),
    ),
)

PROD = EnvConfig(
    name="prod",
    account="222222222222",
    region="eu-west-1",
    availability_zones=("eu-west-1a", "eu-west-1b", "eu-west-1c"),
    network=NetworkConfig(cidr="10.50.0.0/16", nat_gateways=3, flow_log_retention_days=90),
    redis=RedisConfig(
        engine_version="7.1",
        node_type="cache.m7g.large",
        num_cache_clusters=2,
        snapshot_retention_days=7,
        snapshot_window="02:00-03:00",
        maintenance_window="sun:04:00-sun:05:00",
        log_retention_days=90,
    ),
    api=ApiConfig(
        apprunner_cpu="1 vCPU",
        apprunner_memory="2 GB",
        apprunner_min_instances=2,
        apprunner_max_instances=5,
        apprunner_max_concurrency=80,
        ecs_cpu=1024,
        ecs_memory_mib=2048,
        ecs_desired_count=2,
        certificate_arn=None,
        log_retention_days=90,
        all_in_one_solver_workers=2,
        all_in_one_solver_threads=2,
        all_in_one_apprunner_cpu="4 vCPU",
        all_in_one_apprunner_memory="8 GB",
        access_log_retention_days=90,
    ),
    workers=WorkerConfig(
        cpu=4096,
        memory_mib=8192,
        min_tasks=1,
        max_tasks=20,
        solver_workers=1,
        log_retention_days=90,
        stop_timeout_seconds=120,
        scaling=ScalingPolicyConfig(
            scale_out_steps=SCALE_OUT_STEPS,
            scale_out_evaluation_periods=1,
            scale_out_cooldown_seconds=60,
            scale_in_change=-20,  # backlog 0 = no job runs: every task is idle, drop to min_tasks
            scale_in_evaluation_periods=5,
            scale_in_cooldown_seconds=300,
        ),
    ),
    alarms=AlarmConfig(
        backlog_high_threshold=50,
        backlog_high_evaluation_periods=10,
        api_5xx_threshold=10,
        redis_engine_cpu_percent=75,
        redis_memory_percent=70,
        redis_replication_lag_seconds=2,
        running_workers_evaluation_periods=5,
    ),
    retain_data=True,
    monthly_cost_estimate=(
        CostLine("NAT gateway x3 (hourly, excl. data)", 105.12),
        CostLine("ElastiCache cache.m7g.large x2 (Multi-AZ)", 262.8),
        CostLine("App Runner 1 vCPU/2 GB x2 (provisioned idle + ~8 h/day active)", 70.0),
        CostLine("Fargate worker 4 vCPU/8 GB x1 (min tasks, 24/7; each extra task-hour ~0.20)", 144.17),
        CostLine("CloudWatch logs, metrics, alarms, dashboard", 30.0),
        CostLine("Secrets Manager x3", 1.2),
        CostLine("KMS keys x2 (data key, alarm topic key)", 2.0),
    ),
)

#: Monthly delta when api_runtime=ecs instead of App Runner: ALB hourly + ~1 LCU (eu-west-1, USD);
#: the API then runs as Fargate tasks (api.ecs_* sizes) instead of App Runner instances.
ECS_API_ALB_MONTHLY_USD = 22.0

CONFIGS: dict[str, EnvConfig] = {cfg.name: cfg for cfg in (DEV, PROD)}


def get_config(name: str) -> EnvConfig:
    """The frozen config of environment `name` ("dev" or "prod"); ValueError for anything else."""
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown environment {name!r}; expected one of {sorted(CONFIGS)}") from None


def validate(cfg: EnvConfig) -> None:
    """Raise ValueError on an inconsistent config (called by the app before building stacks)."""
    steps = cfg.workers.scaling.scale_out_steps
    if not steps:
        raise ValueError("scale_out_steps must not be empty")
    prev_upper: int | None = steps[0][0]
    for lower, upper, change in steps:
        if lower != prev_upper:
            raise ValueError(f"scale_out_steps must be contiguous: {steps}")
        if upper is not None and upper <= lower:
            raise ValueError(f"empty scale-out step {(lower, upper, change)}")
        if change <= 0:
            raise ValueError("scale-out changes must be positive")
        prev_upper = upper
    if steps[-1][1] is not None:
        raise ValueError("the last scale-out step must be open-ended (upper None)")
    if steps[0][0] < 1:
        raise ValueError("scale-out must start at a backlog >= 1 (0 is the scale-in band)")
    if cfg.workers.scaling.scale_in_change >= 0:
        raise ValueError("scale_in_change must be negative")
    if not 0 <= cfg.workers.min_tasks <= cfg.workers.max_tasks:
        raise ValueError("need 0 <= min_tasks <= max_tasks")
    if cfg.network.nat_gateways < 1 or cfg.network.nat_gateways > len(cfg.availability_zones):
        raise ValueError("nat_gateways must be between 1 and the number of AZs")
    if cfg.redis.num_cache_clusters < 1:
        raise ValueError("num_cache_clusters must be >= 1")
    if cfg.name == "prod" and not cfg.redis.multi_az:
        raise ValueError("prod needs Multi-AZ Redis (num_cache_clusters >= 2)")


for _cfg in CONFIGS.values():
    validate(_cfg)
