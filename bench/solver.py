"""Solver benchmark: the NGRS examples and Curtois & Qu instances in ONE table.

    python -m bench.solver [--time-limit 5] [--workers 1] [--examples all|ngrs_020,ngrs_200]
                           [--curtois 1-4] [--curtois-time-limit 10] [--json rows.json]

A thin runner over the solver engineer's two scripts, each run as a subprocess: `bench/solver_examples.py
--markdown --check` (NGRS examples; rosters re-verified by tests/solver/checker.py) and `bench/curtois.py
--json` (Curtois & Qu; rosters re-scored by the independent evaluator). Columns: status is CP-SAT's; gap is
(objective − bound)/objective for NGRS and (objective − best known)/best known for Curtois; t_first = time
to the first solution; wall = model build + solve; filled = covered/required demand slots (NGRS);
check = the independent checker/evaluator verdict.
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
COLUMNS = ["suite", "instance", "size", "limit s", "status", "objective", "bound", "gap %", "t_first s",
           "wall s", "filled", "check"]


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def example_names(spec: str) -> list[str]:
    """[] = all examples (the runner's default)."""
    return [] if spec == "all" else [s.strip() for s in spec.split(",") if s.strip()]


def _markdown_rows(text: str) -> list[dict]:
    """Rows of the first Markdown table in `text` as dicts keyed by its header."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
    if len(lines) < 2:
        return []
    cells = lambda ln: [c.strip() for c in ln.strip("|").split("|")]  # noqa: E731
    header = cells(lines[0])
    return [dict(zip(header, cells(ln))) for ln in lines[2:]]


def _num(v: str | None):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if f.is_integer() else f


def ngrs_rows(names: list[str], time_limit: float, workers: int) -> list[dict]:
    """`bench/solver_examples.py --markdown --check` (the solver engineer's runner) -> our rows."""
    cmd = [sys.executable, "-m", "bench.solver_examples", "--time-limit", str(time_limit), "--workers", str(workers),
           "--markdown", "--check"]
    if names:
        cmd += ["--only", ",".join(names)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120 + 3 * time_limit * 20)
    if proc.returncode != 0:
        raise RuntimeError(f"bench/solver_examples.py failed ({proc.returncode}): {proc.stderr[-800:]}")
    rows = []
    for r in _markdown_rows(proc.stdout):
        obj, bound = _num(r.get("objective")), _num(r.get("bound"))
        gap = None
        if obj is not None and bound is not None:
            gap = 0.0 if obj == bound else round(100.0 * (obj - bound) / max(abs(obj), 1e-9), 2)
        rows.append({"suite": "ngrs", "instance": r.get("example"),
                     "size": f"{r.get('emp')} emp x {r.get('days')} d x {r.get('codes')} sh",
                     "limit s": time_limit, "status": r.get("status"),
                     "objective": obj if obj is not None else r.get("objective"), "bound": bound, "gap %": gap,
                     "t_first s": _num(r.get("first s")), "wall s": _num(r.get("build+solve s")),
                     "filled": r.get("filled"), "check": r.get("checker")})
    return rows


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
             "wall s": r.get("wall"), "filled": None,
             "check": None if r.get("hard_ok") is None else ("ok" if r["hard_ok"] else "VIOLATED")}
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
    rows = ngrs_rows(example_names(args.examples), args.time_limit, args.workers) if args.examples else []
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
