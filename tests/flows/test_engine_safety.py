"""The engine when things go wrong: old versions, broken flows, End racing an
advance, archived event flows."""

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from audiences.models import AudienceGroup, Contact, Variable
from campaigns.lifecycle import campaign_end
from campaigns.runs import campaign_tick
from flows import engine
from flows.cohorts import entries_cohort
from flows.engine import journeys_advance, journeys_enter
from flows.models import Flow, FlowStep, FlowVersion, Journey
from flows.publishing import flow_archive, flow_publish
from messaging.models import Message
from messaging.sending import messages_send_range
from tests.flows.test_engine import branching_flow


@pytest.mark.django_db
def test_a_version_published_before_end_steps_were_required_still_runs(
    make_campaign: Any, make_flow: Any
) -> None:
    flow = make_flow()
    version = flow.current_version
    FlowVersion.objects.filter(pk=version.pk).update(
        steps=[s for s in version.steps if s["kind"] == "send"]
    )
    campaign = make_campaign(started=True, flow=flow)

    run = campaign_tick(campaign_id=campaign.pk)

    assert run is not None
    assert Message.objects.count() == 3
    assert set(Journey.objects.values_list("status", flat=True)) == {"ended"}


@pytest.mark.django_db
def test_a_message_made_before_journeys_existed_is_still_sent(
    make_campaign: Any,
) -> None:
    from flows.cohorts import cohort_open

    campaign = make_campaign(started=True)
    cohort = cohort_open(version=campaign.flow_version, name="Before journeys")
    step = campaign.flow_version.steps[0]
    message = Message.objects.create(  # no origin: no journey wrote it
        batch_id=cohort.batch_id,
        contact=Contact.objects.order_by("pk")[0],
        step=step["id"],
        channel_id=step["channel_id"],
    )

    messages_send_range(
        batch_id=cohort.batch_id, first_id=message.pk, last_id=message.pk
    )

    message.refresh_from_db()
    assert message.status == "sent"
    assert message.body.startswith("Hola ")


@pytest.mark.django_db
def test_a_broken_branch_stops_its_own_journeys_and_no_others(
    make_campaign: Any, make_channel: Any, seed_group: AudienceGroup
) -> None:
    broken = make_campaign(
        started=True, flow=branching_flow(make_channel()), group=seed_group
    )
    other = Flow.objects.create(name="Other")
    FlowStep.objects.create(
        flow=other, position=1, kind="wait", wait=dt.timedelta(minutes=1)
    )
    FlowStep.objects.create(
        flow=other, position=2, kind="send", channel=make_channel(), body="x"
    )
    FlowStep.objects.create(flow=other, position=3, kind="end")
    flow_publish(flow=other)
    fine = make_campaign(started=True, flow=other, group=seed_group, name="Fine")
    start = timezone.now()
    campaign_tick(campaign_id=broken.pk, now=start)
    campaign_tick(campaign_id=fine.pk, now=start)
    Variable.objects.filter(name="MONTO").delete()  # the branch tests MONTO

    journeys_advance(now=start + dt.timedelta(minutes=5))

    stopped = Journey.objects.filter(cohort__run__campaign=broken)
    assert set(stopped.values_list("status", flat=True)) == {"failed"}
    assert "'MONTO' is neither" in stopped.first().end_reason  # type: ignore[union-attr]
    assert set(
        Journey.objects.filter(cohort__run__campaign=fine).values_list(
            "status", flat=True
        )
    ) == {"ended"}
    assert Message.objects.filter(batch__cohort__run__campaign=fine).count() == 3


