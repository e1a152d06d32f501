"""Load: `POST /solve/async` with a realistic 200-employee NGRS input at increasing open-loop rates, against
a plain XADD of the same bytes to the same Redis; then `GET /solve/async/stats` with 10 and with 100,000 jobs
in Redis (it must not grow with the job count).

    python -m bench.load [--rates 5,10,25,50] [--seconds 10] [--jobs 100000] [--input examples/ngrs_200.json]

Real parts: an embedded redis-server (AOF on), `python -m service api` in a subprocess (no workers, so every
accepted job stays queued), one asyncio client process (httpx / redis.asyncio) on loopback.
Latency is measured from each request's *scheduled* send time (open loop: a slow server cannot slow the
arrivals down and hide its own queueing); "achieved/s" shows whether the client kept up with the rate.
The 100,000 filler jobs go through `JobStore.submit`, the same Lua script the API runs, with a tiny input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import httpx
import redis.asyncio

from bench._stack import API_KEY, REPO, Stack

DEFAULT_INPUT = REPO / "examples" / "ngrs_200.json"
FILLER_INPUT = REPO / "examples" / "ngrs_tiny.json"


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process from /proc (Linux); None elsewhere."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))]


async def open_loop(rate: float, seconds: float, one) -> dict:
    """Fire `one()` at `rate` per second for `seconds`; latencies from the scheduled start."""
    n = max(1, int(rate * seconds))
    latencies: list[float] = []
    errors: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05

    async def fire(i: int) -> None:
        scheduled = t0 + i / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        try:
            problem = await one()
        except Exception as exc:  # noqa: BLE001 - every failure is counted by kind
            problem = type(exc).__name__
        if problem:
            errors[problem] = errors.get(problem, 0) + 1
        else:
            latencies.append(loop.time() - scheduled)

    await asyncio.gather(*(fire(i) for i in range(n)))
    wall = loop.time() - t0
    return {"n": n, "ok": len(latencies), "errors": sum(errors.values()), "error_kinds": errors,
            "p50_ms": round(pct(latencies, 50) * 1000, 2), "p99_ms": round(pct(latencies, 99) * 1000, 2),
            "achieved_per_s": round(len(latencies) / wall, 1) if wall > 0 else 0.0}


async def sequential_latency(n: int, one) -> dict:
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        await one()
        lat.append(time.perf_counter() - t)
    return {"n": n, "p50_ms": round(pct(lat, 50) * 1000, 3), "p99_ms": round(pct(lat, 99) * 1000, 3)}


async def fill_jobs(stack: Stack, target_total: int, concurrency: int = 64) -> float:
    """Bring the job count to `target_total` through JobStore.submit (the API's own Lua script)."""
    from service.api.auth import owner_of
    from service.jobs.redis_client import make_async_redis
    from service.jobs.store import JobStore
    from service.settings import Settings

    settings = Settings(redis_url=stack.redis.url, redis_key_prefix=stack.prefix)
    r = make_async_redis(settings)
    store = JobStore(r, settings)
    doc = json.dumps(json.loads(FILLER_INPUT.read_text()), separators=(",", ":")).encode()
    owner = owner_of(API_KEY)
    t0 = time.perf_counter()
    try:
        have = (await store.stats())["total_jobs"]
        todo = iter(range(max(0, target_total - have)))

        async def worker():
            for _ in todo:
                await store.submit(document=doc, owner=owner, webhook_url=None, idempotency_key=None,
                                   time_limit_seconds=None)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await r.aclose()
    return time.perf_counter() - t0


async def measure(stack: Stack, payload: bytes, rates: list[float], seconds: float, jobs: int,
                  stats_n: int, small: int = 10) -> dict:
    out: dict = {"submit": [], "stats": []}
    headers = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=stack.base_url, headers=headers, limits=limits, timeout=30) as http:
        r = redis.asyncio.Redis.from_url(stack.redis.url, max_connections=200)
        try:
            async def get_stats():
                resp = await http.get("/solve/async/stats")
                resp.raise_for_status()
                return resp.json()

            async def health():
                (await http.get("/health")).raise_for_status()

            # --- stats with a handful of jobs ----------------------------------------------------------
            await fill_jobs(stack, small)
            await sequential_latency(20, get_stats)  # warm-up
            total = (await get_stats())["total_jobs"]
            out["stats"].append({"jobs_in_redis": total, **await sequential_latency(stats_n, get_stats)})
            out["health"] = await sequential_latency(stats_n, health)

            # --- submit rates vs XADD baseline ---------------------------------------------------------
            async def submit():
                resp = await http.post("/solve/async", content=payload)
                return None if resp.status_code == 202 else f"HTTP {resp.status_code}"

            async def xadd():
                await r.xadd("bench:baseline", {"doc": payload})
                return None

            for _ in range(10):  # warm-up: connections, validator, script cache
                await submit()
            for rate in rates:
                cpu0 = cpu_seconds(stack.api.pid)
                row = {"operation": "POST /solve/async", "rate": rate, **await open_loop(rate, seconds, submit)}
                cpu1 = cpu_seconds(stack.api.pid)
                row["api_cpu_ms"] = None if cpu0 is None or cpu1 is None else round(1000 * (cpu1 - cpu0) / row["n"], 1)
                out["submit"].append(row)
                out["submit"].append({"operation": "XADD (baseline)", "rate": rate,
                                      **await open_loop(rate, seconds, xadd)})
            await r.delete("bench:baseline")

            # --- stats with many jobs ------------------------------------------------------------------
            out["fill_seconds"] = round(await fill_jobs(stack, jobs), 1)
            await sequential_latency(20, get_stats)
            total = (await get_stats())["total_jobs"]
            out["stats"].append({"jobs_in_redis": total, **await sequential_latency(stats_n, get_stats)})
            out["redis_used_memory_mb"] = round((await r.info("memory"))["used_memory"] / 2**20, 1)
        finally:
            await r.aclose()
    return out


