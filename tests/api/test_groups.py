"""/api/v1/groups: members listed, added and removed by phone; a dynamic group's
members are its rules' to decide."""

import pytest

from audiences.models import AudienceGroup, Contact, Variable

from .conftest import KeyClient

pytestmark = pytest.mark.django_db


def test_members_are_added_and_removed_by_phone(operator: KeyClient) -> None:
    group = AudienceGroup.objects.create(name="VIP")
    for n in range(3):
        Contact.objects.create(phone=f"+52550000000{n}")
    added = operator.send(
        "post",
        f"/api/v1/groups/{group.pk}/members/add",
        {"phones": ["+525500000000", "55 0000 0001", "+525500000009"]},
    )
    assert added.status_code == 200, added.json()
    assert added.json() == {"changed": 2, "unknown": ["+525500000009"]}
    again = operator.send(
        "post", f"/api/v1/groups/{group.pk}/members/add", {"phones": ["+525500000000"]}
    )
    assert again.json()["changed"] == 0
    members = operator.send("get", f"/api/v1/groups/{group.pk}/members").json()
    assert [row["phone"] for row in members["results"]] == [
        "+525500000001",
        "+525500000000",
    ]
    removed = operator.send(
        "post",
        f"/api/v1/groups/{group.pk}/members/remove",
        {"phones": ["+525500000001"]},
    )
    assert removed.json()["changed"] == 1
    assert list(group.contacts.values_list("phone", flat=True)) == ["+525500000000"]


def test_a_dynamic_groups_members_cannot_be_changed(operator: KeyClient) -> None:
    group = AudienceGroup.objects.create(name="Rich", kind="dynamic")
    Contact.objects.create(phone="+525500000000")
    refused = operator.send(
        "post", f"/api/v1/groups/{group.pk}/members/add", {"phones": ["+525500000000"]}
    )
    assert refused.status_code == 409
    assert "is dynamic" in refused.json()["error"]


def test_bad_phones_are_named_by_position(operator: KeyClient) -> None:
    group = AudienceGroup.objects.create(name="VIP")
    refused = operator.send(
        "post", f"/api/v1/groups/{group.pk}/members/add", {"phones": ["+5255", "x"]}
    )
    assert refused.status_code == 400
    assert set(refused.json()["fields"]["phones"]) == {"0", "1"}


def test_variables_are_listed_with_their_types(viewer: KeyClient) -> None:
    Variable.objects.create(name="MONTO", kind="number")
    rows = viewer.send("get", "/api/v1/variables").json()["results"]
    assert [(row["name"], row["kind"]) for row in rows] == [("MONTO", "number")]


def test_a_wrong_method_is_a_json_405_naming_the_right_ones(viewer: KeyClient) -> None:
    response = viewer.send("put", "/api/v1/groups", {})
    assert response.status_code == 405
    assert response.json()["allowed"] == ["GET", "HEAD", "OPTIONS"]
    assert response["Allow"] == "GET, HEAD, OPTIONS"
