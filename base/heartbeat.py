"""Heartbeats of the background processes, for the dashboard and /healthz.

Each process beats for itself, so /healthz blames the one that stopped: a worker from
a timer of its own (WorkerHeartbeat, a step of its consumer, running while it is
connected to the broker, busy or idle); beat from its scheduler loop (base.beat).
"""

import datetime as dt
import logging
import time
from typing import Any

from celery import bootsteps
from celery.signals import task_postrun, task_prerun
from django.db import connection
from django.utils import timezone

from .audit import _acting
from .models import Heartbeat

EVERY_SECONDS = 10.0
# Older than this, a process is reported as not seen.
STALE_AFTER = dt.timedelta(seconds=90)
NAMES = {"worker": "Celery worker", "beat": "Celery beat (scheduler)"}
_last_beat: dict[str, float] = {}
logger = logging.getLogger(__name__)


def heartbeat(name: str) -> None:
    """Record that ``name`` is alive, at most once every few seconds per process."""
    now = time.monotonic()
    if now - _last_beat.get(name, -EVERY_SECONDS) < EVERY_SECONDS:
        return
    _last_beat[name] = now
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


def _worker_beat() -> None:
    try:
        Heartbeat.objects.update_or_create(
            name="worker", defaults={"seen_at": timezone.now()}
        )
    except Exception:  # a database outage is /healthz's to report, not a crash
        logger.warning("worker heartbeat not recorded", exc_info=True)
    finally:
        # The worker's main process holds no connection between beats: its pool
        # processes are forked from it, and a test worker's threads end with the test.
        connection.close()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """A step of the worker's consumer: beats every few seconds from the worker's
    own timer while the worker is connected to the broker, whether or not it runs
    tasks (added to the Celery app in base.apps)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        self.timer_entry: Any = None
        super().__init__(parent, **kwargs)

    def start(self, parent: Any) -> None:
        _worker_beat()
        self.timer_entry = parent.timer.call_repeatedly(EVERY_SECONDS, _worker_beat)

    def stop(self, parent: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    shutdown = stop


def heartbeats(now: dt.datetime | None = None) -> dict[str, dict[str, Any]]:
    """For each process: when it was last seen, and whether that is recent enough."""
    now = now or timezone.now()
    seen = dict(Heartbeat.objects.values_list("name", "seen_at"))
    return {
        name: {
            "label": label,
            "seen_at": seen.get(name),
            "ok": seen.get(name) is not None and now - seen[name] <= STALE_AFTER,
            "just_now": seen.get(name) is not None
            and now - seen[name] < dt.timedelta(minutes=1),
        }
        for name, label in NAMES.items()
    }


_tokens: dict[str, Any] = {}


@task_prerun.connect
def _job_acts_as_system(task_id: str = "", task: Any = None, **_: Any) -> None:
    name = getattr(task, "name", "") or "task"
    _tokens[task_id] = _acting.set((None, f"system: {name}"))


@task_postrun.connect
def _job_done(task_id: str = "", **_: Any) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        _acting.reset(token)
