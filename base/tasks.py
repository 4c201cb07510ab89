"""Celery entry points of the base app. Task names are public: do not rename them."""

from celery import shared_task


@shared_task(name="console.tasks.heartbeat")
def heartbeat() -> None:
    """Nothing to do. Beat used to queue it to keep an idle worker's heartbeat fresh;
    workers now beat from a timer of their own (base.heartbeat). Kept for the tasks
    of it still in a broker."""
