"""Conversations (seed 003): a flow asks, waits for the reply, keeps it, branches on
it and answers; replies outside active hours are stored at once and answered when
the hours open; Finish ends the conversations still waiting."""

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audiences.models import AudienceGroup, Contact, Membership
from campaigns.lifecycle import campaign_end
from campaigns.runs import campaign_tick
from flows.engine import journeys_advance
from flows.models import Flow, FlowStep, Journey
from flows.publishing import FlowRefused, flow_publish
from flows.reply_tests import reply_passes
from messaging.models import InboundMessage, Message
from messaging.receipts import reply_record
from messaging.sending import messages_send_range
from messaging.sweep import messages_sweep
from tests.conftest import PHONES, batch_of
from tests.messaging.test_hooks import twilio_post

NIGHT = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)  # 22:00 at GMT-5
LATE = dt.datetime(2026, 3, 2, 4, 30, tzinfo=dt.UTC)  # 23:30 at GMT-5
MORNING = dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC)  # 08:00 at GMT-5
CARLOS, ANA, LUIS = PHONES


def chatbot_flow(channel: Any, **reply: Any) -> Flow:
    """1 asks; 2 waits a day for a yes; 3 thanks, 4 answers a no, 5 ends without
    a reply; 6 ends."""
    flow = Flow.objects.create(name=reply.get("name", "Chatbot"))
    step = FlowStep.objects.create
    step(
        flow=flow,
        position=1,
        kind="send",
        channel=channel,
        body="Hola {{NAME}}, ¿paga hoy su saldo? Responda SI o NO",
    )
    step(
        flow=flow,
        position=2,
        kind="reply",
        channel=channel,
        wait=dt.timedelta(days=1),
        reply_test=reply.get("test", "yes_no"),
        reply_words=reply.get("words", ""),
        save_reply_as=reply.get("save_as", "RESPUESTA"),
        yes_step=3,
        no_step=4,
        timeout_step=5,
    )
    step(
        flow=flow,
        position=3,
        kind="send",
        channel=channel,
        body="Gracias {{NAME}}: dijo {{RESPUESTA}}",
        next_step=6,
    )
    step(
        flow=flow,
        position=4,
        kind="send",
        channel=channel,
        body="Entendido {{NAME}}, le escribimos mañana",
        next_step=6,
    )
    step(flow=flow, position=5, kind="end")
    step(flow=flow, position=6, kind="end")
    flow_publish(flow=flow)
    return flow


def step_ids(flow: Flow, *positions: int) -> list[int]:
    """The ids of the steps at ``positions`` (messages name their step by id)."""
    ids = dict(flow.steps.values_list("position", "pk"))
    return [ids[position] for position in positions]


def send_all(batch_id: int, now: dt.datetime) -> Any:
    ids = sorted(Message.objects.filter(batch_id=batch_id).values_list("pk", flat=True))
    return messages_send_range(
        batch_id=batch_id, first_id=ids[0], last_id=ids[-1], now=now
    )


@pytest.fixture
def night_channel(make_channel: Any) -> Any:
    # Open 08:00–23:00 at GMT-5: the question at 22:00 goes out; replies at 23:30
    # come after the hours.
    return make_channel(
        active_from=dt.time(8), active_until=dt.time(23), timezone="Etc/GMT+5"
    )


