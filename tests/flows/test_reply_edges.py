"""The edges of wait-for-a-reply steps: replies after the time is up, questions
held by active hours, suspended campaigns, empty or ill-fitting replies, loops
through a reply step, event flows, and versions published before replies."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from audiences.models import AudienceGroup, Contact, Variable
from campaigns.clock import campaign_start_if_due
from campaigns.lifecycle import campaign_resume, campaign_suspend
from campaigns.runs import campaign_tick
from flows.engine import journeys_advance
from flows.models import Flow, FlowStep, Journey
from flows.publishing import flow_publish
from messaging.models import Message
from messaging.receipts import reply_record
from tests.conftest import PHONES
from tests.flows.test_replies import (
    LATE,
    MORNING,
    NIGHT,
    chatbot_flow,
    step_ids,
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


@pytest.mark.django_db
def test_a_reply_step_reached_through_a_branch_waits_from_when_the_question_goes_out(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    # Open 08:00–23:00 at GMT-5: a question written at 23:30 goes out at 08:00.
    night = make_channel(
        active_from=dt.time(8), active_until=dt.time(23), timezone="Etc/GMT+5"
    )
    flow = Flow.objects.create(name="Ask, then check")
    step = FlowStep.objects.create
    step(flow=flow, position=1, kind="send", channel=night, body="¿Paga hoy?")
    step(
        flow=flow,
        position=2,
        kind="branch",
        condition_field="NAME",
        condition_op="is_set",
        yes_step=3,
        no_step=3,
    )
    step(
        flow=flow,
        position=3,
        kind="reply",
        channel=night,
        wait=dt.timedelta(hours=1),
        yes_step=4,
        timeout_step=5,
    )
    step(flow=flow, position=4, kind="end")
    step(flow=flow, position=5, kind="end")
    flow_publish(flow=flow)
    campaign = make_campaign(started=True, flow=flow, start_at=LATE)
    campaign_tick(campaign_id=campaign.pk, now=LATE)

    assert set(Journey.objects.values_list("step", "awaiting_reply", "due_at")) == {
        (3, True, MORNING + dt.timedelta(hours=1))
    }


@pytest.mark.django_db
def test_a_reply_to_a_suspended_campaign_is_answered_when_it_resumes(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    flow = chatbot_flow(channel)
    now = timezone.now()
    campaign = make_campaign(started=True, flow=flow)
    campaign_tick(campaign_id=campaign.pk, now=now)
    campaign = campaign_suspend(campaign=campaign)

    reply = reply_record(channel=channel, sender=CARLOS, body="si", now=now)
    assert reply is not None
    assert reply.taken_by_flow
    (yes,) = step_ids(flow, 3)
    assert not Message.objects.filter(step=yes).exists()
    journeys_advance(now=now + dt.timedelta(minutes=1))
    assert not Message.objects.filter(step=yes).exists()

    later = now + dt.timedelta(hours=1)
    campaign = campaign_resume(campaign=campaign, start_at=later)
    campaign_start_if_due(campaign=campaign, now=later)
    journeys_advance(now=later)
    assert list(Message.objects.filter(step=yes).values_list("contact__phone")) == [
        (CARLOS,)
    ]
    carlos = Journey.objects.get(contact__phone=CARLOS)
    assert (carlos.status, carlos.step) == ("ended", 6)
    assert Journey.objects.filter(awaiting_reply=True).count() == 2


@pytest.mark.django_db
def test_an_empty_reply_keeps_nothing_and_makes_no_variable(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    Variable.objects.create(name="MONTO", kind="number")
    Contact.objects.create(phone=CARLOS, name="Carlos", data={"MONTO": 1200})
    flows = [
        chatbot_flow(channel, save_as="MONTO", name="Amount"),
        chatbot_flow(channel, save_as="FOTO", name="Photo"),
    ]
    for index, flow in enumerate(flows):
        campaign = make_campaign(
            started=True, flow=flow, start_at=NIGHT, name=f"Ask {index}"
        )
        campaign_tick(campaign_id=campaign.pk, now=NIGHT)

    # A photo without text: the reply moves both journeys on (not a yes), and
    # keeps nothing.
    reply = reply_record(channel=channel, sender=CARLOS, body="", now=NIGHT)
    assert reply is not None
    assert reply.taken_by_flow
    assert Contact.objects.get(phone=CARLOS).data == {"MONTO": 1200}
    assert not Variable.objects.filter(name="FOTO").exists()
    assert Journey.objects.filter(contact__phone=CARLOS, step=6).count() == 2


def ask_again_flow(channel: Any, *, first: str = "send") -> Flow:
    """1 asks (or, with ``first="reply"``, waits at once); 2 waits an hour for PAGO;
    a wrong answer joins group Retry (3) and waits again; the right one ends (4);
    no answer ends (5)."""
    retry = AudienceGroup.objects.create(name="Retry")
    flow = Flow.objects.create(name="Ask again", trigger="manual")
    step = FlowStep.objects.create
    if first == "send":
        step(flow=flow, position=1, kind="send", channel=channel, body="¿Pagó?")
    reply_at = 2 if first == "send" else 1
    step(
        flow=flow,
        position=reply_at,
        kind="reply",
        channel=channel,
        wait=dt.timedelta(hours=1),
        reply_test="keywords",
        reply_words="PAGO",
        yes_step=4,
        no_step=3,
        timeout_step=5,
    )
    step(
        flow=flow,
        position=3,
        kind="group",
        group=retry,
        group_action="add",
        next_step=reply_at,
    )
    if first != "send":
        step(flow=flow, position=4, kind="send", channel=channel, body="Gracias")
        step(flow=flow, position=6, kind="end")
        FlowStep.objects.filter(flow=flow, position=4).update(next_step=6)
    else:
        step(flow=flow, position=4, kind="end")
    step(flow=flow, position=5, kind="end")
    flow_publish(flow=flow)
    return flow


@pytest.mark.django_db
def test_a_loop_through_a_reply_step_holds_the_contact_until_the_right_answer(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    campaign = make_campaign(started=True, flow=ask_again_flow(channel), start_at=NIGHT)
    campaign_tick(campaign_id=campaign.pk, now=NIGHT)

    soon = NIGHT + dt.timedelta(minutes=30)
    assert reply_record(channel=channel, sender=CARLOS, body="mañana", now=soon)
    carlos = Journey.objects.get(contact__phone=CARLOS)
    assert (carlos.step, carlos.awaiting_reply, carlos.status) == (2, True, "active")
    assert carlos.due_at == soon + dt.timedelta(hours=1)
    assert AudienceGroup.objects.get(name="Retry").members().count() == 1
    # The others time out after an hour, Carlos an hour after his answer.
    assert journeys_advance(now=NIGHT + dt.timedelta(hours=1, seconds=1)) == 2
    later = soon + dt.timedelta(minutes=45)
    taken = reply_record(channel=channel, sender=CARLOS, body="ya PAGO", now=later)
    assert taken is not None
    assert taken.taken_by_flow
    assert set(Journey.objects.values_list("contact__phone", "status", "step")) == {
        (CARLOS, "ended", 4),
        (ANA, "ended", 5),
        (LUIS, "ended", 5),
    }


@pytest.mark.django_db
def test_a_flow_may_start_by_waiting_for_a_reply(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    flow = ask_again_flow(channel, first="reply")
    campaign = make_campaign(started=True, flow=flow, start_at=NIGHT)
    run = campaign_tick(campaign_id=campaign.pk, now=NIGHT)
    assert run is not None
    assert set(Journey.objects.values_list("step", "awaiting_reply", "due_at")) == {
        (1, True, NIGHT + dt.timedelta(hours=1))
    }
    reply = reply_record(channel=channel, sender=ANA, body="pago", now=NIGHT)
    assert reply is not None
    assert reply.taken_by_flow
    (thanks,) = step_ids(flow, 4)
    assert list(Message.objects.values_list("contact__phone", "step")) == [
        (ANA, thanks)
    ]


@pytest.mark.django_db
def test_timeouts_are_carried_on_over_several_batches(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    campaign = make_campaign(started=True, flow=ask_again_flow(channel), start_at=NIGHT)
    campaign_tick(campaign_id=campaign.pk, now=NIGHT)
    assert journeys_advance(now=NIGHT + dt.timedelta(hours=2), limit=1) == 3
    assert set(Journey.objects.values_list("status", "step", "awaiting_reply")) == {
        ("ended", 5, False)
    }


@pytest.mark.django_db
def test_an_event_flow_waits_for_a_reply_and_answers_it(
    provider: Any, make_channel: Any
) -> None:
    from flows.triggers import event_record

    channel = make_channel()
    flow = Flow.objects.create(name="On cart", trigger="event", event_name="cart")
    step = FlowStep.objects.create
    step(flow=flow, position=1, kind="send", channel=channel, body="¿Compra?")
    step(
        flow=flow,
        position=2,
        kind="reply",
        channel=channel,
        wait=dt.timedelta(hours=1),
        reply_test="yes_no",
        save_reply_as="COMPRA",
        yes_step=3,
        no_step=4,
        timeout_step=4,
    )
    step(
        flow=flow,
        position=3,
        kind="send",
        channel=channel,
        body="Su pedido {{order}}: {{COMPRA}}",
        next_step=4,
    )
    step(flow=flow, position=4, kind="end")
    flow_publish(flow=flow)
    contact = Contact.objects.create(phone=CARLOS, name="Carlos")

    for event_id in ("e1", "e2"):
        event_record(
            contact=contact,
            event="cart",
            event_id=event_id,
            properties={"order": event_id},
        )
    assert Journey.objects.filter(awaiting_reply=True).count() == 2
    reply = reply_record(channel=channel, sender=CARLOS, body="Sí")
    assert reply is not None
    assert reply.taken_by_flow
    # The reply answers the latest question, once: the older journey keeps waiting
    # until its time is up, and a second reply would answer it.
    (answer,) = step_ids(flow, 3)
    newest = Journey.objects.get(entry_key="event:e2")
    assert list(
        Message.objects.filter(step=answer).values_list("origin", flat=True)
    ) == [newest.pk]
    assert dict(Journey.objects.values_list("entry_key", "awaiting_reply")) == {
        "event:e1": True,
        "event:e2": False,
    }
    assert Contact.objects.get(phone=CARLOS).data["COMPRA"] == "Sí"
    again = reply_record(channel=channel, sender=CARLOS, body="no")
    assert again is not None
    assert again.taken_by_flow
    assert set(Journey.objects.values_list("status", "step")) == {("ended", 4)}


@pytest.mark.django_db
def test_a_flow_that_fails_on_a_reply_leaves_it_stored_for_the_inbox(
    provider: Any,
    make_campaign: Any,
    make_channel: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from messaging import inbound

    def broken(reply: Any, now: Any) -> bool:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(inbound, "reply_takers", [broken, *inbound.reply_takers])
    monkeypatch.setattr("messaging.receipts.reply_takers", inbound.reply_takers)
    channel = make_channel()
    campaign = make_campaign(started=True, flow=chatbot_flow(channel), start_at=NIGHT)
    campaign_tick(campaign_id=campaign.pk, now=NIGHT)

    # The provider is answered: a failed answer would have it send the reply
    # again, and the copy would be dropped as one already stored.
    reply = reply_record(channel=channel, sender=CARLOS, body="si", now=NIGHT)
    assert reply is not None
    assert reply.inbound.pk is not None
    # The other takers still had their turn.
    assert reply.taken_by_flow


def test_a_loop_through_a_reply_step_is_allowed_but_not_one_that_sends() -> None:
    from flows.graph import graph_problems

    def reply(no: int) -> dict[str, Any]:
        return {
            "position": 2,
            "kind": "reply",
            "next": None,
            "yes": 4,
            "no": no,
            "timeout": 4,
            "reply": {"test": "keywords", "words": "PAGO", "save_as": ""},
        }

    group = {"position": 3, "kind": "group", "next": 2, "yes": None, "no": None}
    end = {"position": 4, "kind": "end", "next": None, "yes": None, "no": None}
    send = {"position": 1, "kind": "send", "next": None, "yes": None, "no": None}
    assert graph_problems([send, reply(3), group, end]) == []
    problems = graph_problems([send, reply(1), end])
    assert any(p.startswith("Step 1 sends inside a loop") for p in problems), problems
    assert not any("without a Wait" in p for p in problems), problems


@pytest.mark.django_db
def test_a_question_written_after_hours_is_waited_for_from_when_it_goes_out(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    night = make_channel(
        active_from=dt.time(8), active_until=dt.time(23), timezone="Etc/GMT+5"
    )
    campaign = make_campaign(started=True, flow=chatbot_flow(night), start_at=LATE)
    campaign_tick(campaign_id=campaign.pk, now=LATE)
    assert set(Journey.objects.values_list("step", "due_at")) == {
        (2, MORNING + dt.timedelta(days=1))
    }
    # A reply before the question went out still answers it.
    reply = reply_record(channel=night, sender=ANA, body="si", now=LATE)
    assert reply is not None
    assert reply.taken_by_flow


@pytest.mark.django_db
def test_a_reply_is_kept_typed_as_the_variable_is_or_not_at_all(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    Variable.objects.create(name="FECHA", kind="date")
    flow = chatbot_flow(channel, save_as="FECHA", name="When")
    campaign = make_campaign(started=True, flow=flow, start_at=NIGHT)
    campaign_tick(campaign_id=campaign.pk, now=NIGHT)

    long = "2026-03-15 " + "x" * 5000
    for phone, text in [(CARLOS, "2026-03-15"), (ANA, "mañana"), (LUIS, long)]:
        reply = reply_record(channel=channel, sender=phone, body=text, now=NIGHT)
        assert reply is not None
        assert reply.taken_by_flow
    data = dict(Contact.objects.values_list("phone", "data"))
    assert data[CARLOS]["FECHA"] == "2026-03-15"
    assert "FECHA" not in data[ANA]
    assert "FECHA" not in data[LUIS]
    assert set(Journey.objects.values_list("status", "step")) == {("ended", 6)}


@pytest.mark.django_db
def test_a_version_published_before_replies_shows_no_changes_and_still_runs(
    provider: Any, make_campaign: Any, make_flow: Any
) -> None:
    from flows.publishing import flow_note_edits

    flow = make_flow()
    old_keys = {"id", "position", "kind", "channel_id", "body", "media_url"}
    old_keys |= {"wait_seconds", "next", "condition", "yes", "no"}
    version = flow.current_version
    assert all(set(step) == old_keys for step in version.steps)
    assert flow_note_edits(flow=flow) is False
    campaign = make_campaign(started=True, flow=flow, start_at=NIGHT)
    run = campaign_tick(campaign_id=campaign.pk, now=NIGHT)
    assert run is not None
    assert run.messages_created == 3


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("pago 1200,50", "1200.5"),
        ("pago 1200.50", "1200.50"),
        ("pago $1,500", "1500"),
        ("pago $1,500.50 hoy", "1500.50"),
        ("1.500,50", "1500.50"),
        ("2.000.000", "2000000"),
        ("son 300", "300"),
        ("-5", "-5"),
        ("0,5", "0.5"),
    ],
)
def test_a_number_reply_reads_thousands_separators_of_either_kind(
    text: str, number: str
) -> None:
    from flows.reply_tests import reply_number

    assert float(reply_number(text) or "nan") == float(number)
