"""Queueing send tasks: a range of a batch's message ids, cut into chunks, one task
a chunk. The task is named by its public name (stored in the broker's messages and in
PeriodicTask rows), so the code that queues it need not import the tasks module that
calls back into sending."""

from celery import current_app
from django.conf import settings
from django.db import transaction

SEND_MESSAGES = "messaging.tasks.send_messages"


def send_chunk(*, batch_id: int, first: int, last: int) -> None:
    """Queue one send task for the messages of batch ``batch_id`` with ids in
    first..last."""
    current_app.signature(SEND_MESSAGES, args=(batch_id, first, last)).delay()


def send_range(*, batch_id: int, low: int, high: int) -> int:
    """Queue one send task per chunk of ids in low..high of batch ``batch_id``.
    Return the task count."""
    size = settings.MESSAGING_DISPATCH_CHUNK
    count = 0
    for first in range(low, high + 1, size):
        send_chunk(batch_id=batch_id, first=first, last=min(first + size - 1, high))
        count += 1
    return count


def send_range_on_commit(*, batch_id: int, low: int, high: int) -> None:
    """Queue the send tasks of ``send_range`` once the current transaction commits:
    the messages exist for the workers only then."""
    transaction.on_commit(lambda: send_range(batch_id=batch_id, low=low, high=high))
