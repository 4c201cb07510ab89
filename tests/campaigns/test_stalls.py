"""Runs that stop moving (campaigns.stalls): flagged after CAMPAIGNS_STALL_MINUTES
with messages due and nothing sent, mailed once through a real SMTP server, mailed
again when they move; never for a run waiting for its hours, suspended or done."""

import datetime as dt
import email
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client, override_settings
from django.utils import timezone
from pytest_httpserver import HTTPServer

from campaigns.counting import runs_recount
from campaigns.lifecycle import campaign_suspend
from campaigns.models import CampaignRun
from campaigns.runs import campaign_tick, runs_mark_done
from campaigns.stalls import StallNews, runs_check_stalls, stall_listeners
from messaging.models import Message
from messaging.sending import messages_send_range
from tests.config.test_settings import manage
from tests.conftest import batch_of
from tests.lazy_parts import page_with_parts

MINUTE = dt.timedelta(minutes=1)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def texts(self) -> list[str]:
        found = []
        for message in self.messages:
            payload = message.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found.append(f"{message['Subject']}\n{payload.decode()}")
        return found


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    import port_for

    mailbox = Mailbox()
    port = port_for.select_random()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            FLOWCAST_ALERT_EMAILS=["ops@tienda.example", "oncall@tienda.example"],
            CAMPAIGNS_STALL_MINUTES=10,
        ):
            yield mailbox
    finally:
        controller.stop()


def start_run(make_campaign: Callable[..., Any], **fields: Any) -> CampaignRun:
    """A campaign in progress and its run, its three messages queued, none sent."""
    campaign = make_campaign(started=True, **fields)
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    assert Message.objects.filter(batch_id=batch_of(run), status="queued").count() == 3
    return run


def send_all(run: CampaignRun, now: dt.datetime | None = None) -> Any:
    return messages_send_range(
        batch_id=batch_of(run), first_id=0, last_id=10**9, now=now
    )


@pytest.mark.django_db
def test_a_run_with_messages_due_and_nothing_sent_is_flagged_and_mailed_once(
    smtp: Mailbox, make_campaign: Callable[..., Any]
) -> None:
    run = start_run(make_campaign, name="Hot sale")
    start = run.started_at

    early = runs_check_stalls(now=start + 9 * MINUTE)
    run.refresh_from_db()
    assert (early.watched, early.stalled, run.stalled_since) == (1, 0, None)

    late = runs_check_stalls(now=start + 11 * MINUTE)
    again = runs_check_stalls(now=start + 12 * MINUTE)

    run.refresh_from_db()
    assert (late.stalled, again.stalled) == (1, 0)
    assert run.stalled_since == start
    assert run.stall_due == 3
    assert run.stall_alerted_at == start + 11 * MINUTE
    [mail] = smtp.messages  # not told twice
    assert mail["To"] == "ops@tienda.example, oncall@tienda.example"
    [text] = smtp.texts()
    assert "Not moving: Hot sale" in text
    assert "has not moved for 11 min: 3 messages due" in text
    # The check runs on the worker's beat: no worker heartbeat in this test.
    assert "The Celery worker is not running (never seen)" in text


@pytest.mark.django_db
def test_a_stalled_run_that_sends_is_cleared_and_mailed_as_moving_again(
    smtp: Mailbox, make_campaign: Callable[..., Any]
) -> None:
    run = start_run(make_campaign, name="Hot sale")
    start = run.started_at
    runs_check_stalls(now=start + 11 * MINUTE)
    run.refresh_from_db()
    assert run.stalled_since is not None

    first = Message.objects.filter(batch_id=batch_of(run)).order_by("id").first()
    assert first is not None
    messages_send_range(batch_id=batch_of(run), first_id=first.pk, last_id=first.pk)
    runs_recount(now=start + 12 * MINUTE)  # as the counting task does
    moved = runs_check_stalls(now=start + 12 * MINUTE + dt.timedelta(seconds=10))

    run.refresh_from_db()
    assert moved.recovered == 1
    assert (run.stalled_since, run.stall_due, run.stall_alerted_at) == (None, 0, None)
    assert run.progress_mark == 1
    assert len(smtp.messages) == 2
    recovered = smtp.texts()[1]
    assert "No longer stuck: Hot sale" in recovered
    assert "is no longer stuck: it is sending again" in recovered
    assert "(3 messages were due)" in recovered

    # Quiet again for the whole period with two messages due: a new stall, told.
    runs_check_stalls(now=start + 23 * MINUTE)
    run.refresh_from_db()
    assert run.stalled_since == start + 12 * MINUTE + dt.timedelta(seconds=10)
    assert run.stall_due == 2
    assert len(smtp.messages) == 3
    assert "has not moved for 10 min: 2 messages due" in smtp.texts()[2]


