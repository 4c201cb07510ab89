"""Sending at the provider's speed, against real local servers: many requests in flight
but never more than the channel's cap, a busy provider (429 + Retry-After) slowing
the whole channel down without failing anything, a hanging one timing out without
holding the chunk, an opt-out committed while its message is held stopping it, and
email on reused SMTP connections that survive the server restarting."""

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email.utils import format_datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from django.db import connection
from django.test import override_settings
from multidict import CIMultiDict, CIMultiDictProxy
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from audiences.consent import contact_mark_opted_out
from audiences.models import Contact
from campaigns.runs import campaign_tick
from messaging.backends import email as email_backend
from messaging.backends.base import DeliveryError
from messaging.backends.http import Answer, raise_for_answer, retry_after
from messaging.models import Message
from messaging.sending import DispatchReport, messages_send_range
from tests.conftest import batch_of

PHONES_60 = [f"+5255777{n:05d}" for n in range(60)]


class Receiver:
    """A webhook receiver answering many requests at once, after ``latency``; it
    counts the requests it holds and every key it accepted."""

    def __init__(self, server: HTTPServer, latency: float = 0.0) -> None:
        self.latency = latency
        self.lock = threading.Lock()
        self.in_flight = self.peak = 0
        self.accepted: Counter[str] = Counter()
        self.refused: list[float] = []
        self.answer: Any = None  # (request) -> Response | None, to answer otherwise
        self.url = server.url_for("/hook")
        server.expect_request("/hook", method="POST").respond_with_handler(self.take)

    def take(self, request: Request) -> Response:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            special = self.answer(request) if self.answer else None
            if special is not None:
                return special
            time.sleep(self.latency)
            with self.lock:
                self.accepted[request.headers["Idempotency-Key"]] += 1
            return Response('{"id": "ok"}', content_type="application/json")
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    found = HTTPServer(threaded=True)
    found.start()
    try:
        yield found
    finally:
        found.clear()
        found.stop()


@pytest.fixture
def hook_run(
    monkeypatch: pytest.MonkeyPatch,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
    make_group: Any,
) -> Any:
    """A campaign run of 60 messages on a webhook channel (URL and cap given); its
    batch id."""
    monkeypatch.setattr("flows.engine.send_range_on_commit", lambda **_: None)

    def make(url: str, max_in_flight: int, phones: list[str] = PHONES_60) -> int:
        channel = make_channel(
            name=f"Hook {url}",
            kind="webhook",
            settings={"url": url, "max_in_flight": max_in_flight},
        )
        campaign = make_campaign(
            started=True, flow=make_flow(channel=channel), group=make_group(phones)
        )
        run = campaign_tick(campaign_id=campaign.pk)
        assert run is not None
        return batch_of(run)

    return make


def send_all(batch_id: int) -> DispatchReport:
    return messages_send_range(batch_id=batch_id, first_id=0, last_id=10**9)


@pytest.mark.django_db(transaction=True)
def test_many_requests_wait_at_once_but_never_more_than_the_channels_cap(
    server: HTTPServer, hook_run: Any, broker_url: str
) -> None:
    receiver = Receiver(server, latency=0.1)
    batch = hook_run(receiver.url, max_in_flight=12)
    with override_settings(MESSAGING_REDIS_URL=broker_url):
        began = time.monotonic()
        report = send_all(batch)
        took = time.monotonic() - began
    assert report.sent == 60
    assert set(receiver.accepted.values()) == {1}
    assert receiver.peak == 12, receiver.peak
    # One at a time would take 6 s; 12 at once, about half a second.
    assert took < 3, took


