"""`python -m bench` (`make bench`): list the harnesses, one line each, and how to run them.

    python -m bench            # the list
    python -m bench NAME ARGS  # run one harness, e.g. `python -m bench scaling_sim --env prod`
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

# name -> (one line, command). Owners: see docs/benchmarks.md.
HARNESSES: dict[str, tuple[str, str]] = {
    "scaling_sim": ("replay bursty/steady job traces against the worker scaling policies (config vs alternatives)",
                    "python -m bench.scaling_sim [--env dev|prod] [--trace steady|bursts] [--hours 3]"),
    "solver": ("NGRS examples + Curtois instances, one table (status, objective, bound, gap, times)",
               "python -m bench.solver [--time-limit 5] [--curtois 1-4] [--curtois-time-limit 10]"),
    "load": ("POST /solve/async at increasing rates vs plain XADD; GET /solve/async/stats at 10 vs 100k jobs",
             "python -m bench.load [--rates 5,10,25,50] [--seconds 10] [--jobs 100000]"),
    "chaos": ("real solves while workers are SIGKILLed or frozen, connections dropped, Redis restarted, jobs cancelled",
              "python -m bench.chaos [--jobs 24] [--workers 4] [--kills 2] [--client-kills 2] [--redis-restarts 2] "
              "[--cancels 2] [--pauses 1] [--terms 1]"),
    "submit_latency": ("submit latency/throughput at fixed concurrency vs XADD (API engineer's harness)",
                       "python -m bench.submit_latency [--n 400] [--concurrency 1,8,32]"),
    "curtois": ("Curtois & Qu instances with the independent evaluator (solver engineer's runner)",
                "python bench/curtois.py 1-7 --time-limit 60"),
    "lns_probe": ("the LNS alone from a saved Curtois roster, seed by seed (solver engineer's probe)",
                  "python bench/lns_probe.py 13 Instance13.json --seconds 150 --seeds 0,1,2"),
    "neighbourhood_bound": ("a lower bound on re-rostering some employees of a saved Curtois roster (column generation)",
                            "python bench/neighbourhood_bound.py 13 Instance13.json --free 60 --seeds 0,1"),
    "solver_examples": ("NGRS examples through the engine (solver engineer's runner)",
                        "python -m bench.solver_examples"),
}


def _available(name: str) -> bool:
    return importlib.util.find_spec(f"bench.{name}") is not None


def main(argv: list[str]) -> int:
    if argv and argv[0] in HARNESSES:
        module = importlib.import_module(f"bench.{argv[0]}")
        return module.main(argv[1:]) or 0
    if argv and argv[0] not in ("-h", "--help"):
        print(f"unknown harness {argv[0]!r}", file=sys.stderr)
    print("Harnesses (tables and figures: docs/benchmarks.md; quick variants: pytest tests/bench tests/fuzz):\n")
    width = max(map(len, HARNESSES))
    for name, (line, cmd) in HARNESSES.items():
        if not _available(name):
            continue
        print(f"  {name:<{width}}  {line}\n  {'':<{width}}  $ .venv/bin/{cmd}\n")
    print("  fuzz" + " " * (width - 4) + "  schemathesis against the live OpenAPI schema (no 5xx; 4xx has error.code)\n"
          + " " * (width + 2) + "  $ .venv/bin/python -m pytest tests/fuzz -q")
    return 0 if not argv or argv[0] in ("-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
