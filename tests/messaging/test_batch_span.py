"""A batch's messages' span along the primary key, for the filtered lists."""

from typing import Any

import pytest

from audiences.models import Contact
from messaging.batch_span import batches_narrow, batches_span
from messaging.models import Message
from messaging.outbox import batch_open


@pytest.mark.django_db
def test_the_span_of_interleaved_batches_covers_every_status(
    make_channel: Any,
) -> None:
    channel = make_channel(name="SMS")
    ana = Contact.objects.create(phone="+525512340001", name="Ana")
    spring, autumn, other = (
        batch_open(name=name, templates={"1": {"body": "Hola"}})
        for name in ("spring", "autumn", "other")
    )
    statuses = ["sent", "queued", "failed", "skipped", "delivered", "cancelled"]
    made: dict[int, list[int]] = {spring.pk: [], autumn.pk: [], other.pk: []}
    for n in range(18):
        batch = (spring, autumn, other)[n % 3]
        message = Message.objects.create(
            batch=batch, contact=ana, step=1, channel=channel, status=statuses[n % 6]
        )
        made[batch.pk].append(message.pk)

    assert batches_span([spring.pk]) == (min(made[spring.pk]), max(made[spring.pk]))
    both = made[spring.pk] + made[autumn.pk]
    assert batches_span([spring.pk, autumn.pk]) == (min(both), max(both))
    empty = batch_open(name="empty", templates={"1": {"body": "Hola"}})
    assert batches_span([empty.pk]) is None
    assert batches_span([]) is None

    # On one channel: the span of that channel's messages only.
    email = make_channel(name="Email", kind="email")
    Message.objects.filter(pk=made[autumn.pk][2]).update(channel=email)
    assert batches_span([autumn.pk], email.pk) == (made[autumn.pk][2],) * 2
    assert batches_span([spring.pk], email.pk) is None
    assert batches_span([autumn.pk], channel.pk) == (
        made[autumn.pk][0],
        made[autumn.pk][-1],
    )

    narrowed = batches_narrow(Message.objects.all(), [autumn.pk])
    assert sorted(narrowed.values_list("pk", flat=True)) == made[autumn.pk]
    assert not batches_narrow(Message.objects.all(), [empty.pk]).exists()
