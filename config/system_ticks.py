"""The system's own periodic tasks, run by beat (CELERY_BEAT_SCHEDULE).

Code-owned: beat upserts these rows by name when it starts, so changes made to them
in the admin are overwritten at the next beat restart. Each expires before the next
one is due, so a backlog never piles up.
"""

from datetime import timedelta
from typing import Any

SYSTEM_TICKS: dict[str, dict[str, Any]] = {
    "system: advance campaign lifecycles": {
        "task": "campaigns.tasks.advance_lifecycles",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
    "system: sweep messages": {
        "task": "messaging.tasks.sweep",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
    # Waits end at most this late; the pass itself is one indexed query when idle.
    "system: advance journeys": {
        "task": "flows.tasks.advance_journeys",
        "schedule": timedelta(seconds=10),
        "options": {"expires": 9},
    },
    "system: prune old messages": {
        "task": "messaging.tasks.prune",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    # Webhook signing secrets whose overlap after a rotation has ended.
    "system: drop expired signing secrets": {
        "task": "messaging.tasks.drop_expired_secrets",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    # Journeys ended before the messages' retention, with no message left.
    "system: prune old journeys": {
        "task": "flows.tasks.prune_journeys",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    "system: enter audience flows": {
        "task": "flows.tasks.enter_audiences",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
    # Stored message counts of big runs (campaigns.counting).
    "system: count runs": {
        "task": "campaigns.tasks.count_runs",
        "schedule": timedelta(seconds=15),
        "options": {"expires": 14},
    },
    # Runs that stopped moving, flagged and mailed (campaigns.stalls).
    "system: check stalled runs": {
        "task": "campaigns.tasks.check_stalls",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Behavioural events older than EVENTS_RETENTION_DAYS.
    "system: prune old events": {
        "task": "audiences.tasks.prune_events",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    # Imports whose worker was lost (audiences.importing.sweep).
    "system: sweep imports": {
        "task": "audiences.tasks.sweep_imports",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # The API's idempotency keys older than API_IDEMPOTENCY_HOURS.
    "system: forget idempotency keys": {
        "task": "api.tasks.forget_idempotency_keys",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    # Endpoints with events due (a pause over, a retry due, a lost kick), given-up
    # deliveries, expired previous signing secrets (stream.sweep).
    "system: sweep event deliveries": {
        "task": "stream.tasks.sweep",
        "schedule": timedelta(seconds=10),
        "options": {"expires": 9},
    },
    # Events older than STREAM_RETENTION_DAYS, with their deliveries and attempts.
    "system: prune old stream events": {
        "task": "stream.tasks.prune",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
}
