"""How good a roster could get by re-rostering some employees only: a lower bound, from column generation.

    .venv/bin/python bench/curtois.py 13 --time-limit 600 --save /tmp/rosters
    .venv/bin/python bench/neighbourhood_bound.py 13 /tmp/rosters/Instance13.json --free 60 [--seeds 0,1]
        [--half-weekends] [--seconds 150]

Each seed draws `--free` employees (with `--half-weekends`, first those who work a weekend on one day
only). Everybody else keeps their schedule in the saved roster; the free employees get a problem of their
own: the same rules, and each cover asking for what the others leave uncovered. Column generation
(`colgen.py`) on it gives a Lagrangian lower bound, valid whether or not its LP converged; that bound, plus
the others' own penalties and the surplus they already cause, bounds every roster that changes only the free
employees. A bound above the target says no neighbourhood of those employees can reach it, however long
the LNS works on them: the roster is a basin to leave, not one to dig in.

Column generation needs every hard rule to be per employee (`construct.separable`), as on all Curtois
instances. One row per seed; time is wall-clock, so run it with nothing else on the cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lns_probe import roster_of, seed_list  # noqa: E402
from service.solver.builder import build  # noqa: E402
from service.solver.colgen import ColumnGeneration  # noqa: E402
from service.solver.construct import separable  # noqa: E402
from service.solver.formats import load_document  # noqa: E402
from service.solver.model import Problem  # noqa: E402
from service.solver.search import Search, _term_value  # noqa: E402
from tests.solver.curtois.evaluator import instance_path  # noqa: E402


def half_weekend_employees(problem: Problem, roster: dict) -> list[int]:
    """Employees who work some weekend (Saturday and the Sunday after it) on one day only."""
    worked = {(e, problem.covers[ci].day) for e, ci in roster}
    saturdays = [d for d in range(problem.num_days - 1) if problem.date_of(d).weekday() == 5]
    return [e for e in range(len(problem.employees))
            if any(((e, d) in worked) != ((e, d + 1) in worked) for d in saturdays)]


def free_problem(problem: Problem, roster: dict, free: list[int]) -> tuple[Problem, float]:
    """The problem of the employees `free` (indices into `problem.employees`) with everybody else kept on
    `roster`: each cover requires what the others leave uncovered; rules, requests and days off are the free
    employees' own, renumbered in the order of `free`. Also the surplus the others already cause (weighted),
    which no change of the free employees removes."""
    index = {e: i for i, e in enumerate(free)}
    kept = Counter(ci for e, ci in roster if e not in index)
    covers, surplus = [], 0.0
    for ci, c in enumerate(problem.covers):
        if c.over_weight is not None and kept[ci] > c.required:
            surplus += c.over_weight * (kept[ci] - c.required)
        covers.append(dataclasses.replace(c, required=max(0, c.required - kept[ci]),
                                          eligible=tuple(index[e] for e in c.eligible if e in index)))
    sub = dataclasses.replace(
        problem, name=f"{problem.name}[{len(free)} free]", employees=tuple(problem.employees[e] for e in free),
        covers=tuple(covers),
        rules=tuple(dataclasses.replace(r, params={index[e]: v for e, v in r.params.items() if e in index})
                    for r in problem.rules),
        requests=tuple(dataclasses.replace(r, employee=index[r.employee]) for r in problem.requests
                       if r.employee in index),
        days_off=frozenset((index[e], d) for e, d in problem.days_off if e in index))
    return sub, surplus


def bound_row(text: str, roster: dict, *, free_count: int, seed: int, seconds: float, half_weekends: bool) -> dict:
    """One seed's row: the roster's objective, the part the kept employees fix, and the bound."""
    problem = load_document(text)
    ctx = build(problem)
    done = Search(ctx, time_limit=max(60.0, seconds))._complete_roster(ctx.model, roster)
    if done is None:
        raise SystemExit("neighbourhood_bound: the saved roster breaks a hard rule of the instance")
    values, objective = done
    rng = random.Random(seed)
    first = half_weekend_employees(problem, roster) if half_weekends else []
    rng.shuffle(first)
    drawn_first = set(first)
    others = [e for e in range(len(problem.employees)) if e not in drawn_first]
    rng.shuffle(others)
    free = sorted((first + others)[:free_count])
    sub, surplus = free_problem(problem, roster, free)
    free_set = set(free)
    kept_own = sum(t.weight * _term_value(t.var, values) for t in ctx.terms
                   if t.weight and t.employee is not None and t.employee not in free_set)
    t = time.monotonic()
    res = ColumnGeneration(sub, seed=seed, threads=2).run(deadline=t + seconds)
    fixed = kept_own + surplus
    return {
        "seed": seed, "free": len(free), "objective": objective, "fixed": fixed,
        "lower_bound": None if res.lower_bound is None else fixed + res.lower_bound,
        "lp": None if res.lp_value is None else fixed + res.lp_value, "converged": res.converged,
        "seconds": time.monotonic() - t,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance", type=int)
    ap.add_argument("roster", help="an output document, e.g. from bench/curtois.py --save")
    ap.add_argument("--free", type=int, required=True, help="how many employees to re-roster")
    ap.add_argument("--seeds", type=seed_list, default=[0], help="comma-separated, one draw each")
    ap.add_argument("--seconds", type=float, default=150.0, help="column generation's time per seed")
    ap.add_argument("--half-weekends", action="store_true",
                    help="draw the employees who work a weekend on one day only first")
    args = ap.parse_args(argv)
    if args.seconds <= 0:
        ap.error("--seconds must be positive")
    text = instance_path(args.instance).read_text()
    problem = load_document(text)
    if not separable(problem):
        ap.error(f"Instance{args.instance} has a hard rule across employees: column generation does not apply")
    if not 1 <= args.free <= len(problem.employees):
        ap.error(f"--free must be between 1 and {len(problem.employees)} (the staff of Instance{args.instance})")
    try:
        document = json.loads(Path(args.roster).read_text())
    except (OSError, ValueError) as exc:
        ap.error(f"cannot read the roster: {exc}")
    roster = roster_of(problem, document)
    print(f"# Instance{args.instance}: {args.free} of {len(problem.employees)} employees free, the rest kept on "
          f"{args.roster}; column generation {args.seconds:g} s per seed", flush=True)
    print("seed | free | roster | kept part | lower bound | LP | converged | s", flush=True)
    for seed in args.seeds:
        r = bound_row(text, roster, free_count=args.free, seed=seed, seconds=args.seconds,
                      half_weekends=args.half_weekends)
        fmt = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
        print(" | ".join([str(seed), str(r["free"]), f"{r['objective']:g}", f"{r['fixed']:g}", fmt(r["lower_bound"]),
                          fmt(r["lp"]), "yes" if r["converged"] else "no", f"{r['seconds']:.1f}"]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
