"""/api/v1/contacts: written by phone as an import writes a row, read, searched,
paged by cursor, deleted and opted out — refusals in JSON."""

from typing import Any

import pytest
from django.test import override_settings

from audiences.models import AudienceGroup, Contact, Variable
from base.models import AuditEntry
from messaging.models import Message

from .conftest import KeyClient

pytestmark = pytest.mark.django_db


def test_a_contact_is_created_then_updated_by_its_phone(operator: KeyClient) -> None:
    created = operator.send(
        "post",
        "/api/v1/contacts",
        {"phone": "+52 55 0099 8877", "name": "Ana", "data": {"MONTO": "1200"}},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["phone"] == "+525500998877"
    assert body["data"] == {"MONTO": 1200}
    assert Variable.objects.get(name="MONTO").kind == "number"

    updated = operator.send(
        "post",
        "/api/v1/contacts",
        {
            "phone": "+525500998877",
            "email": "ana@example.com",
            "data": {"CITY": "León"},
        },
    )
    assert updated.status_code == 200
    assert updated.json()["created_at"] == body["created_at"]
    assert updated.json()["id"] == body["id"]
    contact = Contact.objects.get()
    assert (contact.name, contact.email) == ("Ana", "ana@example.com")
    assert contact.data == {"MONTO": 1200, "CITY": "León"}


def test_a_value_that_does_not_fit_its_variable_is_refused_with_the_reason(
    operator: KeyClient,
) -> None:
    Variable.objects.create(name="MONTO", kind="number")
    response = operator.send(
        "post", "/api/v1/contacts", {"phone": "+525500998877", "data": {"MONTO": "mil"}}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "The request was not accepted; see fields."
    assert "'mil' is not a number" in body["fields"]["data.MONTO"]
    assert not Contact.objects.exists()


def test_a_bad_phone_is_refused_with_the_reason(operator: KeyClient) -> None:
    response = operator.send("post", "/api/v1/contacts", {"phone": "12"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"phone"}


def test_a_bulk_upsert_writes_the_good_items_and_names_the_bad_ones(
    operator: KeyClient,
) -> None:
    Contact.objects.create(phone="+525500000001", name="Old")
    items: list[Any] = [
        {"phone": "+525500000001", "name": "New name"},
        {"phone": "nope"},
        {"phone": "+525500000002", "data": {"FECHA": "2026-12-25"}},
        {"phone": "+525500000002"},
        "not an object",
    ]
    response = operator.send("post", "/api/v1/contacts/bulk", {"contacts": items})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["updated"]) == (1, 1)
    assert [item["item"] for item in body["contacts"]] == [0, 2]
    assert [error["item"] for error in body["errors"]] == [1, 3, 4]
    assert "also item 2" in body["errors"][1]["fields"]["phone"]
    assert Contact.objects.get(phone="+525500000001").name == "New name"
    assert Variable.objects.get(name="FECHA").kind == "date"


@override_settings(API_BULK_MAX=3)
def test_a_bulk_upsert_over_the_limit_is_refused_whole(operator: KeyClient) -> None:
    items = [{"phone": f"+52550000000{n}"} for n in range(4)]
    response = operator.send("post", "/api/v1/contacts/bulk", {"contacts": items})
    assert response.status_code == 400
    assert "At most 3 contacts a request; this one has 4" in str(response.json())
    assert not Contact.objects.exists()


def test_contacts_page_with_a_cursor_and_filter(operator: KeyClient) -> None:
    group = AudienceGroup.objects.create(name="VIP")
    for n in range(5):
        contact = Contact.objects.create(phone=f"+52550000000{n}", name=f"N{n}")
        if n % 2:
            group.contacts.add(contact)
    seen = []
    url = "/api/v1/contacts?limit=2"
    while url:
        page = operator.send("get", url).json()
        seen += [row["phone"] for row in page["results"]]
        url = page["next"]
    assert seen == [f"+52550000000{n}" for n in (4, 3, 2, 1, 0)]
    members = operator.send("get", f"/api/v1/contacts?group={group.pk}").json()
    assert [row["name"] for row in members["results"]] == ["N3", "N1"]
    found = operator.send("get", "/api/v1/contacts?q=%2B525500000002").json()
    assert [row["name"] for row in found["results"]] == ["N2"]


def test_a_contact_is_found_by_phone_or_id_and_a_missing_one_is_a_json_404(
    operator: KeyClient,
) -> None:
    contact = Contact.objects.create(phone="+525500998877", name="Ana")
    assert (
        operator.send("get", "/api/v1/contacts/phone/+525500998877").json()["id"]
        == contact.pk
    )
    assert (
        operator.send("get", f"/api/v1/contacts/{contact.pk}").json()["name"] == "Ana"
    )
    missing = operator.send("get", "/api/v1/contacts/phone/+525500000000")
    assert missing.status_code == 404
    assert missing.json() == {"error": "No contact has the phone +525500000000."}


def test_opting_out_skips_waiting_messages_and_opting_in_takes_it_back(
    operator: KeyClient,
) -> None:
    contact = Contact.objects.create(phone="+525500998877")
    out = operator.send(
        "post", f"/api/v1/contacts/{contact.pk}/opt-out", {"source": "preferences"}
    )
    assert out.status_code == 200
    assert out.json()["opted_out"] is True
    assert out.json()["opt_out_source"] == "opted out via API key shop key: preferences"
    back = operator.send("post", f"/api/v1/contacts/{contact.pk}/opt-in")
    assert back.json()["opted_out"] is False
    assert Message.objects.count() == 0


def test_deleting_a_contact_erases_it_and_records_who(operator: KeyClient) -> None:
    contact = Contact.objects.create(phone="+525500998877")
    response = operator.send("delete", f"/api/v1/contacts/{contact.pk}")
    assert response.status_code == 204
    assert not Contact.objects.exists()
    entry = AuditEntry.objects.get(action="delete")
    assert entry.actor_label == "shop"


def test_a_viewer_reads_but_may_not_write(viewer: KeyClient) -> None:
    assert viewer.send("get", "/api/v1/contacts").status_code == 200
    refused = viewer.send("post", "/api/v1/contacts", {"phone": "+525500998877"})
    assert refused.status_code == 403
    assert refused.json()["error"].startswith("This user may not do this")
    assert "Can add contact" in refused.json()["error"]


def test_no_key_or_an_unknown_key_is_a_json_401(client: Any) -> None:
    assert client.get("/api/v1/contacts").status_code == 401
    bad = client.get("/api/v1/contacts", HTTP_AUTHORIZATION="Bearer fc_nope")
    assert bad.status_code == 401
    assert bad.json() == {"error": "The API key is unknown or revoked."}
    assert bad["WWW-Authenticate"] == 'Bearer realm="api"'


@override_settings(API_WRITES_PER_MINUTE=2)
def test_writes_are_throttled_per_key(make_key: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    first, second = make_key("one"), make_key("two")
    for n in range(2):
        assert first.send("post", "/api/v1/contacts", {"phone": f"+52550000000{n}"})
    refused = first.send("post", "/api/v1/contacts", {"phone": "+525500000009"})
    assert refused.status_code == 429
    assert "Too many writes" in refused.json()["error"]
    assert int(refused["Retry-After"]) > 0
    assert first.send("get", "/api/v1/contacts").status_code == 200
    assert (
        second.send("post", "/api/v1/contacts", {"phone": "+525500000009"}).status_code
        == 201
    )


def test_custom_data_is_merged_and_a_null_removes_a_name(operator: KeyClient) -> None:
    Contact.objects.create(phone="+525500998877", data={"A": "x", "B": "y"})
    response = operator.send(
        "post",
        "/api/v1/contacts",
        {"phone": "+525500998877", "data": {"B": None, "C": "z"}},
    )
    assert response.status_code == 200
    assert Contact.objects.get().data == {"A": "x", "C": "z"}


def test_a_nested_value_or_a_bad_variable_name_is_refused(operator: KeyClient) -> None:
    response = operator.send(
        "post",
        "/api/v1/contacts",
        {"phone": "+525500998877", "data": {"A": {"deep": 1}, "1X": "y"}},
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"data.A", "data.1X"}
    assert not Contact.objects.exists()


def test_a_contact_takes_a_time_zone_and_a_bad_one_is_refused(
    operator: KeyClient,
) -> None:
    refused = operator.send(
        "post", "/api/v1/contacts", {"phone": "+525500998877", "timezone": "Mars/Base"}
    )
    assert refused.status_code == 400
    assert "is not a time zone" in refused.json()["fields"]["timezone"]

    created = operator.send(
        "post",
        "/api/v1/contacts",
        {"phone": "+525500998877", "timezone": "America/Mexico_City"},
    )
    assert created.status_code == 201
    assert created.json()["timezone"] == "America/Mexico_City"
    assert Contact.objects.get().timezone == "America/Mexico_City"
