"""`python -m service submit FILE --url URL [--key KEY] [--wait] [--output OUT] [--time-limit S]`.

A client for a running API: submits an NGRS JSON input to `POST /solve/async`; with `--wait` follows the
job's server-sent events (`GET /solve/async/{id}/events`, falling back to polling `GET /solve/async/{id}`
when the stream is unavailable or drops), draws progress on stderr, then writes the result JSON to stdout
or `--output`. Without `--wait` it prints the submit reply (job id, links).

Exit codes: 0 done (result written); 1 the job failed, timed out or was cancelled; 2 bad usage or the API
rejected the request (4xx); 3 the API is unreachable or answered 5xx; 130 interrupted (the job keeps running
unless `--cancel-on-interrupt`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterator, TextIO

import httpx

from service.progress import ProgressPrinter

TERMINAL = frozenset({"completed", "failed", "cancelled"})
EXIT_OK, EXIT_JOB, EXIT_USAGE, EXIT_SERVER, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
POLL_INTERVAL = 1.0


class ClientError(Exception):
    """A failure with a message for the user and the exit code it maps to."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="NGRS input JSON file ('-' reads stdin)")
    parser.add_argument("--url", default=os.environ.get("NGRS_URL", "http://127.0.0.1:8080"),
                        help="API base URL (default: NGRS_URL, else http://127.0.0.1:8080)")
    parser.add_argument("--key", default=None,
                        help="API key for X-API-Key (default: NGRS_API_KEY); prefer the env var, "
                             "command lines are visible to other users")
    parser.add_argument("--wait", action="store_true", help="wait for the job, show progress, write the result")
    parser.add_argument("--output", "-o", default=None, help="write the result JSON here instead of stdout")
    parser.add_argument("--time-limit", type=float, default=None, metavar="S",
                        help="solver time limit for this job, seconds")
    parser.add_argument("--idempotency-key", default=None, help="re-submitting with the same key returns the same job")
    parser.add_argument("--webhook-url", default=None, help="HTTPS URL the service notifies when the job ends")
    parser.add_argument("--no-events", action="store_true", help="poll the status instead of using SSE")
    parser.add_argument("--cancel-on-interrupt", action="store_true", help="cancel the job on Ctrl-C while waiting")
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout per request, seconds")


def run(args: argparse.Namespace) -> int:
    key = args.key if args.key is not None else os.environ.get("NGRS_API_KEY")
    try:
        document = _read_document(args.file)
    except ClientError as exc:
        return _fail(exc)
    headers = {"X-API-Key": key} if key else {}
    timeout = httpx.Timeout(args.timeout, connect=min(args.timeout, 10.0))
    job_id = None
    with httpx.Client(base_url=args.url.rstrip("/"), headers=headers, timeout=timeout) as http:
        try:
            reply = submit(http, document, time_limit=args.time_limit, idempotency_key=args.idempotency_key,
                           webhook_url=args.webhook_url)
            job_id = reply["job_id"]
            print(f"submitted job {job_id} ({reply.get('status')})", file=sys.stderr)
            for w in reply.get("warnings") or []:
                print(f"warning: {w.get('field') or '(input)'}: {w.get('code')}: {w.get('message')}", file=sys.stderr)
            if not args.wait:
                _write(json.dumps(reply, indent=2) + "\n", args.output)
                return EXIT_OK
            printer = ProgressPrinter(sys.stderr, time_limit=args.time_limit, prefix=f"{job_id} ")
            final = wait(http, job_id, printer, use_events=not args.no_events)
            printer.finish(final.get("status"), final.get("progress"))
            return finish(http, final, args.output)
        except ClientError as exc:
            return _fail(exc)
        except KeyboardInterrupt:
            if job_id and args.wait and args.cancel_on_interrupt:
                try:
                    http.delete(f"/solve/async/{job_id}")
                    print(f"\ninterrupted; cancel requested for job {job_id}", file=sys.stderr)
                except httpx.HTTPError as exc:
                    print(f"\ninterrupted; cancelling job {job_id} failed: {exc}", file=sys.stderr)
            elif job_id:
                print(f"\ninterrupted; job {job_id} keeps running (DELETE /solve/async/{job_id} cancels it)",
                      file=sys.stderr)
            return EXIT_INTERRUPTED


def _fail(exc: ClientError) -> int:
    print(f"python -m service submit: {exc}", file=sys.stderr)
    return exc.exit_code


def _read_document(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror or exc}", EXIT_USAGE) from None
    except UnicodeDecodeError:
        raise ClientError(f"{path} is not UTF-8 text", EXIT_USAGE) from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ClientError(f"{path} is not valid JSON: {exc}", EXIT_USAGE) from None