def run_load(*, rates: list[float], seconds: float, jobs: int, input_path: Path, stats_n: int = 200) -> dict:
    payload = json.dumps(json.loads(input_path.read_text())).encode()
    load0 = os.getloadavg()[0]
    with Stack(prefix="load") as stack:
        stack.start_redis().start_api()
        result = asyncio.run(measure(stack, payload, rates, seconds, jobs, stats_n))
    result.update(payload_bytes=len(payload), input=str(input_path.relative_to(REPO)) if input_path.is_relative_to(REPO)
                  else str(input_path), seconds_per_rate=seconds, load_before=round(load0, 1),
                  load_after=round(os.getloadavg()[0], 1), started_utc=time.strftime("%H:%M", time.gmtime()))
    return result


def print_tables(res: dict) -> None:
    print(f"# load {res['started_utc']} UTC: input {res['input']} ({res['payload_bytes']} bytes), "
          f"{res['seconds_per_rate']:g} s per rate, 1 API process (uvicorn, no workers), Redis AOF on, "
          f"{os.cpu_count()} CPUs, load average {res['load_before']} before / {res['load_after']} after")
    print("| operation | rate/s | sent | ok | errors | p50 ms | p99 ms | achieved/s | our overhead p50 ms "
          "| API CPU ms/request |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    base = {row["rate"]: row for row in res["submit"] if row["operation"].startswith("XADD")}
    for row in res["submit"]:
        over = "-"
        if row["operation"].startswith("POST"):
            over = f"{row['p50_ms'] - base[row['rate']]['p50_ms']:.2f}"
        errs = str(row["errors"]) + (f" {row['error_kinds']}" if row["errors"] else "")
        cpu = row.get("api_cpu_ms")
        print(f"| {row['operation']} | {row['rate']:g} | {row['n']} | {row['ok']} | {errs} | {row['p50_ms']} | "
              f"{row['p99_ms']} | {row['achieved_per_s']} | {over} | {'-' if cpu is None else cpu} |")
    print()
    print("| GET /solve/async/stats | requests | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for row in res["stats"]:
        print(f"| {row['jobs_in_redis']:,} jobs in Redis | {row['n']} | {row['p50_ms']} | {row['p99_ms']} |")
    h = res["health"]
    print(f"| GET /health (HTTP floor) | {h['n']} | {h['p50_ms']} | {h['p99_ms']} |")
    print(f"\nfilled to {res['stats'][-1]['jobs_in_redis']:,} jobs in {res['fill_seconds']} s; "
          f"Redis used_memory {res['redis_used_memory_mb']} MB")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rates", default="5,10,25,50", help="comma-separated submit rates (per second)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each rate")
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs in Redis for the second stats row")
    parser.add_argument("--stats-requests", type=int, default=200)
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--json", type=Path, help="also write the raw results here")


def run(args: argparse.Namespace) -> int:
    res = run_load(rates=[float(x) for x in args.rates.split(",") if x.strip()], seconds=args.seconds,
                   jobs=args.jobs, input_path=args.input.resolve(), stats_n=args.stats_requests)
    print_tables(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
