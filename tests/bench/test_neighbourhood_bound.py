"""`bench/neighbourhood_bound.py`: the bound on re-rostering some employees of a saved roster, real solves."""

from __future__ import annotations

import time

import pytest

from bench import curtois, neighbourhood_bound as nb
from service.solver import search
from service.solver.builder import build
from service.solver.colgen import ColumnGeneration
from service.solver.formats import load_document
from tests.solver.curtois.evaluator import benchmarks_dir, instance_path

pytestmark = pytest.mark.skipif(not benchmarks_dir().is_dir(), reason="Curtois benchmark folder not found")


@pytest.fixture(scope="module")
def first_roster():
    """Instance5's text and CP-SAT's first roster of it, far from optimal: {(employee, cover): 1}."""
    text = instance_path(5).read_text()
    ctx = build(load_document(text))
    s = search.Search(ctx, time_limit=10, workers=1)
    s._full_solve(10, first_only=True)
    return text, {key: 1 for key, var in ctx.x.items() if s.values[var.index]}, s.objective


def test_the_free_employees_problem_and_the_kept_part_add_up_to_the_roster(first_roster):
    text, roster, objective = first_roster
    problem = load_document(text)
    free = [0, 3, 7, 8, 11]
    sub, surplus = nb.free_problem(problem, roster, free)
    assert [e.id for e in sub.employees] == [problem.employees[e].id for e in free]
    sub_ctx = build(sub)
    index = {e: i for i, e in enumerate(free)}
    done = search.Search(sub_ctx, time_limit=10)._complete_roster(
        sub_ctx.model, {(index[e], ci): 1 for e, ci in roster if e in index})
    assert done is not None  # the free employees' schedules are feasible in their own problem
    ctx = build(problem)
    values, whole = search.Search(ctx, time_limit=10)._complete_roster(ctx.model, roster)
    kept = sum(t.weight * search._term_value(t.var, values) for t in ctx.terms
               if t.weight and t.employee is not None and t.employee not in index)
    assert whole == objective and done[1] + kept + surplus == pytest.approx(whole)


def test_the_bound_holds_the_roster_and_with_everybody_free_is_the_whole_problems(first_roster):
    text, roster, objective = first_roster
    problem = load_document(text)
    some = nb.bound_row(text, roster, free_count=4, seed=1, seconds=20, half_weekends=True)
    assert some["free"] == 4 and some["objective"] == objective
    assert some["converged"] and some["fixed"] <= some["lower_bound"] <= objective
    everybody = nb.bound_row(text, roster, free_count=len(problem.employees), seed=0, seconds=30,
                             half_weekends=False)
    assert everybody["fixed"] == 0 and everybody["converged"]
    whole = ColumnGeneration(problem, seed=0).run(deadline=time.monotonic() + 30)
    assert everybody["lower_bound"] == pytest.approx(whole.lower_bound) and whole.lower_bound < objective
    # freeing more employees can only lower the bound
    assert everybody["lower_bound"] <= some["lower_bound"]


def test_half_weekend_employees_are_drawn_first(first_roster):
    text, roster, _ = first_roster
    half = nb.half_weekend_employees(load_document(text), roster)
    assert half  # CP-SAT's first roster works some weekends on one day only
    for e in half:
        days = {load_document(text).covers[ci].day for ee, ci in roster if ee == e}
        assert any((d in days) != (d + 1 in days) for d in (5, 12, 19, 26))


def test_the_cli_prints_one_row_per_seed_and_rejects_bad_arguments(tmp_path, capsys):
    assert curtois.main(["3", "--time-limit", "2", "--save", str(tmp_path)]) == 0
    saved = tmp_path / "Instance3.json"
    capsys.readouterr()  # the run's own table
    assert nb.main(["3", str(saved), "--free", "6", "--seeds", "0,1", "--seconds", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# Instance3: 6 of 20 employees free")
    rows = [ln.split(" | ") for ln in lines[2:]]
    assert [r[0] for r in rows] == ["0", "1"] and all(r[1] == "6" for r in rows)
    for r in rows:
        assert float(r[3]) <= float(r[4]) <= float(r[2])  # kept part <= bound <= the roster
    for bad, message in ((["--free", "0"], "--free must be between 1 and 20"),
                         (["--free", "21"], "--free must be between 1 and 20"),
                         (["--free", "3", "--seconds", "0"], "--seconds must be positive")):
        with pytest.raises(SystemExit) as exc:
            nb.main(["3", str(saved), *bad])
        assert exc.value.code == 2 and message in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        nb.main(["3", str(tmp_path / "missing.json"), "--free", "3"])
    assert exc.value.code == 2 and "cannot read the roster" in capsys.readouterr().err
