"""Celery entry points of campaigns: ids in, one call, nothing else.

Task names are public: ``campaigns.tasks.tick`` is stored in every campaign's
PeriodicTask row. Do not rename them.
"""

from celery import shared_task

from . import bulk, clock, counting, runs, stalls


@shared_task(name="campaigns.tasks.tick")
def tick(campaign_id: int) -> int | None:
    """One beat tick of a campaign. Return the id of the run it opened, if any."""
    run = runs.campaign_tick(campaign_id=campaign_id)
    return run.pk if run else None


@shared_task(name="campaigns.tasks.advance_lifecycles")
def advance_lifecycles() -> tuple[int, int]:
    started_ended = clock.campaigns_advance()
    runs.runs_mark_done()
    bulk.bulk_messages_close()
    return started_ended


@shared_task(name="campaigns.tasks.count_runs")
def count_runs() -> int:
    return counting.runs_recount()


@shared_task(name="campaigns.tasks.check_stalls")
def check_stalls() -> tuple[int, int]:
    """Flag runs that stopped moving, clear those moving again: (flagged, cleared)."""
    found = stalls.runs_check_stalls()
    return found.stalled, found.recovered
