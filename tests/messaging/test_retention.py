"""Old messages are pruned in batches; their run's counts stay right."""

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from campaigns.monitoring import campaign_counts, counts_by_run
from campaigns.runs import campaign_tick
from messaging.models import Message
from messaging.retention import messages_prune
from tests.conftest import PHONES


@pytest.mark.django_db
def test_old_finished_messages_go_and_the_reports_still_add_up(
    make_campaign: Any,
) -> None:
    campaign = make_campaign(started=True)
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    old = timezone.now() - dt.timedelta(days=100)
    first, second, third = Message.objects.order_by("pk")
    Message.objects.filter(pk=first.pk).update(status="sent", created_at=old)
    Message.objects.filter(pk=second.pk).update(status="failed", created_at=old)
    Message.objects.filter(pk=third.pk).update(created_at=old)  # still queued: kept

    with override_settings(MESSAGING_RETENTION_DAYS=90):
        assert messages_prune(batch=1) == 2

    assert list(Message.objects.values_list("pk", flat=True)) == [third.pk]
    run.refresh_from_db()
    assert run.pruned_counts == {"sent": 1, "failed": 1}
    [row] = counts_by_run([run])
    assert (row.counts["sent"], row.counts["failed"], row.counts["queued"]) == (1, 1, 1)
    assert row.total == len(PHONES)
    totals = campaign_counts(campaign)
    assert (totals["sent"], totals["failed"], totals["queued"]) == (1, 1, 1)


@pytest.mark.django_db
def test_a_retention_of_zero_keeps_everything(make_campaign: Any) -> None:
    campaign = make_campaign(started=True)
    campaign_tick(campaign_id=campaign.pk)
    Message.objects.update(
        status="sent", created_at=timezone.now() - dt.timedelta(days=999)
    )
    with override_settings(MESSAGING_RETENTION_DAYS=0):
        assert messages_prune() == 0
    assert Message.objects.count() == len(PHONES)


@pytest.mark.django_db
def test_old_ended_journeys_go_unless_a_message_still_waits(make_campaign: Any) -> None:
    from flows.models import Journey
    from flows.retention import journeys_prune

    campaign = make_campaign(started=True)
    campaign_tick(campaign_id=campaign.pk)
    long_ago = timezone.now() - dt.timedelta(days=200)
    Journey.objects.update(ended_at=long_ago)
    waiting = Message.objects.order_by("pk").first()
    assert waiting is not None
    Message.objects.exclude(pk=waiting.pk).update(status="sent", created_at=long_ago)

    with override_settings(MESSAGING_RETENTION_DAYS=90):
        messages_prune()
        journeys_prune()

    assert list(Journey.objects.values_list("pk", flat=True)) == [waiting.origin]
    assert Message.objects.get().pk == waiting.pk
