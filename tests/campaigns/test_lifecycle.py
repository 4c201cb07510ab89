import datetime as dt
import uuid
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.clock import campaigns_advance
from campaigns.lifecycle import (
    CampaignRefused,
    campaign_delete,
    campaign_end,
    campaign_suspend,
    campaign_transition,
    campaign_update,
)
from campaigns.models import CAMPAIGN_TRANSITIONS, Campaign, CampaignEvent
from messaging.models import Message


def test_ended_is_final_and_in_progress_cannot_go_back_to_pending() -> None:
    assert CAMPAIGN_TRANSITIONS["ended"] == frozenset()
    assert "pending" not in CAMPAIGN_TRANSITIONS["in_progress"]


@pytest.mark.django_db
class TestFieldRules:
    def test_start_must_be_later_than_now(self, make_campaign: Any) -> None:
        with pytest.raises(ValidationError) as info:
            make_campaign(start_at=timezone.now() - dt.timedelta(minutes=5))
        assert info.value.message_dict["start_at"] == [
            "The start must be later than the current time."
        ]

    def test_end_must_be_later_than_start(self, make_campaign: Any) -> None:
        start = timezone.now() + dt.timedelta(hours=2)
        with pytest.raises(ValidationError) as info:
            make_campaign(start_at=start, end_at=start)
        assert info.value.message_dict["end_at"] == [
            "The end must be later than the start."
        ]

    def test_name_is_at_most_60_and_description_90_characters(
        self, make_campaign: Any
    ) -> None:
        with pytest.raises(ValidationError) as info:
            make_campaign(name="n" * 61, description="d" * 91)
        assert set(info.value.message_dict) == {"name", "description"}

    def test_name_is_required(self, make_campaign: Any) -> None:
        with pytest.raises(ValidationError) as info:
            make_campaign(name="")
        assert "name" in info.value.message_dict

    def test_a_draft_flow_is_refused(self, make_campaign: Any, make_flow: Any) -> None:
        with pytest.raises(ValidationError) as info:
            make_campaign(flow=make_flow(publish=False))
        assert "published" in info.value.message_dict["flow"][0]

    def test_a_flow_without_manual_trigger_is_refused(
        self, make_campaign: Any, make_flow: Any
    ) -> None:
        with pytest.raises(ValidationError) as info:
            make_campaign(flow=make_flow(trigger="event", event_name="signed_up"))
        assert "Manual" in info.value.message_dict["flow"][0]

    def test_seconds_are_dropped_from_start_and_end(self, make_campaign: Any) -> None:
        start = timezone.now() + dt.timedelta(hours=1, seconds=17)
        campaign = make_campaign(start_at=start)
        assert campaign.start_at.second == 0


