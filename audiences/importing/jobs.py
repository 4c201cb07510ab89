"""Contact import jobs: the steps that take a job from its file to its contacts,
the only writers of its status but for the sweeper (sweep.py).

A job is created QUEUED with its file. Analysing (analysing.py) stages the file's
valid rows and counts what applying would do, leaving the job READY. The operator's
go-ahead moves it from READY to APPLYING (once: a second go-ahead is refused);
applying (applying.py) is then one transaction of set-wise SQL. Nothing is written
to contacts before that transaction, so a refused, failed or cancelled import leaves
them as they were.
"""

import logging
from collections.abc import Callable
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audiences.models import AudienceGroup, ImportJob, ImportRow
from base.audit import audit_record

from .analysing import import_file_analyse
from .applying import staged_contacts_write
from .files import import_file_remove, import_file_store
from .parallel import ImportCancelled
from .readers import READ_ERRORS, reading_problem
from .refusals import (
    ImportRefused,
    file_type_problem,
    new_group_problem,
    not_ready_problem,
)
from .staging import staging_vacuum
from .streaming import import_finished_emit

logger = logging.getLogger(__name__)

Status = ImportJob.Status


def import_job_create(
    *,
    source: Path | UploadedFile,
    group: AudienceGroup | None = None,
    new_group: str = "",
    on_duplicate: str = ImportJob.OnDuplicate.UPDATE,
    all_or_nothing: bool = False,
    actor: User | None = None,
) -> ImportJob:
    """Register a file to import into ``group``, a static group, or into a new
    static group named ``new_group``, created when the contacts are imported (a
    refused, failed or cancelled import leaves none behind). An uploaded file is
    stored first; a path on this machine is read where it is. Raises ImportRefused
    for a file type the importer does not read, a missing file, a dynamic group or
    a new group's name that cannot be used; nothing is kept then.
    """
    name = source.name if isinstance(source, Path) else (source.name or "upload")
    if problem := file_type_problem(name):
        raise ImportRefused(problem)
    if (group is None) == (not new_group.strip()):
        raise ImportRefused("Give either a group or the name of a new one.")
    if group is not None and group.kind != AudienceGroup.Kind.STATIC:
        raise ImportRefused(
            f"{group.name!r} is a dynamic group: its contacts are the ones matching "
            "its conditions. Import into a static group."
        )
    if group is None and (problem := new_group_problem(new_group)):
        raise ImportRefused(problem)
    if isinstance(source, Path) and not source.is_file():
        raise ImportRefused(f"There is no file at {source}.")
    if isinstance(source, Path):
        path = source.resolve()
    else:
        path = import_file_store(source, name)
    return ImportJob.objects.create(
        file_name=Path(name).name,
        file_path=str(path),
        file_size=path.stat().st_size,
        group=group,
        new_group=" ".join(new_group.split()) if group is None else "",
        on_duplicate=on_duplicate,
        all_or_nothing=all_or_nothing,
        created_by=actor if actor is not None and actor.pk else None,
    )


def _group_create(*, name: str, file_name: str, actor: User | None) -> AudienceGroup:
    if problem := new_group_problem(name):
        raise ImportRefused(problem)
    try:
        with transaction.atomic():
            group = AudienceGroup.objects.create(
                name=name, kind=AudienceGroup.Kind.STATIC
            )
    except IntegrityError:
        # Taken between the check and the insert, by another operator.
        raise ImportRefused(new_group_problem(name) or f"{name!r} is taken.") from None
    audit_record(
        action="create",
        target=group,
        note=f"for the import of {Path(file_name).name}",
        actor=actor,
    )
    return group


