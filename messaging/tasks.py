"""Celery entry points of messaging: ids in, one call, nothing else.

Task names are public (stored in PeriodicTask rows): do not rename them.
"""

from celery import shared_task

from . import dispatch, retention


@shared_task(name="messaging.tasks.send_messages")
def send_messages(run_id: int | None, first_id: int, last_id: int) -> dict[str, int]:
    report = dispatch.messages_send_range(
        run_id=run_id, first_id=first_id, last_id=last_id
    )
    return {
        "sent": report.sent,
        "failed": report.failed,
        "retrying": report.retrying,
        "deferred": report.deferred,
        "skipped": report.skipped,
    }


@shared_task(name="messaging.tasks.prune")
def prune() -> int:
    return retention.messages_prune()


@shared_task(name="messaging.tasks.sweep")
def sweep() -> int:
    return dispatch.messages_sweep()