@pytest.mark.django_db
class TestActions:
    def test_suspend_is_refused_unless_in_progress(self, make_campaign: Any) -> None:
        campaign = make_campaign()
        with pytest.raises(CampaignRefused, match="only a campaign in progress"):
            campaign_suspend(campaign=campaign)

    def test_modify_is_refused_while_in_progress(self, make_campaign: Any) -> None:
        campaign = make_campaign(started=True)
        campaign_transition(campaign=campaign, to="in_progress")
        with pytest.raises(CampaignRefused, match="Only a pending or suspended"):
            campaign_update(campaign=campaign, name="Renamed")
        assert Campaign.objects.get(pk=campaign.pk).name == "Spring sale"

    def test_delete_is_refused_while_in_progress(self, make_campaign: Any) -> None:
        campaign = make_campaign(started=True)
        campaign_transition(campaign=campaign, to="in_progress")
        with pytest.raises(CampaignRefused, match="is In progress: suspend it or"):
            campaign_delete(campaign=campaign)
        assert Campaign.objects.filter(pk=campaign.pk).exists()

    def test_a_suspended_campaign_resumes_as_pending_with_a_new_start(
        self, make_campaign: Any
    ) -> None:
        campaign = make_campaign(started=True)
        campaign_transition(campaign=campaign, to="in_progress")
        campaign_suspend(campaign=campaign)
        new_start = timezone.now() + dt.timedelta(days=1)

        campaign = campaign_update(
            campaign=campaign,
            start_at=new_start,
            end_at=new_start + dt.timedelta(days=2),
        )

        task = campaign.periodic_task
        assert campaign.status == "pending"
        assert task is not None
        assert task.enabled
        assert task.start_time < campaign.start_at

    def test_a_new_sender_and_new_hours_reach_the_messages_its_runs_still_send(
        self, make_campaign: Any
    ) -> None:
        from campaigns.runs import campaign_tick
        from flows.models import Cohort
        from messaging.models import Batch

        campaign = make_campaign(started=True)
        run = campaign_tick(campaign_id=campaign.pk)
        assert run is not None
        cohorts = Cohort.objects.filter(run=run)
        assert not cohorts.get().held
        campaign_suspend(campaign=campaign)
        assert cohorts.get().held  # its journeys wait where they are
        new_start = timezone.now() + dt.timedelta(days=1)

        campaign_update(
            campaign=campaign,
            start_at=new_start,
            end_at=new_start + dt.timedelta(days=2),
            sender_name="Tienda Nueva",
            active_from=dt.time(8),
            active_until=dt.time(9),
            timezone="UTC",
        )

        batch = Batch.objects.get(cohort__run=run)
        assert (batch.sender_name, str(batch.window)) == (
            "Tienda Nueva",
            "08:00–09:00 UTC",
        )
        assert cohorts.get().held  # pending again: still waiting for its start

    def test_a_suspended_campaign_cannot_resume_with_a_past_start(
        self, make_campaign: Any
    ) -> None:
        campaign = make_campaign(started=True)
        campaign_transition(campaign=campaign, to="in_progress")
        campaign_suspend(campaign=campaign)
        with pytest.raises(ValidationError):
            campaign_update(campaign=campaign, name="Still the old start")
        assert Campaign.objects.get(pk=campaign.pk).status == "suspended"

    def test_ending_cancels_unsent_messages_and_cannot_be_undone(
        self, make_campaign: Any
    ) -> None:
        from campaigns.runs import campaign_tick

        campaign = make_campaign(started=True)
        run = campaign_tick(campaign_id=campaign.pk)
        assert run is not None

        campaign_end(campaign=campaign)

        statuses = set(
            Message.objects.filter(batch__cohort__run=run).values_list(
                "status", flat=True
            )
        )
        assert statuses == {"cancelled"}
        with pytest.raises(CampaignRefused, match="has ended already"):
            campaign_end(campaign=campaign)
        with pytest.raises(CampaignRefused):
            campaign_transition(campaign=campaign, to="pending")

    def test_a_stale_copy_loses_the_race(self, make_campaign: Any) -> None:
        campaign = make_campaign(started=True)
        stale = Campaign.objects.get(pk=campaign.pk)
        campaign_transition(campaign=campaign, to="in_progress")
        campaign_suspend(campaign=campaign)

        with pytest.raises(CampaignRefused, match="changed meanwhile"):
            campaign_transition(campaign=stale, to="in_progress")

    def test_every_change_is_recorded_with_its_actor(
        self, make_campaign: Any, admin_user: Any
    ) -> None:
        campaign = make_campaign(started=True)
        campaign_transition(campaign=campaign, to="in_progress")
        campaign_suspend(campaign=campaign, actor=admin_user)

        last = CampaignEvent.objects.filter(campaign=campaign).first()
        assert last is not None
        assert (last.from_status, last.to_status, last.actor) == (
            "in_progress",
            "suspended",
            admin_user,
        )


@pytest.mark.django_db
def test_advance_starts_due_campaigns_and_ends_expired_ones(make_campaign: Any) -> None:
    due = make_campaign(started=True, name="due")
    expired = make_campaign(
        started=True,
        name="expired",
        start_at=timezone.now() - dt.timedelta(days=2),
        end_at=timezone.now() - dt.timedelta(days=1),
    )
    later = make_campaign(name="later")

    assert campaigns_advance() == (1, 1)

    statuses = dict(Campaign.objects.values_list("name", "status"))
    assert statuses == {"due": "in_progress", "expired": "ended", "later": "pending"}
    expired.refresh_from_db()
    due.refresh_from_db()
    assert not expired.periodic_task.enabled
    assert due.periodic_task.enabled
    assert later.periodic_task.enabled
    assert not due.runs.exists()  # runs come from ticks, not from advancing


