"""A run's journeys and messages, set-wise: the bulk of the database."""

import datetime as dt

from bench.admin.data.runs import RunPlan
from bench.admin.db import sql, table

ERRORS = [
    "21610: Attempt to send to unsubscribed recipient",
    "30003: Unreachable destination handset",
    "30005: Unknown destination handset",
    "provider timeout after 10 s (will not retry)",
]
# Message status by a per-row hash in 0..999: (upper bound, status), per kind of run.
STATUS_MIX = {
    "done": [(650, "delivered"), (930, "sent"), (1000, "failed")],
    "running": [
        (400, "delivered"),
        (600, "sent"),
        (640, "failed"),
        (720, "deferred"),
        (1000, "queued"),
    ],
    "cancelled": [
        (500, "delivered"),
        (700, "sent"),
        (740, "failed"),
        (1000, "cancelled"),
    ],
}


def status_case(kind: str) -> str:
    """SQL: the status of a message from its hash ``h``; opted-out contacts skipped."""
    arms = " ".join(
        f"WHEN h < {bound} THEN '{status}'" for bound, status in STATUS_MIX[kind]
    )
    return f"CASE WHEN c.opted_out_at IS NOT NULL THEN 'skipped' {arms} END"


def build_run_rows(plan: RunPlan) -> tuple[int, int]:
    """A run's journeys (one per member of its group), then its messages (one per
    journey, for the flow's first send step), set-wise as the engine does."""
    from audiences.models import Contact, Membership
    from campaigns.models import CampaignRun
    from flows.models import Journey
    from messaging.models import Message

    run = plan.run
    at = run.scheduled_for
    # A running run's contacts wait on the flow's wait step; without one, they are
    # through the flow already and only their messages are still being sent.
    waiting = plan.kind == "running" and plan.wait_position is not None
    journey_status = {"done": "ended", "running": "ended", "cancelled": "cancelled"}
    reason = {
        "done": "reached the end",
        "running": "reached the end",
        "cancelled": "campaign ended",
    }
    journeys = sql(
        f"""
        WITH ins AS (
            INSERT INTO {table(Journey)}
                (flow_id, flow_version_id, cohort_id, contact_id, step, status, due_at,
                 hops, entry_key, context, entered_at, ended_at, end_reason)
            SELECT %(flow)s, %(version)s, %(cohort)s, m.contact_id, %(step)s,
                   %(status)s, %(due)s, 1, '', '{{}}', %(at)s, %(ended)s, %(reason)s
            FROM {table(Membership)} m
            WHERE m.group_id = %(group)s
            ORDER BY m.contact_id
            RETURNING 1
        )
        SELECT count(*) FROM ins
        """,
        {
            "flow": plan.flow_id,
            "version": run.flow_version_id,
            "cohort": run.cohort_id,
            "step": plan.wait_position if waiting else plan.end_position,
            "status": "active" if waiting else journey_status[plan.kind],
            "due": at + dt.timedelta(days=1) if waiting else None,
            "at": at,
            "ended": None if waiting else at + dt.timedelta(hours=1),
            "reason": "" if waiting else reason[plan.kind],
            "group": plan.group_id,
        },
    )[0][0]
    sent = "status IN ('sent', 'delivered')"
    messages, skipped = sql(
        f"""
        WITH ins AS (
            INSERT INTO {table(Message)}
                (batch_id, journey_id, contact_id, step, channel_id, status, attempts,
                 not_before, lease_until, claim_token, body, created_at, sent_at,
                 error, provider_id)
            SELECT %(batch)s, journey_id, contact_id, %(step)s, %(channel)s, status,
                CASE WHEN status = 'failed' THEN 3 WHEN {sent} THEN 1 ELSE 0 END,
                CASE WHEN status = 'deferred' THEN %(at)s + interval '1 day' END,
                CASE WHEN held THEN now() + interval '5 minutes' END,
                CASE WHEN held THEN md5(journey_id::text)::uuid END,
                CASE WHEN {sent} OR (status = 'failed' AND h %% 2 = 0)
                    THEN replace(replace(replace(%(body)s,
                        '{{{{NOMBRE}}}}', coalesce(data->>'NOMBRE', '')),
                        '{{{{MONTO}}}}', coalesce(data->>'MONTO', '')),
                        '{{{{FECHA}}}}', coalesce(data->>'FECHA', ''))
                    ELSE '' END,
                %(at)s,
                CASE WHEN {sent} OR status = 'failed'
                    THEN %(at)s + h * interval '3 seconds' END,
                CASE WHEN status = 'failed'
                    THEN (%(errors)s::text[])[1 + h %% 4] ELSE '' END,
                CASE WHEN {sent}
                    THEN 'SM' || md5(%(batch)s::text || '-' || contact_id::text)
                    ELSE '' END
            FROM (
                SELECT j.id AS journey_id, j.contact_id, c.data, x.h,
                       {status_case(plan.kind)} AS status,
                       %(running)s AND x.h >= 960 AS held
                FROM {table(Journey)} j
                JOIN {table(Contact)} c ON c.id = j.contact_id
                CROSS JOIN LATERAL (SELECT (j.id * 2654435761) %% 1000 AS h) x
                WHERE j.cohort_id = %(cohort)s
                ORDER BY j.id
            ) rows
            RETURNING status
        )
        SELECT count(*), count(*) FILTER (WHERE status = 'skipped') FROM ins
        """,
        {
            "step": plan.send_step["id"],
            "channel": plan.send_step["channel_id"],
            "body": plan.send_step["body"],
            "at": at,
            "errors": ERRORS,
            "running": plan.kind == "running",
            "cohort": run.cohort_id,
            "batch": run.cohort.batch_id,
        },
    )[0]
    CampaignRun.objects.filter(pk=run.pk).update(
        recipients=journeys, messages_created=messages, skipped=skipped
    )
    return journeys, messages
