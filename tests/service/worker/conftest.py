"""Fixtures for worker tests; the harness itself is in worker_harness.py."""

from __future__ import annotations

import pytest

from worker_harness import Harness


@pytest.fixture
def harness(queue_settings, queue_env, tmp_path, request):
    h = Harness(queue_settings, queue_env, tmp_path)
    yield h
    h.stop_all()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print(h.logs())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, "rep_" + rep.when, rep)
    return rep
