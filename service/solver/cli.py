"""`python -m service solve FILE [--time-limit S] [--workers N]`: solve an NGRS JSON or Curtois .txt
file locally. The output JSON goes to stdout (or --output), progress lines to stderr. Bad input or a
missing file: a clear message on stderr and exit code 2 (never a traceback)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="NGRS input JSON or Curtois Instance*.txt")
    parser.add_argument("--time-limit", type=float, default=None, metavar="S",
                        help="seconds (default: solverRunTime.maxSeconds of the input, else 60)")
    parser.add_argument("--workers", type=int, default=None, metavar="N", help="CP-SAT search workers (default 2)")
    parser.add_argument("--output", "-o", default=None, metavar="FILE", help="write the result JSON here")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    parser.add_argument("--compact", action="store_true", help="print the JSON on one line")


def run(args: argparse.Namespace) -> int:
    from service.solver.engine import Progress, solve_problem
    from service.solver.errors import InputError
    from service.solver.formats import load_document
    from service.solver.output import render_output

    if args.time_limit is not None and not args.time_limit > 0:
        print("error: --time-limit must be > 0", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print("error: --workers must be >= 1", file=sys.stderr)
        return 2
    try:
        with open(args.file, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        print(f"error: {args.file} is not UTF-8 text", file=sys.stderr)
        return 2
    try:
        problem = load_document(text)
    except InputError as exc:
        print(f"error: invalid input {args.file}:", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue.field or '<document>'}: {issue.code}: {issue.message}", file=sys.stderr)
        return 2
    for w in problem.metadata.get("warnings", []) if isinstance(problem.metadata, dict) else []:
        print(f"warning: {w['field'] or '<document>'}: {w['code']}: {w['message']}", file=sys.stderr)

    limit = args.time_limit if args.time_limit is not None else (problem.time_limit_seconds or 60.0)
    workers = args.workers if args.workers is not None else 2

    from service.progress import ProgressPrinter  # on a terminal: one live bar instead of a line per solution

    tty_bar = None if args.quiet or not sys.stderr.isatty() else ProgressPrinter(sys.stderr, time_limit=limit)

    def progress(p: Progress) -> None:
        if tty_bar is not None:
            return tty_bar.update(p)
        if not args.quiet:
            print(f"[{p.elapsed:7.2f}s] solution {p.solutions}: objective {p.objective:g}, bound {p.best_bound:g}",
                  file=sys.stderr, flush=True)

    stop = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum, frame):  # first Ctrl-C: stop the search and print the best roster so far
        print("stopping: keeping the best roster found so far", file=sys.stderr)
        stop.set()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, on_sigint)
    if not args.quiet:
        print(f"solving {args.file}: {len(problem.employees)} employees, {problem.num_days} days, "
              f"{len(problem.covers)} covers, limit {limit:g} s, {workers} workers", file=sys.stderr)
    solution = solve_problem(problem, time_limit=limit, workers=workers, on_progress=progress, stop=stop)
    if tty_bar is not None:
        tty_bar.finish()
    signal.signal(signal.SIGINT, previous)
    out = render_output(solution)
    text = json.dumps(out, separators=(",", ":")) if args.compact else json.dumps(out, indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    cov = out["coverage"]
    print(f"status {out['solverRun']['status']}, objective {out['solverRun']['objective']}, "
          f"coverage {cov['filled']}/{cov['required']}, {out['solverRun']['durationSeconds']} s", file=sys.stderr)
    return 0
