"""A channel's rate limit holds across workers: slots kept in Redis."""

import threading
import time
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from campaigns.runs import campaign_tick
from messaging.gate import rate_limit_wait
from messaging.models import Message
from messaging.sending import messages_send_range
from tests.conftest import batch_of

PHONES_20 = [f"+5255123{n:05d}" for n in range(20)]


@pytest.mark.django_db(transaction=True)
def test_two_workers_together_keep_to_the_channel_rate(
    provider: Any,
    broker_url: str,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
    make_group: Any,
    redis_client: Any,
) -> None:
    channel = make_channel(rate_per_second=10)
    campaign = make_campaign(
        started=True, flow=make_flow(channel=channel), group=make_group(PHONES_20)
    )
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    ids = sorted(Message.objects.values_list("pk", flat=True))
    times: list[float] = []
    provider.on_send.append(lambda message: times.append(time.monotonic()))

    def worker(first: int, last: int) -> None:
        try:
            messages_send_range(batch_id=batch_of(run), first_id=first, last_id=last)
        finally:
            connection.close()

    with override_settings(MESSAGING_REDIS_URL=broker_url):
        threads = [
            threading.Thread(target=worker, args=(ids[0], ids[9])),
            threading.Thread(target=worker, args=(ids[10], ids[19])),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    assert Message.objects.filter(status="sent").count() == 20
    times.sort()
    # 10 a second: any 11 sends in a row span at least a second, across both workers.
    spans = [times[i + 10] - times[i] for i in range(len(times) - 10)]
    assert min(spans) >= 0.97, spans
    assert times[-1] - times[0] >= 1.85


def test_without_redis_the_limit_holds_in_the_process() -> None:
    class Fake:
        pk, rate_per_second = 987654, 50

    with override_settings(MESSAGING_REDIS_URL=""):
        waits = [rate_limit_wait(Fake()) for _ in range(5)]  # type: ignore[arg-type]
    assert waits[0] == pytest.approx(0, abs=0.01)
    assert waits[4] == pytest.approx(4 / 50, abs=0.01)
