"""/api/v1/campaigns and /api/v1/bulk-messages take a campaign's language (of its
emails' unsubscribe line and page), English when left out."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from tests.conftest import PHONES

from .conftest import KeyClient

pytestmark = pytest.mark.django_db


def test_a_campaign_and_a_bulk_message_take_a_language(
    operator: KeyClient, make_flow: Any, make_group: Any, make_channel: Any
) -> None:
    later = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=1)
    group = make_group(PHONES)
    campaign = {
        "flow": make_flow().pk,
        "group": group.pk,
        "start_at": later.isoformat(),
        "end_at": (later + dt.timedelta(days=1)).isoformat(),
    }

    spanish = operator.send(
        "post", "/api/v1/campaigns", {**campaign, "name": "Ofertas", "language": "es"}
    )
    unsaid = operator.send("post", "/api/v1/campaigns", {**campaign, "name": "Sale"})
    wrong = operator.send(
        "post", "/api/v1/campaigns", {**campaign, "name": "X", "language": "fr"}
    )
    bulk = operator.send(
        "post",
        "/api/v1/bulk-messages",
        {
            "name": "Promo",
            "group": group.pk,
            "channel": make_channel().pk,
            "body": "Olá",
            "language": "pt",
        },
    )

    assert spanish.status_code == 201, spanish.json()
    assert spanish.json()["language"] == "es"
    assert unsaid.json()["language"] == "en"
    assert wrong.status_code == 400
    assert "language" in str(wrong.json())
    assert bulk.status_code == 201, bulk.json()
    assert Campaign.objects.get(name="Promo").language == "pt"
