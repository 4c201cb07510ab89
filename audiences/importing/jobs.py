"""Contact import jobs: analyse a file into staging rows, then apply them.

Analysing streams the file: each valid row is staged (COPY on PostgreSQL) in batches
committed as they go, so progress shows and memory stays flat; each rejected row goes
to a CSV report with its row number, column and reason. The counts of what would be
created and updated are the preview. The operator's go-ahead moves the job from
READY to APPLYING (once: a second go-ahead is refused); applying is then one
transaction of set-wise SQL: upsert the contacts (custom data merged, opt-outs never
touched), add them to the group, drop the staging rows. Nothing is written to
contacts before that transaction, so a refused, failed or cancelled import leaves
them as they were.
"""

import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from audiences.models import (
    AudienceGroup,
    Contact,
    ImportJob,
    ImportRow,
    Membership,
    Variable,
)
from base.audit import audit_record

from .converting import converted_rows
from .parallel import ImportCancelled, stage_parts, text_parts
from .readers import (
    SHEET_SUFFIXES,
    SUPPORTED,
    TEXT_SUFFIXES,
    Sheet,
    UnreadableFile,
    open_sheet,
)
from .rejects import RejectsFile
from .staging import Staged, drop_duplicates, stage_rows
from .values import (
    Column,
    ContactRow,
    RowRejected,
    cell_text,
    infer_kind,
    read_header,
)

logger = logging.getLogger(__name__)

BATCH = 5000
SAMPLE = 1000  # rows that decide the type of a new variable
Status = ImportJob.Status


class ImportRefused(Exception):
    """The import cannot go ahead as asked; the text says why."""


def import_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def file_type_problem(file_name: str) -> str:
    """Why a file of this name cannot be imported, or "" when its type is read."""
    if Path(file_name).suffix.lower() in TEXT_SUFFIXES | SHEET_SUFFIXES:
        return ""
    return f"{file_name!r} is not a file type Flowcast reads; use one of: {SUPPORTED}."


def new_group_problem(name: str) -> str:
    """Why a new group cannot take this name, or "" when it can."""
    name = " ".join(name.split())
    if not name:
        return "Give the new group a name."
    limit = AudienceGroup._meta.get_field("name").max_length or 0
    if len(name) > limit:
        return f"A group's name has at most {limit} characters."
    # Names differing only in case would be told apart by nobody in a list.
    taken = AudienceGroup.objects.filter(name__iexact=name).first()
    if taken is not None:
        return (
            f"There is already a group named {taken.name!r}: choose it from the list "
            "of groups, or give the new group another name."
        )
    return ""


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
    static group named ``new_group``, created here with the job. An uploaded file
    is stored first; a path on this machine is read where it is. Raises
    ImportRefused for a file type the importer does not read, a missing file, a
    dynamic group or a new group's name that cannot be used; nothing is kept then.
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
    if isinstance(source, Path) and not source.is_file():
        raise ImportRefused(f"There is no file at {source}.")
    with transaction.atomic():
        if group is None:
            group = _group_create(name=new_group, file_name=name, actor=actor)
        if isinstance(source, Path):
            path = source.resolve()
        else:
            folder = import_dir() / uuid.uuid4().hex
            folder.mkdir(parents=True)
            path = folder / f"upload{Path(name).suffix.lower()}"
            with path.open("wb") as out:
                for chunk in source.chunks():
                    out.write(chunk)
        return ImportJob.objects.create(
            file_name=Path(name).name,
            file_path=str(path),
            file_size=path.stat().st_size,
            group=group,
            on_duplicate=on_duplicate,
            all_or_nothing=all_or_nothing,
            created_by=actor if actor is not None and actor.pk else None,
        )


