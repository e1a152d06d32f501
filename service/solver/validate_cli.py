"""`python -m service validate FILE`: prints the validation report JSON; exit 1 on errors, 2 when the
file cannot be read."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="NGRS input JSON file")


def run(args: argparse.Namespace) -> int:
    from service.solver.validate import validate_document

    try:
        with open(args.file, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {args.file} is not valid JSON: {exc}", file=sys.stderr)
        return 2
    report = validate_document(doc)
    print(json.dumps(report.to_dict(), indent=2))
    for issue in report.errors:
        print(f"ERROR   {issue.field or '<document>'}: {issue.code}: {issue.message}", file=sys.stderr)
    for issue in report.warnings:
        print(f"WARNING {issue.field or '<document>'}: {issue.code}: {issue.message}", file=sys.stderr)
    return 0 if report.ok else 1
