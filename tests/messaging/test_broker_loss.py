"""A Redis broker that lost its queue gets its send tasks back at the next sweep,
not when the messages' leases run out; a broker that kept it gets none twice.

Each test runs its own Redis server (its own port and folder), restarted in the
test, with Celery pointed at it; the session's Redis is left alone.
"""

import datetime as dt
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from campaigns.runs import campaign_tick
from messaging.broker_loss import MARKER
from messaging.models import Message
from messaging.queueing import send_range
from messaging.sweep import messages_sweep
from tests.conftest import batch_of


class Broker:
    """A redis-server of its own, which can be restarted on the same port."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.client = redis.Redis(port=self.port)

    def start(self) -> None:
        # No save points: stopped, it keeps nothing, unless a test saved a snapshot
        # (dump.rdb in its folder), which it loads when it starts.
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        self.client.connection_pool.disconnect()

    def restart(self) -> None:
        self.stop()
        self.start()

    def queued_tasks(self) -> int:
        return int(self.client.llen("celery"))


def point_celery_at(url: str) -> None:
    from config.celery import app

    app.conf.update(broker_url=url)
    # Connections and producers are pooled per broker: drop the old one's pools, as
    # Celery does after a fork.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def broker(tmp_path: Path, broker_url: str) -> Iterator[Broker]:
    own = Broker(tmp_path)
    own.start()
    point_celery_at(own.url)
    try:
        yield own
    finally:
        point_celery_at(broker_url)
        own.stop()


@pytest.fixture
def run(make_campaign: Any) -> Any:
    """A fan-out with its send task in the broker: every message queued, leased."""
    campaign = make_campaign(started=True)
    opened = campaign_tick(campaign_id=campaign.pk)
    assert opened is not None
    # The test's transaction never commits: queue what the commit would have.
    queue_send_task(opened)
    return opened


def queue_send_task(run: Any) -> None:
    ids = Message.objects.filter(batch__cohort__run=run).values_list("id", flat=True)
    send_range(batch_id=batch_of(run), low=min(ids), high=max(ids))


def leases_renewed_since(moment: dt.datetime) -> bool:
    renewed = moment + dt.timedelta(seconds=settings.MESSAGING_LEASE_SECONDS)
    return all(
        lease is not None and lease >= renewed
        for lease in Message.objects.values_list("lease_until", flat=True)
    )


@pytest.mark.django_db
def test_a_sweep_leaves_leased_messages_alone_while_the_broker_kept_its_queue(
    broker: Broker, run: Any
) -> None:
    messages_sweep()  # the first sweep of this broker queues once more, and marks it
    assert broker.client.get(MARKER) is not None
    tasks = broker.queued_tasks()

    assert messages_sweep() == 0
    assert messages_sweep() == 0
    assert broker.queued_tasks() == tasks


@pytest.mark.django_db
def test_messages_a_restarted_broker_lost_are_queued_again_at_the_next_sweep(
    broker: Broker, run: Any
) -> None:
    messages_sweep()
    broker.restart()  # without its data: the send task is gone
    assert broker.queued_tasks() == 0
    assert set(Message.objects.values_list("status", flat=True)) == {"queued"}
    before = timezone.now()

    assert messages_sweep() == 1
    assert messages_sweep() == 0  # marked again: not queued on every sweep

    assert broker.queued_tasks() == 1
    assert leases_renewed_since(before)


@pytest.mark.django_db
def test_a_flushed_broker_gets_its_send_tasks_back_at_the_next_sweep(
    broker: Broker, run: Any
) -> None:
    messages_sweep()
    broker.client.flushall()

    assert messages_sweep() == 1
    assert messages_sweep() == 0
    assert broker.queued_tasks() == 1


@pytest.mark.django_db
def test_a_broker_restored_from_an_older_snapshot_gets_its_send_tasks_back(
    broker: Broker, run: Any
) -> None:
    broker.client.delete("celery")
    messages_sweep()  # marks the broker, and queues the run's task again
    broker.client.delete("celery")
    broker.client.save()  # a snapshot holding the marker, not the task
    queue_send_task(run)
    broker.restart()  # it comes back from the snapshot: marker there, task lost
    assert broker.client.get(MARKER) is not None
    assert broker.queued_tasks() == 0

    assert messages_sweep() == 1
    assert messages_sweep() == 0
    assert broker.queued_tasks() == 1


@pytest.mark.django_db
def test_messages_a_worker_holds_are_not_queued_again_after_a_broker_loss(
    broker: Broker, run: Any
) -> None:
    import uuid

    messages_sweep()
    Message.objects.update(
        claim_token=uuid.uuid4(), lease_until=timezone.now() + dt.timedelta(minutes=5)
    )
    broker.restart()

    assert messages_sweep() == 0
    assert broker.queued_tasks() == 0
