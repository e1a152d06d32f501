"""Runtime controls the worker relies on: progress callback, time limit, workers, stop from another
thread (ends a long solve within about a second and keeps the best roster so far)."""

from __future__ import annotations

import dataclasses
import threading
import time

from checker import check
from ngrs_testlib import load_example

from service.solver.engine import Progress, solve_problem
from service.solver.formats.ngrs import problem_from_ngrs
from service.solver.output import render_output


def test_progress_callback_and_time_limit():
    doc = load_example("ngrs_060")
    seen: list[Progress] = []
    t0 = time.monotonic()
    sol = solve_problem(problem_from_ngrs(doc), time_limit=2.0, workers=2, on_progress=seen.append)
    assert time.monotonic() - t0 < 2.0 + 8.0  # build + limit + slack (2 shared cores under load)
    assert seen and seen[0].solutions == 1
    assert all(p.objective is not None and p.elapsed >= 0 for p in seen)
    assert [p.solutions for p in seen] == sorted(p.solutions for p in seen)
    assert sol.status in ("OPTIMAL", "FEASIBLE")


def test_stop_from_another_thread_returns_best_so_far():
    doc = load_example("ngrs_200")
    problem = problem_from_ngrs(doc)
    # without the greedy hint the search cannot prove optimality early, so it would run the full 120 s
    problem = dataclasses.replace(problem, rules=tuple(r for r in problem.rules if r.rule != "greedyHint"))
    stop = threading.Event()
    first = threading.Event()
    stamp: dict[str, float] = {}

    seen: list[Progress] = []

    def on_progress(p: Progress) -> None:
        seen.append(p)
        if len(seen) >= 2:  # the first roster is the empty one; wait for a real improvement
            first.set()

    def stopper() -> None:
        first.wait(30)
        time.sleep(0.5)
        stamp["stop"] = time.monotonic()
        stop.set()

    t = threading.Thread(target=stopper, daemon=True)
    t.start()
    sol = solve_problem(problem, time_limit=120.0, workers=2, on_progress=on_progress, stop=stop)
    ended = time.monotonic()
    t.join(1)
    assert "stop" in stamp
    assert ended - stamp["stop"] < 1.5, f"stop took {ended - stamp['stop']:.2f} s"
    assert sol.stopped and sol.status == "FEASIBLE" and sol.assignments
    out = render_output(sol)
    assert out["solverRun"]["objective"] <= seen[-1].objective  # the best roster so far
    assert out["solverRun"]["stoppedEarly"] is True
    assert not check(doc, out)