@pytest.mark.django_db
def test_without_addresses_a_stall_is_flagged_but_nobody_is_mailed(
    smtp: Mailbox, make_campaign: Callable[..., Any]
) -> None:
    run = start_run(make_campaign)

    with override_settings(FLOWCAST_ALERT_EMAILS=[]):
        runs_check_stalls(now=run.started_at + 11 * MINUTE)

    run.refresh_from_db()
    assert run.stalled_since == run.started_at
    assert smtp.messages == []


@pytest.mark.django_db
def test_a_listener_that_fails_is_told_again_at_the_next_check(
    smtp: Mailbox, make_campaign: Callable[..., Any]
) -> None:
    run = start_run(make_campaign)
    heard: list[StallNews] = []

    def flaky(news: StallNews) -> None:
        heard.append(news)
        if len(heard) == 1:
            raise ConnectionError("the event stream is down")

    stall_listeners.append(flaky)
    try:
        runs_check_stalls(now=run.started_at + 11 * MINUTE)
        run.refresh_from_db()
        assert run.stall_alerted_at is None
        runs_check_stalls(now=run.started_at + 12 * MINUTE)
        runs_check_stalls(now=run.started_at + 13 * MINUTE)
    finally:
        stall_listeners.remove(flaky)

    run.refresh_from_db()
    assert [news.kind for news in heard] == ["stalled", "stalled"]
    assert heard[1].headline.endswith("has not moved for 12 min: 3 messages due")
    assert run.stall_alerted_at == run.started_at + 12 * MINUTE
    assert len(smtp.messages) == 2  # the mail listener was told both times


@pytest.mark.django_db
def test_a_run_waiting_for_its_active_hours_is_not_flagged_until_they_open(
    smtp: Mailbox, make_campaign: Callable[..., Any]
) -> None:
    now = timezone.localtime().replace(second=0, microsecond=0)
    opens = now + dt.timedelta(minutes=70)
    closes = now + dt.timedelta(hours=4)
    run = start_run(make_campaign, active_from=opens.time(), active_until=closes.time())
    start = run.started_at
    # The worker handed the messages defers them to the opening of the window.
    report = send_all(run, now=start)
    assert report.deferred == 3
    assert set(
        Message.objects.filter(batch_id=batch_of(run)).values_list(
            "status", "not_before"
        )
    ) == {("deferred", opens)}

    for minutes in (11, 12, 40, 70, 79):
        runs_check_stalls(now=start + minutes * MINUTE)
        run.refresh_from_db()
        assert run.stalled_since is None, f"flagged {minutes} min after its start"
    assert run.progress_at == opens  # its clock starts when they fall due

    # The window opened and nothing went out for the whole period: stalled since it
    # opened, with its three messages due.
    runs_check_stalls(now=opens + 10 * MINUTE)
    run.refresh_from_db()
    assert run.stalled_since == opens
    assert run.stall_due == 3
    assert "has not moved for 10 min: 3 messages due" in smtp.texts()[0]


@pytest.mark.django_db
def test_a_run_held_back_by_a_provider_asking_to_wait_is_flagged(
    smtp: Mailbox,
    httpserver: HTTPServer,
    make_campaign: Callable[..., Any],
    make_flow: Callable[..., Any],
    make_channel: Callable[..., Any],
) -> None:
    httpserver.expect_request("/hook").respond_with_data(
        "busy", status=503, headers={"Retry-After": "3600"}
    )
    channel = make_channel(
        kind="webhook", settings={"url": httpserver.url_for("/hook")}
    )
    run = start_run(make_campaign, flow=make_flow(channel=channel))
    start = run.started_at

    report = send_all(run, now=start)

    # Put back for an hour, their attempts unspent: not waiting for active hours.
    assert (report.sent, report.failed, report.deferred) == (0, 0, 0)
    assert (
        Message.objects.filter(
            batch_id=batch_of(run), status="queued", not_before__gt=start + 30 * MINUTE
        ).count()
        == 3
    )
    runs_check_stalls(now=start + 11 * MINUTE)
    run.refresh_from_db()
    assert run.stalled_since == start
    assert run.stall_due == 3
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_a_run_of_a_suspended_campaign_is_not_flagged_and_a_flag_is_cleared(
    smtp: Mailbox, make_campaign: Callable[..., Any]
) -> None:
    quiet = start_run(make_campaign, name="Paused before")
    flagged = start_run(make_campaign, name="Paused after")
    start = max(quiet.started_at, flagged.started_at)
    campaign_suspend(campaign=quiet.campaign)
    runs_check_stalls(now=start + 11 * MINUTE)
    quiet.refresh_from_db()
    flagged.refresh_from_db()
    assert quiet.stalled_since is None
    assert flagged.stalled_since is not None

    campaign_suspend(campaign=flagged.campaign)
    cleared = runs_check_stalls(now=start + 12 * MINUTE)

    flagged.refresh_from_db()
    assert (cleared.watched, cleared.recovered) == (0, 1)
    assert flagged.stalled_since is None
    assert len(smtp.messages) == 2
    assert "is no longer stuck: the campaign is suspended" in smtp.texts()[1]