@pytest.mark.django_db
def test_seed_003_a_reply_at_2330_is_stored_at_once_and_answered_at_0800(
    provider: Any, make_campaign: Any, night_channel: Any
) -> None:
    flow = chatbot_flow(night_channel)
    campaign = make_campaign(
        started=True, flow=flow, start_at=NIGHT, end_at=NIGHT + dt.timedelta(days=7)
    )
    run = campaign_tick(campaign_id=campaign.pk, now=NIGHT + dt.timedelta(seconds=1))
    assert run is not None
    batch = batch_of(run)
    assert send_all(batch, NIGHT + dt.timedelta(seconds=2)).sent == 3
    assert [to for _, to, _ in provider.sent] == [CARLOS, ANA, LUIS]
    waiting = Journey.objects.filter(awaiting_reply=True, step=2)
    assert waiting.count() == 3

    # 23:30: Carlos says yes, Ana no; both are stored at once, on their journeys.
    yes = reply_record(
        channel=night_channel, sender=CARLOS, body="Sí, pago mañana", now=LATE
    )
    no = reply_record(
        channel=night_channel,
        sender=ANA,
        body="no puedo",
        now=LATE + dt.timedelta(minutes=1),
    )
    assert yes is not None
    assert no is not None
    assert (yes.taken_by_flow, no.taken_by_flow) == (True, True)
    stored = InboundMessage.objects.get(pk=yes.inbound.pk)
    assert (stored.body, stored.received_at, stored.taken_by_flow) == (
        "Sí, pago mañana",
        LATE,
        True,
    )
    assert Contact.objects.get(phone=CARLOS).data["RESPUESTA"] == "Sí, pago mañana"
    assert "RESPUESTA" not in Contact.objects.get(phone=LUIS).data
    # The answers are written now and wait for the hours: nothing goes out at night.
    night = send_all(batch, LATE + dt.timedelta(minutes=2))
    assert (night.sent, night.deferred) == (0, 2)
    assert len(provider.sent) == 3
    answers = Message.objects.filter(step__in=step_ids(flow, 3, 4))
    assert set(answers.values_list("status", "not_before")) == {("deferred", MORNING)}
    for hour in range(1, 8):
        assert messages_sweep(now=LATE + dt.timedelta(hours=hour)) == 0
    assert len(provider.sent) == 3

    # 08:00: both answers go out, in the order the replies came, each on its path.
    assert messages_sweep(now=MORNING + dt.timedelta(seconds=1)) == 1
    morning = send_all(batch, MORNING + dt.timedelta(seconds=2))
    assert morning.sent == 2
    assert [(to, text) for _, to, text in provider.sent[3:]] == [
        (CARLOS, "Gracias Contact 0: dijo Sí, pago mañana"),
        (ANA, "Entendido Contact 1, le escribimos mañana"),
    ]
    ended = Journey.objects.filter(status="ended").values_list("contact__phone", "step")
    assert set(ended) == {(CARLOS, 6), (ANA, 6)}

    # Luis is still waiting. Finish ends his conversation: his reply afterwards
    # moves nothing and nothing is sent to him.
    luis = Journey.objects.get(contact__phone=LUIS)
    assert (luis.status, luis.awaiting_reply) == ("active", True)
    campaign_end(campaign=campaign)
    luis.refresh_from_db()
    assert (luis.status, luis.awaiting_reply) == ("cancelled", False)
    late = reply_record(
        channel=night_channel, sender=LUIS, body="SI", now=MORNING + dt.timedelta(1)
    )
    assert late is not None
    assert late.taken_by_flow is False
    assert Message.objects.filter(contact__phone=LUIS).count() == 1


