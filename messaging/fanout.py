"""Fan-out: one Message row per contact per send step of a run, inserted set-wise."""

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from .dispatch import dispatch_run_on_commit
from .models import Channel, Message

if TYPE_CHECKING:
    from campaigns.models import CampaignRun


def messages_create_for_run(*, run: "CampaignRun") -> int:
    """Insert the run's messages with one INSERT … SELECT per send step, from the
    group's members (listed, or matching a dynamic group's rules).

    Opted-out contacts get a ``skipped`` row, so reports show them. A row that already
    exists (same run, contact, step) is left alone. Fills the run's counters, queues
    dispatch once the transaction commits, and returns how many rows were inserted.
    """
    campaign = run.campaign
    members = campaign.group.members()
    member_sql, member_params = members.values(
        "id", "opted_out_at"
    ).query.sql_with_params()
    steps = run.flow_version.send_steps()
    channels = {step["channel_id"] for step in steps}
    missing = channels - set(
        Channel.objects.filter(pk__in=channels).values_list("pk", flat=True)
    )
    if missing:
        raise ImproperlyConfigured(
            f"Flow version {run.flow_version} sends on channel(s) "
            f"{sorted(missing)}, which no longer exist; publish the flow again."
        )
    created = 0
    now = timezone.now()
    # The dispatch task queued at commit owns the rows until then; after it, the
    # sweeper queues them again (the broker may have lost the task).
    lease_until = now + dt.timedelta(seconds=settings.MESSAGING_LEASE_SECONDS)
    with connection.cursor() as cursor:
        for step in steps:
            # Keep the WHERE: SQLite parses ON CONFLICT after a SELECT only with one.
            cursor.execute(
                f"""
                INSERT INTO {Message._meta.db_table}
                    (run_id, contact_id, step, channel_id, status, attempts,
                     body, error, provider_id, created_at, lease_until)
                SELECT %s, m.id, %s, %s,
                       CASE WHEN m.opted_out_at IS NULL THEN %s ELSE %s END,
                       0, '', '', '', %s, %s
                FROM ({member_sql}) m
                WHERE TRUE
                ORDER BY m.id
                ON CONFLICT DO NOTHING
                """,
                [
                    run.pk,
                    step["id"],
                    step["channel_id"],
                    Message.Status.QUEUED,
                    Message.Status.SKIPPED,
                    # Raw SQL skips the field's conversion; SQLite stores text, so
                    # it must match the ORM's format to compare correctly.
                    connection.ops.adapt_datetimefield_value(now),
                    connection.ops.adapt_datetimefield_value(lease_until),
                    *member_params,
                ],
            )
            created += max(cursor.rowcount, 0)
    run.recipients = members.count()
    run.skipped = members.filter(opted_out_at__isnull=False).count()
    run.messages_created = created
    run.save(update_fields=["recipients", "skipped", "messages_created"])
    dispatch_run_on_commit(run_id=run.pk)
    return created
