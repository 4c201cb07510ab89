"""What campaigns tell the event stream (stream.emitting): a run finished (done,
cancelled by Finish, or skipped), emitted in the transaction that gives it its
final status."""

from collections.abc import Iterator

from stream.emitting import NewEvent, emit_many
from stream.models import EventType

from .models import CampaignRun


def runs_finished_emit(*, run_ids: list[int]) -> int:
    """Emit run.finished for each run, as it is now (call after its final status
    and counts are written, inside that transaction)."""

    def events() -> Iterator[NewEvent]:
        runs = CampaignRun.objects.filter(pk__in=run_ids).select_related("campaign")
        for run in runs.order_by("id"):
            yield NewEvent(
                EventType.RUN_FINISHED,
                {
                    "run": run.pk,
                    "campaign": {"id": run.campaign_id, "name": run.campaign.name},
                    "status": run.status,
                    "scheduled_for": run.scheduled_for.isoformat(),
                    "started_at": run.started_at.isoformat(),
                    "finished_at": (
                        run.finished_at.isoformat() if run.finished_at else None
                    ),
                    "recipients": run.recipients,
                    "messages": run.messages_created,
                    "opted_out_skipped": run.skipped,
                    "counts": run.counts,
                    "note": run.note or None,
                },
            )

    if not run_ids:
        return 0
    return emit_many(events=events())
