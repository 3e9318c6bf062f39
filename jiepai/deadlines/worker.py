"""`jiepai worker`: one loop that runs background tasks and sweeps deadlines until SIGTERM."""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker as TaskWorker

from jiepai.deadlines.sweeper import sweep_once

logger = logging.getLogger(__name__)


class Worker:
    def __init__(self, *, interval: float = 1.0, worker_id: str | None = None) -> None:
        self.interval = interval
        self.worker_id = worker_id or get_random_string(16)
        self.running = True

    def stop(self, signum: int, frame: FrameType | None) -> None:
        logger.info("worker %s: %s received, stopping after this step", self.worker_id, signum)
        self.running = False

    def run_tasks(self) -> int:
        """Run every ready task (django-tasks-db claims each with a row lock), then return."""
        tasks = TaskWorker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=100,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )
        tasks.run()
        return tasks._run_tasks

    def step(self) -> int:
        close_old_connections()
        done = sweep_once()
        done += self.run_tasks()
        return done

    def run(self, *, once: bool = False) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        logger.info("worker %s started", self.worker_id)
        while self.running:
            done = self.step()
            if once:
                break
            if not done:
                # sleep in small slices so SIGTERM is answered promptly
                deadline = time.monotonic() + self.interval
                while self.running and time.monotonic() < deadline:
                    time.sleep(0.05)
        logger.info("worker %s stopped", self.worker_id)