def _group_create(*, name: str, file_name: str, actor: User | None) -> AudienceGroup:
    if problem := new_group_problem(name):
        raise ImportRefused(problem)
    name = " ".join(name.split())
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
        _analyse(job, on_progress)
    except UnreadableFile as exc:
        _finish(job, Status.REFUSED, error=str(exc))
    except ImportCancelled:
        _finish(job, Status.CANCELLED)
    except Exception as exc:
        logger.exception("import %s failed", job.pk)
        _finish(job, Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    finally:
        # Applying works from the staged rows and job.variables, never the file.
        import_file_remove(job)
    return job


def _analyse(job: ImportJob, on_progress: Callable[[ImportJob], None] | None) -> None:
    sheet = open_sheet(Path(job.file_path), job.file_name)
    rejects = RejectsFile(import_dir() / f"job-{job.pk}-rejected.csv", sheet.header)
    try:
        columns = read_header(sheet.header)
        sample = list(islice(sheet.rows, SAMPLE))
        _type_columns(columns, sample)
        # Applying registers new variables with these types, without reading again.
        job.variables = {
            c.name: c.kind for c in columns if c.target == "data" and c.kind
        }
        ImportJob.objects.filter(pk=job.pk).update(variables=job.variables)
        # Parts do all their own work, so they pay on every core whatever the numbers.
        parts = text_parts(sheet, settings.IMPORT_WORKERS or os.cpu_count() or 1)
        if parts:
            sheet.close()
            counts = stage_parts(
                job_id=job.pk,
                columns=columns,
                sheet=sheet,
                parts=parts,
                rejects=rejects,
                report=lambda progress: _report(job, progress, rejects, on_progress),
            )
            job.rows_read, job.rows_valid, job.rows_rejected = (
                counts["read"],
                counts["valid"],
                counts["rejected"],
            )
        else:
            rows = chain(sample, sheet.rows)
            _stage(
                job, sheet, columns, rows, rejects, on_progress, _workers_for(sample)
            )
        for number, phone, name, email, data in drop_duplicates(job.pk):
            row = ContactRow(phone=phone, name=name, email=email, data=data)
            problem = ("CONTACT", f"{phone} appears earlier in this file")
            rejects.add(number, rejects.cells_of(row), RowRejected([problem]))
            job.rows_valid -= 1
            job.rows_rejected += 1
    finally:
        sheet.close()
        rejects.close()
    job.rejections = rejects.preview
    if rejects.written:
        job.rejects_path = str(rejects.path)
    existing = (
        ImportRow.objects.filter(job=job)
        .filter(phone__in=Contact.objects.values("phone"))
        .count()
    )
    job.to_update = existing
    job.to_create = job.rows_valid - existing
    job.progress = 1.0
    if job.rows_valid == 0 and job.rows_rejected == 0:
        raise UnreadableFile("The file has a header but no contacts.")
    if job.all_or_nothing and job.rows_rejected:
        _finish(
            job,
            Status.REFUSED,
            error=f"{job.rows_rejected} rows were rejected and the import was asked to "
            "be all or nothing: nothing was imported.",
        )
        return
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


def _workers_for(sample: list[tuple[int, list[Any]]]) -> int:
    """IMPORT_WORKERS, or when it is 0: one process for numbers written +E.164 (their
    check is cheap; shipping rows to other processes would cost more), one per core
    for numbers that need phonenumbers' full parser."""
    if settings.IMPORT_WORKERS:
        return int(settings.IMPORT_WORKERS)
    phones = [cell_text(cells[0]) for _, cells in sample if cells]
    e164 = sum(1 for phone in phones if phone.startswith("+"))
    return 1 if e164 >= 0.9 * len(phones) else (os.cpu_count() or 1)


def _type_columns(columns: list[Column], sample: list[tuple[int, list[Any]]]) -> None:
    data_columns = [column for column in columns if column.target == "data"]
    known = dict(
        Variable.objects.filter(name__in=[c.name for c in data_columns]).values_list(
            "name", "kind"
        )
    )
    for column in data_columns:
        column.kind = known.get(column.name) or infer_kind(
            cells[column.index] for _, cells in sample if column.index < len(cells)
        )


def _stage(
    job: ImportJob,
    sheet: Sheet,
    columns: list[Column],
    rows: Iterator[tuple[int, list[Any]]],
    rejects: RejectsFile,
    on_progress: Callable[[ImportJob], None] | None,
    workers: int,
) -> None:
    batch: list[Staged] = []
    for number, cells, outcome in converted_rows(rows, columns, workers):
        job.rows_read += 1
        if isinstance(outcome, list):
            job.rows_rejected += 1
            rejects.add(number, cells or [], RowRejected(outcome))
        else:
            job.rows_valid += 1
            batch.append(
                (
                    job.pk,
                    number,
                    outcome.phone,
                    outcome.name,
                    outcome.email,
                    outcome.data,
                )
            )
        # Every BATCH rows read, valid or not: a file of mostly rejected rows shows
        # its progress and heeds a cancel too.
        if job.rows_read % BATCH == 0:
            stage_rows(batch)
            if _report(job, sheet.progress(), rejects, on_progress):
                raise ImportCancelled
    stage_rows(batch)
    if _report(job, sheet.progress(), rejects, on_progress):
        raise ImportCancelled


def _report(
    job: ImportJob,
    progress: float,
    rejects: RejectsFile,
    on_progress: Callable[[ImportJob], None] | None,
) -> bool:
    """Show progress on the job; return True when the operator asked to cancel."""
    job.progress = progress
    job.rejections = rejects.preview
    ImportJob.objects.filter(pk=job.pk).update(
        progress=job.progress,
        rows_read=job.rows_read,
        rows_valid=job.rows_valid,
        rows_rejected=job.rows_rejected,
        rejections=job.rejections,
        progressed_at=timezone.now(),
    )
    if on_progress:
        on_progress(job)
    return ImportJob.objects.filter(pk=job.pk, cancel_requested=True).exists()


def _finish(job: ImportJob, status: str, *, error: str = "") -> None:
    ImportRow.objects.filter(job=job).delete()
    _audit_status(job, job.status, status, error)
    job.status = status
    job.error = error
    job.finished_at = job.progressed_at = timezone.now()
    job.save()


def _audit_status(job: ImportJob, old: str, new: str, note: str = "") -> None:
    """The worker's own moves of a job, in the trail like the operator's (the
    actor is the task, set by base.heartbeat)."""
    audit_record(
        action="status", target=job, changes={"status": [old, new]}, note=note[:500]
    )
    _vacuum_staging(job.rows_valid)


def import_job_confirm(*, job_id: int, actor: User | None = None) -> ImportJob:
    """The operator's go-ahead: move a READY job to APPLYING, for a worker to apply
    with import_job_apply. Of two go-aheads only one moves it; the other is refused
    (ImportRefused), so the contacts are queued to be written once."""
    with transaction.atomic():
        if not ImportJob.objects.filter(pk=job_id, status=Status.READY).update(
            status=Status.APPLYING, progressed_at=timezone.now()
        ):
            raise ImportRefused(_not_ready(ImportJob.objects.get(pk=job_id)))
        job = ImportJob.objects.select_related("group").get(pk=job_id)
        audit_record(
            action="status",
            target=job,
            changes={"status": [Status.READY, Status.APPLYING]},
            actor=actor,
        )
    return job


def _not_ready(job: ImportJob) -> str:
    if job.status == Status.APPLYING:
        return (
            "The contacts of this import are being imported already; the page shows "
            "when they are in."
        )
    if job.status == Status.DONE:
        return "This import is done already: its contacts are in the group."
    return (
        f"This import is {job.get_status_display().lower()}; only an import that is "
        "ready can be imported."
    )


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
        if ImportJob.objects.filter(
            pk=job_id, status__in=(Status.READY, Status.APPLYING)
        ).update(status=Status.FAILED, error=error, finished_at=timezone.now()):
            ImportRow.objects.filter(job_id=job_id).delete()
            _audit_status(
                ImportJob.objects.get(pk=job_id), Status.APPLYING, Status.FAILED, error
            )
        raise


def _apply(job_id: int) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status not in (Status.READY, Status.APPLYING):
            raise ImportRefused(_not_ready(job))
        if connection.vendor == "postgresql":
            # The upsert sorts and the membership insert hash-joins a million rows;
            # with the default 4 MB both spill to disk and run several times slower.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '256MB'")
        _register_variables(job)
        staged = ImportRow.objects.filter(job=job)
        job.created, job.updated, members_added = _upsert_contacts(job)
        job.unchanged = job.rows_valid - job.created - job.updated
        if members_added < job.rows_valid:
            # Contacts the upsert left alone (unchanged, or kept by "ignore") join
            # the group through their phone numbers.
            _add_members(job)
        staged.delete()
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
    _vacuum_staging(job.rows_valid)
    logger.info(
        "import %s into %r: %d created, %d updated, %d unchanged, %d rejected",
        job.pk,
        job.group.name,
        job.created,
        job.updated,
        job.unchanged,
        job.rows_rejected,
    )
    return job


# Staged rows are deleted once applied. After a big import, their dead row versions
# would make the next import's scans and ANALYZE of the staging table read them
# all until autovacuum comes round (a minute or more): clear them at once.
VACUUM_AFTER_ROWS = 50_000


def _vacuum_staging(rows: int) -> None:
    if (
        rows >= VACUUM_AFTER_ROWS
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    ):
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {ImportRow._meta.db_table}")


def _register_variables(job: ImportJob) -> None:
    for name, kind in job.variables.items():
        Variable.objects.get_or_create(name=name, defaults={"kind": kind})


def _upsert_contacts(job: ImportJob) -> tuple[int, int, int]:
    """Insert new contacts and merge existing ones per the duplicate policy; return
    (created, updated, memberships added for them)."""
    contact, staging = Contact._meta.db_table, ImportRow._meta.db_table
    membership = Membership._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    if job.on_duplicate == ImportJob.OnDuplicate.IGNORE:
        on_conflict = "DO NOTHING"
    else:
        if connection.vendor == "postgresql":
            merged, distinct = f"{contact}.data || EXCLUDED.data", "IS DISTINCT FROM"
            old_data = f"{contact}.data"
        else:
            merged, distinct = f"json_patch({contact}.data, EXCLUDED.data)", "IS NOT"
            old_data = f"json({contact}.data)"
        name = (
            f"CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE {contact}.name END"
        )
        email = (
            f"CASE WHEN EXCLUDED.email <> '' THEN EXCLUDED.email "
            f"ELSE {contact}.email END"
        )
        # Rows that would not change are left alone: a re-import writes nothing.
        on_conflict = f"""DO UPDATE SET data = {merged}, name = {name}, email = {email},
                updated_at = EXCLUDED.updated_at
            WHERE {merged} {distinct} {old_data}
               OR {name} {distinct} {contact}.name
               OR {email} {distinct} {contact}.email"""
    # Keep the WHERE: SQLite parses ON CONFLICT after a SELECT only with one.
    # ORDER BY phone takes row locks in one order, so concurrent imports of
    # overlapping files cannot deadlock.
    upsert = f"""
        INSERT INTO {contact}
            (phone, name, email, data, opt_out_source, created_at, updated_at)
        SELECT phone, name, email, data, '', %s, %s
        FROM {staging} WHERE job_id = %s ORDER BY phone
        ON CONFLICT (phone) {on_conflict}
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement writes the contacts and the memberships of those it
            # wrote, from the ids it returns: no join of the staged rows with the
            # contacts table. A row inserted here has no xmax; an updated one has.
            cursor.execute(
                f"""
                WITH written AS ({upsert} RETURNING id, xmax = 0 AS inserted),
                added AS (
                    INSERT INTO {membership} (group_id, contact_id, added_at)
                    SELECT %s, id, %s FROM written ORDER BY id
                    ON CONFLICT DO NOTHING
                )
                SELECT count(*) FILTER (WHERE inserted),
                       count(*) FILTER (WHERE NOT inserted)
                FROM written
                """,
                [now, now, job.pk, job.group_id, now],
            )
            created, updated = cursor.fetchone()
            return created, updated, created + updated
        existing = (
            ImportRow.objects.filter(job=job)
            .filter(phone__in=Contact.objects.values("phone"))
            .count()
        )
        cursor.execute(upsert, [now, now, job.pk])
        created = job.rows_valid - existing
        return created, max(cursor.rowcount, 0) - created, 0


def _add_members(job: ImportJob) -> None:
    membership, contact = Membership._meta.db_table, Contact._meta.db_table
    staging = ImportRow._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # In contact order, the (group, contact) and contact indexes grow at their ends
    # instead of taking a million inserts at random places.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Fresh staging rows have no statistics: without them the planner
            # expects one row and picks a million index lookups over a hash join.
            cursor.execute(f"ANALYZE {staging}")
        cursor.execute(
            f"""
            INSERT INTO {membership} (group_id, contact_id, added_at)
            SELECT %s, c.id, %s FROM {staging} s JOIN {contact} c ON c.phone = s.phone
            WHERE s.job_id = %s
            ORDER BY c.id
            ON CONFLICT DO NOTHING
            """,
            [job.group_id, now, job.pk],
        )


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
    import_file_remove(job)
    _vacuum_staging(job.rows_valid)
    job.refresh_from_db()
    return job


def import_file_remove(job: ImportJob) -> None:
    """Delete an uploaded file once its job is over (files given by path are kept)."""
    path = Path(job.file_path)
    if import_dir() in path.parents:
        shutil.rmtree(path.parent, ignore_errors=True)
