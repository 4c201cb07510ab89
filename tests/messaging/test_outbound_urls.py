"""Flowcast's own requests cannot reach inside: a webhook URL pointing at this
machine, its private network or a cloud's metadata service is refused when the
channel is saved (through the admin) and again when each connection is opened, on
the address connected to; and a failing target's page is not read back into the
message's error. Every receiver here is a real HTTP server on 127.0.0.1."""

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from django.test import Client
from django.urls import reverse
from pytest_httpserver import HTTPServer
from werkzeug import Response

from campaigns.runs import campaign_tick
from messaging.models import Channel, Message
from messaging.sending import messages_send_range
from tests.conftest import PHONES, batch_of

PUBLIC_URL = "https://93.184.216.34/hook"  # a public address: nothing is sent to it

REFUSED = [
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "metadata"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("http://100.100.100.200/latest/meta-data/", "metadata"),
    ("http://127.0.0.1/", "loopback"),
    ("http://127.9.9.9:8000/", "loopback"),
    ("http://localhost:6379", "localhost"),
    ("http://api.localhost/", "localhost"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::1]/", "loopback"),
    ("http://[::]/", "unspecified"),
    ("http://10.1.2.3/", "private"),
    ("http://192.168.1.1/admin", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://172.31.255.254/", "private"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://169.254.1.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fc00::1]/", "unique-local"),
    ("http://[fd12:3456::1]/", "unique-local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://[::ffff:169.254.169.254]/", "metadata"),
    ("http://2130706433/", "dotted"),
    ("http://0x7f.0.0.1/", "dotted"),
    ("http://0177.0.0.1/", "dotted"),
    ("http://127.1/", "dotted"),
    ("file:///etc/passwd", "http or https"),
    ("gopher://127.0.0.1:6379/_INFO", "http or https"),
    ("ftp://ftp.example.com/x", "http or https"),
    ("http:///no-host", "no host"),
]


def post_channel(client: Client, channel: Channel, url: str) -> Any:
    """The channel's change form, as an operator submits it, with ``url``."""
    return client.post(
        reverse("admin:messaging_channel_change", args=[channel.pk]),
        {
            "name": channel.name,
            "kind": "webhook",
            "enabled": "on",
            "active_from": "",
            "active_until": "",
            "timezone": "UTC",
            "rate_per_second": "",
            "settings__name": ["url"],
            "settings__value": [url],
        },
    )


@pytest.fixture
def hook(make_channel: Any) -> Channel:
    return make_channel(name="CRM", kind="webhook", settings={"url": PUBLIC_URL})


@pytest.fixture
def nothing_allowed(settings: Any) -> None:
    settings.MESSAGING_OUTBOUND_ALLOW = []


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_an_internal_url_is_refused_when_the_channel_is_saved(
    url: str, why: str, admin_client: Client, hook: Channel, nothing_allowed: None
) -> None:
    answer = post_channel(admin_client, hook, url)

    assert answer.status_code == 200  # the form again, with its error
    errors = str(answer.context["adminform"].form.errors["settings"])
    assert url.replace("&", "&amp;") in errors or url in errors, errors
    assert why in errors, errors
    assert "need the URL" not in errors  # one reason, not a second one beside it
    # What was typed is shown again to be corrected, not lost.
    assert f'name="settings__value" value="{url}"'.replace("&", "&amp;") in (
        answer.content.decode()
    )
    hook.refresh_from_db()
    assert hook.settings["url"] == PUBLIC_URL


@pytest.mark.django_db
def test_saving_does_not_wait_on_a_resolver_that_hangs(
    admin_client: Client,
    hook: Channel,
    nothing_allowed: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A resolver that never answers (stood in for: none can be set up here) holds
    the save for at most RESOLVE_SECONDS; the url is taken, and checked at send."""
    import time

    from base import outbound

    def hang(*args: Any, **kwargs: Any) -> Any:
        time.sleep(5)
        raise OSError("no answer")

    monkeypatch.setattr(outbound, "RESOLVE_SECONDS", 0.5, raising=False)
    monkeypatch.setattr(outbound.socket, "getaddrinfo", hang)
    started = time.monotonic()

    answer = post_channel(admin_client, hook, "https://slow.example.net/hook")

    assert time.monotonic() - started < 3
    assert answer.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        PUBLIC_URL,
        "http://[2606:2800:220:1:248:1893:25c8:1946]/hook",
        # A name that does not resolve now is taken: every connection is checked
        # when it is opened, on the address it goes to.
        "https://hooks.partner.invalid/flowcast",
    ],
)
def test_a_public_url_is_saved(
    url: str, admin_client: Client, hook: Channel, nothing_allowed: None
) -> None:
    answer = post_channel(admin_client, hook, url)

    assert answer.status_code == 302, answer.content.decode()[-3000:]
    hook.refresh_from_db()
    assert hook.settings["url"] == url


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("allowed", "url", "saved"),
    [
        (["127.0.0.1"], "http://127.0.0.1:8025/hook", True),
        (["localhost"], "http://localhost:8025/hook", True),
        (["10.0.0.0/8"], "http://10.20.30.40/hook", True),
        (["10.0.0.0/8"], "http://192.168.1.1/hook", False),
        (["127.0.0.1"], "http://169.254.169.254/", False),
        (["127.0.0.1"], "gopher://127.0.0.1:6379/_INFO", False),
    ],
)
def test_the_allow_list_lets_named_hosts_and_networks_through(
    allowed: list[str],
    url: str,
    saved: bool,
    admin_client: Client,
    hook: Channel,
    settings: Any,
) -> None:
    settings.MESSAGING_OUTBOUND_ALLOW = allowed

    answer = post_channel(admin_client, hook, url)

    assert answer.status_code == (302 if saved else 200)
    hook.refresh_from_db()
    assert hook.settings["url"] == (url if saved else PUBLIC_URL)


@pytest.fixture
def receiver() -> Iterator[HTTPServer]:
    """A real HTTP server on 127.0.0.1, of this test alone (no connection to it
    is pooled from another test)."""
    server = HTTPServer(host="127.0.0.1")
    server.expect_request("/hook", method="POST").respond_with_json({"id": "got"})
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def send_run(campaign: Any) -> Any:
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    return messages_send_range(batch_id=batch_of(run), first_id=0, last_id=10**9)


def webhook_campaign(
    url: str, make_channel: Any, make_flow: Any, make_campaign: Any
) -> Any:
    channel = make_channel(name="CRM", kind="webhook", settings={"url": url})
    return make_campaign(started=True, flow=make_flow(channel=channel))


@pytest.mark.django_db
def test_a_url_saved_while_allowed_is_refused_at_send_once_it_no_longer_is(
    receiver: HTTPServer,
    make_channel: Any,
    make_flow: Any,
    make_campaign: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWCAST_WEBHOOK_SECRET", "s3cret")
    url = f"http://127.0.0.1:{receiver.port}/hook"
    campaign = webhook_campaign(url, make_channel, make_flow, make_campaign)
    settings.MESSAGING_OUTBOUND_ALLOW = []

    report = send_run(campaign)

    assert (report.sent, report.failed, report.retrying) == (0, 3, 0)
    assert receiver.log == []
    for message in Message.objects.all():
        assert (message.status, message.attempts) == ("failed", 1)
        assert "127.0.0.1" in message.error
        assert "loopback" in message.error


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "why"),
    [(url, why) for url, why in REFUSED if url.startswith("http")],
)
def test_every_internal_url_is_refused_at_send(
    url: str,
    why: str,
    make_channel: Any,
    make_flow: Any,
    make_campaign: Any,
    settings: Any,
) -> None:
    """A url that got into a channel however (an older version, the database by
    hand) is refused when sending, before any connection: failed for good, first
    attempt, saying why (nothing listens on most of these: a connection tried would
    end as a retry, not this)."""
    settings.MESSAGING_OUTBOUND_ALLOW = []
    campaign = webhook_campaign(url, make_channel, make_flow, make_campaign)

    report = send_run(campaign)

    assert (report.sent, report.failed, report.retrying) == (0, 3, 0)
    for message in Message.objects.all():
        assert (message.status, message.attempts) == ("failed", 1), message.error
        assert why in message.error, message.error


@pytest.mark.django_db
def test_a_name_that_resolves_inside_is_refused_at_send(
    receiver: HTTPServer,
    make_channel: Any,
    make_flow: Any,
    make_campaign: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No address in the URL: what is refused is what the name resolves to when
    the connection is opened (localhost, from this machine's resolver)."""
    monkeypatch.setenv("FLOWCAST_WEBHOOK_SECRET", "s3cret")
    assert "127.0.0.1" in {
        info[4][0] for info in socket.getaddrinfo("localhost", receiver.port)
    }
    url = f"http://localhost:{receiver.port}/hook"
    campaign = webhook_campaign(url, make_channel, make_flow, make_campaign)
    settings.MESSAGING_OUTBOUND_ALLOW = []

    report = send_run(campaign)

    assert (report.sent, report.failed) == (0, 3)
    assert receiver.log == []
    error = Message.objects.filter(status="failed").first()
    assert error is not None
    assert "localhost" in error.error
    assert "loopback" in error.error


class Rebinding(aiohttp.abc.AbstractResolver):
    """A name server for one name, answering a public address first and this
    machine's next (DNS rebinding: the name passed a check, then moved inside)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.answers = ["93.184.216.34", "127.0.0.1"]

    async def resolve(
        self, host: str, port: int = 0, family: int = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        assert host == self.name, host
        address = self.answers.pop(0)
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


def test_a_name_rebound_inside_is_refused_on_the_address_connected_to(
    receiver: HTTPServer, settings: Any
) -> None:
    from base.outbound import OutboundRefused
    from messaging.backends.http import OutboundResolver

    settings.MESSAGING_OUTBOUND_ALLOW = []
    name = "hooks.partner.example"

    async def resolved() -> tuple[list[str], BaseException | None]:
        resolver = OutboundResolver(Rebinding(name))
        first = await resolver.resolve(name, receiver.port)
        connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False)
        async with aiohttp.ClientSession(connector=connector) as session:
            try:
                await session.post(f"http://{name}:{receiver.port}/hook", data=b"{}")
            except Exception as exc:  # noqa: BLE001
                return [r["host"] for r in first], exc
        return [r["host"] for r in first], None

    first, refused = asyncio.run(resolved())

    assert first == ["93.184.216.34"]
    assert isinstance(refused, OutboundRefused), repr(refused)
    assert str(refused) == (
        "hooks.partner.example resolves to 127.0.0.1, which is loopback (this "
        "machine): Flowcast does not send inside its own network."
    )
    assert receiver.log == []


@pytest.mark.django_db
def test_a_redirect_is_not_followed(
    receiver: HTTPServer,
    make_channel: Any,
    make_flow: Any,
    make_campaign: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Even to an allowed address: each hop would need its own check."""
    monkeypatch.setenv("FLOWCAST_WEBHOOK_SECRET", "s3cret")
    inside = f"http://127.0.0.1:{receiver.port}/hook"
    with HTTPServer(host="127.0.0.1") as outside:
        outside.expect_request("/moved", method="POST").respond_with_response(
            Response(status=307, headers={"Location": inside})
        )
        url = outside.url_for("/moved")
        campaign = webhook_campaign(url, make_channel, make_flow, make_campaign)

        report = send_run(campaign)

        assert len(outside.log) == 3
    assert (report.sent, report.failed) == (0, 3)
    assert receiver.log == []
    message = Message.objects.filter(status="failed").first()
    assert message is not None
    assert "HTTP 307" in message.error
    assert "redirect" in message.error


INTERNAL_PAGE = (
    "<html><body><h1>Admin console</h1><p>AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI"
    "</p></body></html>"
)


@pytest.mark.django_db
def test_a_failing_targets_page_is_not_shown_in_the_error(
    make_channel: Any,
    make_flow: Any,
    make_campaign: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWCAST_WEBHOOK_SECRET", "s3cret")
    with HTTPServer(host="127.0.0.1") as target:
        target.expect_request("/hook", method="POST").respond_with_data(
            INTERNAL_PAGE, status=500, content_type="text/html"
        )
        campaign = webhook_campaign(
            target.url_for("/hook"), make_channel, make_flow, make_campaign
        )

        report = send_run(campaign)

    assert report.retrying == 3
    for message in Message.objects.all():
        assert message.error == "Webhook CRM answered HTTP 500 Internal Server Error"
        assert "SECRET" not in message.error


@pytest.mark.django_db
def test_a_json_error_shows_only_the_providers_error_fields(
    make_channel: Any,
    make_flow: Any,
    make_campaign: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWCAST_WEBHOOK_SECRET", "s3cret")
    answer = {
        "code": 21211,
        "message": "The 'To' number is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
        "AccessKeyId": "ASIA-NOT-SHOWN",
        "debug": {"message": "nested, not shown"},
    }
    with HTTPServer(host="127.0.0.1") as target:
        target.expect_request("/hook", method="POST").respond_with_data(
            json.dumps(answer), status=400, content_type="application/json"
        )
        campaign = webhook_campaign(
            target.url_for("/hook"), make_channel, make_flow, make_campaign
        )

        report = send_run(campaign)

    assert report.failed == 3
    error = Message.objects.filter(contact__phone=PHONES[0]).get().error
    assert error == (
        "Webhook CRM answered HTTP 400 Bad Request: 21211 The 'To' number is not a "
        "valid phone number. (https://www.twilio.com/docs/errors/21211)"
    )


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ({"error": "invalid_token"}, ": invalid_token"),
        ({"detail": "Signature mismatch."}, ": Signature mismatch."),
        ({"error": {"code": "E42", "message": "Quota spent"}}, ": E42 Quota spent"),
        ({"message": "x" * 5000}, ": " + "x" * 199 + "…"),
        ({"secret": "not shown"}, ""),
        (["not", "an", "object"], ""),
    ],
)
def test_which_json_fields_are_a_providers_error(body: Any, shown: str) -> None:
    from multidict import CIMultiDict, CIMultiDictProxy

    from messaging.backends.base import DeliveryError
    from messaging.backends.http import Answer, raise_for_answer

    headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))
    with pytest.raises(DeliveryError) as refused:
        raise_for_answer(Answer(422, headers, json.dumps(body), "Unprocessable"), "P")
    assert refused.value.reason == f"P answered HTTP 422 Unprocessable Entity{shown}"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["ftp://cdn.example.com/a.png", "file:///a.png"])
def test_a_media_url_must_be_http_or_https(url: str) -> None:
    from campaigns.admin.forms import BulkMessageForm
    from flows.forms import FlowStepForm

    step = FlowStepForm(data={"position": 1, "kind": "send", "media_url": url})
    bulk = BulkMessageForm(data={"name": "x", "body": "y", "media_url": url})

    for form in (step, bulk):
        assert not form.is_valid()
        assert "http or https" in str(form.errors["media_url"]), form.errors
