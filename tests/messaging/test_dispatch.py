import datetime as dt
import time
import uuid
from typing import Any

import pytest
from django.utils import timezone

from campaigns.runs import campaign_tick
from messaging.broker_loss import broker_epoch_changed, broker_epoch_mark
from messaging.models import Message
from messaging.sending import messages_send_range, retry_delay
from messaging.sweep import id_ranges, messages_sweep
from tests.conftest import PHONES, batch_of


def test_id_ranges_cut_sorted_ids_into_bounded_chunks() -> None:
    assert id_ranges([1, 2, 3, 7, 9], 2) == [(1, 2), (3, 7), (9, 9)]
    assert id_ranges([], 500) == []


def test_retries_back_off_and_are_capped() -> None:
    delays = [retry_delay(n).total_seconds() for n in (1, 2, 3, 10)]
    assert delays == [30, 60, 120, 3600]


@pytest.fixture
def run(make_campaign: Any) -> Any:
    campaign = make_campaign(started=True)
    opened = campaign_tick(campaign_id=campaign.pk)
    assert opened is not None
    return opened


def send_all(run: Any, now: dt.datetime | None = None) -> Any:
    ids = list(
        Message.objects.filter(batch__cohort__run=run).values_list("id", flat=True)
    )
    return messages_send_range(
        batch_id=batch_of(run), first_id=min(ids), last_id=max(ids), now=now
    )


@pytest.mark.django_db
def test_a_range_sent_twice_reaches_the_provider_once(run: Any, provider: Any) -> None:
    first = send_all(run)
    second = send_all(run)

    assert (first.sent, second.sent) == (3, 0)
    assert sorted(phone for _, phone, _ in provider.sent) == sorted(PHONES)
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_permanent_error_fails_the_message_with_the_provider_reason(
    run: Any, provider: Any
) -> None:
    provider.failures[PHONES[0]] = ("21211: invalid 'To' number", True)

    report = send_all(run)

    assert (report.sent, report.failed) == (2, 1)
    failed = Message.objects.get(contact__phone=PHONES[0])
    assert failed.status == "failed"
    assert failed.error == "21211: invalid 'To' number"


@pytest.mark.django_db
def test_a_transient_error_is_retried_later_then_fails_after_the_last_attempt(
    run: Any, provider: Any, settings: Any
) -> None:
    settings.MESSAGING_MAX_ATTEMPTS = 2
    provider.failures[PHONES[0]] = ("503 provider busy", False)

    send_all(run)
    message = Message.objects.get(contact__phone=PHONES[0])
    assert (message.status, message.attempts) == ("queued", 1)
    assert message.not_before is not None
    assert message.not_before > timezone.now() + dt.timedelta(seconds=25)

    # Not due yet: nothing happens.
    assert send_all(run).retrying == 0
    report = send_all(run, now=message.not_before + dt.timedelta(seconds=1))

    message.refresh_from_db()
    assert report.failed == 1
    assert (message.status, message.attempts) == ("failed", 2)
    assert message.error == "503 provider busy"


@pytest.mark.django_db
def test_a_contact_who_opted_out_after_the_fan_out_is_skipped(
    run: Any, provider: Any
) -> None:
    from audiences.models import Contact

    Contact.objects.filter(phone=PHONES[1]).update(opted_out_at=timezone.now())

    report = send_all(run)

    assert (report.sent, report.skipped) == (2, 1)
    assert PHONES[1] not in {phone for _, phone, _ in provider.sent}
    assert Message.objects.get(contact__phone=PHONES[1]).status == "skipped"


@pytest.mark.django_db
def test_messages_outside_active_hours_wait_for_the_window(
    run: Any, provider: Any
) -> None:
    channel = Message.objects.filter(batch__cohort__run=run).first().channel  # type: ignore[union-attr]
    channel.active_from, channel.active_until = dt.time(8), dt.time(21)
    channel.timezone = "Etc/GMT+5"  # GMT-5, as operators write it
    channel.save()
    night = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)  # 22:00 at GMT-5

    report = send_all(run, now=night)

    assert (report.sent, report.deferred) == (0, 3)
    opening = dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC)  # 08:00 at GMT-5
    assert set(Message.objects.values_list("status", "not_before")) == {
        ("deferred", opening)
    }
    assert send_all(run, now=opening - dt.timedelta(minutes=1)).sent == 0
    assert send_all(run, now=opening + dt.timedelta(seconds=1)).sent == 3