def import_job_analyse(
    *, job_id: int, on_progress: Callable[[ImportJob], None] | None = None
) -> ImportJob:
    """Read the job's file into staging rows and count what applying would do.

    Ends READY, or REFUSED (bad file, or rejected rows under all-or-nothing),
    CANCELLED or FAILED. Does nothing unless the job is QUEUED.
    """
    if not ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.ANALYSING, progressed_at=timezone.now()
    ):
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.get(pk=job_id)
    try:
        import_file_analyse(job, on_progress)
        if job.all_or_nothing and job.rows_rejected:
            _finish(
                job,
                Status.REFUSED,
                error=f"{job.rows_rejected} rows were rejected and the import was "
                "asked to be all or nothing: nothing was imported.",
            )
        else:
            _ready(job, on_progress)
    except READ_ERRORS as exc:
        _finish(job, Status.REFUSED, error=reading_problem(exc))
    except ImportCancelled:
        _finish(job, Status.CANCELLED)
    except Exception as exc:
        logger.exception("import %s failed", job.pk)
        _finish(job, Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    finally:
        # Applying works from the staged rows and job.variables, never the file.
        import_file_remove(job)
    return job


def _ready(job: ImportJob, on_progress: Callable[[ImportJob], None] | None) -> None:
    _audit_status(
        job,
        job.status,
        Status.READY,
        f"{job.rows_valid} rows to import, {job.rows_rejected} rejected",
    )
    job.status = Status.READY
    job.progressed_at = timezone.now()
    job.save()
    if on_progress:
        on_progress(job)


def _finish(job: ImportJob, status: str, *, error: str = "") -> None:
    with transaction.atomic():
        ImportRow.objects.filter(job=job).delete()
        _audit_status(job, job.status, status, error)
        job.status = status
        job.error = error
        job.finished_at = job.progressed_at = timezone.now()
        job.save()
        import_finished_emit(job_id=job.pk)


def _audit_status(job: ImportJob, old: str, new: str, note: str = "") -> None:
    """The worker's own moves of a job, in the trail like the operator's (the
    actor is the task, set by base.heartbeat)."""
    audit_record(
        action="status", target=job, changes={"status": [old, new]}, note=note[:500]
    )
    staging_vacuum(job.rows_valid)


def import_job_confirm(*, job_id: int, actor: User | None = None) -> ImportJob:
    """The operator's go-ahead: move a READY job to APPLYING, for a worker to apply
    with import_job_apply. Of two go-aheads only one moves it; the other is refused
    (ImportRefused), so the contacts are queued to be written once."""
    with transaction.atomic():
        if not ImportJob.objects.filter(pk=job_id, status=Status.READY).update(
            status=Status.APPLYING, progressed_at=timezone.now()
        ):
            raise ImportRefused(not_ready_problem(ImportJob.objects.get(pk=job_id)))
        job = ImportJob.objects.select_related("group").get(pk=job_id)
        audit_record(
            action="status",
            target=job,
            changes={"status": [Status.READY, Status.APPLYING]},
            actor=actor,
        )
    return job


def import_job_apply(*, job_id: int) -> ImportJob:
    """Write the staged rows of an APPLYING job (or a READY one, the shell's way,
    without a separate go-ahead) to contacts and the group, in one transaction.

    Raises ImportRefused for a job in any other status. Should the writing fail,
    nothing of it is kept, the job ends FAILED with the reason, and the error is
    raised again. Each try is counted on the job before it starts writing, where
    the sweeper (audiences.importing.sweep) sees it should the worker be lost.
    """
    ImportJob.objects.filter(
        pk=job_id, status__in=(Status.READY, Status.APPLYING)
    ).update(apply_attempts=F("apply_attempts") + 1, progressed_at=timezone.now())
    try:
        return _apply(job_id)
    except ImportRefused:
        raise
    except Exception as exc:
        logger.exception("import %s failed while applying", job_id)
        error = f"Nothing was imported: {type(exc).__name__}: {exc}"
        with transaction.atomic():
            if ImportJob.objects.filter(
                pk=job_id, status__in=(Status.READY, Status.APPLYING)
            ).update(status=Status.FAILED, error=error, finished_at=timezone.now()):
                ImportRow.objects.filter(job_id=job_id).delete()
                _audit_status(
                    ImportJob.objects.get(pk=job_id),
                    Status.APPLYING,
                    Status.FAILED,
                    error,
                )
                import_finished_emit(job_id=job_id)
        raise


def _apply(job_id: int) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status not in (Status.READY, Status.APPLYING):
            raise ImportRefused(not_ready_problem(job))
        if job.group_id is None:
            try:
                job.group = _group_create(
                    name=job.new_group, file_name=job.file_name, actor=job.created_by
                )
            except ImportRefused as exc:
                # Named by someone else since the file was sent.
                _finish(job, Status.REFUSED, error=f"Nothing was imported: {exc}")
                return job
        staged_contacts_write(job)
        job.status = Status.DONE
        job.finished_at = job.progressed_at = timezone.now()
        job.save()
        audit_record(
            action="import",
            target=job.group,
            note=f"{job.file_name}: {job.created} contacts created, {job.updated} "
            f"updated, {job.unchanged} unchanged, {job.rows_rejected} rows rejected",
            actor=job.created_by,
        )
        import_finished_emit(job_id=job.pk)
    staging_vacuum(job.rows_valid)
    logger.info(
        "import %s into %r: %d created, %d updated, %d unchanged, %d rejected",
        job.pk,
        job.group_label,
        job.created,
        job.updated,
        job.unchanged,
        job.rows_rejected,
    )
    return job


def import_job_cancel(*, job_id: int, actor: User | None = None) -> ImportJob:
    """Stop an import before it writes contacts; nothing of it is kept. A job being
    read is asked to stop (its worker ends it CANCELLED at its next batch). Either
    is recorded in the audit trail."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status == Status.ANALYSING:
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)
            job.cancel_requested = True
            audit_record(
                action="change",
                target=job,
                note="cancel asked while the file was being read",
                actor=actor,
            )
        return job
    with transaction.atomic():
        if not ImportJob.objects.filter(
            pk=job.pk, status__in=(Status.QUEUED, Status.READY)
        ).update(status=Status.CANCELLED, finished_at=timezone.now()):
            job.refresh_from_db()
            raise ImportRefused(
                f"Import {job} is {job.get_status_display().lower()}; it can no longer "
                "be cancelled."
            )
        ImportRow.objects.filter(job=job).delete()
        audit_record(
            action="status",
            target=job,
            changes={"status": [job.status, Status.CANCELLED]},
            actor=actor,
        )
        import_finished_emit(job_id=job.pk)
    import_file_remove(job)
    staging_vacuum(job.rows_valid)
    job.refresh_from_db()
    return job
