"""Scaling simulator: replays a job-arrival trace against worker scaling policies and prints a table.

Owns the model of CloudWatch alarms + Application Auto Scaling + ECS/Fargate for the worker service, and
the comparison of the policy we ship (`cdk_app.config`, the same objects the stacks read) with
CPU target tracking, the QueueProcessingFargateService (QPFS) defaults, and two candidates:

- config:  what the stacks build from the config: scale-out steps on the excess backlog
           E = backlog − DesiredTaskCount × slots, scale-in after N periods with the backlog at 0;
- raw-backlog: the first version of the stacks: the same steps on the raw backlog (waiting + running);
- config+inE: the shipped scale-out, but scale-in of one task when E ≤ −1 (idle capacity) for N periods;
- excess:  scale-out on E adding what is missing, scale-in when E ≤ −1 (idle capacity) for 5 periods
           (EXCESS_STEPS below); excess+2: the same on E + 2 (two warm idle slots);
- cpu-tt:  ECS CPU target tracking at 50 %;  qpfs / qpfs-noprot: QPFS defaults with / without our
           task scale-in protection.

    python -m bench.scaling_sim                      # dev + prod, steady + bursts traces
    python -m bench.scaling_sim --env prod --trace bursts --hours 4 --seed 7 --json

Modelling assumptions (each one a constant or an argument below; change them, not the code paths):
- The backlog metric (waiting + running jobs) is sampled once per `metric_period_seconds` (60 s) by the
  single publisher; with one sample per period, statistic Maximum equals that sample. A datapoint becomes
  visible to its alarm `CW_DELAY_S` after the period (ingestion + evaluation lag).
- Alarms: ALARM when all of the last `evaluation_periods` datapoints breach (datapoints_to_alarm ==
  evaluation_periods, as the stacks set it). While in ALARM the alarm re-invokes its policy each period.
- Application Auto Scaling step scaling, ChangeInCapacity, cooldowns per policy (StepScalingPolicyConfiguration
  docs): during a policy's scale-out cooldown a new trigger only adds the difference if its step is larger
  than the one in progress; a scale-in policy is blocked during its own cooldown; a scale-out ends every
  scale-in cooldown.
  Desired capacity is clamped to [min_tasks, max_tasks].
- ECS: launches missing tasks at once; a Fargate task runs after a start-up delay drawn uniformly from
  `FARGATE_START_S` (image pull + ENI + container start); it is billed from launch to stop. Excess tasks
  are stopped immediately, starting/idle ones first; busy tasks holding task scale-in protection are
  never stopped (they are stopped when they become idle while still in excess). Without protection a
  busy task is stopped too: its job is handed back at once (SIGTERM hand-off) and the work done is lost.
- One job per task slot (SOLVER_WORKERS=1); an idle task takes the oldest waiting job at once.
- Solve durations: CP-SAT runs realistic NGRS inputs to their time limit (the solver benchmark's 200-
  employee example ends FEASIBLE at its limit), so a job lasts about its time limit; traces draw limits
  log-normally around `--duration-median` seconds, clipped to [30 s, 1800 s].
- Cost and worker-minutes cover the same window for every policy: the trace plus one drain hour.
- Queue wait of a job = completion − arrival − its solve duration (everything that was not the
  successful solve: waiting, start-up of a task for it, lost work of killed attempts).
- CPU target tracking (ECSServiceAverageCPUUtilization): a busy task is at 100 % (SOLVER_THREADS =
  vCPUs), an idle one at 1 %; tasks still starting report nothing. Scale-out after 3 datapoints above
  the target, scale-in after 15 below 90 % of it (the alarms AAS creates), desired = ceil(n · cpu /
  target), cooldowns 300 s (AAS defaults for ECS).
- QPFS defaults (research/cdk.md §1): metric = visible messages (= waiting jobs only), Maximum over
  300 s, 1 evaluation period; steps ≤0 → −1, ≥100 → +1, ≥500 → +5; cooldown 300 s; plus CPU target
  tracking at 50 %. Min/max are the environment's (the QPFS defaults 1/2 would not be comparable).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

from cdk_app.config import CONFIGS, EnvConfig, ScalingPolicyConfig

#: Fargate on-demand, Linux/x86, eu-west-1, USD (AWS Fargate pricing page; the same rates give the
#: worker lines of `cdk_app.config` monthly_cost_estimate: 730 h × (0.04048 + 2 × 0.004445) = 36.04).
#: Not re-checked online in this session (no network); update both places together.
FARGATE_VCPU_HOUR_USD = 0.04048
FARGATE_GB_HOUR_USD = 0.004445

FARGATE_START_S = (60.0, 90.0)
CW_DELAY_S = 60
#: Application Auto Scaling default cooldown for ECS services when a policy sets none.
AAS_DEFAULT_COOLDOWN_S = 300
IDLE_CPU = 1.0


# --------------------------------------------------------------------------------------------------
# traces


@dataclass(frozen=True)
class Job:
    jid: int
    arrival: float
    duration: float


def _durations(rng: random.Random, median: float) -> float:
    return min(1800.0, max(30.0, rng.lognormvariate(math.log(median), 0.6)))


def load_durations(path: str, scale: float = 1.0) -> list[float]:
    """Solve durations from a `python -m bench.solver --json` file: each solved row's wall seconds × scale."""
    rows = json.loads(open(path).read())
    out = [float(r["wall s"]) * scale for r in rows if r.get("wall s") and r.get("status") in ("OPTIMAL", "FEASIBLE")]
    if not out:
        raise ValueError(f"{path}: no solved rows with a wall time")
    return out


