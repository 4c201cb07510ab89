"""What the inbox tests share: a contact who was sent a message of a batch whose
replies go to a team."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from audiences.models import Contact
from messaging.models import Batch, Channel, Message, Team
from messaging.outbox import batch_open

MORNING = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
PHONE = "+525500998877"


@dataclass
class Sent:
    contact: Contact
    channel: Channel
    batch: Batch
    team: Team
    member: Any  # an Operator in the team
    other: Any  # an Operator in no team


def message_sent(
    *, batch: Batch, contact: Contact, channel: Channel, at: dt.datetime
) -> Message:
    """A message of ``batch`` as the send path leaves it once the provider took it."""
    return Message.objects.create(
        batch=batch,
        contact=contact,
        channel=channel,
        step=1,
        status=Message.Status.SENT,
        sent_at=at,
        body="¿Te interesa la oferta?",
    )


def sent_for_team(make_channel: Any, make_user: Any, **channel: Any) -> Sent:
    team = Team.objects.create(name="Ventas")
    member = make_user("Operator", "ana")
    team.members.add(member)
    other = make_user("Operator", "bob")
    contact = Contact.objects.create(phone=PHONE, name="Carlos")
    used = make_channel(**channel)
    batch = batch_open(
        name="Spring sale, run of 2 March",
        templates={"1": {"body": "¿Te interesa la oferta?", "label": "step 1"}},
        reply_team=team,
    )
    message_sent(batch=batch, contact=contact, channel=used, at=MORNING)
    return Sent(contact, used, batch, team, member, other)
