"""Celery entry points of the base app. Task names are public: do not rename them."""

from celery import shared_task


@shared_task(name="console.tasks.heartbeat")
def heartbeat() -> None:
    """Nothing to do: running it is the worker's heartbeat (see base.heartbeat)."""
