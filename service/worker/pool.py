"""`WorkerPool`: SOLVER_WORKERS slot processes (spawn) as children of the caller, plus ECS task protection.
Used by `python -m service worker` and by the API lifespan when START_WORKERS=true."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading

from service.settings import Settings
from service.worker.protection import TaskProtection
from service.worker.slot import slot_main

log = logging.getLogger(__name__)


class WorkerPool:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.ctx = mp.get_context("spawn")
        self.stop_evt = self.ctx.Event()
        n = settings.solver_workers
        main_thread = threading.current_thread() is threading.main_thread()
        self.busy = self.ctx.Array("b", max(n, 1), lock=False)
        self.procs = [
            self.ctx.Process(
                target=slot_main,
                args=(settings, i, self.busy, self.stop_evt, os.getpid(), main_thread),
                name=f"ngrs-slot-{i}",
            )
            for i in range(n)
        ]
        self.protection = TaskProtection(settings, self.busy)

    def start(self) -> "WorkerPool":
        for p in self.procs:
            p.start()
        self.protection.start()
        log.info("worker pool started: %d slot(s), pids %s", len(self.procs), [p.pid for p in self.procs])
        return self

    def alive(self) -> int:
        return sum(p.is_alive() for p in self.procs)

    def stop(self, timeout: float = 20.0) -> None:
        """Stop claiming, hand running jobs back (not counted as attempts), join; kill stragglers."""
        self.stop_evt.set()
        for p in self.procs:
            p.join(timeout)
        for p in self.procs:
            if p.is_alive():
                log.warning("slot %s did not stop in %.0fs; killing it", p.name, timeout)
                p.kill()
                p.join(5)
        self.protection.stop()


def start_worker_pool(settings: Settings) -> WorkerPool:
    return WorkerPool(settings).start()