@pytest.mark.django_db(transaction=True)
def test_a_busy_provider_slows_the_whole_channel_and_fails_nothing(
    server: HTTPServer, hook_run: Any, broker_url: str
) -> None:
    receiver = Receiver(server)
    busy_until: list[float] = []

    def busy(request: Request) -> Response | None:
        now = time.monotonic()
        if not busy_until:
            busy_until.append(now + 5)
        if now < busy_until[0]:
            with receiver.lock:
                receiver.refused.append(now)
            return Response("slow down", status=429, headers={"Retry-After": "2"})
        return None

    receiver.answer = busy
    batch = hook_run(receiver.url, max_in_flight=10)
    with override_settings(MESSAGING_REDIS_URL=broker_url):
        report = send_all(batch)

    statuses = Counter(Message.objects.values_list("status", flat=True))
    assert statuses == {"sent": 60}, statuses
    assert report.failed == report.retrying == 0
    # Asked to wait, nobody spent an attempt or was sent twice.
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}
    assert set(receiver.accepted.values()) == {1}
    assert len(receiver.accepted) == 60
    # The channel paused for everyone: a few rounds of at most 10 refusals in the
    # busy 5 s (each round 2 s apart), not a stream of retries.
    refused = sorted(receiver.refused)
    assert 1 <= len(refused) <= 4 * 10, len(refused)
    rounds = [refused[0]]
    for at in refused:
        if at - rounds[-1] > 1:
            rounds.append(at)
    assert all(b - a >= 1.9 for a, b in zip(rounds, rounds[1:], strict=False))


@pytest.mark.django_db(transaction=True)
def test_a_hanging_provider_times_out_and_holds_no_chunk(
    server: HTTPServer, hook_run: Any, broker_url: str, make_channel: Any
) -> None:
    release = threading.Event()
    receiver = Receiver(server)
    receiver.answer = lambda request: release.wait(30) and None
    batch = hook_run(receiver.url, max_in_flight=5)
    try:
        with override_settings(
            MESSAGING_REDIS_URL=broker_url, MESSAGING_HTTP_TIMEOUT=0.5
        ):
            began = time.monotonic()
            report = send_all(batch)
            took = time.monotonic() - began
    finally:
        release.set()

    # 60 messages one time-out after another would take 30 s: after 3 time-outs in
    # a row the channel pauses and the rest is put back, their attempts unspent.
    assert took < 5, took
    assert report.sent == report.failed == 0
    rows = list(Message.objects.values_list("status", "attempts", "error"))
    assert {status for status, _, _ in rows} == {"queued"}
    timed_out = [row for row in rows if "did not answer in time" in row[2]]
    assert 3 <= len(timed_out) <= 5 + 3
    assert sum(attempts for _, attempts, _ in rows) == len(timed_out)
    assert Message.objects.filter(claim_token__isnull=False).count() == 0
    assert Message.objects.filter(not_before__isnull=False).count() == 60

    # The worker is not stuck: another channel's messages go out at once.
    other = HTTPServer(threaded=True)
    other.start()
    try:
        healthy = Receiver(other)
        batch = hook_run(healthy.url, max_in_flight=5, phones=PHONES_60[:10])
        with override_settings(MESSAGING_REDIS_URL=broker_url):
            assert send_all(batch).sent == 10
    finally:
        other.clear()
        other.stop()
    assert len(healthy.accepted) == 10


@pytest.mark.django_db(transaction=True)
def test_an_opt_out_committed_while_its_message_is_held_stops_it(
    server: HTTPServer, hook_run: Any, broker_url: str
) -> None:
    receiver = Receiver(server, latency=0.05)
    batch = hook_run(receiver.url, max_in_flight=1, phones=PHONES_60[:20])
    target = Contact.objects.get(phone=PHONES_60[10])
    target_message = Message.objects.get(contact=target)
    stopped = threading.Event()

    def stop(request: Request) -> Response | None:
        # While the worker holds every message of the chunk (claimed), the
        # contact sends STOP; it commits before their message's turn.
        if not stopped.is_set():
            stopped.set()
            try:
                contact_mark_opted_out(contact=target, source="STOP reply")
            finally:
                connection.close()
        return None

    receiver.answer = stop
    with override_settings(MESSAGING_REDIS_URL=broker_url):
        report = send_all(batch)

    assert stopped.is_set()
    assert str(target_message.pk) not in receiver.accepted
    target_message.refresh_from_db()
    assert (target_message.status, target_message.error) == ("skipped", "opted out")
    assert report.sent == 19
    assert report.skipped == 1