@pytest.mark.django_db
def test_the_sweeper_gives_back_claims_of_a_lost_worker(
    run: Any, provider: Any, redis_client: Any
) -> None:
    now = timezone.now()
    Message.objects.filter(batch__cohort__run=run).update(
        claim_token=uuid.uuid4(), lease_until=now - dt.timedelta(seconds=1), attempts=1
    )

    queued_tasks = messages_sweep(now=now)

    assert queued_tasks == 1
    assert redis_client.llen("celery") == 1
    assert set(Message.objects.values_list("status", flat=True)) == {"queued"}
    assert send_all(run).sent == 3


@pytest.mark.django_db
def test_the_sweeper_leaves_messages_a_task_still_holds(
    run: Any, redis_client: Any
) -> None:
    # A broker the sweeper has seen before (not flushed since): the dispatch task
    # queued at the fan-out's commit is in it and holds the lease.
    epoch = broker_epoch_changed()
    assert epoch is not None
    broker_epoch_mark(epoch)
    assert messages_sweep() == 0
    later = timezone.now() + dt.timedelta(hours=1)
    assert messages_sweep(now=later) == 1
    # Queuing renews the lease, so the next sweep does not queue them again.
    assert messages_sweep(now=later + dt.timedelta(seconds=30)) == 0