def make_trace(kind: str, *, cfg: EnvConfig, hours: float, seed: int, duration_median: float,
               durations: list[float] | None = None) -> list[Job]:
    """`steady`: Poisson arrivals offering ~30 % of max_tasks; `bursts`: light Poisson background plus, once
    an hour, a burst of 2 × max_tasks jobs within one minute (e.g. a planner submitting a month of rosters)."""
    rng = random.Random(f"{kind}:{cfg.name}:{seed}")
    horizon = hours * 3600.0
    max_tasks = cfg.workers.max_tasks
    arrivals: list[float] = []
    mean_duration = sum(durations) / len(durations) if durations else duration_median
    if kind == "steady":
        rate = 0.3 * max_tasks / mean_duration
    elif kind == "bursts":
        rate = 0.05 * max_tasks / mean_duration
        burst_at = 600.0
        while burst_at < horizon:
            arrivals.extend(burst_at + rng.uniform(0, 60) for _ in range(2 * max_tasks))
            burst_at += 3600.0
    else:
        raise ValueError(f"unknown trace {kind!r}")
    t = rng.expovariate(rate)
    while t < horizon:
        arrivals.append(t)
        t += rng.expovariate(rate)
    arrivals.sort()
    if durations:
        return [Job(i, a, max(1.0, rng.choice(durations))) for i, a in enumerate(arrivals)]
    return [Job(i, a, _durations(rng, duration_median)) for i, a in enumerate(arrivals)]


# --------------------------------------------------------------------------------------------------
# policies


@dataclass
class Alarm:
    """A CloudWatch alarm on one metric series with step actions relative to nothing (absolute bounds)."""

    name: str
    metric: Callable[["Sim"], float]
    period: int
    evaluation_periods: int
    breach: Callable[[float], bool]
    #: value of the latest datapoint -> ("out"|"in", change or new desired) when the alarm fires
    action: Callable[["Sim", float], tuple[str, int]]
    cooldown: int
    series: list[tuple[float, float]] = field(default_factory=list)  # (visible_at, value)
    samples: list[float] = field(default_factory=list)  # one per minute


