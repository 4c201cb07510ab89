"""Campaign search: the console's list and GET /api/campaigns."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from api.models import ApiToken
from campaigns.lifecycle import campaign_transition


@pytest.fixture
def campaigns(make_campaign: Any, make_flow: Any, make_group: Any) -> dict[str, Any]:
    gift, vip = make_flow(name="Gift flow"), make_group(name="VIP customers")
    made = {
        "mothers": make_campaign(name="Mother's day", flow=gift),
        "vip": make_campaign(name="VIP week", group=vip),
        "other": make_campaign(name="Other", flow=gift, group=vip),
    }
    campaign_transition(campaign=made["other"], to="ended")
    return made


@pytest.mark.django_db
def test_the_api_filters_by_name_flow_group_and_status(
    admin_client: Client, campaigns: dict[str, Any]
) -> None:
    def names(**query: Any) -> list[str]:
        response = admin_client.get("/api/campaigns", query)
        assert response.status_code == 200, response.content
        return sorted(c["name"] for c in response.json()["results"])

    gift = campaigns["mothers"].flow_id
    vip = campaigns["vip"].group_id
    assert names(name="mother") == ["Mother's day"]
    assert names(flow=gift) == ["Mother's day", "Other"]
    assert names(group_name="vip") == ["Other", "VIP week"]
    assert names(group=vip, status="pending") == ["VIP week"]
    assert names(status=["pending", "ended"]) == ["Mother's day", "Other", "VIP week"]
    first = admin_client.get("/api/campaigns", {"name": "VIP"}).json()["results"][0]
    assert first["flow"]["name"]
    assert first["status_label"] == "Pending execution"


@pytest.mark.django_db
def test_the_api_needs_a_key_or_a_signed_in_operator(
    client: Client, campaigns: dict[str, Any]
) -> None:
    assert client.get("/api/campaigns").status_code == 401
    user = User.objects.create_user("script")
    token = ApiToken(name="reports", user=user)
    key = token.issue_key()
    token.save()
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/campaigns", headers=headers).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    response = client.get("/api/campaigns", headers=headers)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
    bad = client.get("/api/campaigns", {"status": "bogus"}, headers=headers)
    assert bad.status_code == 400
    assert "status" in bad.json()["fields"]


@pytest.mark.django_db
def test_the_list_filters_by_group_through_a_search_box(
    admin_client: Client, campaigns: dict[str, Any]
) -> None:
    url = reverse("admin:campaigns_campaign_changelist")
    page = admin_client.get(url).content.decode()
    assert 'data-field-name="group"' in page
    assert (
        "VIP customers"
        not in page.split('id="changelist-filter"')[1].split("</details>")[1]
    )  # the group filter lists nobody until searched
    vip = campaigns["vip"].group_id
    response = admin_client.get(url, {"group__id__exact": vip})
    assert {c.name for c in response.context["cl"].result_list} == {"VIP week", "Other"}
    found = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "campaigns",
            "model_name": "campaign",
            "field_name": "group",
            "term": "VIP",
        },
    ).json()
    assert [r["text"] for r in found["results"]] == ["VIP customers"]