@pytest.mark.django_db
def test_no_reply_in_time_goes_the_no_reply_way(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    flow = chatbot_flow(channel)
    campaign = make_campaign(started=True, flow=flow, start_at=NIGHT)
    run = campaign_tick(campaign_id=campaign.pk, now=NIGHT)
    assert run is not None
    send_all(batch_of(run), NIGHT)

    assert journeys_advance(now=NIGHT + dt.timedelta(hours=23)) == 0
    assert journeys_advance(now=NIGHT + dt.timedelta(days=1, seconds=1)) == 3
    assert set(Journey.objects.values_list("status", "step", "awaiting_reply")) == {
        ("ended", 5, False)
    }
    # A reply after the time is up is no flow's: it is kept, and moves nothing.
    late = reply_record(
        channel=channel, sender=CARLOS, body="si", now=NIGHT + dt.timedelta(days=2)
    )
    assert late is not None
    assert late.taken_by_flow is False
    assert Message.objects.count() == 3


@pytest.mark.django_db
def test_a_reply_on_another_channel_or_from_a_stranger_moves_nothing(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel, other = make_channel(), make_channel()
    campaign = make_campaign(started=True, flow=chatbot_flow(channel), start_at=NIGHT)
    campaign_tick(campaign_id=campaign.pk, now=NIGHT)

    elsewhere = reply_record(channel=other, sender=CARLOS, body="si", now=NIGHT)
    stranger = reply_record(channel=channel, sender="+14155550100", body="si")
    assert elsewhere is not None
    assert not elsewhere.taken_by_flow
    assert stranger is not None
    assert not stranger.taken_by_flow
    assert Journey.objects.filter(awaiting_reply=True).count() == 3


@pytest.mark.django_db
def test_stop_opts_out_instead_of_answering(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    campaign = make_campaign(started=True, flow=chatbot_flow(channel), start_at=NIGHT)
    campaign_tick(campaign_id=campaign.pk, now=NIGHT)

    stop = reply_record(channel=channel, sender=CARLOS, body="STOP", now=NIGHT)
    assert stop is not None
    assert stop.inbound.opted_out
    assert not stop.taken_by_flow
    assert Journey.objects.get(contact__phone=CARLOS).awaiting_reply


@pytest.mark.django_db
def test_a_number_reply_is_kept_as_a_number_and_branches(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    flow = chatbot_flow(channel, test="number", save_as="MONTO_PROMETIDO")
    campaign = make_campaign(started=True, flow=flow, start_at=NIGHT)
    campaign_tick(campaign_id=campaign.pk, now=NIGHT)

    reply_record(channel=channel, sender=CARLOS, body="pago 1200,50 hoy", now=NIGHT)
    reply_record(channel=channel, sender=ANA, body="nada", now=NIGHT)
    assert Contact.objects.get(phone=CARLOS).data["MONTO_PROMETIDO"] == 1200.5
    yes, no = step_ids(flow, 3, 4)
    steps = dict(
        Message.objects.filter(step__in=[yes, no]).values_list("contact__phone", "step")
    )
    assert steps == {CARLOS: yes, ANA: no}


@pytest.mark.parametrize(
    ("test", "words", "text", "passes"),
    [
        ("yes_no", "", "Sí", True),
        ("yes_no", "", "SI!", True),
        ("yes_no", "", "oui merci", True),
        ("yes_no", "", "no", False),
        ("yes_no", "", "", False),
        ("keywords", "PAGO, ya pague", "Ya pagué ayer", True),
        ("keywords", "PAGO, ya pague", "pago", True),
        ("keywords", "PAGO, ya pague", "pagos", False),
        ("number", "", "son 300", True),
        ("number", "", "trescientos", False),
        ("any", "", "", True),
    ],
)
def test_reply_tests(test: str, words: str, text: str, passes: bool) -> None:
    assert reply_passes({"test": test, "words": words}, text) is passes


@pytest.mark.django_db
def test_a_reply_step_is_published_only_when_complete(make_channel: Any) -> None:
    channel = make_channel()
    flow = Flow.objects.create(name="Half")
    FlowStep.objects.create(
        flow=flow, position=1, kind="send", channel=channel, body="¿Sí o no?"
    )
    FlowStep.objects.create(
        flow=flow, position=2, kind="reply", reply_test="keywords", yes_step=3
    )
    FlowStep.objects.create(flow=flow, position=3, kind="end")

    with pytest.raises(FlowRefused) as refused:
        flow_publish(flow=flow)
    text = str(refused.value)
    assert "Step 2: choose the channel the reply comes on" in text
    assert "Step 2: say how long to wait for the reply" in text
    assert "Step 2: say where a reply that fails the test goes" in text
    assert "Step 2: say where the contact goes without a reply" in text
    assert "Step 2: give the words the reply is tested for" in text


@pytest.mark.django_db
def test_group_steps_add_and_remove_members_set_wise(
    provider: Any, make_campaign: Any, make_channel: Any, make_group: Any
) -> None:
    channel = make_channel()
    asked = AudienceGroup.objects.create(name="Asked")
    later = make_group(PHONES[:2], name="Call later")
    flow = Flow.objects.create(name="Groups")
    step = FlowStep.objects.create
    step(flow=flow, position=1, kind="send", channel=channel, body="Hola")
    step(flow=flow, position=2, kind="group", group=asked, group_action="add")
    step(flow=flow, position=3, kind="group", group=later, group_action="remove")
    step(flow=flow, position=4, kind="end")
    flow_publish(flow=flow)
    campaign = make_campaign(started=True, flow=flow, start_at=NIGHT)
    campaign_tick(campaign_id=campaign.pk, now=NIGHT)

    assert set(asked.members().values_list("phone", flat=True)) == set(PHONES)
    assert not Membership.objects.filter(group=later).exists()


@pytest.mark.django_db
def test_a_group_step_on_a_dynamic_group_is_refused(make_channel: Any) -> None:
    dynamic = AudienceGroup.objects.create(name="Rich", kind="dynamic")
    flow = Flow.objects.create(name="Dyn")
    FlowStep.objects.create(
        flow=flow, position=1, kind="send", channel=make_channel(), body="x"
    )
    FlowStep.objects.create(
        flow=flow, position=2, kind="group", group=dynamic, group_action="add"
    )
    FlowStep.objects.create(flow=flow, position=3, kind="end")
    with pytest.raises(FlowRefused, match="group 'Rich' is dynamic"):
        flow_publish(flow=flow)


@pytest.mark.django_db
def test_a_reply_through_twilios_signed_hook_is_answered_by_the_flow(
    client: Any, provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    sms = make_channel(
        name="SMS",
        kind="sms",
        settings={"from": "+15005550006"},
        credentials={"account_sid": "AC123", "auth_token": "tok"},
    )
    flow = chatbot_flow(sms)
    # The hook reads the clock: the question goes out now, and the reply comes in
    # its time.
    campaign = make_campaign(started=True, flow=flow)
    campaign_tick(campaign_id=campaign.pk, now=timezone.now())
    Message.objects.update(status="sent")

    answer = twilio_post(
        client,
        f"/hooks/{sms.pk}/inbound",
        {"From": CARLOS, "Body": "Si claro", "MessageSid": "SMreply1"},
    )

    assert answer.status_code == 200
    assert InboundMessage.objects.get(provider_id="SMreply1").taken_by_flow
    (yes,) = step_ids(flow, 3)
    assert Message.objects.filter(contact__phone=CARLOS, step=yes).exists()
    assert Contact.objects.get(phone=CARLOS).data["RESPUESTA"] == "Si claro"


@pytest.mark.django_db
def test_a_reply_that_fails_the_test_may_wait_again(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel()
    flow = Flow.objects.create(name="Ask until yes or no")
    step = FlowStep.objects.create
    step(flow=flow, position=1, kind="send", channel=channel, body="¿SI o NO?")
    step(
        flow=flow,
        position=2,
        kind="reply",
        channel=channel,
        wait=dt.timedelta(hours=2),
        reply_test="keywords",
        reply_words="SI, NO",
        yes_step=3,
        no_step=2,  # anything else: wait again
        timeout_step=4,
    )
    step(flow=flow, position=3, kind="send", channel=channel, body="Anotado")
    step(flow=flow, position=4, kind="end")
    flow_publish(flow=flow)
    campaign = make_campaign(started=True, flow=flow, start_at=NIGHT)
    campaign_tick(campaign_id=campaign.pk, now=NIGHT)
    later = NIGHT + dt.timedelta(hours=1)

    reply_record(channel=channel, sender=CARLOS, body="mmm, quizás", now=later)
    carlos = Journey.objects.get(contact__phone=CARLOS)
    assert (carlos.step, carlos.awaiting_reply) == (2, True)
    assert carlos.due_at == later + dt.timedelta(hours=2)  # its time starts over
    reply_record(channel=channel, sender=CARLOS, body="si", now=later)
    carlos.refresh_from_db()
    assert (carlos.status, carlos.step) == ("ended", 4)
    (yes,) = step_ids(flow, 3)
    assert Message.objects.filter(contact__phone=CARLOS, step=yes).exists()


@pytest.mark.django_db
def test_a_reply_step_on_a_channel_the_flow_never_sends_on_is_refused(
    make_channel: Any,
) -> None:
    sms, mail = make_channel(name="SMS"), make_channel(name="Mail")
    flow = chatbot_flow(sms)
    flow.steps.filter(position=2).update(channel=mail)
    with pytest.raises(FlowRefused, match="Step 2 waits for a reply on 'Mail'"):
        flow_publish(flow=flow)


@pytest.mark.django_db
def test_receive_reply_takes_a_reply_as_a_provider_would(
    provider: Any, make_campaign: Any, make_channel: Any
) -> None:
    channel = make_channel(name="Console")
    # On today's clock: the command takes the reply now.
    campaign = make_campaign(started=True, flow=chatbot_flow(channel))
    campaign_tick(campaign_id=campaign.pk)
    out = io.StringIO()

    call_command("receive_reply", "sí", channel="Console", sender=CARLOS, stdout=out)
    call_command(
        "receive_reply", "hola", channel="Console", sender="+14155550100", stdout=out
    )

    lines = out.getvalue().splitlines()
    assert lines[0].endswith(": answered by the flow waiting for it.")
    assert "(no contact): in the inbox: " in lines[1]
    with pytest.raises(
        CommandError, match="No channel is named 'SMS'; there are: Console"
    ):
        call_command("receive_reply", "x", channel="SMS", sender=CARLOS)
