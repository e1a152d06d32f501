"""Solver benchmark: the NGRS examples and Curtois & Qu instances in ONE table.

    python -m bench.solver [--time-limit 5] [--workers 1] [--examples all|ngrs_020,ngrs_200]
                           [--curtois 1-4] [--curtois-time-limit 10] [--json rows.json]

NGRS rows solve `examples/ngrs_*.json` in this process through `service.solver.engine.solve_document` (the
function the worker's solver child calls). Curtois rows come from `bench/curtois.py` (the solver engineer's
runner, run as a subprocess with --json; it also checks each roster with the independent evaluator).
Columns: status is CP-SAT's; gap is (objective − bound)/objective for NGRS and (objective − best known)/best
known for Curtois; t_first = time to the first solution; unmet = unmet-demand items (NGRS) / hard violations
found by the evaluator (Curtois).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
COLUMNS = ["suite", "instance", "size", "limit s", "status", "objective", "bound", "gap %", "t_first s",
           "wall s", "unmet/hard"]


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def example_names(spec: str) -> list[str]:
    if spec == "all":
        # the infeasible example is a correctness case, not a benchmark; it still reports INFEASIBLE fast
        return sorted(p.stem for p in EXAMPLES.glob("ngrs_*.json"))
    return [s.strip() for s in spec.split(",") if s.strip()]


def _days(doc: dict) -> int | str:
    from datetime import date

    try:
        h = doc["planningHorizon"]
        return (date.fromisoformat(h["endDate"]) - date.fromisoformat(h["startDate"])).days + 1
    except (KeyError, TypeError, ValueError):
        return "?"


def solve_example(name: str, time_limit: float, workers: int) -> dict:
    from service.solver.engine import solve_document

    doc = json.loads((EXAMPLES / f"{name}.json").read_text())
    t0 = time.monotonic()
    out = solve_document(doc, time_limit=time_limit, workers=workers)
    wall = time.monotonic() - t0
    run = out.get("solverRun", {})
    obj, bound = run.get("objective"), run.get("bestBound")
    gap = None
    if obj is not None and bound is not None:
        gap = 0.0 if obj == bound else round(100.0 * (obj - bound) / max(abs(obj), 1e-9), 2)
    size = f"{len(doc.get('employees', []))} emp x {_days(doc)} d"
    return {"suite": "ngrs", "instance": name, "size": size, "limit s": time_limit, "status": run.get("status"),
            "objective": obj, "bound": bound, "gap %": gap, "t_first s": run.get("timeToFirstSolutionSeconds"),
            "wall s": round(wall, 2), "unmet/hard": len(out.get("unmetDemand", []))}


def curtois_rows(spec: str, time_limit: float, workers: int) -> list[dict]:
    script = REPO / "bench" / "curtois.py"
    if not script.exists():
        return []
    with tempfile.TemporaryDirectory(prefix="bench-curtois-") as tmp:
        out = Path(tmp) / "rows.json"
        proc = subprocess.run(
            [sys.executable, str(script), spec, "--time-limit", str(time_limit), "--workers", str(workers),
             "--json", str(out)], cwd=REPO, capture_output=True, text=True, timeout=60 + 3 * time_limit * 50,
        )
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"bench/curtois.py failed ({proc.returncode}): {proc.stderr[-800:]}")
        rows = json.loads(out.read_text())
    return [{"suite": "curtois", "instance": f"Instance{r['instance']}", "size": r.get("size"),
             "limit s": time_limit, "status": r.get("status"), "objective": r.get("objective"),
             "bound": r.get("bound"), "gap %": r.get("gap_pct"), "t_first s": r.get("time_first"),
             "wall s": r.get("wall"),
             "unmet/hard": None if r.get("hard_ok") is None else ("ok" if r["hard_ok"] else "VIOLATED")}
            for r in rows]


def format_table(rows: list[dict]) -> str:
    cells = [[_fmt(r.get(c)) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(COLUMNS)]
    line = lambda vals: "| " + " | ".join(v.rjust(w) for v, w in zip(vals, widths)) + " |"  # noqa: E731
    return "\n".join([line(COLUMNS), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--examples", default="all", help="'all' or comma-separated names (ngrs_020,...); '' = none")
    parser.add_argument("--time-limit", type=float, default=5.0, help="per NGRS example")
    parser.add_argument("--workers", type=int, default=1, help="CP-SAT search workers")
    parser.add_argument("--curtois", default="1-4", help="instances for bench/curtois.py ('' = none)")
    parser.add_argument("--curtois-time-limit", type=float, default=10.0)
    parser.add_argument("--json", type=Path, help="also write the rows here")


def run(args: argparse.Namespace) -> int:
    rows = [solve_example(n, args.time_limit, args.workers) for n in example_names(args.examples)] if args.examples else []
    if args.curtois:
        rows += curtois_rows(args.curtois, args.curtois_time_limit, args.workers)
    print(f"# solver benchmark {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.workers} CP-SAT worker(s), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.solver", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
