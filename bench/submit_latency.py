"""Submit latency and throughput of `POST /solve/async`, against a plain XADD of the same payload.

Starts its own Redis (embedded, AOF on as in `make run`) and `python -m service api` in a subprocess with no
workers, then from one asyncio process submits N jobs over HTTP (httpx) at a few concurrency levels and, as
the baseline, XADDs the same bytes to the same Redis from the same process (redis.asyncio).

    .venv/bin/python -m bench.submit_latency [--n 400] [--concurrency 1,8,32] [--input examples/ngrs_tiny.json]

Run on demand; not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis.asyncio

from service.local import EmbeddedRedis, free_port

REPO = Path(__file__).resolve().parents[1]
KEY = "bench-key-0123456789"


def default_input() -> dict:
    example = REPO / "examples" / "ngrs_tiny.json"
    if example.exists():
        return json.loads(example.read_text())
    return {
        "schemaVersion": "0.98", "planningReference": "BENCH",
        "planningHorizon": {"startDate": "2026-01-05", "endDate": "2026-01-11"},
        "demandItems": [{"demandId": "D1",
                         "shifts": [{"shiftDetails": [{"shiftCode": "D", "start": "08:00", "end": "20:00"}]}],
                         "requirements": [{"requirementId": "R1", "headcount": 1}]}],
        "employees": [{"employeeId": f"E{i}"} for i in range(3)],
    }


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc (Linux): CPU spent, independent of what else loads the box."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summarise(latencies: list[float], wall: float) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1000, p99 * 1000, len(ordered) / wall


async def run_level(n: int, concurrency: int, one) -> tuple[list[float], float]:
    latencies: list[float] = []
    remaining = iter(range(n))

    async def worker():
        for _ in remaining:
            t0 = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - t0


async def bench(base: str, redis_url: str, payload: bytes, n: int, levels: list[int], api_pid: int,
                redis_pid: int) -> list[tuple]:
    rows = []
    headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
    for c in levels:
        limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:

            async def submit():
                r = await client.post("/solve/async", content=payload)
                if r.status_code != 202:
                    raise RuntimeError(f"submit answered {r.status_code}: {r.text[:200]}")

            await run_level(min(20, n), c, submit)  # warm-up: connections, validator, script cache
            cpu0, rcpu0 = cpu_seconds(api_pid), cpu_seconds(redis_pid)
            lat, wall = await run_level(n, c, submit)
            api_ms = (cpu_seconds(api_pid) - cpu0) / n * 1000
            redis_ms = (cpu_seconds(redis_pid) - rcpu0) / n * 1000
            rows.append(("POST /solve/async", c, n, *summarise(lat, wall), api_ms, redis_ms))

        r = redis.asyncio.Redis.from_url(redis_url, max_connections=c)
        try:
            async def xadd():
                await r.xadd("bench:xadd", {"input": payload})

            await run_level(min(20, n), c, xadd)
            rcpu0 = cpu_seconds(redis_pid)
            lat, wall = await run_level(n, c, xadd)
            rows.append(("XADD (baseline)", c, n, *summarise(lat, wall), None,
                         (cpu_seconds(redis_pid) - rcpu0) / n * 1000))
            await r.delete("bench:xadd")
        finally:
            await r.aclose()
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=400, help="jobs per concurrency level")
    p.add_argument("--concurrency", default="1,8,32", help="comma-separated concurrency levels")
    p.add_argument("--input", type=Path, default=None, help="NGRS input JSON (default examples/ngrs_tiny.json)")
    args = p.parse_args(argv)
    doc = json.loads(args.input.read_text()) if args.input else default_input()
    payload = json.dumps(doc).encode()
    levels = [int(x) for x in args.concurrency.split(",") if x.strip()]

    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp, EmbeddedRedis(Path(tmp) / "redis") as rds:
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO), "REDIS_URL": rds.url, "API_KEYS": KEY,
               "START_WORKERS": "false", "REDIS_KEY_PREFIX": "bench"}
        api = subprocess.Popen([sys.executable, "-m", "service", "api", "--port", str(port), "--log-level", "warning"],
                               cwd=REPO, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or api.poll() is not None:
                    raise RuntimeError("API did not become ready")
                time.sleep(0.1)
            rows = asyncio.run(bench(base, rds.url, payload, args.n, levels, api.pid, rds.proc.pid))
        finally:
            api.send_signal(signal.SIGTERM)
            api.wait(30)

    print(f"\npayload {len(payload)} bytes; {args.n} requests per row after 20 warm-up; API: 1 uvicorn process, "
          f"no workers; Redis {rds.url} (AOF everysec); client: one asyncio process; {os.cpu_count()} CPUs; "
          f"load average before/after {load0[0]:.1f}/{os.getloadavg()[0]:.1f}\n")
    print(f"| {'operation':<18} | {'concurrency':>11} | {'n':>5} | {'p50 ms':>7} | {'p99 ms':>7} | {'per s':>7} "
          f"| {'API CPU ms/req':>14} | {'Redis CPU ms/req':>16} |")
    print(f"|{'-' * 20}|{'-' * 13}|{'-' * 7}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 16}|{'-' * 18}|")
    for op, c, n, p50, p99, rate, api_ms, redis_ms in rows:
        api_txt = "-" if api_ms is None else f"{api_ms:.2f}"
        print(f"| {op:<18} | {c:>11} | {n:>5} | {p50:>7.2f} | {p99:>7.2f} | {rate:>7.0f} | {api_txt:>14} "
              f"| {redis_ms:>16.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
