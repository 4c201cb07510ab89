"""Celery entry points of flows: one call each, nothing else.

Task names are public (stored in PeriodicTask rows): do not rename them.
"""

from celery import shared_task

from . import engine, retention, triggers


@shared_task(name="flows.tasks.advance_journeys")
def advance_journeys() -> int:
    """Carry on the journeys whose wait is over."""
    return engine.journeys_advance()


@shared_task(name="flows.tasks.enter_audiences")
def enter_audiences() -> int:
    """Put audience flows' groups on their flows, once per period."""
    return triggers.audiences_enter_due()


@shared_task(name="flows.tasks.prune_journeys")
def prune_journeys() -> int:
    """Delete journeys ended before the messages' retention, none of whose
    messages is left."""
    return retention.journeys_prune()
