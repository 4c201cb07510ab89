"""Imports whose worker was lost (SPEC A4), found by the age of their progress mark.

A worker killed in the middle of an import, or a task the broker lost, would leave
the job's page showing its progress for ever. What happens to a job that has not
moved on for IMPORT_STALLED_SECONDS follows from what it had written:

- Queued: no worker has started reading it. Reading starts with a conditional move
  out of QUEUED, so the job is simply queued again; a copy of the task still in the
  queue then finds it started and does nothing.
- Reading the file: only staging rows were written, never contacts. The job ends
  FAILED, saying how far the reading got; its staged rows are dropped.
- Importing: the contacts are written in one transaction, which the database rolls
  back when the worker's session is lost, and the staged rows stay until it commits.
  So nothing of a lost try was kept and the job is queued again, until workers have
  been lost while writing it APPLY_ATTEMPTS times; then it ends FAILED. A try still
  writing holds the job's row locked (import_job_apply), and on PostgreSQL such a job
  is never taken for lost, however long the writing takes.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audiences.models import ImportJob, ImportRow
from base.audit import audit_record

from .files import import_dir, import_file_remove
from .streaming import import_finished_emit

logger = logging.getLogger(__name__)

Status = ImportJob.Status
# Workers lost while writing one job before it is given up.
APPLY_ATTEMPTS = 3


@dataclass
class Swept:
    """The ids of the jobs to queue again (for the caller to queue), and the rest."""

    analyse: list[int] = field(default_factory=list)
    apply: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)


def import_jobs_sweep(*, now: dt.datetime | None = None) -> Swept:
    """Deal with each running import that has not moved on for IMPORT_STALLED_SECONDS:
    mark those to queue again as moved on now and return their ids, end the others
    FAILED (or CANCELLED, when the operator had asked for it) with the reason on the
    job. Every change is recorded in the audit trail. Safe to run concurrently: each
    job is taken by a conditional update or under its row lock."""
    now = now or timezone.now()
    stalled_after = dt.timedelta(seconds=settings.IMPORT_STALLED_SECONDS)
    cutoff = now - stalled_after
    minutes = round(stalled_after.total_seconds() / 60)
    swept = Swept()
    stalled = ImportJob.objects.filter(progressed_at__lt=cutoff).order_by("pk")
    for job_id in stalled.filter(status=Status.QUEUED).values_list("pk", flat=True):
        with transaction.atomic():
            if ImportJob.objects.filter(
                pk=job_id, status=Status.QUEUED, progressed_at__lt=cutoff
            ).update(progressed_at=now):
                _record(
                    job_id,
                    note=f"queued again: no worker had started reading it in "
                    f"{minutes} minutes",
                )
                swept.analyse.append(job_id)
    for job_id in stalled.filter(status=Status.ANALYSING).values_list("pk", flat=True):
        _end_reading(job_id, cutoff, now, swept)
    for job_id in stalled.filter(status=Status.APPLYING).values_list("pk", flat=True):
        _retry_writing(job_id, cutoff, now, minutes, swept)
    return swept


def _end_reading(
    job_id: int, cutoff: dt.datetime, now: dt.datetime, swept: Swept
) -> None:
    job = ImportJob.objects.get(pk=job_id)
    if job.cancel_requested:
        status, error = Status.CANCELLED, ""
    else:
        status, error = Status.FAILED, _reading_lost(job)
    with transaction.atomic():
        # The worker may have reported progress since the job was read: then it lives.
        if not ImportJob.objects.filter(
            pk=job_id, status=Status.ANALYSING, progressed_at__lt=cutoff
        ).update(status=status, error=error, finished_at=now, progressed_at=now):
            return
        ImportRow.objects.filter(job_id=job_id).delete()
        _record(
            job_id,
            changes={"status": [Status.ANALYSING, status]},
            note="its worker was lost while reading the file"
            + (", after the import was cancelled" if job.cancel_requested else ""),
        )
        import_finished_emit(job_id=job_id)
    import_file_remove(job)
    for leftover in import_dir().glob(f"job-{job_id}-rejected.*"):
        leftover.unlink(missing_ok=True)
    (swept.cancelled if status == Status.CANCELLED else swept.failed).append(job_id)
    logger.warning("import %s: worker lost while reading; %s", job_id, status)


def _reading_lost(job: ImportJob) -> str:
    if job.rows_read:
        where = f"after {job.rows_read:,} rows"
    else:
        where = f"{round(job.progress * 100)}% into the file"
    return (
        f"The import stopped: the worker reading the file was lost {where}. Nothing "
        "was imported (contacts are written only once the whole file is read and the "
        "import confirmed). Import the file again to start over."
    )


def _retry_writing(
    job_id: int, cutoff: dt.datetime, now: dt.datetime, minutes: int, swept: Swept
) -> None:
    with transaction.atomic():
        # A worker writing the job holds its row: skipped, it is alive.
        job = (
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, status=Status.APPLYING, progressed_at__lt=cutoff)
            .first()
        )
        if job is None:
            return
        if job.apply_attempts < APPLY_ATTEMPTS:
            job.progressed_at = now
            job.save(update_fields=["progressed_at"])
            _record(
                job_id,
                note=f"queued again: it had not moved on in {minutes} minutes (its "
                "worker was lost, or none had taken it yet); the contacts are written "
                "all at once or not at all, so nothing of an earlier try was kept",
            )
            swept.apply.append(job_id)
            return
        job.status = Status.FAILED
        job.error = (
            "The import stopped: the worker writing the contacts was lost "
            f"{job.apply_attempts} times. Nothing was imported (the contacts are "
            "written all at once or not at all). Import the file again to start over."
        )
        job.finished_at = job.progressed_at = now
        job.save(update_fields=["status", "error", "finished_at", "progressed_at"])
        ImportRow.objects.filter(job_id=job_id).delete()
        _record(
            job_id,
            changes={"status": [Status.APPLYING, Status.FAILED]},
            note=f"its workers were lost {job.apply_attempts} times while writing the "
            "contacts; nothing was imported",
        )
        import_finished_emit(job_id=job_id)
    swept.failed.append(job_id)
    logger.warning("import %s: workers lost while writing; failed", job_id)


def _record(job_id: int, **entry: Any) -> None:
    job = ImportJob.objects.select_related("group").get(pk=job_id)
    audit_record(
        action="status" if "changes" in entry else "change", target=job, **entry
    )
