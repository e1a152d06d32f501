"""The per-environment config objects: frozen, consistent, and matching the offline AZ cache."""

from __future__ import annotations

import dataclasses
import json

import pytest

from cdk_app.config import CONFIGS, DEV, PROD, get_config, validate


def test_two_environments_exposed():
    assert set(CONFIGS) == {"dev", "prod"}
    assert get_config("dev") is DEV and get_config("prod") is PROD
    with pytest.raises(ValueError):
        get_config("staging")


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEV.workers.max_tasks = 99  # type: ignore[misc]


@pytest.mark.parametrize("cfg", list(CONFIGS.values()), ids=list(CONFIGS))
def test_az_context_cached_in_cdk_json(cfg, repo_root):
    context = json.loads((repo_root / "cdk.json").read_text())["context"]
    cached = context[cfg.az_context_key]
    assert set(cfg.availability_zones) <= set(cached)


def test_nat_per_environment():
    assert DEV.network.nat_gateways == 1
    assert PROD.network.nat_gateways == len(PROD.availability_zones)


def test_prod_redis_multi_az():
    assert PROD.redis.num_cache_clusters >= 2 and PROD.redis.multi_az
    bad = dataclasses.replace(PROD, redis=dataclasses.replace(PROD.redis, num_cache_clusters=1))
    with pytest.raises(ValueError):
        validate(bad)


@pytest.mark.parametrize("cfg", list(CONFIGS.values()), ids=list(CONFIGS))
def test_scale_out_steps_grow(cfg):
    steps = cfg.workers.scaling.scale_out_steps
    changes = [c for _, _, c in steps]
    assert changes == sorted(changes) and changes[0] >= 1
    assert steps[0][0] == 1 and steps[-1][1] is None
    scaling = cfg.workers.scaling
    assert scaling.scale_out_change(0) == 0
    assert scaling.scale_out_change(steps[0][0]) == changes[0]
    assert scaling.scale_out_change(10_000) == changes[-1]
    assert scaling.scale_in_change < 0 and scaling.scale_in_evaluation_periods >= 3
    assert scaling.metric_period_seconds == 60 and scaling.metric_statistic == "Maximum"
    assert scaling.excess_backlog(5, 2, cfg.workers.solver_workers) == 5 - 2 * cfg.workers.solver_workers


def test_non_contiguous_steps_rejected():
    scaling = dataclasses.replace(DEV.workers.scaling, scale_out_steps=((1, 3, 1), (4, None, 2)))
    bad = dataclasses.replace(DEV, workers=dataclasses.replace(DEV.workers, scaling=scaling))
    with pytest.raises(ValueError):
        validate(bad)


def test_cost_table_totals():
    for cfg in CONFIGS.values():
        assert cfg.monthly_cost_total == round(sum(c.monthly_usd for c in cfg.monthly_cost_estimate), 2) > 0
