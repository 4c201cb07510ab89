"""What imports tell the event stream (stream.emitting): an import finished
(imported, refused, failed or cancelled), emitted in the transaction that gives the
job its final status."""

from collections.abc import Iterator

from audiences.models import ImportJob
from stream.emitting import NewEvent, emit_many
from stream.models import EventType


def import_finished_emit(*, job_id: int) -> int:
    """Emit import.finished for the job as it is now, with its counts (call inside
    the transaction that finished it)."""

    def events() -> Iterator[NewEvent]:
        job = ImportJob.objects.select_related("group").filter(pk=job_id).first()
        if job is None:
            return
        yield NewEvent(
            EventType.IMPORT_FINISHED,
            {
                "import": job.pk,
                "file": job.file_name,
                "status": job.status,
                "group": (
                    {"id": job.group_id, "name": job.group.name}
                    if job.group is not None
                    else {"id": None, "name": job.new_group}
                ),
                "rows_read": job.rows_read,
                "rows_valid": job.rows_valid,
                "rows_rejected": job.rows_rejected,
                "created": job.created,
                "updated": job.updated,
                "unchanged": job.unchanged,
                "error": job.error or None,
                "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            },
        )

    return emit_many(events=events())
