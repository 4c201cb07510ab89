"""The migrations that give runs' messages and journeys to batches and cohorts
(campaigns 0009, messaging 0009, flows 0009), run on a populated database."""

import datetime as dt
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("campaigns", "0007_campaign_active_hours"),
    ("flows", "0007_step_body_fallback_help"),
    ("messaging", "0007_replies_newest_first"),
]


def migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to ``targets``; return the apps of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def populate(apps: Any) -> dict[str, Any]:
    """Rows as the code before batches wrote them: a campaign with a running, a
    cancelled, a done and a skipped run; an event flow's journeys and messages
    without a run; a message of neither."""
    Channel = apps.get_model("messaging", "Channel")
    Contact = apps.get_model("audiences", "Contact")
    Group = apps.get_model("audiences", "AudienceGroup")
    Flow = apps.get_model("flows", "Flow")
    FlowVersion = apps.get_model("flows", "FlowVersion")
    Campaign = apps.get_model("campaigns", "Campaign")
    CampaignRun = apps.get_model("campaigns", "CampaignRun")
    Journey = apps.get_model("flows", "Journey")
    Message = apps.get_model("messaging", "Message")
    now = timezone.now()
    channel = Channel.objects.create(name="SMS", kind="console")
    contacts = [
        Contact.objects.create(phone=f"+52550099887{n}", data={"NOMBRE": f"C{n}"})
        for n in range(3)
    ]
    group = Group.objects.create(name="Everyone")
    steps = [
        {"id": 11, "position": 1, "kind": "send", "channel_id": channel.pk,
         "body": "Hola {{NOMBRE}}", "media_url": "", "next": None},
        {"id": 12, "position": 2, "kind": "end", "next": None},
    ]  # fmt: skip
    flow = Flow.objects.create(name="Welcome", status="published")
    version = FlowVersion.objects.create(flow=flow, number=2, steps=steps)
    event_flow = Flow.objects.create(name="On signup", trigger="event")
    event_version = FlowVersion.objects.create(flow=event_flow, number=1, steps=steps)
    campaign = Campaign.objects.create(
        name="Promo",
        flow=flow,
        flow_version=version,
        group=group,
        start_at=now,
        end_at=now + dt.timedelta(days=1),
        schedule="hourly",
        status="suspended",
        sender_name="Tienda",
        reply_to="hola@example.com",
        active_from=dt.time(8),
        active_until=dt.time(21),
        timezone="America/Bogota",
    )
    runs = {}
    for hours, status in enumerate(["done", "cancelled", "skipped", "running"]):
        runs[status] = CampaignRun.objects.create(
            campaign=campaign,
            scheduled_for=now + dt.timedelta(hours=hours),
            flow_version=version,
            status=status,
            pruned_counts={"sent": 7} if status == "done" else {},
        )
    messages: dict[Any, Any] = {}
    for status in ("done", "cancelled", "running"):
        for contact in contacts:
            journey = Journey.objects.create(
                flow=flow,
                flow_version=version,
                run=runs[status],
                contact=contact,
                step=2,
                status="ended",
            )
            messages[status, contact.pk] = Message.objects.create(
                run=runs[status],
                journey=journey,
                contact=contact,
                step=11,
                channel=channel,
                status="queued" if status == "running" else "sent",
            )
    event_journey = Journey.objects.create(
        flow=event_flow,
        flow_version=event_version,
        contact=contacts[0],
        step=1,
        status="active",
        entry_key="event:e1",
        context={"cart": "A-17"},
    )
    messages["event"] = Message.objects.create(
        journey=event_journey, contact=contacts[0], step=11, channel=channel
    )
    messages["orphan"] = Message.objects.create(
        contact=contacts[1], step=11, channel=channel, status="sent"
    )
    return {
        "runs": {k: v.pk for k, v in runs.items()},
        "messages": {k: v.pk for k, v in messages.items()},
        "event_journey": event_journey.pk,
        "event_version": event_version.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_runs_hand_their_rows_to_batches_and_cohorts_keeping_every_row() -> None:
    from campaigns.models import CampaignRun
    from flows.cohorts import cohort_open
    from flows.models import Cohort, FlowVersion, Journey
    from messaging.models import Batch, Message

    made = populate(migrate(BEFORE))
    counts = (Message.objects.count(), Journey.objects.count())
    try:
        migrate(latest())

        assert (Message.objects.count(), Journey.objects.count()) == counts
        runs = made["runs"]
        # Each run that sent keeps its id in its batch and cohort: the messages'
        # and journeys' columns were renamed, not rewritten.
        for status in ("done", "cancelled", "running"):
            run = CampaignRun.objects.get(pk=runs[status])
            assert run.cohort_id == run.pk
            assert run.cohort is not None
            assert run.cohort.batch_id == run.pk
            assert Message.objects.filter(batch_id=run.pk).count() == 3
            assert Journey.objects.filter(cohort_id=run.pk).count() == 3
        assert CampaignRun.objects.get(pk=runs["skipped"]).cohort is None
        running = Batch.objects.get(pk=runs["running"])
        assert running.stopped_at is None
        assert (running.sender_name, running.reply_to) == ("Tienda", "hola@example.com")
        assert str(running.window) == "08:00–21:00 America/Bogota"
        assert running.templates == {
            "11": {
                "body": "Hola {{NOMBRE}}",
                "media_url": "",
                "label": "step 1 of Welcome v2",
            }
        }
        assert running.tags == {"run": runs["running"]}
        assert Batch.objects.get(pk=runs["cancelled"]).stop_reason == "campaign ended"
        assert Batch.objects.get(pk=runs["done"]).stopped_at is not None
        assert CampaignRun.objects.get(pk=runs["done"]).pruned_counts == {"sent": 7}
        # A suspended campaign's journeys wait.
        assert Cohort.objects.get(pk=runs["running"]).held
        # Flows entered without a run: the version's entries cohort and batch.
        event = Message.objects.get(pk=made["messages"]["event"])
        entries = Cohort.objects.get(batch_id=event.batch_id)
        assert entries.for_entries
        assert entries.flow_version_id == made["event_version"]
        assert Journey.objects.get(pk=made["event_journey"]).cohort_id == entries.pk
        assert event.origin == made["event_journey"]
        assert event.context == {"cart": "A-17"}
        orphan = Message.objects.get(pk=made["messages"]["orphan"])
        assert orphan.batch.stopped_at is not None
        # New rows get ids after the ones chosen for the runs.
        fresh = cohort_open(
            version=FlowVersion.objects.get(pk=made["event_version"]), name="New"
        )
        assert fresh.pk > max(runs.values())
        others = Batch.objects.exclude(pk=fresh.batch_id)
        assert fresh.batch_id > max(others.values_list("pk", flat=True))

        # And back: the runs hold their messages and journeys again.
        migrate(BEFORE)
        migrate(latest())
    finally:
        migrate(latest())


def sql_of(app: str, migration: str) -> list[str]:
    out = StringIO()
    call_command("sqlmigrate", app, migration, stdout=out, no_color=True)
    return [
        line
        for line in out.getvalue().splitlines()
        if line.strip() and not line.startswith("--")
    ]


@pytest.mark.postgresql  # CONCURRENTLY
@pytest.mark.django_db(transaction=True)  # sqlmigrate outside a transaction
@pytest.mark.parametrize(
    ("app", "migration"),
    [("messaging", "0009_message_batch"), ("flows", "0009_journey_cohort")],
)
def test_the_new_keys_are_built_without_blocking_the_big_tables(
    app: str, migration: str
) -> None:
    # A plain CREATE INDEX holds the table against writes until it is built: on
    # millions of messages or journeys, minutes of a stopped console.
    sql = sql_of(app, migration)

    assert "BEGIN;" not in sql
    builds = [s for s in sql if re.match(r"CREATE (UNIQUE )?INDEX", s)]
    assert builds
    assert all(" CONCURRENTLY " in s for s in builds), builds
