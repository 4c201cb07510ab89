"""The event stream's tests: endpoints with their secrets, and a receiver (a real
HTTP server, pytest-httpserver) whose posts are checked with the standardwebhooks
library, which nobody here wrote."""

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook
from werkzeug import Request, Response

from stream.delivery import PassReport, endpoint_deliver
from stream.models import Endpoint, EventType
from stream.secrets import endpoint_secret_ensure, endpoint_secrets
from tests.messaging.conftest import provider  # noqa: F401  (a fixture)

ALL_TYPES = [value for value, _ in EventType.choices if value != "endpoint.test"]


@dataclass
class Receiver:
    """What the endpoint got, each post verified with standardwebhooks against the
    endpoint's secret; ``answer`` says how the next posts are answered."""

    server: HTTPServer
    secret: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    # The webhook-id of every post, answered 2xx or not.
    webhook_ids: list[str] = field(default_factory=list)
    last_body: bytes = b""
    # (status, extra headers) for a post, from the post's verified body
    answer: Callable[[dict[str, Any]], tuple[int, dict[str, str]]] = lambda _: (
        200,
        {},
    )

    @property
    def url(self) -> str:
        return self.server.url_for("/events")

    def handle(self, request: Request) -> Response:
        body = request.get_data()
        headers = dict(request.headers)
        self.webhook_ids.append(headers["Webhook-Id"])
        self.last_body = body
        # Raises (a 500 the test sees as an undelivered post) on a bad signature.
        verified = Webhook(self.secret).verify(body, headers)
        assert verified == json.loads(body)
        status, extra = self.answer(verified)
        if 200 <= status < 300:
            self.posts.append(verified)
            self.headers.append(headers)
        return Response('{"ok": true}', status=status, headers=extra)

    def ids(self, type: str | None = None) -> list[int]:
        return [
            post["data"]["n"]
            for post in self.posts
            if type is None or post["type"] == type
        ]


@pytest.fixture
def receiver(httpserver: HTTPServer) -> Receiver:
    found = Receiver(httpserver)
    httpserver.expect_request("/events", method="POST").respond_with_handler(
        found.handle
    )
    return found


@pytest.fixture
def make_endpoint(db: None) -> Callable[..., Endpoint]:
    def make(url: str, types: list[str] | None = None, **fields: Any) -> Endpoint:
        endpoint = Endpoint.objects.create(
            url=url, event_types=ALL_TYPES if types is None else types, **fields
        )
        endpoint_secret_ensure(endpoint=endpoint)
        return endpoint

    return make


@pytest.fixture
def endpoint(make_endpoint: Callable[..., Endpoint], receiver: Receiver) -> Endpoint:
    """An endpoint subscribed to every type, posting to ``receiver``."""
    found = make_endpoint(receiver.url)
    receiver.secret = endpoint_secrets(found)[0]
    return found


@pytest.fixture
def clock() -> Callable[..., dt.datetime]:
    """A driven clock: ``clock(minutes=5)`` is 5 minutes after the test began."""
    start = timezone.now()

    def at(**delta: float) -> dt.datetime:
        return start + dt.timedelta(**delta)

    return at


def deliver(endpoint: Endpoint, now: dt.datetime) -> PassReport:
    """One delivery pass at ``now``, with no time budget to speak of."""
    return endpoint_deliver(endpoint_id=endpoint.pk, now=now, budget=30.0)
