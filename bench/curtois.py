"""Curtois & Qu benchmark runner: solves chosen instances through the service's engine and prints a table.

    .venv/bin/python bench/curtois.py 1-7 --time-limit 60 [--workers 2] [--json out.json] [--save DIR]

Columns: instance, size (days x employees x shift types), our objective (engine), the independent
evaluator's objective (tests/solver/curtois/evaluator.py, from the output roster and the .txt alone),
best known, gap %, time to first feasible, time to best, bound, status. The folder is
`$CURTOIS_DIR` or `<repo>/../shared/benchmarks/curtois`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from service.solver.engine import solve_problem  # noqa: E402
from service.solver.formats import load_document  # noqa: E402
from service.solver.output import render_output  # noqa: E402
from tests.solver.curtois.evaluator import BEST_KNOWN, evaluate_output, instance_path  # noqa: E402


def parse_instances(spec: list[str]) -> list[int]:
    out: list[int] = []
    for part in ",".join(spec).split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instances", nargs="+", help="e.g. 1-7 or 1,4,9")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", help="also write the rows as JSON to this file")
    ap.add_argument("--save", metavar="DIR",
                    help="write each output document (roster included) to DIR/InstanceN.json, e.g. for bench/lns_probe.py")
    ap.add_argument("--progress", action="store_true", help="print improving solutions on stderr")
    ap.add_argument("--stats", action="store_true",
                    help="print the search's phase counters (column generation, dive, pool, LNS) on stderr")
    args = ap.parse_args(argv)

    header = ["inst", "size", "ours", "evaluator", "best", "gap%", "t_first", "t_best", "bound", "status", "hard"]
    print(f"# time limit {args.time_limit:g} s, {args.workers} workers", flush=True)
    print(" | ".join(header), flush=True)
    rows = []
    for n in parse_instances(args.instances):
        text = instance_path(n).read_text()
        problem = load_document(text)

        def progress(p, n=n):
            if args.progress:
                print(f"  [{n}] {p.elapsed:7.1f}s obj={p.objective} bound={p.best_bound}", file=sys.stderr, flush=True)

        t0 = time.monotonic()
        sol = solve_problem(problem, time_limit=args.time_limit, workers=args.workers, on_progress=progress)
        wall = time.monotonic() - t0
        out = render_output(sol)
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            (Path(args.save) / f"Instance{n}.json").write_text(json.dumps(out))
        ours = None if sol.objective is None else int(round(sol.objective))
        ev = evaluate_output(text, out) if sol.has_roster else None
        best = BEST_KNOWN.get(n)
        gap = None if ours is None or not best else 100.0 * (ours - best) / best
        row = {
            "instance": n, "size": f"{problem.num_days}x{len(problem.employees)}x{len(problem.shift_types)}",
            "objective": ours, "evaluator": None if ev is None else ev.objective, "best_known": best,
            "gap_pct": None if gap is None else round(gap, 2),
            "time_first": None if sol.first_solution_seconds is None else round(sol.first_solution_seconds, 1),
            "time_best": None if sol.best_solution_seconds is None else round(sol.best_solution_seconds, 1),
            "bound": None if sol.best_bound is None else round(sol.best_bound),
            "status": sol.status, "hard_ok": None if ev is None else ev.feasible, "wall": round(wall, 1),
        }
        rows.append(row)
        if args.stats:
            stats = {k: v for k, v in sorted(sol.search_stats.items()) if isinstance(v, (int, float))}
            print(f"  [{n}] stats {json.dumps(stats)}", file=sys.stderr, flush=True)
        print(" | ".join(fmt(v) for v in [
            n, row["size"], ours, row["evaluator"], best, gap, sol.first_solution_seconds,
            sol.best_solution_seconds, row["bound"], sol.status,
            "-" if ev is None else ("ok" if ev.feasible else f"{len(ev.violations)} violations")]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
