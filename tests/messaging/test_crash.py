"""Workers killed mid-run lose nothing and send twice at most what was in flight.

20,000 messages go to a local webhook receiver through real Celery worker processes
on Redis and PostgreSQL while worker processes are killed with SIGKILL several times.
Afterwards every message is sent, the receiver has seen every message id, and the
copies it got twice (same Idempotency-Key) are at most what a killed process had in
flight (the channel's cap) and sent but not yet recorded (RECORD_EVERY).
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest
from django.db import connection
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from campaigns.runs import campaign_tick
from messaging.models import Message
from messaging.queueing import send_range
from messaging.recording import RECORD_EVERY
from messaging.sweep import messages_sweep
from tests.conftest import batch_of, database_url

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 20_000
KILLS = 4
LEASE = 8
IN_FLIGHT = 40  # the channel's cap on requests in flight
LATENCY = 0.02  # the receiver's, so that many requests are in flight at a kill


@pytest.fixture
def receiver() -> Iterator[HTTPServer]:
    """A webhook receiver answering many requests at once, as a real one does."""
    server = HTTPServer(threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def start_worker(broker_url: str) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "crash-test-secret-key-0123456789abcdefghijklmnop",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url(db),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_TIME_LIMIT": str(LEASE - 3),
        "MESSAGING_LEASE_SECONDS": str(LEASE),
        # A killed process's in-flight slots lapse within 2 × 2 s + 2 s.
        "MESSAGING_HTTP_TIMEOUT": "2",
        "LOG_LEVEL": "ERROR",
    }
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--concurrency=2", "--loglevel=ERROR",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its pool processes go with it at the end
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_killed_workers_lose_nothing_and_resend_at_most_what_was_in_flight(
    receiver: HTTPServer,
    broker_url: str,
    redis_client: Any,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
    make_group: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from audiences.models import AudienceGroup, Contact, Membership

    keys: list[str] = []
    lock = threading.Lock()

    def receive(request: Request) -> Response:
        time.sleep(LATENCY)
        with lock:
            keys.append(request.headers["Idempotency-Key"])
        return Response('{"id": "ok"}', content_type="application/json")

    receiver.expect_request("/hook", method="POST").respond_with_handler(receive)
    group = AudienceGroup.objects.create(name="Many")
    Contact.objects.bulk_create(
        Contact(phone=f"+52551{n:07d}", name=f"C{n}") for n in range(MESSAGES)
    )
    Membership.objects.bulk_create(
        Membership(group=group, contact=contact) for contact in Contact.objects.all()
    )
    channel = make_channel(
        name="Hook",
        kind="webhook",
        settings={"url": receiver.url_for("/hook"), "max_in_flight": IN_FLIGHT},
    )
    campaign = make_campaign(started=True, flow=make_flow(channel=channel), group=group)
    monkeypatch.setattr("flows.engine.send_range_on_commit", lambda **_: None)
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    ids = Message.objects.filter(batch__cohort__run=run).values_list("pk", flat=True)
    low, high = min(ids), max(ids)

    worker = start_worker(broker_url)
    kills = 0
    try:
        send_range(batch_id=batch_of(run), low=low, high=high)
        deadline = time.monotonic() + 240
        next_kill = None
        while time.monotonic() < deadline:
            time.sleep(0.5)
            sent = Message.objects.filter(batch__cohort__run=run, status="sent").count()
            if sent == MESSAGES:
                break
            if next_kill is None and (sent or keys):
                # Killing a pool process while the worker still starts makes Celery
                # give up ("could not start worker processes"): kill once it sends
                # (the receiver has seen a post, or a send is recorded).
                next_kill = time.monotonic()
            if kills < KILLS and next_kill and time.monotonic() >= next_kill:
                children = psutil.Process(worker.pid).children()
                if children:
                    os.kill(children[0].pid, signal.SIGKILL)  # a pool process dies
                    kills += 1
                    next_kill = time.monotonic() + 2
            # What beat does every 30 s: queue again what a dead process held.
            messages_sweep()
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)

    statuses = Counter(
        Message.objects.filter(batch__cohort__run=run).values_list("status", flat=True)
    )
    assert statuses == {"sent": MESSAGES}, statuses
    assert kills == KILLS
    seen = Counter(keys)
    assert set(seen) == {str(pk) for pk in ids}
    resent = sum(n - 1 for n in seen.values())
    # Each killed process can have had at most the channel's cap in flight, and
    # sent, unrecorded, at most one batch of records.
    assert resent <= kills * (IN_FLIGHT + RECORD_EVERY), resent
    logging.getLogger(__name__).warning(
        "%d messages, %d kills, %d sent twice", MESSAGES, kills, resent
    )