@pytest.mark.django_db
def test_a_suspended_campaign_ends_at_its_end_time(make_campaign: Any) -> None:
    campaign = make_campaign(started=True)
    campaign_transition(campaign=campaign, to="in_progress")
    campaign_suspend(campaign=campaign)

    assert campaigns_advance(now=campaign.end_at) == (0, 1)
    assert Campaign.objects.get(pk=campaign.pk).status == "ended"


@pytest.mark.django_db
def test_finishing_marks_runs_with_nothing_left_done_and_the_others_cancelled(
    make_campaign: Any,
) -> None:
    from campaigns.lifecycle import campaign_end
    from campaigns.models import CampaignRun
    from campaigns.runs import campaign_tick
    from messaging.models import Message

    campaign = make_campaign(started=True, schedule="hourly")
    now = timezone.now()
    first = campaign_tick(campaign_id=campaign.pk, now=now)
    Message.objects.update(status="sent")
    second = campaign_tick(campaign_id=campaign.pk, now=now + dt.timedelta(hours=1))
    assert first is not None
    assert second is not None

    campaign_end(campaign=campaign)

    assert CampaignRun.objects.get(pk=first.pk).status == "done"
    assert CampaignRun.objects.get(pk=second.pk).status == "cancelled"


@pytest.mark.django_db
def test_finish_impact_counts_open_journeys_up_to_a_cap(
    make_campaign: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campaigns import selectors
    from campaigns.runs import campaign_tick
    from flows.models import Journey

    campaign = make_campaign(started=True)
    run = campaign_tick(campaign_id=campaign.pk)
    # three, on the flow
    Journey.objects.filter(cohort__run=run).update(status="active")
    monkeypatch.setattr(selectors, "IMPACT_CAP", 2)

    impact = selectors.campaign_finish_impact(campaign=campaign)

    assert (impact.open_journeys, impact.journeys_beyond_cap) == (2, True)
    monkeypatch.setattr(selectors, "IMPACT_CAP", 3)
    impact = selectors.campaign_finish_impact(campaign=campaign)
    assert (impact.open_journeys, impact.journeys_beyond_cap) == (3, False)


@pytest.mark.django_db
def test_finish_impact_says_as_many_unsent_messages_as_finishing_cancels(
    make_campaign: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campaigns import counting
    from campaigns.models import CampaignRun
    from campaigns.runs import campaign_tick
    from campaigns.selectors import campaign_finish_impact

    campaign = make_campaign(started=True)
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    held = Message.objects.filter(batch__cohort__run=run).order_by("pk")[:1]
    Message.objects.filter(pk__in=held).update(claim_token=uuid.uuid4())
    monkeypatch.setattr(counting, "LIVE_LIMIT", 2)  # three messages: a "big" run
    # A big run's stored counts lag behind it: these were taken while its messages
    # were still being written.
    CampaignRun.objects.filter(pk=run.pk).update(counts={}, counted_at=timezone.now())

    impact = campaign_finish_impact(campaign=campaign)
    campaign_end(campaign=campaign)

    cancelled = Message.objects.filter(
        batch__cohort__run=run, status="cancelled"
    ).count()
    assert cancelled == 2  # a worker holds the third: left to it
    assert (impact.unsent_messages, impact.messages_beyond_cap) == (2, False)


@pytest.mark.django_db
def test_finish_impact_counts_unsent_messages_up_to_a_cap(
    make_campaign: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns import selectors
    from campaigns.runs import campaign_tick

    campaign = make_campaign(started=True)
    campaign_tick(campaign_id=campaign.pk)  # three messages, queued
    monkeypatch.setattr(selectors, "IMPACT_CAP", 2)

    with CaptureQueriesContext(connection) as captured:
        impact = selectors.campaign_finish_impact(campaign=campaign)

    assert (impact.unsent_messages, impact.messages_beyond_cap) == (2, True)
    [count] = [q["sql"] for q in captured if "messaging_message" in q["sql"]]
    assert "LIMIT 3" in count  # a million unsent messages are not all read
