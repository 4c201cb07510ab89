"""/api/v1/messages: by id, or filtered by the indexed columns, newest first, paged
by cursor."""

from typing import Any

import pytest

from audiences.models import Contact
from messaging.models import Message
from messaging.outbox import batch_open

from .conftest import KeyClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(make_channel: Any) -> dict[str, Any]:
    """Two contacts' messages in two batches on two channels."""
    ana = Contact.objects.create(phone="+525500000001", name="Ana")
    luis = Contact.objects.create(phone="+525500000002", name="Luis")
    sms, mail = make_channel(name="SMS"), make_channel(name="Mail")
    first = batch_open(name="Spring", templates={"1": {"body": "Hola {{NAME}}"}})
    second = batch_open(name="Summer", templates={"1": {"body": "Adiós {{NAME}}"}})
    made = [
        Message.objects.create(batch=first, contact=ana, step=1, channel=sms),
        Message.objects.create(batch=first, contact=luis, step=1, channel=sms),
        Message.objects.create(
            batch=second,
            contact=ana,
            step=1,
            channel=mail,
            status="failed",
            error="mailbox full",
            attempts=3,
        ),
        Message.objects.create(
            batch=second,
            contact=ana,
            step=1,
            channel=sms,
            status="sent",
            body="Adiós Ana (as sent)",
            provider_id="p-1",
        ),
    ]
    return {"ana": ana, "luis": luis, "sms": sms, "first": first, "made": made}


def ids(client: KeyClient, query: str) -> list[int]:
    response = client.send("get", f"/api/v1/messages?{query}")
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_messages_are_filtered_by_contact_phone_status_batch_and_channel(
    viewer: KeyClient, outbox: dict[str, Any]
) -> None:
    m = [message.pk for message in outbox["made"]]
    ana, sms, first = outbox["ana"], outbox["sms"], outbox["first"]

    assert ids(viewer, f"contact={ana.pk}") == [m[3], m[2], m[0]]
    assert ids(viewer, "phone=%2B525500000002") == [m[1]]
    assert ids(viewer, "phone=%2B525599999999") == []
    assert ids(viewer, "status=failed") == [m[2]]
    assert ids(viewer, f"batch={first.pk}") == [m[1], m[0]]
    assert ids(viewer, f"contact={ana.pk}&channel={sms.pk}") == [m[3], m[0]]
    alone = viewer.send("get", f"/api/v1/messages?channel={sms.pk}")
    assert alone.status_code == 400
    assert alone.json()["fields"] == {
        "channel": "Filter by channel together with contact, phone or batch."
    }


def test_messages_page_with_a_cursor_newest_first(
    viewer: KeyClient, outbox: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    seen: list[int] = []
    url = "/api/v1/messages?limit=3"
    while url:
        with django_assert_max_num_queries(5):
            page = viewer.send("get", url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted((message.pk for message in outbox["made"]), reverse=True)


def test_a_message_shows_its_text_as_sent_or_as_it_will_be_sent(
    viewer: KeyClient, outbox: dict[str, Any]
) -> None:
    waiting, _, failed, sent = outbox["made"]

    shown = viewer.send("get", f"/api/v1/messages/{waiting.pk}").json()
    assert shown["body"] == "Hola Ana"
    assert shown["contact"] == {"id": outbox["ana"].pk, "phone": "+525500000001"}
    assert shown["channel"]["name"] == "SMS"
    assert (shown["status"], shown["sent_for"]) == ("queued", "Spring")
    failed_shown = viewer.send("get", f"/api/v1/messages/{failed.pk}").json()
    assert (failed_shown["error"], failed_shown["attempts"]) == ("mailbox full", 3)
    sent_shown = viewer.send("get", f"/api/v1/messages/{sent.pk}").json()
    assert sent_shown["body"] == "Adiós Ana (as sent)"
    assert sent_shown["provider_id"] == "p-1"
    missing = viewer.send("get", "/api/v1/messages/999999")
    assert missing.status_code == 404
    assert missing.json() == {"error": "No message has the id 999999."}