@pytest.mark.django_db
def test_a_message_whose_claim_was_taken_is_not_counted_as_sent(
    run: Any, provider: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def taken_by_another_worker(message: Message) -> None:
        Message.objects.filter(pk=message.pk).update(status="queued", claim_token=None)

    provider.on_send.append(taken_by_another_worker)

    report = send_all(run)

    assert report.sent == 0
    assert "were sent but their claim was lost" in caplog.text


@pytest.mark.django_db
def test_a_transient_failure_after_the_campaign_ended_is_cancelled_not_retried(
    run: Any, provider: Any
) -> None:
    from campaigns.lifecycle import campaign_end

    def end_campaign(message: Message) -> None:
        campaign_end(campaign=run.campaign)

    provider.on_send.append(end_campaign)
    for phone in PHONES:
        provider.failures[phone] = ("503 busy", False)

    report = send_all(run)

    assert report.retrying == 0
    assert set(Message.objects.values_list("status", flat=True)) == {"cancelled"}


@pytest.mark.django_db
def test_ending_the_campaign_stops_a_chunk_being_sent(
    run: Any, provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campaigns.lifecycle import campaign_end
    from messaging import sending

    monkeypatch.setattr(sending, "STOP_CHECK_SECONDS", 0.0)

    def end_after_first(message: Message) -> None:
        if not provider.sent:
            campaign_end(campaign=run.campaign)

    provider.on_send.append(end_after_first)

    report = send_all(run)

    assert (report.sent, report.cancelled) == (1, 2)
    assert len(provider.sent) == 1


@pytest.mark.django_db
def test_the_sweeper_cancels_lost_claims_of_an_ended_campaign(
    run: Any, redis_client: Any
) -> None:
    from campaigns.lifecycle import campaign_end

    now = timezone.now()
    Message.objects.filter(batch__cohort__run=run).update(
        claim_token=uuid.uuid4(), lease_until=now - dt.timedelta(seconds=1), attempts=1
    )
    campaign_end(campaign=run.campaign)

    assert messages_sweep(now=now) == 0
    assert set(Message.objects.values_list("status", flat=True)) == {"cancelled"}
    assert redis_client.llen("celery") == 0


@pytest.mark.django_db
def test_a_range_of_a_cancelled_run_cancels_instead_of_sending(
    run: Any, provider: Any
) -> None:
    from messaging.models import Batch

    # What cancelling a run does to its messages' batch.
    Batch.objects.filter(pk=batch_of(run)).update(
        stopped_at=timezone.now(), stop_reason="campaign ended"
    )

    report = send_all(run)

    assert (report.sent, report.cancelled) == (0, 3)
    assert provider.sent == []


@pytest.mark.django_db
def test_a_task_out_of_time_hands_the_rest_of_its_chunk_to_a_new_task(
    run: Any, provider: Any, redis_client: Any
) -> None:
    from django.test import override_settings

    def slow(message: Message) -> None:
        time.sleep(0.6)

    provider.on_send.append(slow)
    with override_settings(MESSAGING_TASK_BUDGET_SECONDS=1):
        report = send_all(run)

    assert report.sent == 2  # 0.6 s each: the third would start after the budget
    assert report.released == 1
    left = Message.objects.get(status="queued")
    assert left.attempts == 0
    assert left.claim_token is None
    assert redis_client.llen("celery") == 1  # its new task


@pytest.mark.django_db
def test_a_second_task_for_the_range_leaves_what_a_live_worker_holds(
    run: Any, provider: Any
) -> None:
    redelivered: list[Any] = []

    def same_range_again(message: Message) -> None:
        if not redelivered:  # a task delivered twice, while the first is sending
            redelivered.append(send_all(run))

    provider.on_send.append(same_range_again)

    first = send_all(run)

    assert (first.sent, redelivered[0].sent) == (3, 0)
    assert len(provider.sent) == 3


@pytest.mark.django_db
def test_a_held_message_reads_as_sending_and_is_left_to_its_worker(run: Any) -> None:
    from campaigns.monitoring import counts_by_run
    from messaging.models import Batch
    from messaging.outbox import batches_stop
    from messaging.receipts import contact_opt_out

    held = Message.objects.filter(batch__cohort__run=run).first()
    assert held is not None
    Message.objects.filter(pk=held.pk).update(
        claim_token=uuid.uuid4(), lease_until=timezone.now() + dt.timedelta(hours=1)
    )
    held.refresh_from_db()

    [counts] = counts_by_run([run])
    assert (counts.counts["sending"], counts.counts["queued"]) == (1, 2)
    assert held.state == "sending"
    # Opting out and cancelling skip what waits, not what a worker is sending:
    # the worker checks again, or records what it sent.
    assert contact_opt_out(contact=held.contact, source="test") == 0
    batches = Batch.objects.filter(pk=batch_of(run))
    assert batches_stop(batches=batches, reason="test") == 2
    held.refresh_from_db()
    assert held.status == "queued"


@pytest.mark.django_db
def test_a_row_handed_back_while_the_campaign_ends_is_never_sent(
    run: Any, provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campaigns import lifecycle
    from campaigns.models import CampaignRun

    held = Message.objects.filter(batch__cohort__run=run).order_by("id").first()
    assert held is not None
    # The others went out: End has nothing to cancel but the held one, left to
    # its worker.
    Message.objects.filter(batch__cohort__run=run).exclude(pk=held.pk).update(
        status="sent"
    )
    Message.objects.filter(pk=held.pk).update(
        claim_token=uuid.uuid4(), lease_until=timezone.now() + dt.timedelta(hours=1)
    )
    real_end = lifecycle.cohorts_end

    def cancel_then_worker_hands_back(**kwargs: Any) -> tuple[int, int]:
        ended = real_end(**kwargs)
        # Meanwhile the worker holding it met a 503 and queued it for a retry.
        Message.objects.filter(pk=held.pk).update(
            claim_token=None, lease_until=None, not_before=timezone.now()
        )
        return ended

    monkeypatch.setattr(lifecycle, "cohorts_end", cancel_then_worker_hands_back)
    run.campaign.refresh_from_db()
    lifecycle.campaign_end(campaign=run.campaign)

    run.refresh_from_db()
    assert run.status == CampaignRun.Status.CANCELLED
    report = send_all(run, now=timezone.now() + dt.timedelta(minutes=1))
    assert report.sent == 0
    assert provider.sent == []
    assert Message.objects.get(pk=held.pk).status == "cancelled"


@pytest.mark.django_db
def test_a_message_whose_step_is_gone_fails_and_lets_go_of_its_claim(
    run: Any, provider: Any
) -> None:
    Message.objects.filter(batch__cohort__run=run).update(step=999)

    report = send_all(run)

    assert report.failed == 3
    assert set(
        Message.objects.filter(batch__cohort__run=run).values_list(
            "status", "claim_token"
        )
    ) == {("failed", None)}


@pytest.mark.django_db
def test_a_stop_reply_during_a_long_chunk_skips_that_contacts_message(
    run: Any, provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The opt-out is read at the claim, and again while a chunk is sent (a slow
    provider or a rate limit can make that last minutes)."""
    from messaging import sending
    from messaging.receipts import contact_opt_out

    monkeypatch.setattr(sending, "STOP_CHECK_SECONDS", 0.0)
    last = (
        Message.objects.filter(batch__cohort__run=run)
        .order_by("-id")
        .select_related("contact")[0]
    )

    def stop_after_first(message: Message) -> None:
        if not provider.sent:
            contact_opt_out(contact=last.contact, source="replied 'STOP'")

    provider.on_send.append(stop_after_first)

    report = send_all(run)

    assert (report.sent, report.skipped) == (2, 1)
    assert last.contact.phone not in [phone for _, phone, _ in provider.sent]
    last.refresh_from_db()
    assert (last.status, last.error, last.claim_token) == ("skipped", "opted out", None)


@pytest.mark.django_db
def test_archiving_a_flow_during_a_long_chunk_cancels_its_held_messages(
    make_channel: Any, provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audiences.models import Contact
    from flows.models import Flow, FlowStep
    from flows.publishing import flow_archive, flow_publish
    from flows.triggers import event_record
    from messaging import sending

    monkeypatch.setattr(sending, "STOP_CHECK_SECONDS", 0.0)
    flow = Flow.objects.create(name="On signup", trigger="event", event_name="signup")
    FlowStep.objects.create(
        flow=flow, position=1, kind="send", channel=make_channel(), body="Hola"
    )
    FlowStep.objects.create(flow=flow, position=2, kind="end")
    flow_publish(flow=flow)
    for number, phone in enumerate(PHONES):
        contact = Contact.objects.create(phone=phone)
        event_record(contact=contact, event="signup", event_id=f"e{number}")
    ids = list(Message.objects.values_list("id", flat=True))
    assert len(ids) == 3

    def archive_after_first(message: Message) -> None:
        if not provider.sent:
            flow_archive(flow=flow)

    provider.on_send.append(archive_after_first)

    (batch_id,) = set(Message.objects.values_list("batch_id", flat=True))
    report = messages_send_range(batch_id=batch_id, first_id=min(ids), last_id=max(ids))

    assert (report.sent, report.cancelled) == (1, 2)
    assert len(provider.sent) == 1
    assert sorted(Message.objects.values_list("status", flat=True)) == [
        "cancelled",
        "cancelled",
        "sent",
    ]


@pytest.mark.django_db
def test_a_message_of_a_flow_archived_while_it_was_held_is_cancelled_when_retried(
    make_channel: Any, provider: Any
) -> None:
    """Archiving cancels the waiting messages of the flow's journeys, not those a
    worker holds: one it then gave back (a failure to retry, a lost worker, the end
    of its time) must not go out later."""
    from audiences.models import Contact
    from flows.models import Flow, FlowStep
    from flows.publishing import flow_archive, flow_publish
    from flows.triggers import event_record

    flow = Flow.objects.create(name="On signup", trigger="event", event_name="signup")
    FlowStep.objects.create(
        flow=flow, position=1, kind="send", channel=make_channel(), body="Hola"
    )
    FlowStep.objects.create(flow=flow, position=2, kind="end")
    flow_publish(flow=flow)
    contact = Contact.objects.create(phone=PHONES[0])
    event_record(contact=contact, event="signup", event_id="e1")
    (message,) = Message.objects.all()
    # A worker holds it while the flow is archived, then gives it back (the end
    # of its time).
    from messaging.claims import claim, claims_release

    token = uuid.uuid4()
    [held] = claim(message.batch, message.pk, message.pk, token, timezone.now())
    flow_archive(flow=flow)
    assert claims_release([held], token) == 1

    later = timezone.now() + dt.timedelta(hours=1)
    again = messages_send_range(
        batch_id=message.batch_id, first_id=message.pk, last_id=message.pk, now=later
    )

    assert (again.sent, again.cancelled) == (0, 1)
    assert provider.sent == []
    message.refresh_from_db()
    assert (message.status, message.error, message.claim_token) == (
        "cancelled",
        "flow archived",
        None,
    )


@pytest.mark.django_db
def test_a_failed_send_after_its_flow_was_archived_is_cancelled_not_retried(
    make_channel: Any, provider: Any
) -> None:
    """As after a campaign's end: the batch was stopped while the message was
    being sent, so its retry would never go out."""
    from audiences.models import Contact
    from flows.models import Flow, FlowStep
    from flows.publishing import flow_archive, flow_publish
    from flows.triggers import event_record

    flow = Flow.objects.create(name="On signup", trigger="event", event_name="signup")
    FlowStep.objects.create(
        flow=flow, position=1, kind="send", channel=make_channel(), body="Hola"
    )
    FlowStep.objects.create(flow=flow, position=2, kind="end")
    flow_publish(flow=flow)
    event_record(
        contact=Contact.objects.create(phone=PHONES[0]), event="signup", event_id="e1"
    )
    (message,) = Message.objects.all()
    provider.failures[PHONES[0]] = ("timed out", False)
    provider.on_send.append(lambda _: flow_archive(flow=flow))

    report = messages_send_range(
        batch_id=message.batch_id, first_id=message.pk, last_id=message.pk
    )

    assert (report.retrying, report.cancelled) == (0, 1)
    message.refresh_from_db()
    assert (message.status, message.error) == (
        "cancelled",
        "flow archived; last attempt: timed out",
    )
