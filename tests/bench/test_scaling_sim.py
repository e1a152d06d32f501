"""Quick checks of the scaling simulator: short traces, properties rather than timings."""

from __future__ import annotations

import math

import pytest

from bench import scaling_sim as sim
from cdk_app.config import CONFIGS


@pytest.mark.parametrize("env", sorted(CONFIGS))
@pytest.mark.parametrize("trace", ["steady", "bursts"])
def test_shipped_policy_completes_every_job_and_never_stops_a_busy_worker(env, trace):
    r = sim.simulate(env, trace, "config", hours=1.0, seed=3)
    assert r.jobs > 0
    assert r.completed == r.jobs
    assert r.busy_killed == 0 and r.busy_scaled_in == 0
    assert math.isfinite(r.p95_wait_s) and 0 <= r.p50_wait_s <= r.p95_wait_s <= r.max_wait_s
    assert CONFIGS[env].workers.min_tasks <= r.peak_tasks <= CONFIGS[env].workers.max_tasks


def test_shipped_alarms_are_built_from_the_config_object():
    cfg = CONFIGS["prod"]
    out, in_ = sim.POLICIES["config"].make_alarms(cfg)
    scaling = cfg.workers.scaling
    first = scaling.scale_out_steps[0][0]
    assert out.evaluation_periods == scaling.scale_out_evaluation_periods
    assert out.cooldown == scaling.scale_out_cooldown_seconds
    assert in_.evaluation_periods == scaling.scale_in_evaluation_periods
    assert out.breach(first) and not out.breach(first - 1)
    assert in_.breach(0) and not in_.breach(1)
    assert out.action(None, 10**6) == ("out", scaling.scale_out_steps[-1][2])
    # scale-out watches the excess backlog E = backlog - desired x slots, scale-in the raw backlog
    jobs = [sim.Job(i, 0.0, 600.0) for i in range(7)]
    s = sim.Sim(cfg, sim.POLICIES["config"], jobs, seed=1)
    s.waiting.extend((j, 0.0) for j in jobs)
    s.desired = 3
    assert out.metric(s) == cfg.workers.scaling.excess_backlog(7, 3, cfg.workers.solver_workers) == 4
    assert in_.metric(s) == 7


def test_burst_scales_out_from_min_and_back():
    r = sim.simulate("prod", "bursts", "config", hours=1.0, seed=1)
    assert r.peak_tasks > CONFIGS["prod"].workers.min_tasks


def _long_jobs_sim(policy: str) -> sim.Result:
    """Three 30-minute solves at once on dev: CPU tracking adds tasks, then the QPFS 'no visible messages'
    alarm scales in while all of them are still busy."""
    jobs = [sim.Job(i, 0.0, 1800.0) for i in range(3)]
    return sim.Sim(CONFIGS["dev"], sim.POLICIES[policy], jobs, seed=1).run()


def test_without_protection_a_scale_in_kills_busy_tasks_and_loses_work():
    r = _long_jobs_sim("qpfs-noprot")
    assert r.completed == 3
    assert r.busy_killed >= 1 and r.lost_work_min > 0


def test_with_protection_the_same_scale_in_stops_no_busy_task():
    r = _long_jobs_sim("qpfs")
    assert r.completed == 3
    assert r.busy_killed == 0 and r.lost_work_min == 0


def test_cli_prints_a_table(capsys):
    assert sim.main(["--env", "dev", "--trace", "steady", "--hours", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "p95 wait s" in out
    for name in sim.POLICIES:
        assert f" {name} |" in out


def test_durations_can_come_from_a_solver_benchmark_file(tmp_path):
    rows = [{"status": "OPTIMAL", "wall s": 2.0}, {"status": "FEASIBLE", "wall s": 10.0},
            {"status": "INFEASIBLE", "wall s": 0.5}, {"status": "UNKNOWN", "wall s": 5.0}]
    path = tmp_path / "solver.json"
    path.write_text(__import__("json").dumps(rows))
    durations = sim.load_durations(str(path), scale=30)
    assert sorted(durations) == [60.0, 300.0]  # only solved rows, scaled
    jobs = sim.make_trace("steady", cfg=CONFIGS["dev"], hours=1.0, seed=1, duration_median=300, durations=durations)
    assert jobs and {j.duration for j in jobs} <= {60.0, 300.0}
    r = sim.simulate("dev", "steady", "config", hours=1.0, durations=durations)
    assert r.completed == r.jobs and r.busy_killed == 0