@dataclass
class Policy:
    name: str
    protect_busy: bool
    make_alarms: Callable[[EnvConfig], list[Alarm]]


def _step_change(steps: tuple[tuple[int, int | None, int], ...], value: float) -> int:
    for lower, upper, change in steps:
        if value >= lower and (upper is None or value < upper):
            return change
    return 0


def backlog(sim: "Sim") -> float:
    return len(sim.waiting) + sim.busy_count()


def waiting_only(sim: "Sim") -> float:
    return float(len(sim.waiting))


def excess_demand(sim: "Sim", spare: int = 0) -> float:
    """The config's excess backlog E = backlog − DesiredTaskCount × slots (metric math on Container Insights),
    plus `spare` warm slots to keep: slots missing (>0) or idle (<0)."""
    w = sim.cfg.workers
    return w.scaling.excess_backlog(backlog(sim) + spare, sim.desired, w.solver_workers)


def step_alarms(
    scaling: ScalingPolicyConfig, out_metric: Callable[["Sim"], float], in_metric: Callable[["Sim"], float],
    scale_in_below: float, label: str,
) -> list[Alarm]:
    """A scale-out and a scale-in alarm + step policy, as `stacks/constructs/workers.py` builds them from a
    ScalingPolicyConfig (scale-out threshold = the first step's lower bound)."""
    threshold = scaling.scale_out_steps[0][0]
    return [
        Alarm(
            f"{label}-out", out_metric, scaling.metric_period_seconds, scaling.scale_out_evaluation_periods,
            lambda v: v >= threshold,
            lambda sim, v: ("out", scaling.scale_out_change(v)),
            scaling.scale_out_cooldown_seconds,
        ),
        Alarm(
            f"{label}-in", in_metric, scaling.metric_period_seconds, scaling.scale_in_evaluation_periods,
            lambda v: v <= scale_in_below,
            lambda sim, v: ("in", scaling.scale_in_change),
            scaling.scale_in_cooldown_seconds,
        ),
    ]


def cpu_utilisation(sim: "Sim") -> float:
    up = [t for t in sim.tasks if t.ready_at <= sim.now]
    if not up:
        return 0.0
    return sum(100.0 if t.job is not None else IDLE_CPU for t in up) / len(up)


def cpu_target_tracking(target: float = 50.0) -> list[Alarm]:
    def desired_for(sim: "Sim", cpu: float) -> int:
        up = sum(1 for t in sim.tasks if t.ready_at <= sim.now)
        return max(1, math.ceil(up * cpu / target))

    return [
        Alarm("cpu-out", cpu_utilisation, 60, 3, lambda v: v > target,
              lambda sim, v: ("out-exact", desired_for(sim, v)), AAS_DEFAULT_COOLDOWN_S),
        Alarm("cpu-in", cpu_utilisation, 60, 15, lambda v: v < 0.9 * target,
              lambda sim, v: ("in-exact", desired_for(sim, v)), AAS_DEFAULT_COOLDOWN_S),
    ]


def qpfs_default_alarms(cfg: EnvConfig) -> list[Alarm]:
    steps = ((100, 500, 1), (500, None, 5))
    return [
        Alarm("qpfs-out", waiting_only, 300, 1, lambda v: v >= 100,
              lambda sim, v: ("out", _step_change(steps, v)), AAS_DEFAULT_COOLDOWN_S),
        Alarm("qpfs-in", waiting_only, 300, 1, lambda v: v <= 0,
              lambda sim, v: ("in", -1), AAS_DEFAULT_COOLDOWN_S),
        *cpu_target_tracking(50.0),
    ]