@pytest.mark.django_db(transaction=True)
def test_ending_a_campaign_during_an_advance_cancels_what_the_advance_made(
    make_campaign: Any,
    make_channel: Any,
    seed_group: AudienceGroup,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("messaging.queueing.send_range", lambda **_: 0)
    flow = branching_flow(make_channel())
    campaign = make_campaign(started=True, flow=flow, group=seed_group)
    start = timezone.now()
    campaign_tick(campaign_id=campaign.pk, now=start)
    first_messages = set(Message.objects.values_list("pk", flat=True))
    inserted, release = threading.Event(), threading.Event()
    real_insert = engine.messages_write

    def slow_insert(**kwargs: Any) -> Any:
        out = real_insert(**kwargs)
        inserted.set()
        release.wait(10)
        return out

    monkeypatch.setattr(engine, "messages_write", slow_insert)

    def in_thread(work: Any) -> threading.Thread:
        def target() -> None:
            try:
                work()
            finally:
                connection.close()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    advance = in_thread(lambda: journeys_advance(now=start + dt.timedelta(minutes=2)))
    assert inserted.wait(10)
    ender = in_thread(lambda: campaign_end(campaign=campaign))
    ender.join(0.5)
    release.set()
    advance.join(10)
    ender.join(10)

    made_by_advance = Message.objects.exclude(pk__in=first_messages)
    assert made_by_advance.count() == 3
    assert set(made_by_advance.values_list("status", flat=True)) == {"cancelled"}


@pytest.mark.django_db
def test_archiving_an_event_flow_stops_the_contacts_on_it(
    make_channel: Any, seed_group: AudienceGroup
) -> None:
    flow = Flow.objects.create(name="On signup", trigger="event", event_name="signup")
    step = FlowStep.objects.create
    step(flow=flow, position=1, kind="wait", wait=dt.timedelta(hours=1))
    step(flow=flow, position=2, kind="send", channel=make_channel(), body="Welcome")
    step(flow=flow, position=3, kind="end")
    flow_publish(flow=flow)
    assert flow.current_version is not None
    journeys_enter(
        cohort=entries_cohort(flow.current_version),
        contacts=Contact.objects.all(),
        entry_key="event:1",
    )

    flow_archive(flow=flow)
    journeys_advance(now=timezone.now() + dt.timedelta(hours=2))

    assert set(Journey.objects.values_list("status", flat=True)) == {"cancelled"}
    assert not Message.objects.exists()


def test_a_send_inside_a_loop_is_refused() -> None:
    from flows.graph import graph_problems

    steps = [
        {"position": 1, "kind": "send", "next": None, "yes": None, "no": None},
        {"position": 2, "kind": "wait", "next": None, "yes": None, "no": None},
        {"position": 3, "kind": "branch", "next": None, "yes": 4, "no": 1},
        {"position": 4, "kind": "end", "next": None, "yes": None, "no": None},
    ]
    problems = graph_problems(steps)
    assert any(p.startswith("Step 1 sends inside a loop") for p in problems), problems


@pytest.mark.django_db
def test_writing_a_steps_messages_again_writes_none(
    make_channel: Any, make_campaign: Any, seed_group: AudienceGroup
) -> None:
    """Once per journey and step, however often the step's messages are written
    (a retried transaction, a second pass): the unique key decides. The range
    returned holds every new row."""
    from messaging.outbox import messages_write

    channel = make_channel()
    flow = Flow.objects.create(name="On signup", trigger="event", event_name="signup")
    FlowStep.objects.create(
        flow=flow, position=1, kind="send", channel=channel, body="Hola"
    )
    FlowStep.objects.create(flow=flow, position=2, kind="end")
    flow_publish(flow=flow)
    assert flow.current_version is not None
    cohort = entries_cohort(flow.current_version)
    journeys_enter(cohort=cohort, contacts=Contact.objects.all(), entry_key="event:1")
    entered = Journey.objects.filter(cohort=cohort)
    step = Message.objects.first().step  # type: ignore[union-attr]
    written = Message.objects.count()
    assert written == seed_group.members().count() > 0

    def write_again(journeys: Any, batch_id: int) -> Any:
        return messages_write(
            batch_id=batch_id,
            origins=journeys,
            step=step,
            channel_id=channel.pk,
            now=timezone.now(),
        )

    again = write_again(entered, cohort.batch_id)
    assert (again.count, again.low, again.high) == (0, None, None)

    run = campaign_tick(campaign_id=make_campaign(started=True).pk)
    assert run is not None
    assert run.cohort is not None
    ran = Journey.objects.filter(cohort=run.cohort)
    Message.objects.filter(batch_id=run.cohort.batch_id).delete()
    new = write_again(ran, run.cohort.batch_id)
    rows = Message.objects.filter(batch_id=run.cohort.batch_id)
    assert new.count == rows.count() == ran.count() > 0
    assert new.low is not None
    assert new.high is not None
    assert all(new.low <= pk <= new.high for pk in rows.values_list("pk", flat=True))
    assert write_again(ran, run.cohort.batch_id).count == 0
    assert Message.objects.count() == written + new.count
