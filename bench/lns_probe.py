"""The LNS alone, from a saved Curtois roster: what the search's last phase does with it, seed by seed.

    .venv/bin/python bench/curtois.py 13 --time-limit 600 --save /tmp/rosters
    .venv/bin/python bench/lns_probe.py 13 /tmp/rosters/Instance13.json [--seconds 150] [--seeds 0,1,2]
        [--threads 2] [--kinds days,employees,costly,repair,weekly] [--size 0.15]
    .venv/bin/python bench/lns_probe.py 13 /tmp/rosters/Instance13.json --kinds slack   # not in the default mix

One row per seed: the roster's objective at the start and at the end (and the independent evaluator's,
with its hard-rule check), the time of the last improvement, the cost by rule at the end, and for each
neighbourhood kind how many of its steps improved the incumbent. On a 10-minute Instance13 run the LNS
has ~200 s after the dive; this replays that phase from any roster a run left, to tell a neighbourhood
that cannot move it from one that only lacked time. Time is wall-clock: run it with nothing else on the
cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.solver.builder import build  # noqa: E402
from service.solver.engine import _decode_result  # noqa: E402
from service.solver.formats import load_document  # noqa: E402
from service.solver.output import render_output  # noqa: E402
from service.solver.search import Search  # noqa: E402
from tests.solver.curtois.evaluator import evaluate_output, instance_path  # noqa: E402


KINDS = {"days", "employees", "costly", "repair", "weekly", "slack"}  # `Search._neighbourhood`'s, but "reduced"


def roster_of(problem, document: dict) -> dict:
    """{(employee index, cover index): 1} from an output document's assignments. Curtois covers are
    one per day and shift type, so (day, shiftCode) names the cover."""
    employee = {e.id: i for i, e in enumerate(problem.employees)}
    cover = {(c.day, c.shift): ci for ci, c in enumerate(problem.covers)}
    try:
        return {(employee[a["employeeId"]], cover[(a["day"], a["shiftCode"])]): 1 for a in document["assignments"]}
    except KeyError as exc:
        raise SystemExit(f"lns_probe: the roster names {exc} that the instance does not have") from None


def by_rule(document: dict) -> str:
    return ", ".join(f"{r['rule']} {r['cost']:g}" for r in document["scoreBreakdown"]["byRule"]) or "-"


def probe(text: str, roster: dict, *, seconds: float, seed: int, threads: int, kinds: list[str] | None,
          size: float) -> dict:
    """One LNS run from `roster`; its row of the table."""
    problem = load_document(text)
    ctx = build(problem)
    t0 = time.monotonic()
    search = Search(ctx, time_limit=seconds, workers=threads, seed=seed, kinds=kinds)
    result = search.improve(roster, threads=threads, size=size)
    if result is None:
        raise SystemExit("lns_probe: the saved roster breaks a hard rule of the instance")
    out = render_output(_decode_result(ctx, result, time.monotonic() - t0))
    ev = evaluate_output(text, out)
    stats = result.stats
    steps = {k: (stats.get(f"improve_{k}", 0), stats.get(f"lns_{k}", 0)) for k in search.kinds}
    return {
        "seed": seed, "objective": result.objective, "evaluator": ev.objective, "hard_ok": ev.feasible,
        "t_best": result.best_solution_seconds, "by_rule": by_rule(out),
        "kinds": " ".join(f"{k} {i}/{n}" for k, (i, n) in steps.items()),
    }


def seed_list(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance", type=int)
    ap.add_argument("roster", help="an output document, e.g. from bench/curtois.py --save")
    ap.add_argument("--seconds", type=float, default=150.0)
    ap.add_argument("--seeds", type=seed_list, default=[0], help="comma-separated, one run each")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kinds", help="comma-separated neighbourhood kinds (default: the search's)")
    ap.add_argument("--size", type=float, default=0.15, help="every kind's starting share of the assignment variables")
    args = ap.parse_args(argv)
    if args.seconds <= 0 or args.threads < 1 or not 0 < args.size <= 1:
        ap.error("--seconds and --threads must be positive, --size in (0, 1]")
    text = instance_path(args.instance).read_text()
    try:
        document = json.loads(Path(args.roster).read_text())
    except (OSError, ValueError) as exc:
        ap.error(f"cannot read the roster: {exc}")
    roster = roster_of(load_document(text), document)
    kinds = args.kinds.split(",") if args.kinds else None
    if kinds is not None and not set(kinds) <= KINDS:
        ap.error(f"unknown kind(s) {sorted(set(kinds) - KINDS)}; known: {sorted(KINDS)}")
    print(f"# Instance{args.instance}, LNS alone for {args.seconds:g} s on {args.threads} threads from "
          f"{document['scoreBreakdown']['total']:g} ({by_rule(document)})", flush=True)
    header = ["seed", "ours", "evaluator", "hard", "t_best", "cost by rule", "improving steps by kind"]
    print(" | ".join(header), flush=True)
    for seed in args.seeds:
        row = probe(text, roster, seconds=args.seconds, seed=seed, threads=args.threads, kinds=kinds, size=args.size)
        print(" | ".join(str(v) for v in [
            row["seed"], f"{row['objective']:g}", row["evaluator"], "ok" if row["hard_ok"] else "VIOLATED",
            f"{row['t_best']:.1f}", row["by_rule"], row["kinds"]]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