#: Proposed alternative: scale on the excess of demand over desired capacity (metric math on the backlog
#: and Container Insights DesiredTaskCount), adding exactly what is missing, scaling in when demand has been
#: below capacity for 5 minutes. Busy tasks keep scale-in protection.
EXCESS_STEPS = ScalingPolicyConfig(
    scale_out_steps=((1, 2, 1), (2, 3, 2), (3, 5, 3), (5, 10, 5), (10, None, 10)),
    scale_out_evaluation_periods=1,
    scale_out_cooldown_seconds=60,
    scale_in_change=-1,
    scale_in_evaluation_periods=5,
    scale_in_cooldown_seconds=120,
)


POLICIES: dict[str, Policy] = {
    # what the stacks build from the config: scale out on E = backlog − desired × slots, scale in on backlog 0
    "config": Policy("config", True, lambda cfg: step_alarms(cfg.workers.scaling, excess_demand, backlog, 0, "cfg")),
    # the first version of the stacks (until 11:51 UTC): the same steps on the raw backlog
    "raw-backlog": Policy("raw-backlog", True,
                          lambda cfg: step_alarms(cfg.workers.scaling, backlog, backlog, 0, "raw")),
    # the smallest change to the shipped policy: scale in one task on idle capacity (E <= -1) instead of
    # (all the way) on backlog 0
    "config+inE": Policy("config+inE", True, lambda cfg: step_alarms(
        replace(cfg.workers.scaling, scale_in_change=-1), excess_demand, excess_demand, -1, "cfgE")),
    "excess": Policy("excess", True, lambda cfg: step_alarms(EXCESS_STEPS, excess_demand, excess_demand, -1, "x")),
    "excess+2": Policy("excess+2", True, lambda cfg: step_alarms(
        EXCESS_STEPS, lambda sim: excess_demand(sim, spare=2), lambda sim: excess_demand(sim, spare=2), -1, "x2")),
    "cpu-tt": Policy("cpu-tt", True, lambda cfg: cpu_target_tracking(50.0)),
    "qpfs": Policy("qpfs", True, qpfs_default_alarms),
    "qpfs-noprot": Policy("qpfs-noprot", False, qpfs_default_alarms),
}


# --------------------------------------------------------------------------------------------------
# simulation


@dataclass
class Task:
    launched: float
    ready_at: float
    job: Job | None = None
    job_started: float = 0.0
    job_end: float = 0.0


@dataclass
class Result:
    env: str
    trace: str
    policy: str
    jobs: int
    completed: int
    p50_wait_s: float
    p95_wait_s: float
    max_wait_s: float
    worker_minutes: float
    cost_usd: float
    peak_tasks: int
    busy_killed: int
    lost_work_min: float
    busy_scaled_in: int  # busy tasks stopped by a scale-in: must be 0 with protection


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))
    return s[k]


