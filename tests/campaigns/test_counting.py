"""Run-level counts: small runs counted live, big runs read from the run."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns import counting
from campaigns.models import Campaign, CampaignRun
from campaigns.monitoring import campaign_counts, counts_by_run
from campaigns.runs import campaign_tick
from messaging.models import Message


@pytest.fixture
def run(make_campaign: Any) -> CampaignRun:
    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    opened = campaign_tick(campaign_id=campaign.pk)
    assert opened is not None
    return opened


@pytest.mark.django_db
def test_a_big_run_reports_its_stored_counts_until_recounted(
    run: CampaignRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(counting, "LIVE_LIMIT", 2)  # three messages: a "big" run
    assert counting.runs_recount() == 1
    run.refresh_from_db()
    assert run.counts == {"queued": 3}

    Message.objects.filter(batch__cohort__run=run).update(status="sent")
    run.refresh_from_db()
    [stored] = counts_by_run([run])
    assert stored.counts == {"queued": 3}  # as last counted, not recounted per page

    assert counting.runs_recount() == 1  # a running run is recounted every pass
    run.refresh_from_db()
    [fresh] = counts_by_run([run])
    assert fresh.counts == {"sent": 3}
    assert campaign_counts(run.campaign)["sent"] == 3


@pytest.mark.django_db
def test_a_small_run_is_counted_live(run: CampaignRun) -> None:
    Message.objects.filter(batch__cohort__run=run).update(status="failed")

    [live] = counts_by_run([run])

    assert live.counts == {"failed": 3}


@pytest.mark.django_db
def test_the_runs_list_costs_the_same_queries_for_one_run_or_many(
    admin_client: Client, make_campaign: Any
) -> None:
    url = reverse("admin:campaigns_campaignrun_changelist")

    def queries_for_page() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    first = make_campaign(started=True, name="One")
    Campaign.objects.filter(pk=first.pk).update(status="in_progress")
    campaign_tick(campaign_id=first.pk)
    one = queries_for_page()
    for name in ("Two", "Three", "Four"):
        campaign = make_campaign(started=True, name=name)
        Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
        campaign_tick(campaign_id=campaign.pk)

    assert queries_for_page() == one


def page_queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_the_runs_list_costs_the_same_queries_whether_its_runs_are_live_or_stored(
    admin_client: Client, make_campaign: Any
) -> None:
    url = reverse("admin:campaigns_campaignrun_changelist")
    done = make_campaign(started=True, name="Done")
    Campaign.objects.filter(pk=done.pk).update(status="in_progress")
    finished = campaign_tick(campaign_id=done.pk)
    assert finished is not None
    CampaignRun.objects.filter(pk=finished.pk).update(status="done")
    counting.runs_recount()  # its final counts, stored
    page_queries(admin_client, url)  # what a session reads once
    stored_only = page_queries(admin_client, url)

    live = make_campaign(started=True, name="Live")
    Campaign.objects.filter(pk=live.pk).update(status="in_progress")
    campaign_tick(campaign_id=live.pk)  # never counted: counted live

    assert page_queries(admin_client, url) == stored_only


@pytest.mark.django_db
def test_a_campaigns_page_costs_the_same_queries_whether_its_runs_are_live_or_stored(
    admin_client: Client, run: CampaignRun
) -> None:
    url = reverse("admin:campaigns_campaign_change", args=[run.campaign_id])
    page_queries(admin_client, url)  # what a session reads once
    live = page_queries(admin_client, url)

    CampaignRun.objects.filter(pk=run.pk).update(status="done")
    counting.runs_recount()

    assert page_queries(admin_client, url) == live


@pytest.mark.django_db
def test_the_runs_list_costs_the_same_queries_with_runs_that_sent_nothing(
    admin_client: Client, run: CampaignRun
) -> None:
    import datetime as dt

    url = reverse("admin:campaigns_campaignrun_changelist")
    counting.runs_recount()
    page_queries(admin_client, url)  # what a session reads once
    one = page_queries(admin_client, url)
    # Skipped runs (the previous one was still sending) have no messages.
    CampaignRun.objects.bulk_create(
        CampaignRun(
            campaign=run.campaign,
            scheduled_for=run.scheduled_for + dt.timedelta(minutes=minutes),
            flow_version=run.flow_version,
            status=CampaignRun.Status.SKIPPED,
        )
        for minutes in range(1, 6)
    )
    counting.runs_recount()  # their counts, stored: none

    assert page_queries(admin_client, url) == one


@pytest.mark.django_db
def test_a_recount_pass_takes_running_runs_first_and_skipped_runs_once(
    run: CampaignRun,
) -> None:
    """A minute plan leaves thousands of recent runs, most of them skipped: one pass
    (100 runs) must still reach the run that is sending."""
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    old = now - dt.timedelta(hours=1)
    CampaignRun.objects.bulk_create(
        CampaignRun(
            campaign=run.campaign,
            flow_version=run.flow_version,
            scheduled_for=now - dt.timedelta(minutes=minute),
            status=CampaignRun.Status.DONE,
        )
        for minute in range(1, 4)
    )
    # Long uncounted done runs, and the running run counted more recently.
    CampaignRun.objects.exclude(pk=run.pk).update(
        counted_at=old - dt.timedelta(hours=1)
    )
    CampaignRun.objects.filter(pk=run.pk).update(counted_at=old)

    assert counting.runs_recount(now=now, limit=1) == 1
    run.refresh_from_db()
    assert run.counted_at == now

    skipped = CampaignRun.objects.create(
        campaign=run.campaign,
        flow_version=run.flow_version,
        scheduled_for=now,
        status=CampaignRun.Status.SKIPPED,
    )
    counting.runs_recount(now=now)
    skipped.refresh_from_db()
    assert skipped.counted_at == now
    later = now + dt.timedelta(minutes=10)
    counting.runs_recount(now=later)
    skipped.refresh_from_db()
    assert skipped.counted_at == now  # counted once: it never gets messages
    run.refresh_from_db()
    assert run.counted_at == later
