"""The edges of wait-for-a-reply and group steps: replies after the time is up,
questions held by active hours, suspended campaigns, empty replies, group steps
on the campaign's own group and groups gone after publishing."""

import datetime as dt
from typing import Any

import pytest

from audiences.models import Contact
from campaigns.runs import campaign_tick
from flows.engine import journeys_advance
from flows.models import Journey
from messaging.receipts import reply_record
from tests.conftest import PHONES
from tests.flows.test_replies import (
    NIGHT,
    chatbot_flow,
)

CARLOS, ANA, LUIS = PHONES


@pytest.mark.django_db
def test_a_reply_after_the_time_is_up_goes_the_no_reply_way_even_before_the_advance(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    campaign = make_campaign(started=True, flow=chatbot_flow(channel), start_at=NIGHT)
    campaign_tick(campaign_id=campaign.pk, now=NIGHT)

    # The day is over; the advance has not come by yet when Carlos answers.
    over = NIGHT + dt.timedelta(days=1, minutes=1)
    late = reply_record(channel=channel, sender=CARLOS, body="si", now=over)
    assert late is not None
    assert late.taken_by_flow is False
    assert "RESPUESTA" not in Contact.objects.get(phone=CARLOS).data
    journeys_advance(now=over + dt.timedelta(minutes=1))
    assert set(Journey.objects.values_list("status", "step")) == {("ended", 5)}
