"""The admin index is the operator's dashboard."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import Campaign


@pytest.mark.django_db
def test_an_empty_console_explains_each_panel(
    client: Client, make_user: Callable[..., Any]
) -> None:
    client.force_login(make_user("Viewer"))

    page = client.get("/admin/").content.decode()

    assert "No campaign is running." in page
    assert "Nothing is scheduled" in page
    assert "No import is running." in page
    assert "never seen: is it started?" in page


@pytest.mark.django_db
def test_the_dashboard_shows_progress_next_runs_today_and_health(
    client: Client,
    make_user: Callable[..., Any],
    make_campaign: Callable[..., Any],
) -> None:
    from campaigns.runs import campaign_tick
    from console.models import Heartbeat
    from messaging.dispatch import messages_send_range
    from messaging.models import Message

    campaign = make_campaign(started=True, name="Hot sale", schedule="hourly")
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    first = Message.objects.filter(run=run).order_by("id").first()
    assert first is not None
    messages_send_range(run_id=run.pk, first_id=first.pk, last_id=first.pk)
    Heartbeat.objects.create(name="worker", seen_at=timezone.now())
    Heartbeat.objects.create(
        name="beat", seen_at=timezone.now() - dt.timedelta(hours=1)
    )
    client.force_login(make_user("Viewer"))

    response = client.get("/admin/")
    page = response.content.decode()

    board = response.context["dashboard"]
    [progress] = board["in_progress"]
    assert progress.campaign.name == "Hot sale"
    assert (progress.latest.done, progress.latest.total) == (1, 3)
    assert "33%" in page
    [next_run] = board["next_runs"]
    assert next_run.at > timezone.now()
    assert board["today"] == {"sent": 1, "failed": 0, "waiting": 2}
    assert board["health"]["worker"]["ok"]
    assert not board["health"]["beat"]["ok"]
    assert "not seen" in page