class Sim:
    def __init__(self, cfg: EnvConfig, policy: Policy, jobs: list[Job], *, seed: int, drain_hours: float = 1.0):
        self.cfg, self.policy, self.jobs = cfg, policy, jobs
        self.rng = random.Random(f"start:{seed}")
        self.alarms = policy.make_alarms(cfg)
        self.now = 0.0
        self.desired = cfg.workers.min_tasks
        self.tasks: list[Task] = [Task(0.0, 0.0) for _ in range(self.desired)]
        self.waiting: deque[tuple[Job, float]] = deque()  # (job, lost work so far)
        self.lost: dict[int, float] = {}
        self.done: dict[int, float] = {}
        self.billed_s = 0.0
        self.peak = len(self.tasks)
        self.busy_killed = 0
        self.busy_scaled_in = 0
        self.lost_work = 0.0
        self.last_out: dict[str, float] = {}
        self.last_out_change: dict[str, int] = {}
        self.last_in: dict[str, float] = {}
        # every policy is billed over the same window: the trace plus a drain hour (solves are <= 30 min)
        self.horizon = (max((j.arrival for j in jobs), default=0.0) + drain_hours * 3600.0)

    def busy_count(self) -> int:
        return sum(1 for t in self.tasks if t.job is not None)

    # -- scaling -----------------------------------------------------------------------------------
    def _apply(self, kind: str, amount: int, cooldown: int, policy: str) -> None:
        """One policy action, with that policy's own cooldown (Application Auto Scaling keeps it per policy)."""
        w = self.cfg.workers
        now = self.now
        if kind in ("out", "out-exact"):
            target = self.desired + amount if kind == "out" else amount
            if target <= self.desired:
                return
            if now - self.last_out.get(policy, -1e9) < cooldown:
                # squashed: only the part above what this policy's running scale-out already added
                extra = (target - self.desired) - self.last_out_change.get(policy, 0)
                if extra <= 0:
                    return
                target = self.desired + extra
            new = min(w.max_tasks, target)
            if new > self.desired:
                self.last_out_change[policy] = new - self.desired
                self.desired = new
                self.last_out[policy] = now
                self.last_in.clear()  # a scale-out ends every scale-in cooldown
        else:
            target = self.desired + amount if kind == "in" else amount
            if target >= self.desired or now - self.last_in.get(policy, -1e9) < cooldown:
                return
            new = max(w.min_tasks, target)
            if new < self.desired:
                self.desired = new
                self.last_in[policy] = now

    def _evaluate_alarms(self) -> None:
        """Every minute: sample each alarm's metric; at each period end, form its Maximum datapoint (visible
        CW_DELAY_S later) and evaluate the alarm on the visible ones."""
        t = self.now
        if t % 60 != 0:
            return
        for alarm in self.alarms:
            alarm.samples.append(alarm.metric(self))
            if t % alarm.period != 0:
                continue
            per = alarm.period // 60
            alarm.series.append((t + CW_DELAY_S, max(alarm.samples[-per:])))
            visible = [v for at, v in alarm.series if at <= t][-alarm.evaluation_periods:]
            if len(visible) == alarm.evaluation_periods and all(alarm.breach(v) for v in visible):
                kind, amount = alarm.action(self, visible[-1])
                self._apply(kind, amount, alarm.cooldown, alarm.name)
                # ECS acts on each change within seconds, so an opposite action in the same minute
                # (CPU tracking vs. the queue policy) really stops and starts tasks
                self._reconcile()

    # -- ECS ---------------------------------------------------------------------------------------
    def _reconcile(self) -> None:
        while len(self.tasks) < self.desired:
            self.tasks.append(Task(self.now, self.now + self.rng.uniform(*FARGATE_START_S)))
        excess = len(self.tasks) - self.desired
        if excess <= 0:
            return
        order = sorted(self.tasks, key=lambda t: (t.job is not None, t.ready_at <= self.now, -t.launched))
        for task in order:
            if excess == 0:
                break
            if task.job is not None:
                if self.policy.protect_busy:
                    break
                self.busy_killed += 1
                self.busy_scaled_in += 1
                lost = self.now - task.job_started
                self.lost_work += lost
                self.lost[task.job.jid] = self.lost.get(task.job.jid, 0.0) + lost
                self.waiting.appendleft((task.job, 0.0))
            self.billed_s += self.now - task.launched
            self.tasks.remove(task)
            excess -= 1

    def run(self) -> Result:
        arrivals = deque(self.jobs)
        t = 0
        end = int(self.horizon)
        while t <= end:
            self.now = float(t)
            while arrivals and arrivals[0].arrival <= t:
                self.waiting.append((arrivals.popleft(), 0.0))
            for task in self.tasks:
                if task.job is not None and task.job_end <= t:
                    self.done[task.job.jid] = float(t)
                    task.job = None
            for task in self.tasks:
                if task.job is None and task.ready_at <= t and self.waiting:
                    job, _ = self.waiting.popleft()
                    task.job, task.job_started, task.job_end = job, float(t), t + job.duration
            self._evaluate_alarms()
            self._reconcile()
            self.peak = max(self.peak, len(self.tasks))
            t += 1
        for task in self.tasks:
            self.billed_s += self.now - task.launched
        waits = [self.done[j.jid] - j.arrival - j.duration for j in self.jobs if j.jid in self.done]
        w = self.cfg.workers
        gb = w.memory_mib / 1024
        hourly = w.vcpus * FARGATE_VCPU_HOUR_USD + gb * FARGATE_GB_HOUR_USD
        return Result(
            env=self.cfg.name, trace="", policy=self.policy.name, jobs=len(self.jobs), completed=len(self.done),
            p50_wait_s=round(percentile(waits, 50), 1), p95_wait_s=round(percentile(waits, 95), 1),
            max_wait_s=round(max(waits, default=float("nan")), 1),
            worker_minutes=round(self.billed_s / 60, 1), cost_usd=round(self.billed_s / 3600 * hourly, 2),
            peak_tasks=self.peak, busy_killed=self.busy_killed, lost_work_min=round(self.lost_work / 60, 1),
            busy_scaled_in=self.busy_scaled_in,
        )


