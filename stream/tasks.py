"""Celery entry points of the event stream: ids in, one call, nothing else.

Task names are public (stored in PeriodicTask rows and queued messages): do not
rename them.
"""

from celery import shared_task

from . import delivery, retention, sweep


@shared_task(name="stream.tasks.deliver")
def deliver(endpoint_id: int) -> dict[str, int]:
    report = delivery.endpoint_deliver(endpoint_id=endpoint_id)
    return {
        "delivered": report.delivered,
        "retrying": report.retrying,
        "failed": report.failed,
    }


@shared_task(name="stream.tasks.sweep")
def sweep_deliveries() -> int:
    return sweep.deliveries_sweep().kicked


@shared_task(name="stream.tasks.prune")
def prune() -> int:
    return retention.events_prune()
