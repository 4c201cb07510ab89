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
from campaigns.models import CampaignRun
from campaigns.runs import campaign_tick
from flows import engine
from flows.engine import journeys_advance, journeys_enter
from flows.models import Flow, FlowStep, FlowVersion, Journey
from flows.publishing import flow_archive, flow_publish
from messaging.dispatch import messages_send_range
from messaging.models import Message
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
    campaign = make_campaign(started=True)
    run = CampaignRun.objects.create(
        campaign=campaign,
        scheduled_for=timezone.now(),
        flow_version=campaign.flow_version,
    )
    step = campaign.flow_version.steps[0]
    message = Message.objects.create(
        run=run,
        contact=Contact.objects.order_by("pk")[0],
        step=step["id"],
        channel_id=step["channel_id"],
    )

    messages_send_range(run_id=run.pk, first_id=message.pk, last_id=message.pk)

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

    stopped = Journey.objects.filter(run__campaign=broken)
    assert set(stopped.values_list("status", flat=True)) == {"failed"}
    assert "'MONTO' is neither" in stopped.first().end_reason  # type: ignore[union-attr]
    assert set(
        Journey.objects.filter(run__campaign=fine).values_list("status", flat=True)
    ) == {"ended"}
    assert Message.objects.filter(run__campaign=fine).count() == 3


@pytest.mark.django_db(transaction=True)
def test_ending_a_campaign_during_an_advance_cancels_what_the_advance_made(
    make_campaign: Any,
    make_channel: Any,
    seed_group: AudienceGroup,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("messaging.dispatch.dispatch_range", lambda **_: 0)
    flow = branching_flow(make_channel())
    campaign = make_campaign(started=True, flow=flow, group=seed_group)
    start = timezone.now()
    campaign_tick(campaign_id=campaign.pk, now=start)
    first_messages = set(Message.objects.values_list("pk", flat=True))
    inserted, release = threading.Event(), threading.Event()
    real_insert = engine._insert_messages

    def slow_insert(*args: Any, **kwargs: Any) -> Any:
        out = real_insert(*args, **kwargs)
        inserted.set()
        release.wait(10)
        return out

    monkeypatch.setattr(engine, "_insert_messages", slow_insert)

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
    journeys_enter(flow=flow, contacts=Contact.objects.all(), entry_key="event:1")

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
    make_channel: Any, seed_group: AudienceGroup
) -> None:
    """Once per run, contact and step (and per journey and step without a run),
    however often the step's messages are written: the unique keys decide."""
    from campaigns.models import Campaign

    channel = make_channel()
    flow = Flow.objects.create(name="On signup", trigger="event", event_name="signup")
    FlowStep.objects.create(
        flow=flow, position=1, kind="send", channel=channel, body="Hola"
    )
    FlowStep.objects.create(flow=flow, position=2, kind="end")
    flow_publish(flow=flow)
    journeys_enter(flow=flow, contacts=Contact.objects.all(), entry_key="event:1")
    runless = Journey.objects.filter(flow=flow, run__isnull=True)
    step = {"id": Message.objects.first().step, "channel_id": channel.pk}  # type: ignore[union-attr]
    written = Message.objects.count()
    assert written == seed_group.members().count() > 0

    assert engine._insert_messages(runless, step, timezone.now(), None) == (
        0,
        None,
        None,
    )

    version = flow.current_version
    assert version is not None
    campaign = Campaign.objects.create(
        name="Weekly",
        flow=flow,
        group=seed_group,
        schedule="daily",
        start_at=timezone.now(),
        end_at=timezone.now() + dt.timedelta(days=1),
        flow_version=version,
    )
    run = CampaignRun.objects.create(
        campaign=campaign,
        flow_version=version,
        scheduled_for=timezone.now(),
    )
    Journey.objects.filter(pk__in=runless.values("pk")).update(run=run)
    ran = Journey.objects.filter(run=run)
    count, low, high = engine._insert_messages(ran, step, timezone.now(), run.pk)
    new = Message.objects.filter(run=run)
    assert count == new.count() == written
    assert low is not None
    assert high is not None
    assert all(low <= pk <= high for pk in new.values_list("pk", flat=True))
    assert engine._insert_messages(ran, step, timezone.now(), run.pk)[0] == 0
    assert Message.objects.count() == 2 * written