def simulate(env: str, trace: str, policy: str, *, hours: float = 3.0, seed: int = 1,
             duration_median: float = 300.0, durations: list[float] | None = None) -> Result:
    cfg = CONFIGS[env]
    jobs = make_trace(trace, cfg=cfg, hours=hours, seed=seed, duration_median=duration_median, durations=durations)
    result = Sim(cfg, POLICIES[policy], jobs, seed=seed).run()
    result.trace = trace
    return result


COLUMNS = [
    ("env", "env"), ("trace", "trace"), ("policy", "policy"), ("jobs", "jobs"), ("completed", "done"),
    ("p50_wait_s", "p50 wait s"), ("p95_wait_s", "p95 wait s"), ("max_wait_s", "max wait s"),
    ("worker_minutes", "worker-min"), ("cost_usd", "cost $"), ("peak_tasks", "peak"),
    ("busy_killed", "busy killed"), ("lost_work_min", "lost work min"),
]


def format_table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    widths = [max(len(h), *(len(str(r[k])) for r in rows)) for k, h in columns]
    line = lambda cells: "| " + " | ".join(str(c).rjust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    out = [line([h for _, h in columns]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line([r[k] for k, _ in columns]) for r in rows]
    return "\n".join(out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", choices=[*CONFIGS, "all"], default="all")
    parser.add_argument("--trace", choices=["steady", "bursts", "all"], default="all")
    parser.add_argument("--policy", choices=[*POLICIES, "all"], default="all")
    parser.add_argument("--hours", type=float, default=3.0, help="trace length (arrivals); the sim drains after")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration-median", type=float, default=300.0, help="median solve seconds")
    parser.add_argument("--durations-from", help="draw solve durations from a `bench.solver --json` file (wall s)")
    parser.add_argument("--duration-scale", type=float, default=1.0, help="multiply those durations (e.g. 60)")
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of the table")


def run(args: argparse.Namespace) -> int:
    envs = list(CONFIGS) if args.env == "all" else [args.env]
    traces = ["steady", "bursts"] if args.trace == "all" else [args.trace]
    policies = list(POLICIES) if args.policy == "all" else [args.policy]
    durations = load_durations(args.durations_from, args.duration_scale) if args.durations_from else None
    rows = [asdict(simulate(e, tr, p, hours=args.hours, seed=args.seed, duration_median=args.duration_median,
                            durations=durations))
            for e in envs for tr in traces for p in policies]
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        solves = (f"solve durations from {args.durations_from} x {args.duration_scale:g}" if durations
                  else f"median solve {args.duration_median:.0f} s")
        print(f"# scaling simulator: {args.hours} h traces, seed {args.seed}, {solves}, Fargate start {FARGATE_START_S[0]:.0f}-{FARGATE_START_S[1]:.0f} s, "
              f"CloudWatch delay {CW_DELAY_S} s")
        print(format_table(rows, COLUMNS))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling_sim", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