def _write(text: str, output: str | None) -> None:
    if output:
        tmp = Path(output + ".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(output)  # a reader never sees half a result
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


# ----------------------------------------------------------------------------------------- HTTP


def _error_message(resp: httpx.Response) -> str:
    """`HTTP 422 INVALID_INPUT: message` plus one line per detail, from the API's error body."""
    try:
        err = resp.json().get("error") or {}
    except (ValueError, AttributeError):
        err = {}
    if not err:
        body = resp.text.strip().replace("\n", " ")[:200]
        return f"HTTP {resp.status_code}: {body or resp.reason_phrase}"
    lines = [f"HTTP {resp.status_code} {err.get('code', '')}: {err.get('message', '')}".rstrip()]
    for d in err.get("details") or []:
        lines.append(f"  {d.get('field') or '(body)'}: {d.get('code')}: {d.get('message')}")
    return "\n".join(lines)


def _check(resp: httpx.Response, ok: tuple[int, ...] = (200,)) -> httpx.Response:
    if resp.status_code in ok:
        return resp
    code = EXIT_SERVER if resp.status_code >= 500 else EXIT_USAGE
    raise ClientError(_error_message(resp), code)


def _request(http: httpx.Client, method: str, url: str, **kw) -> httpx.Response:
    try:
        return http.request(method, url, **kw)
    except httpx.HTTPError as exc:
        raise ClientError(f"cannot reach the API at {http.base_url}: {type(exc).__name__}: {exc}",
                          EXIT_SERVER) from None


def submit(http: httpx.Client, document: Any, *, time_limit: float | None = None,
           idempotency_key: str | None = None, webhook_url: str | None = None) -> dict:
    body: Any = document
    if time_limit is not None or idempotency_key is not None or webhook_url is not None:
        body = {"input_json": document}
        if time_limit is not None:
            body["time_limit_seconds"] = time_limit
        if idempotency_key is not None:
            body["idempotency_key"] = idempotency_key
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
    resp = _request(http, "POST", "/solve/async", json=body)
    return _check(resp, (200, 202)).json()


def status(http: httpx.Client, job_id: str) -> dict:
    return _check(_request(http, "GET", f"/solve/async/{job_id}")).json()


# ------------------------------------------------------------------------------------ waiting


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """(event, data) pairs from SSE text lines (the WHATWG rules we need: fields, comments, multi-line data)."""
    event, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive ping
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)


def follow_events(http: httpx.Client, job_id: str, printer: ProgressPrinter) -> dict | None:
    """Follow the event stream; the terminal status dict, or None if the stream ended early or is unavailable."""
    last: dict | None = None
    timeout = httpx.Timeout(http.timeout.connect or 10.0, read=60.0)  # the server pings every 15 s
    try:
        with http.stream("GET", f"/solve/async/{job_id}/events", headers={"Accept": "text/event-stream"},
                         timeout=timeout) as resp:
            if resp.status_code in (401, 403, 404):
                resp.read()
                _check(resp)
            if resp.status_code != 200 or "text/event-stream" not in resp.headers.get("content-type", ""):
                return None
            for event, data in parse_sse(resp.iter_lines()):
                try:
                    payload = json.loads(data)
                except ValueError:
                    continue
                if event == "progress" and isinstance(payload, dict):
                    printer.update(payload, (last or {}).get("status", "running"))
                elif event in ("status", "end") and isinstance(payload, dict):
                    last = payload
                    printer.update(payload.get("progress") or {}, payload.get("status"))
                    if payload.get("status") in TERMINAL:
                        return payload
                elif event == "error":
                    return None
    except httpx.HTTPError:
        return None  # dropped stream: the caller polls
    return None


def poll(http: httpx.Client, job_id: str, printer: ProgressPrinter, interval: float = POLL_INTERVAL) -> dict:
    failures = 0
    while True:
        try:
            current = status(http, job_id)
            failures = 0
        except ClientError as exc:
            # A restarting API or Redis failover (503, connection refused) is worth a few retries.
            failures += 1
            if exc.exit_code != EXIT_SERVER or failures > 30:
                raise
            time.sleep(min(5.0, interval * failures))
            continue
        printer.update(current.get("progress") or {}, current.get("status"))
        if current.get("status") in TERMINAL:
            return current
        time.sleep(interval)


def wait(http: httpx.Client, job_id: str, printer: ProgressPrinter, use_events: bool = True) -> dict:
    final = follow_events(http, job_id, printer) if use_events else None
    return final if final is not None else poll(http, job_id, printer)


def finish(http: httpx.Client, final: dict, output: str | None, stream: TextIO | None = None) -> int:
    stream = stream or sys.stderr
    state = final.get("status")
    printer_line = f"job {final.get('job_id')} {state}"
    if state == "completed":
        resp = _check(_request(http, "GET", f"/solve/async/{final.get('job_id')}/result"))
        result = resp.json()
        run_info = result.get("solverRun") or {}
        print(f"{printer_line}: solver {run_info.get('status')} objective={run_info.get('objective')} "
              f"bound={run_info.get('bestBound')} in {run_info.get('durationSeconds')} s"
              + (f" -> {output}" if output else ""), file=stream)
        _write(json.dumps(result, indent=2) + "\n", output)
        return EXIT_OK
    err = final.get("error") or {}
    detail = f": {err.get('code')}: {err.get('message')}" if err else ""
    print(f"{printer_line}{detail}", file=stream)
    return EXIT_JOB
