import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from campaigns.lifecycle import campaign_suspend
from campaigns.models import Campaign, CampaignRun
from campaigns.runs import campaign_tick
from messaging.models import Message
from tests.conftest import PHONES


@pytest.mark.django_db
def test_a_tick_opens_one_run_with_one_message_per_member(make_campaign: Any) -> None:
    campaign = make_campaign(started=True)

    run = campaign_tick(campaign_id=campaign.pk)

    assert run is not None
    assert (run.recipients, run.messages_created, run.skipped) == (3, 3, 0)
    assert Message.objects.filter(
        batch__cohort__run=run, status="queued"
    ).count() == len(PHONES)
    campaign.refresh_from_db()
    assert campaign.status == "in_progress"


@pytest.mark.django_db
def test_a_second_tick_in_the_same_slot_does_nothing(make_campaign: Any) -> None:
    campaign = make_campaign(started=True)
    now = timezone.now()

    first = campaign_tick(campaign_id=campaign.pk, now=now)
    second = campaign_tick(campaign_id=campaign.pk, now=now + dt.timedelta(seconds=40))

    assert first is not None
    assert second is None
    assert Message.objects.count() == len(PHONES)


@pytest.mark.django_db
def test_the_next_slot_opens_a_new_run(make_campaign: Any) -> None:
    campaign = make_campaign(started=True, schedule="hourly")
    now = timezone.now()

    campaign_tick(campaign_id=campaign.pk, now=now)
    Message.objects.update(status=Message.Status.SENT)  # the workers did their job
    campaign_tick(campaign_id=campaign.pk, now=now + dt.timedelta(hours=1))

    assert CampaignRun.objects.filter(campaign=campaign).count() == 2
    assert Message.objects.count() == 2 * len(PHONES)


@pytest.mark.django_db
def test_a_slot_that_comes_while_the_previous_run_is_sending_is_skipped(
    make_campaign: Any,
) -> None:
    campaign = make_campaign(started=True, schedule="minute")
    now = timezone.now()
    first = campaign_tick(campaign_id=campaign.pk, now=now)
    assert first is not None
    Message.objects.filter(pk=Message.objects.order_by("pk")[0].pk).update(
        status=Message.Status.SENT
    )

    skipped = campaign_tick(campaign_id=campaign.pk, now=now + dt.timedelta(minutes=1))

    assert skipped is None
    runs = CampaignRun.objects.filter(campaign=campaign).order_by("scheduled_for")
    assert [run.status for run in runs] == ["running", "skipped"]
    assert runs[1].note == "skipped: the previous run still had 2 messages to send"
    assert Message.objects.count() == len(PHONES)
    # Once the first run has sent everything, the next slot runs again.
    Message.objects.update(status=Message.Status.SENT)
    assert campaign_tick(campaign_id=campaign.pk, now=now + dt.timedelta(minutes=2))


@pytest.mark.django_db
def test_no_run_before_the_start_or_while_suspended(make_campaign: Any) -> None:
    pending = make_campaign(name="not yet")
    assert campaign_tick(campaign_id=pending.pk) is None

    suspended = make_campaign(started=True, name="paused")
    campaign_tick(campaign_id=suspended.pk)
    campaign_suspend(campaign=suspended)
    later = timezone.now() + dt.timedelta(days=1)
    assert campaign_tick(campaign_id=suspended.pk, now=later) is None
    assert CampaignRun.objects.filter(campaign=suspended).count() == 1


@pytest.mark.django_db
def test_a_tick_after_the_end_ends_the_campaign(make_campaign: Any) -> None:
    campaign = make_campaign(started=True)

    assert campaign_tick(campaign_id=campaign.pk, now=campaign.end_at) is None

    assert Campaign.objects.get(pk=campaign.pk).status == "ended"
    assert not CampaignRun.objects.exists()


@pytest.mark.django_db
def test_a_tick_for_a_deleted_campaign_is_ignored() -> None:
    assert campaign_tick(campaign_id=987654) is None


@pytest.mark.django_db
def test_runs_keep_the_flow_version_of_the_campaign(
    make_campaign: Any, make_channel: Any
) -> None:
    from flows.models import FlowStep
    from flows.publishing import flow_publish

    campaign = make_campaign(started=True)
    flow = campaign.flow
    FlowStep.objects.filter(flow=flow).update(body="Edited after the campaign was set")
    flow_publish(flow=flow)

    run = campaign_tick(campaign_id=campaign.pk)

    assert run is not None
    assert run.flow_version == campaign.flow_version
    assert run.flow_version.steps[0]["body"] == "Hola {{NOMBRE}}"


