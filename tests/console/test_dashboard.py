"""The admin index is the operator's dashboard."""

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import Campaign
from tests.conftest import batch_of


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
    from base.models import Heartbeat
    from campaigns.runs import campaign_tick
    from messaging.models import Message
    from messaging.sending import messages_send_range

    campaign = make_campaign(started=True, name="Hot sale", schedule="hourly")
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    first = Message.objects.filter(batch__cohort__run=run).order_by("id").first()
    assert first is not None
    messages_send_range(batch_id=batch_of(run), first_id=first.pk, last_id=first.pk)
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


def _sections(page: str) -> list[str]:
    """The captions of the index's app modules, in order, and where System starts."""
    found = re.finditer(
        r'<h2 id="system-apps-title">System</h2>|class="section"[^>]*>([^<]+)</a>',
        page,
    )
    return [match.group(1) or "— System —" for match in found]


@pytest.mark.django_db
def test_the_index_leads_with_the_products_apps_and_ends_with_the_system_ones(
    admin_client: Client,
) -> None:
    page = admin_client.get("/admin/").content.decode()

    assert _sections(page) == [
        "Campaigns",
        "Flows",
        "Audiences",
        "Messaging",
        "Event stream",
        "Console",
        "API access",
        "Authentication and Authorization",
        "— System —",
        "Scheduled tasks (celery beat)",
        "Sign-in attempts and lockouts (axes)",
    ]
    assert "change the campaign, not its task" in page
    assert "After 5 wrong passwords for one user name, from any address" in page
    assert "after 5 from one address, whatever the user names" in page
    # Still one click away, and there.
    for url in (
        "/admin/django_celery_beat/periodictask/",
        "/admin/axes/accessattempt/",
    ):
        assert f'href="{url}"' in page
        assert admin_client.get(url).status_code == 200


@pytest.mark.django_db
def test_an_operator_sees_the_products_apps_and_no_system_section(
    client: Client, make_user: Callable[..., Any]
) -> None:
    client.force_login(make_user("Operator"))

    page = client.get("/admin/").content.decode()

    assert _sections(page)[:4] == ["Campaigns", "Flows", "Audiences", "Messaging"]
    assert "— System —" not in _sections(page)
    assert "periodictask" not in page
