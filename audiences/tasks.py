"""Celery entry points of audiences: ids in, one call. Task names are public."""

from celery import shared_task

from .importing import import_job_analyse, import_job_apply


@shared_task(name="audiences.tasks.analyse_import")
def analyse_import(job_id: int) -> str:
    return import_job_analyse(job_id=job_id).status


@shared_task(name="audiences.tasks.apply_import")
def apply_import(job_id: int) -> str:
    """Write the contacts of a job the operator confirmed (now APPLYING)."""
    return import_job_apply(job_id=job_id).status
