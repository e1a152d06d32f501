"""`python -m service worker`: the worker container entry point. Runs the pool until SIGTERM/SIGINT, then
hands running jobs back and exits 0."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from service.settings import get_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--slots", type=int, default=None, help="solver slots (default SOLVER_WORKERS)")


def run(args: argparse.Namespace) -> int:
    from service.worker.pool import start_worker_pool

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    settings = get_settings()
    if args.slots is not None:
        settings = settings.model_copy(update={"solver_workers": args.slots})
    if settings.solver_workers < 1:
        logging.error("SOLVER_WORKERS must be >= 1 for a worker process")
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    pool = start_worker_pool(settings)
    while not stop.wait(1.0):
        if pool.alive() == 0:
            logging.error("all solver slots exited")
            pool.stop(timeout=1)
            return 1
    logging.info("stopping: handing running jobs back")
    pool.stop(timeout=20)
    return 0
