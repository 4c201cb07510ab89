"""Heartbeats of the background processes, for the dashboard and /healthz.

Workers beat after the tasks they run (beat queues one every 15 seconds, so an idle
worker still beats); beat beats from its scheduler loop (base.beat).
"""

import datetime as dt
import time
from typing import Any

from celery.signals import task_postrun, task_prerun
from django.utils import timezone

from .audit import _acting
from .models import Heartbeat

EVERY_SECONDS = 10.0
# Older than this, a process is reported as not seen.
STALE_AFTER = dt.timedelta(seconds=90)
NAMES = {"worker": "Celery worker", "beat": "Celery beat (scheduler)"}
_last_beat: dict[str, float] = {}


def heartbeat(name: str) -> None:
    """Record that ``name`` is alive, at most once every few seconds per process."""
    now = time.monotonic()
    if now - _last_beat.get(name, -EVERY_SECONDS) < EVERY_SECONDS:
        return
    _last_beat[name] = now
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


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
def _worker_beats(task_id: str = "", **_: Any) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        _acting.reset(token)
    heartbeat("worker")