@pytest.mark.django_db(transaction=True)
def test_ending_during_a_fan_out_waits_for_it_then_cancels_every_message(
    make_campaign: Any, monkeypatch: pytest.MonkeyPatch, redis_client: Any
) -> None:
    import threading

    from django.db import connection

    from campaigns import runs
    from campaigns.lifecycle import campaign_end

    campaign = make_campaign(started=True)
    fanned_out, release = threading.Event(), threading.Event()
    real_fan_out = runs.journeys_start

    def slow_fan_out(**kwargs: Any) -> Any:
        created = real_fan_out(**kwargs)
        fanned_out.set()
        release.wait(10)
        return created

    def in_thread(work: Any) -> threading.Thread:
        def target() -> None:
            try:
                work()
            finally:
                connection.close()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    monkeypatch.setattr(runs, "journeys_start", slow_fan_out)
    tick = in_thread(lambda: runs.campaign_tick(campaign_id=campaign.pk))
    assert fanned_out.wait(10)
    ender = in_thread(
        lambda: campaign_end(campaign=Campaign.objects.get(pk=campaign.pk))
    )
    ender.join(0.5)
    assert ender.is_alive(), "End must wait for the fan-out holding the campaign"
    release.set()
    tick.join(10)
    ender.join(10)

    assert Campaign.objects.get(pk=campaign.pk).status == "ended"
    assert set(Message.objects.values_list("status", flat=True)) == {"cancelled"}
    assert CampaignRun.objects.get().status == "cancelled"


@pytest.mark.django_db
def test_a_start_moved_meanwhile_is_not_started_from_a_stale_copy(
    make_campaign: Any,
) -> None:
    from campaigns.clock import campaign_start_if_due

    campaign = make_campaign(started=True)
    stale = Campaign.objects.get(pk=campaign.pk)
    tomorrow = timezone.now() + dt.timedelta(days=1)
    Campaign.objects.filter(pk=campaign.pk).update(
        start_at=tomorrow, end_at=tomorrow + dt.timedelta(days=1)
    )

    campaign_start_if_due(campaign=stale, now=timezone.now())

    assert Campaign.objects.get(pk=campaign.pk).status == "pending"


@pytest.mark.django_db
def test_a_run_whose_channel_is_gone_fails_loudly_and_opens_nothing(
    make_campaign: Any, make_channel: Any
) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from flows.models import FlowStep

    campaign = make_campaign(started=True)
    step = FlowStep.objects.get(flow=campaign.flow, kind="send")
    old_channel = step.channel
    assert old_channel is not None
    step.channel = make_channel()
    step.save()
    old_channel.delete()  # nothing references it but the published version

    with pytest.raises(ImproperlyConfigured, match="no longer exist"):
        campaign_tick(campaign_id=campaign.pk)
    assert not CampaignRun.objects.exists()


@pytest.mark.django_db
def test_a_tick_a_little_early_by_this_worker_clock_still_opens_the_first_run(
    make_campaign: Any,
) -> None:
    campaign = make_campaign()  # pending, starts in an hour

    run = campaign_tick(
        campaign_id=campaign.pk, now=campaign.start_at - dt.timedelta(seconds=2)
    )

    assert run is not None
    assert run.scheduled_for == campaign.start_at


@pytest.mark.django_db
def test_a_run_is_marked_done_once_nothing_is_left_to_send(
    make_campaign: Any,
) -> None:
    from campaigns.runs import runs_mark_done

    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None

    assert runs_mark_done() == 0  # three messages queued
    Message.objects.filter(batch__cohort__run=run).update(status="sent")
    first = Message.objects.filter(batch__cohort__run=run).order_by("id").first()
    assert first is not None
    Message.objects.filter(pk=first.pk).update(status="deferred")
    assert runs_mark_done() == 0  # one held for active hours

    Message.objects.filter(pk=first.pk).update(status="failed")
    assert runs_mark_done() == 1
    run.refresh_from_db()
    assert run.status == CampaignRun.Status.DONE


@pytest.mark.django_db
def test_a_run_done_records_when_its_last_message_went_out(make_campaign: Any) -> None:
    from campaigns.runs import runs_mark_done

    campaign = make_campaign(started=True)
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    last = run.started_at + dt.timedelta(minutes=4)
    messages = Message.objects.filter(batch__cohort__run=run)
    messages.update(status="sent", sent_at=run.started_at + dt.timedelta(minutes=1))
    messages.filter(pk=messages.order_by("id")[0].pk).update(
        status="delivered", sent_at=last
    )

    assert runs_mark_done() == 1

    run.refresh_from_db()
    assert run.finished_at == last
    assert run.duration == dt.timedelta(minutes=4)