@pytest.mark.django_db
def test_a_done_run_and_a_run_with_nothing_left_to_send_are_not_flagged(
    smtp: Mailbox, make_campaign: Callable[..., Any]
) -> None:
    run = start_run(make_campaign)
    send_all(run)
    assert runs_mark_done() == 1

    found = runs_check_stalls(now=run.started_at + 30 * MINUTE)

    run.refresh_from_db()
    assert (found.watched, run.status, run.stalled_since) == (0, "done", None)

    # Running, all sent (its journeys could still wait in the flow): idle, not late.
    other = start_run(make_campaign, name="Waits in its flow")
    send_all(other)
    for minutes in (11, 30):
        runs_check_stalls(now=other.started_at + minutes * MINUTE)
    other.refresh_from_db()
    assert (other.status, other.stalled_since) == ("running", None)
    assert other.progress_at == other.started_at + 30 * MINUTE
    assert smtp.messages == []


@pytest.mark.django_db
def test_the_dashboard_the_campaign_page_and_the_runs_list_show_a_stalled_run(
    smtp: Mailbox,
    client: Client,
    make_user: Callable[..., Any],
    make_campaign: Callable[..., Any],
) -> None:
    run = start_run(make_campaign, name="Hot sale")
    now = timezone.now()
    # Started 23 minutes ago, nothing sent since.
    CampaignRun.objects.filter(pk=run.pk).update(started_at=now - 23 * MINUTE)
    runs_check_stalls(now=now)
    client.force_login(make_user("Viewer"))
    shown = "has not moved for 23 min: 3 messages due"

    board = client.get("/admin/")
    page = client.get(f"/admin/campaigns/campaign/{run.campaign_id}/change/")
    runs = client.get(
        f"/admin/campaigns/campaignrun/?campaign__id__exact={run.campaign_id}"
    )

    [stalled] = board.context["dashboard"]["stalled"]
    assert stalled.run.pk == run.pk
    text = board.content.decode()
    assert 'id="dashboard-stalled"' in text
    assert shown in text
    assert "The Celery worker is not running" in text
    assert shown in page.content.decode()
    assert 'class="stall-notice"' in page.content.decode()
    assert shown in runs.content.decode()
    # The monitor's row of the run (it comes after the page).
    change = f"/admin/campaigns/campaign/{run.campaign_id}/change/"
    assert "0% not moving" in page_with_parts(client, change)
    not_moving = client.get("/admin/campaigns/campaignrun/?moving=no")
    assert [row.pk for row in not_moving.context["cl"].result_list] == [run.pk]

    # Moving again: gone from all three.
    send_all(run)
    runs_check_stalls(now=now + 2 * MINUTE)
    assert not client.get("/admin/").context["dashboard"]["stalled"]
    page = client.get(f"/admin/campaigns/campaign/{run.campaign_id}/change/")
    assert "has not moved" not in page.content.decode()
    not_moving = client.get("/admin/campaigns/campaignrun/?moving=no")
    assert list(not_moving.context["cl"].result_list) == []


def test_the_check_is_a_system_tick_every_minute(settings: Any) -> None:
    tick = settings.CELERY_BEAT_SCHEDULE["system: check stalled runs"]
    assert tick["task"] == "campaigns.tasks.check_stalls"
    assert tick["schedule"] == dt.timedelta(minutes=1)


def test_the_period_and_the_addresses_come_from_the_environment() -> None:
    read = manage(
        "shell",
        "-c",
        "from django.conf import settings; "
        "print(settings.CAMPAIGNS_STALL_MINUTES, settings.FLOWCAST_ALERT_EMAILS)",
        SECRET_KEY="x" * 60,
        CAMPAIGNS_STALL_MINUTES="25",
        FLOWCAST_ALERT_EMAILS="ops@tienda.example, oncall@tienda.example,",
    )
    assert (
        read.stdout.splitlines()[-1]
        == "25 ['ops@tienda.example', 'oncall@tienda.example']"
    )

    refused = manage("check", SECRET_KEY="x" * 60, CAMPAIGNS_STALL_MINUTES="0")
    assert refused.returncode != 0
    assert "CAMPAIGNS_STALL_MINUTES must be at least 1, got 0" in refused.stderr
