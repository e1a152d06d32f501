"""The Curtois adapter: sizes match the README table, the objective is the benchmark's, Instance1
reaches its proven optimum 607, and the independent evaluator agrees with the engine."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from service.solver.engine import solve_document, solve_problem
from service.solver.errors import InputError
from service.solver.formats import detect_format, load_document
from tests.solver.curtois.evaluator import REPO, benchmarks_dir, evaluate_output, instance_path

pytestmark = pytest.mark.skipif(not benchmarks_dir().is_dir(), reason="Curtois benchmark folder not found")

# Inst: (days, employees, shift types, day-off entries, on requests, off requests) from the README.
SIZES = {
    1: (14, 8, 1, 8, 21, 5), 2: (14, 14, 2, 14, 50, 12), 3: (14, 20, 3, 20, 39, 25), 4: (28, 10, 2, 20, 52, 19),
    5: (28, 16, 2, 32, 79, 27), 6: (28, 18, 3, 36, 87, 48), 7: (28, 20, 3, 40, 104, 64),
    8: (28, 30, 4, 60, 139, 86), 9: (28, 36, 4, 72, 144, 88), 10: (28, 40, 5, 80, 210, 74),
    11: (28, 50, 6, 100, 197, 139), 12: (28, 60, 10, 120, 294, 128), 13: (28, 120, 18, 240, 589, 252),
    14: (42, 32, 4, 128, 266, 93), 15: (42, 45, 6, 180, 350, 140), 16: (56, 20, 3, 120, 177, 103),
    17: (56, 32, 4, 160, 351, 129), 18: (84, 22, 3, 176, 322, 92), 19: (84, 40, 5, 320, 587, 247),
    20: (182, 50, 6, 900, 1665, 653), 21: (182, 100, 8, 1800, 3210, 1492), 22: (364, 50, 10, 1800, 3253, 1385),
    23: (364, 100, 16, 3600, 6549, 2861), 24: (364, 150, 32, 5400, 9540, 4269),
}


def _text(n: int) -> str:
    return instance_path(n).read_text()


@pytest.mark.parametrize("n", sorted(SIZES))
def test_sizes_match_readme(n):
    p = load_document(_text(n))
    on = sum(1 for r in p.requests if r.on)
    off = len(p.requests) - on
    assert (p.num_days, len(p.employees), len(p.shift_types), len(p.days_off), on, off) == SIZES[n]
    assert p.source_format == "curtois" and p.start_date.weekday() == 0
    assert len(p.covers) == p.num_days * len(p.shift_types)


def test_detected_as_curtois_and_bad_text_rejected():
    assert detect_format(_text(1)) == "curtois"
    bad = _text(1).replace("A,2,D,2", "Z,2,D,2")
    with pytest.raises(InputError) as err:
        load_document(bad)
    assert any(i.code == "UNKNOWN_EMPLOYEE" for i in err.value.issues)


@pytest.mark.slow
def test_instance1_reaches_proven_optimum_607_and_evaluator_agrees():
    out = solve_document(_text(1), time_limit=20, workers=2)
    run = out["solverRun"]
    assert run["status"] == "OPTIMAL"
    assert run["objective"] == 607
    ev = evaluate_output(_text(1), out)
    assert ev.feasible, ev.violations
    assert ev.objective == 607
    assert all("day" in a and isinstance(a["day"], int) for a in out["assignments"])
    assert out["scoreBreakdown"]["total"] == 607


@pytest.mark.slow
@pytest.mark.parametrize("n", [2, 3])
def test_short_solves_are_feasible_and_engine_objective_is_the_benchmark_objective(n):
    out = solve_document(_text(n), time_limit=3, workers=2)
    assert out["solverRun"]["status"] in ("OPTIMAL", "FEASIBLE")
    ev = evaluate_output(_text(n), out)
    assert ev.feasible, ev.violations[:5]
    assert ev.objective == out["solverRun"]["objective"]


def test_stop_event_ends_a_solve_quickly_and_progress_follows_the_incumbent():
    import threading
    import time

    p = load_document(_text(5))
    stop = threading.Event()
    seen = []
    first = threading.Event()
    stamp = {}

    def on_progress(pr):
        seen.append(pr)
        first.set()

    def stopper():
        first.wait(30)
        time.sleep(2.0)  # past the first full solve (20 % of 6 s): stops the neighbourhood search
        stamp["stop"] = time.monotonic()
        stop.set()

    t = threading.Thread(target=stopper, daemon=True)
    t.start()
    sol = solve_problem(p, time_limit=6, workers=2, stop=stop, on_progress=on_progress)
    ended = time.monotonic()
    t.join(1)
    assert "stop" in stamp and ended - stamp["stop"] < 1.5
    assert sol.stopped and sol.has_roster and seen
    assert seen[-1].objective == sol.objective
    assert [s.solutions for s in seen] == sorted(s.solutions for s in seen)
    assert all(b.objective <= a.objective for a, b in zip(seen, seen[1:]))


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("service.solver.cli") is None, reason="solve CLI not present yet")
def test_cli_solves_a_txt_file():
    proc = subprocess.run(
        [sys.executable, "-m", "service", "solve", str(instance_path(1)), "--time-limit", "10"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["solverRun"]["objective"] == 607
    assert evaluate_output(_text(1), out).objective == 607
