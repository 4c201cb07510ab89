"""Analysing an import: its file read into staging rows, and counted.

The file streams: each valid row is staged (COPY on PostgreSQL) in batches committed
as they go, so progress shows and memory stays flat; each rejected row goes to a CSV
report with its row number, column and reason. The counts of what would be created
and updated are the preview the operator sees before importing.
"""

import os
from collections.abc import Callable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models.functions import Upper
from django.utils import timezone

from audiences.models import Contact, ImportJob, ImportRow, Variable

from .converting import converted_rows
from .countries import DefaultCountryNote
from .files import import_dir
from .limits import header_check, limited_rows
from .parallel import ImportCancelled, stage_parts, text_parts
from .readers import Sheet, UnreadableFile, open_sheet
from .rejects import RejectsFile
from .staging import Staged, drop_duplicates, stage_rows, staged
from .suppressing import staged_suppressed_count
from .values import Column, RowRejected, cell_text, infer_kind, read_header

BATCH = 5000
SAMPLE = 1000  # rows that decide the type of a new variable


def import_file_analyse(
    job: ImportJob, on_progress: Callable[[ImportJob], None] | None = None
) -> None:
    """Stage the valid rows of the job's file and report the rejected ones, setting
    on ``job`` (unsaved) its counts, rejections and what applying would create and
    update; progress and the file's variables are written to the job as they come.

    Raises UnreadableFile for a file that cannot be read, is over a limit
    (limits.py) or holds no contacts, and ImportCancelled when the operator cancels
    meanwhile; no file of rejected rows is left then.
    """
    sheet = open_sheet(Path(job.file_path), job.file_name)
    rejects = RejectsFile(import_dir() / f"job-{job.pk}-rejected.csv", sheet.header)
    done = False
    try:
        header_check(sheet.header)
        columns = read_header(sheet.header)
        rows = limited_rows(sheet.rows, sheet.header)
        sample = list(islice(rows, SAMPLE))
        _type_columns(columns, sample)
        # Applying registers new variables with these types, without reading again.
        job.variables = {
            c.name: c.kind for c in columns if c.target == "data" and c.kind
        }
        ImportJob.objects.filter(pk=job.pk).update(variables=job.variables)
        # Parts do all their own work, so they pay on every core whatever the numbers.
        parts = text_parts(sheet, settings.IMPORT_WORKERS or os.cpu_count() or 1)
        note = DefaultCountryNote()
        if parts:
            sheet.close()
            counts = stage_parts(
                job_id=job.pk,
                columns=columns,
                sheet=sheet,
                parts=parts,
                rejects=rejects,
                report=lambda progress, counts: _report(
                    job, progress, rejects, on_progress, counts
                ),
                note=note,
            )
            job.rows_read, job.rows_valid, job.rows_rejected = (
                counts["read"],
                counts["valid"],
                counts["rejected"],
            )
        else:
            _stage(
                job,
                sheet,
                columns,
                chain(sample, rows),
                rejects,
                on_progress,
                _workers_for(sample),
                note,
            )
        for number, row in drop_duplicates(job.pk):
            problem = ("CONTACT", f"{row.phone} appears earlier in this file")
            rejects.add(number, rejects.cells_of(row), RowRejected([problem]))
            job.rows_valid -= 1
            job.rows_rejected += 1
        job.default_country = note.as_dict()
        done = True
    finally:
        sheet.close()
        rejects.close()
        if not done:
            rejects.remove()
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
    job.to_suppress = staged_suppressed_count(job)
    job.progress = 1.0
    if job.rows_valid == 0 and job.rows_rejected == 0:
        raise UnreadableFile("The file has a header but no contacts.")


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
    """Give each data column the name and type of its variable, found whatever the
    header's case (nombre is NOMBRE), or for a new one the type its sample shows."""
    data_columns = [column for column in columns if column.target == "data"]
    wanted = {column.name.upper(): column.name for column in data_columns}
    known: dict[str, tuple[str, str]] = {}
    for name, kind in (
        Variable.objects.annotate(key=Upper("name"))
        .filter(key__in=list(wanted))
        .order_by("pk")
        .values_list("name", "kind")
    ):
        key = name.upper()
        # Of variables told apart by case alone, the one spelled as the header.
        if key not in known or name == wanted[key]:
            known[key] = (name, kind)
    for column in data_columns:
        if found := known.get(column.name.upper()):
            column.name, column.kind = found
        else:
            column.new_variable = True
            column.kind = infer_kind(
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
    note: DefaultCountryNote,
) -> None:
    batch: list[Staged] = []
    for number, cells, outcome in converted_rows(rows, columns, workers):
        job.rows_read += 1
        if isinstance(outcome, list):
            job.rows_rejected += 1
            rejects.add(number, cells or [], RowRejected(outcome))
        else:
            job.rows_valid += 1
            note.add(number, outcome)
            batch.append(staged(job.pk, number, outcome))
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
    counts: dict[str, int] | None = None,
) -> bool:
    """Show progress and the rows counted so far (``counts`` when other processes
    count them) on the job, in one update; return True when the operator asked to
    cancel."""
    if counts is not None:
        job.rows_read, job.rows_valid, job.rows_rejected = (
            counts["read"],
            counts["valid"],
            counts["rejected"],
        )
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