class Counting(SMTP):
    connections = 0

    def connection_made(self, transport: Any) -> None:
        type(self).connections += 1
        super().connection_made(transport)


class Mailbox:
    def __init__(self) -> None:
        self.to: list[str] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.to.extend(envelope.rcpt_tos)
        return "250 OK"


class CountingController(Controller):
    def factory(self) -> SMTP:
        return Counting(self.handler)


@pytest.mark.django_db(transaction=True)
def test_email_reuses_its_connections_and_reconnects_when_the_server_restarts(
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
    make_group: Any,
    broker_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import port_for

    monkeypatch.setattr("flows.engine.send_range_on_commit", lambda **_: None)
    mailbox, port = Mailbox(), port_for.select_random()
    controller = CountingController(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    Counting.connections = 0
    channel = make_channel(name="Mail", kind="email", settings={"max_in_flight": 4})
    phones = PHONES_60[:40]

    def run_to(group_phones: list[str], tag: str) -> int:
        group = make_group(group_phones)
        Contact.objects.filter(phone__in=group_phones).update(email="x@example.com")
        Contact.objects.filter(phone=group_phones[-1]).update(email="nobody@x.example")
        campaign = make_campaign(
            started=True, flow=make_flow(channel=channel, name=tag), group=group
        )
        run = campaign_tick(campaign_id=campaign.pk)
        assert run is not None
        return batch_of(run)

    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            MESSAGING_REDIS_URL=broker_url,
        ):
            email_backend.pool.close_all()
            first = send_all(run_to(phones, "first"))
            opened_first = Counting.connections
            # The server restarts: every pooled connection is dropped.
            controller.stop()
            controller = CountingController(mailbox, hostname="127.0.0.1", port=port)
            controller.start()
            second = send_all(run_to(PHONES_60[40:], "second"))
            email_backend.pool.close_all()
    finally:
        controller.stop()

    # 40 emails, 4 at a time: 4 connections, not 40; the refused recipient failed
    # alone (its connection went on).
    assert (first.sent, first.failed) == (39, 1), first.errors
    assert 1 <= opened_first <= 4, opened_first
    assert "no such user" in Message.objects.get(contact__phone=phones[-1]).error
    # After the restart every email still went, on fresh connections.
    assert (second.sent, second.failed, second.retrying) == (19, 1, 0), second.errors
    assert Counting.connections - opened_first <= 4 + 1
    assert len(mailbox.to) == 39 + 19


@pytest.mark.parametrize(
    ("status", "header", "pause"),
    [
        (429, "2", 2.0),  # Retry-After in seconds
        (429, "", 1.0),  # Twilio's 20429 names no time: a second
        (503, "3", 3.0),
        (503, "", None),  # a broken provider, not a busy one: retried with back-off
        (429, "999999", 3600.0),  # taken at its word up to an hour
    ],
)
def test_how_long_a_busy_provider_is_left_alone(
    status: int, header: str, pause: float | None
) -> None:
    headers = CIMultiDictProxy(CIMultiDict({"Retry-After": header} if header else {}))
    with pytest.raises(DeliveryError) as refused:
        raise_for_answer(Answer(status, headers, "busy"), "Provider")
    assert refused.value.retry_after == pause
    assert not refused.value.permanent


def test_a_retry_after_date_counts_from_now() -> None:
    when = format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), True)
    answer = Answer(429, CIMultiDictProxy(CIMultiDict({"Retry-After": when})), "")
    assert 28 <= (retry_after(answer) or 0) <= 30
