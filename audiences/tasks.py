"""Celery entry points of audiences: ids in, one call. Task names are public."""

from celery import shared_task

from .events import events_prune
from .importing import import_job_analyse, import_job_apply
from .importing.sweep import import_jobs_sweep


@shared_task(name="audiences.tasks.analyse_import")
def analyse_import(job_id: int) -> str:
    return import_job_analyse(job_id=job_id).status


@shared_task(name="audiences.tasks.apply_import")
def apply_import(job_id: int) -> str:
    """Write the contacts of a job the operator confirmed (now APPLYING)."""
    return import_job_apply(job_id=job_id).status


@shared_task(name="audiences.tasks.sweep_imports")
def sweep_imports() -> dict[str, list[int]]:
    """Queue again the imports whose worker was lost and that can start over; the
    sweep ends the others failed."""
    swept = import_jobs_sweep()
    for job_id in swept.analyse:
        analyse_import.delay(job_id)
    for job_id in swept.apply:
        apply_import.delay(job_id)
    return {
        "analyse": swept.analyse,
        "apply": swept.apply,
        "failed": swept.failed,
        "cancelled": swept.cancelled,
    }


@shared_task(name="audiences.tasks.prune_events")
def prune_events() -> int:
    """Delete the events older than EVENTS_RETENTION_DAYS; return how many."""
    return events_prune()
