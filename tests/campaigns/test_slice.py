"""The thinnest end-to-end path, on PostgreSQL and Redis with a real Celery worker:
beat sends a campaign's tick through the broker, the worker opens the run, fans out
and sends every message through the console backend."""

from typing import Any

import pytest
from django_celery_beat.schedulers import DatabaseScheduler

from audiences.models import Contact
from campaigns.models import CampaignRun
from config.celery import app
from messaging.models import Message
from tests.conftest import PHONES, wait_for


def beat_tick(campaign: Any) -> None:
    """Send the campaign's tick exactly as celery beat does, through its own scheduler
    code and the broker."""
    scheduler = DatabaseScheduler(app=app, lazy=True)
    entry = scheduler.Entry(campaign.periodic_task, app=app)
    scheduler.apply_async(entry, advance=False)


@pytest.mark.django_db(transaction=True)
def test_a_tick_sent_twice_for_one_slot_gives_each_contact_exactly_one_message(
    celery_worker: Any, make_campaign: Any, caplog: pytest.LogCaptureFixture
) -> None:
    campaign = make_campaign(started=True)
    caplog.set_level("INFO", logger="messaging.console")

    beat_tick(campaign)
    beat_tick(campaign)

    def all_sent() -> bool:
        return (
            Message.objects.filter(status=Message.Status.SENT).count() == len(PHONES)
            and not Message.objects.exclude(status=Message.Status.SENT).exists()
        )

    assert wait_for(all_sent), list(Message.objects.values_list("status", flat=True))
    # Give a late duplicate every chance to show up before counting.
    assert not wait_for(lambda: CampaignRun.objects.count() > 1, timeout=2)

    assert CampaignRun.objects.filter(campaign=campaign).count() == 1
    messages = Message.objects.select_related("contact").order_by("contact__phone")
    assert [m.contact.phone for m in messages] == sorted(PHONES)
    for message in messages:
        assert message.body == f"Hola {message.contact.data['NOMBRE']}"
        assert message.provider_id == f"console-{message.pk}"
        assert message.attempts == 1
    campaign.refresh_from_db()
    assert campaign.status == "in_progress"
    logged = [r.getMessage() for r in caplog.records if r.name == "messaging.console"]
    assert len(logged) == len(PHONES)


@pytest.mark.django_db(transaction=True)
def test_opted_out_contacts_get_a_skipped_row_and_nothing_sent(
    celery_worker: Any, make_campaign: Any
) -> None:
    from django.utils import timezone

    campaign = make_campaign(started=True)
    Contact.objects.filter(phone=PHONES[0]).update(opted_out_at=timezone.now())

    beat_tick(campaign)

    assert wait_for(
        lambda: Message.objects.filter(status=Message.Status.SENT).count() == 2
    )
    skipped = Message.objects.get(contact__phone=PHONES[0])
    assert skipped.status == Message.Status.SKIPPED
    assert skipped.sent_at is None
