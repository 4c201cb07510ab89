"""Celery entry points of messaging: ids in, one call, nothing else.

Task names are public (stored in PeriodicTask rows and queued messages): do not
rename them.
"""

from celery import shared_task

from . import credentials, retention, sending, sweep


@shared_task(name="messaging.tasks.send_messages")
def send_messages(batch_id: int, first_id: int, last_id: int) -> dict[str, int]:
    report = sending.messages_send_range(
        batch_id=batch_id, first_id=first_id, last_id=last_id
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


@shared_task(name="messaging.tasks.drop_expired_secrets")
def drop_expired_secrets() -> int:
    return credentials.expired_secrets_drop()


@shared_task(name="messaging.tasks.sweep")
def sweep_messages() -> int:
    return sweep.messages_sweep()
