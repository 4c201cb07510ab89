"""An integrator's program, written from the served schema alone: it finds each
operation by its operationId, upserts contacts and triggers a transactional send
over httpx against a live server; a real worker sends it to the provider."""

from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import wait_for

from .conftest import key_for


class SchemaClient:
    """Calls operations by operationId, building each request from the schema's
    path, method and parameters: nothing about the API is written here by hand."""

    def __init__(self, base_url: str, key: str) -> None:
        # One request per connection: a kept-alive connection would keep a server
        # thread, and its database session, past the test.
        self.http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {key}", "Connection": "close"},
            timeout=30,
        )
        schema = self.http.get("/api/schema", params={"format": "json"}).json()
        self.operations: dict[str, tuple[str, str, dict[str, Any]]] = {
            operation["operationId"]: (method, path, operation)
            for path, methods in schema["paths"].items()
            for method, operation in methods.items()
        }

    def call(
        self, operation_id: str, body: Any = None, **parameters: Any
    ) -> httpx.Response:
        method, path, operation = self.operations[operation_id]
        query, headers = {}, {}
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if name not in parameters:
                assert not parameter.get("required"), f"{operation_id} needs {name}"
                continue
            if parameter["in"] == "path":
                path = path.replace("{" + name + "}", str(parameters[name]))
            elif parameter["in"] == "query":
                query[name] = parameters[name]
            elif parameter["in"] == "header":
                headers[name] = parameters[name]
        if body is not None:
            assert "application/json" in operation["requestBody"]["content"]
        return self.http.request(
            method.upper(), path, params=query, json=body, headers=headers
        )


@pytest.mark.django_db(transaction=True)
def test_a_client_from_the_schema_upserts_contacts_and_sends_through_a_worker(
    live_server: Any,
    celery_worker: Any,
    httpserver: HTTPServer,
    make_channel: Any,
    broker_url: str,
    settings: Any,
) -> None:
    # As in production: workers share Redis for rate limits and opt-out news.
    settings.MESSAGING_REDIS_URL = broker_url
    received: list[Request] = []

    def receive(request: Request) -> Response:
        received.append(request)
        return Response('{"id": "prov-1"}', content_type="application/json")

    httpserver.expect_request("/provider", method="POST").respond_with_handler(receive)
    channel = make_channel(
        name="CRM", kind="webhook", settings={"url": httpserver.url_for("/provider")}
    )
    api = SchemaClient(live_server.url, key_for("shop", "Operator"))

    upserted = api.call(
        "contacts_bulk_create",
        {
            "contacts": [
                {"phone": "+525500998877", "name": "Ana", "data": {"MONTO": 1200}},
                {"phone": "+525500998878", "name": "Luis"},
            ]
        },
    )
    assert upserted.status_code == 200, upserted.text
    assert upserted.json()["created"] == 2
    ana = api.call("contacts_phone_retrieve", phone="+525500998877").json()
    assert ana["data"] == {"MONTO": 1200}

    sent = api.call(
        "sends_create",
        {"phone": "+525500998877", "channel": channel.pk, "body": "Debes {{MONTO}}"},
        **{"Idempotency-Key": "order-77"},
    )
    assert sent.status_code == 201, sent.text
    again = api.call(
        "sends_create",
        {"phone": "+525500998877", "channel": channel.pk, "body": "Debes {{MONTO}}"},
        **{"Idempotency-Key": "order-77"},
    )
    assert again.json() == sent.json()

    assert wait_for(lambda: len(received) >= 1)
    message_id = sent.json()["message"]["id"]
    assert wait_for(
        lambda: api.call("messages_retrieve", id=message_id).json()["status"] == "sent"
    )
    listed = api.call("messages_list", phone="+525500998877").json()["results"]
    assert [row["id"] for row in listed] == [message_id]
    assert len(received) == 1
    assert b"Debes 1200" in received[0].get_data()
