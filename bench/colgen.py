"""Column generation alone on Curtois instances: how long it takes to converge, split into pricing and
the master LP, with pricing on one thread or more (`--threads`; the search prices on as many as it has workers).

    PYTHONPATH=. python bench/colgen.py 8,12 [--seeds 1] [--limit 120] [--threads 1]

The 60 s search gives column generation at most 40 % of its time (`search.COLGEN_SHARE`), and the
dive and the proof pool only run on a converged LP, so these seconds decide how much of the 60 s is
left for them. Time is wall-clock on this machine: run it with nothing else on the cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.curtois import parse_instances  # noqa: E402
from service.solver import colgen  # noqa: E402
from service.solver.formats import load_document  # noqa: E402
from tests.solver.curtois.evaluator import instance_path  # noqa: E402


class _Timed:
    """Wall time spent inside one method of a class, while installed."""

    def __init__(self, owner: type, name: str):
        self.owner, self.name, self.seconds = owner, name, 0.0
        self.original = getattr(owner, name)

    def __enter__(self) -> _Timed:
        original = self.original

        def timed(obj, *args, **kwargs):
            t = time.perf_counter()
            try:
                return original(obj, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t

        setattr(self.owner, self.name, timed)
        return self

    def __exit__(self, *exc) -> None:
        setattr(self.owner, self.name, self.original)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instances", nargs="+", help="e.g. 8,12 or 5-9")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--limit", type=float, default=120.0, help="seconds before a run is cut")
    ap.add_argument("--threads", type=int, default=1, help="pricing threads (pricing s then sums them)")
    args = ap.parse_args(argv)
    print("inst | seed | converged | lp | bound | iterations | columns | pricings | seconds | pricing s | master s")
    for n in parse_instances(args.instances):
        problem = load_document(instance_path(n).read_text())
        for seed in range(args.seeds):
            cg = colgen.ColumnGeneration(problem, seed=seed, threads=args.threads)
            with _Timed(colgen.ColumnGeneration, "_price") as pricing, _Timed(colgen._Master, "solve") as master:
                res = cg.run(deadline=time.monotonic() + args.limit)
            lp = "-" if res.lp_value is None else f"{res.lp_value:.1f}"
            print(f"{n} | {seed} | {res.converged} | {lp} | {res.lower_bound} | {res.iterations} | {res.columns} | "
                  f"{res.pricing_solves} | {res.seconds:.1f} | {pricing.seconds:.1f} | {master.seconds:.1f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
