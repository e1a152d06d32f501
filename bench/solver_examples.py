"""NGRS examples through the engine: size, time to first feasible roster, objective, bound, coverage.

    .venv/bin/python -m bench.solver_examples [--time-limit 20] [--workers 2] [--only ngrs_060,ngrs_200]
        [--markdown] [--check]

Each example in examples/ngrs_*.json is solved once with the given limit (the infeasible example too:
its explanation time is included). `--check` re-verifies every roster with the independent checker of
the tests (tests/solver/checker.py). Times are wall-clock seconds on this machine, shared cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _size(doc: dict) -> tuple[int, int, int]:
    from datetime import date

    h = doc["planningHorizon"]
    days = (date.fromisoformat(h["endDate"]) - date.fromisoformat(h["startDate"])).days + 1
    codes = {sd["shiftCode"] for item in doc["demandItems"] for g in item["shifts"] for sd in g["shiftDetails"]}
    return len(doc["employees"]), days, len(codes)


def run(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.solver_examples", description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated example names (default: all)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--check", action="store_true", help="re-verify every roster with tests/solver/checker.py")
    args = ap.parse_args(argv)

    from service.solver.engine import solve_problem
    from service.solver.formats.ngrs import problem_from_ngrs
    from service.solver.output import render_output

    checker = None
    if args.check:
        sys.path.insert(0, str(ROOT / "tests" / "solver"))
        from checker import check as checker  # noqa: PLC0415

    names = [n for n in args.only.split(",") if n]
    paths = sorted((ROOT / "examples").glob("ngrs_*.json"))
    if names:
        paths = [p for p in paths if p.stem in names]
    header = ["example", "emp", "days", "codes", "vars", "required", "status", "first s", "obj@first", "objective",
              "bound", "filled", "build+solve s"]
    rows = []
    for path in paths:
        doc = json.loads(path.read_text())
        emp, days, codes = _size(doc)
        t0 = time.monotonic()
        problem = problem_from_ngrs(doc)
        firsts: list = []
        sol = solve_problem(problem, time_limit=args.time_limit, workers=args.workers,
                            on_progress=lambda p: firsts.append(p) if not firsts else None)
        wall = time.monotonic() - t0
        out = render_output(sol)
        run_ = out["solverRun"]
        cov = out["coverage"]
        nvars = sum(len(c.eligible) for c in problem.covers)
        row = [path.stem, emp, days, codes, nvars, cov["required"], run_["status"],
               f"{firsts[0].elapsed:.2f}" if firsts else "-",
               f"{firsts[0].objective:.0f}" if firsts else "-",
               "-" if run_["objective"] is None else f"{run_['objective']:.0f}",
               "-" if run_["bestBound"] is None else f"{run_['bestBound']:.0f}",
               f"{cov['filled']}/{cov['required']}", f"{wall:.2f}"]
        if checker is not None:
            problems = checker(doc, out)
            row.append("ok" if not problems else f"{len(problems)} problems")
        if "infeasibility" in out:
            row[9] = "conflict: " + "+".join(c["rule"] for c in out["infeasibility"]["conflictingRules"])
        rows.append([str(x) for x in row])
        print("  ".join(rows[-1]), file=sys.stderr, flush=True)
    if checker is not None:
        header.append("checker")
    print(f"# NGRS examples: time limit {args.time_limit:g} s, {args.workers} workers")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)] if rows else []
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
