"""Each change the stream tells of emits its event, in the transaction that records
it: messages sent, delivered and failed, replies, opt-outs, finished runs and
imports."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audiences.importing import import_job_analyse, import_job_apply, import_job_create
from audiences.models import AudienceGroup, Contact
from campaigns.lifecycle import campaign_end
from campaigns.models import CampaignRun
from campaigns.runs import campaign_tick, runs_mark_done
from messaging.models import Channel, Message
from messaging.receipts import messages_record_receipt, reply_record
from messaging.sending import messages_send_range
from stream.models import Endpoint, Event
from tests.conftest import PHONES, batch_of


@pytest.fixture
def listening(make_endpoint: Callable[..., Endpoint]) -> Endpoint:
    return make_endpoint("https://crm.example.com/events")


def events(type: str) -> list[dict[str, Any]]:
    return list(
        Event.objects.filter(type=type).order_by("id").values_list("data", flat=True)
    )


def send_run(campaign: Any) -> CampaignRun:
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)
    return run


def test_messages_sent_and_failed_emit_their_events(
    listening: Endpoint, provider: Any, make_campaign: Callable[..., Any]
) -> None:
    provider.failures[PHONES[2]] = ("number unknown", True)
    run = send_run(make_campaign(started=True))

    sent = events("message.sent")
    assert sorted(e["contact"]["phone"] for e in sent) == sorted(PHONES[:2])
    first = sent[0]
    message = Message.objects.get(pk=first["message"])
    assert first["status"] == "sent"
    assert first["provider_id"] == f"rec-{message.pk}"
    assert first["channel"]["name"] == message.channel.name
    assert first["run"] == run.pk
    assert first["sent_at"]
    [failed] = events("message.failed")
    assert failed["contact"]["phone"] == PHONES[2]
    assert failed["error"] == "number unknown"
    assert failed["sent_at"] is None
    # About their contacts, for per-contact order.
    keys = set(Event.objects.values_list("contact_key", flat=True))
    assert keys == set(Contact.objects.values_list("pk", flat=True))


def test_a_receipt_emits_delivered_or_failed_and_a_repeat_nothing(
    listening: Endpoint, provider: Any, make_campaign: Callable[..., Any]
) -> None:
    send_run(make_campaign(started=True))
    one, two, _ = Message.objects.order_by("id")

    messages_record_receipt(channel=one.channel, message_id=one.pk, status="delivered")
    messages_record_receipt(channel=one.channel, message_id=one.pk, status="delivered")
    messages_record_receipt(
        channel=two.channel, message_id=two.pk, status="undelivered", error="30005"
    )

    [delivered] = events("message.delivered")
    assert (delivered["message"], delivered["status"]) == (one.pk, "delivered")
    assert delivered["provider_id"] == f"rec-{one.pk}"
    [failed] = events("message.failed")
    assert (failed["message"], failed["error"]) == (two.pk, "30005")


def test_a_receipt_that_beats_the_worker_is_told_when_the_send_is_recorded(
    listening: Endpoint, provider: Any, make_campaign: Callable[..., Any]
) -> None:
    def receipt_first(message: Message) -> None:
        messages_record_receipt(
            channel=message.channel, message_id=message.pk, status="delivered"
        )

    provider.on_send.append(receipt_first)
    send_run(make_campaign(started=True))

    assert len(events("message.sent")) == 3
    assert len(events("message.delivered")) == 3
    # Sent before delivered, for each contact.
    for contact in Contact.objects.all():
        types = list(
            Event.objects.filter(contact_key=contact.pk)
            .order_by("id")
            .values_list("type", flat=True)
        )
        assert types == ["message.sent", "message.delivered"]


def test_a_reply_and_a_stop_emit_reply_then_opt_out(
    listening: Endpoint, make_channel: Callable[..., Channel], make_group: Any
) -> None:
    make_group(PHONES[:1])
    # A webhook channel reaches no address: its STOP is still the global opt-out
    # (on SMS it suppresses the number: tests/messaging/test_consent.py).
    channel = make_channel(kind="webhook", settings={"url": "https://hook.example"})
    contact = Contact.objects.get(phone=PHONES[0])

    reply_record(channel=channel, sender=PHONES[0], body="¿Cuánto debo?")
    reply_record(channel=channel, sender=PHONES[0], body="STOP", provider_id="SM1")
    reply_record(channel=channel, sender="+15005550006", body="hola")

    replies = events("reply.received")
    assert [r["text"] for r in replies] == ["¿Cuánto debo?", "STOP", "hola"]
    assert replies[0]["contact"] == {"id": contact.pk, "phone": PHONES[0]}
    assert replies[1]["opted_out"] is True
    assert replies[2]["contact"] is None
    assert replies[2]["sender"] == "+15005550006"
    [opted_out] = events("contact.opted_out")
    assert opted_out["contact"]["phone"] == PHONES[0]
    assert "STOP" in opted_out["source"]
    types = list(
        Event.objects.filter(contact_key=contact.pk)
        .order_by("id")
        .values_list("type", flat=True)
    )
    assert types == ["reply.received", "reply.received", "contact.opted_out"]


def test_stop_and_start_on_sms_emit_the_address_suppressed_then_taken_off(
    listening: Endpoint, make_channel: Callable[..., Channel], make_group: Any
) -> None:
    make_group(PHONES[:1])
    channel = make_channel(kind="sms", settings={"from": "+15005550006"})
    contact = Contact.objects.get(phone=PHONES[0])

    reply_record(channel=channel, sender=PHONES[0], body="STOP", provider_id="SM1")
    reply_record(channel=channel, sender=PHONES[0], body="START", provider_id="SM2")
    reply_record(channel=channel, sender="+15005550006", body="stop", provider_id="S3")

    suppressed = events("address.suppressed")
    assert [(e["address"], e["reason"], e["contacts"]) for e in suppressed] == [
        ("phone", "stop", [contact.pk]),
        ("phone", "stop", []),  # a number that is no contact is listed too
    ]
    assert PHONES[0] not in str(suppressed)  # a hint, never the number itself
    assert suppressed[0]["hint"].endswith(PHONES[0][-4:])
    [taken_off] = events("address.unsuppressed")
    assert (taken_off["address"], taken_off["contacts"]) == ("phone", [contact.pk])
    assert "START" in taken_off["source"]
    assert events("contact.opted_out") == []  # email still reaches the contact
    types = list(
        Event.objects.filter(contact_key=contact.pk)
        .order_by("id")
        .values_list("type", flat=True)
    )
    assert types == [
        "reply.received",
        "address.suppressed",
        "reply.received",
        "address.unsuppressed",
    ]


def test_a_run_done_or_ended_emits_run_finished_with_its_counts(
    listening: Endpoint, provider: Any, make_campaign: Callable[..., Any]
) -> None:
    campaign = make_campaign(started=True)
    run = send_run(campaign)

    assert runs_mark_done() == 1

    [finished] = events("run.finished")
    assert finished["run"] == run.pk
    assert finished["status"] == "done"
    assert finished["campaign"] == {"id": campaign.pk, "name": campaign.name}
    assert finished["recipients"] == 3
    assert finished["counts"] == {"sent": 3}

    other = make_campaign(started=True, name="Autumn sale")
    cut = campaign_tick(campaign_id=other.pk)
    assert cut is not None
    campaign_end(campaign=other)
    ended = events("run.finished")[1]
    assert (ended["run"], ended["status"]) == (cut.pk, "cancelled")


def test_an_import_done_or_refused_emits_import_finished_with_its_counts(
    listening: Endpoint, tmp_path: Path, settings: Any
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    group = AudienceGroup.objects.create(name="Customers")
    good = tmp_path / "good.tsv"
    good.write_text("CONTACT\tNOMBRE\n+525500998877\tAna\nnot a phone\tX\n")
    bad = tmp_path / "bad.tsv"
    bad.write_text("PHONE\tNOMBRE\n+525500998877\tAna\n")

    for path in (good, bad):
        job = import_job_create(source=path, group=group)
        job = import_job_analyse(job_id=job.pk)
        if job.status == "ready":
            import_job_apply(job_id=job.pk)

    done, refused = events("import.finished")
    assert done["file"] == "good.tsv"
    assert done["status"] == "done"
    assert (done["created"], done["rows_rejected"]) == (1, 1)
    assert done["group"] == {"id": group.pk, "name": "Customers"}
    assert refused["status"] == "refused"
    assert "CONTACT" in refused["error"]
