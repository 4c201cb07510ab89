from typing import Any

from django_celery_beat.schedulers import DatabaseScheduler

from .heartbeat import heartbeat


class HeartbeatScheduler(DatabaseScheduler):
    """django-celery-beat's scheduler, beating on each pass of its loop."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        heartbeat("beat")
        return float(super().tick(*args, **kwargs))
