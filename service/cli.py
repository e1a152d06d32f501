"""Command-line interface: one sub-command per entry point, each imported only when used.

Commands: `solve` (a file, locally), `validate`, `api`, `worker`, `run` (all-in-one local stack with an
embedded Redis), `submit` (client for a running API).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, help). Each module exposes `add_arguments(parser)` and `run(args) -> int`.
COMMANDS: dict[str, tuple[str, str]] = {
    "solve": ("service.solver.cli", "solve an NGRS JSON or Curtois .txt file; result JSON on stdout"),
    "validate": ("service.solver.validate_cli", "validate an NGRS JSON input; errors and warnings on stdout"),
    "api": ("service.api.main", "run the HTTP API (uvicorn)"),
    "worker": ("service.worker.main", "run a worker supervisor (SOLVER_WORKERS solver slots)"),
    "run": ("service.local", "all-in-one local stack: Redis (embedded unless REDIS_URL), API and workers"),
    "submit": ("service.client", "submit a file to a running API and optionally wait for the result"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        if argv and argv[0] not in ("-h", "--help"):
            parser.print_usage(sys.stderr)
            print(f"python -m service: error: unknown command {argv[0]!r}", file=sys.stderr)
            return 2
        parser.print_help()
        return 0 if argv else 2
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    command_parser = argparse.ArgumentParser(prog=f"python -m service {name}", description=COMMANDS[name][1])
    module.add_arguments(command_parser)
    args = command_parser.parse_args(argv[1:])
    return int(module.run(args) or 0)
