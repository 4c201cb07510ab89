"""Wait-for-a-reply and group steps in the admin: built, published, previewed, and
read by a Viewer."""

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from audiences.models import AudienceGroup
from flows.models import Flow, FlowStep
from tests.flows.test_admin import STEP_FIELDS, texts

REPLY_FIELDS = [
    "reply_test",
    "reply_words",
    "save_reply_as",
    "timeout_step",
    "group",
    "group_action",
]


def flow_form(name: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "description": "",
        "trigger": "manual",
        "event_name": "",
        "audience_group": "",
        "audience_every": "",
        "steps-TOTAL_FORMS": len(steps),
        "steps-INITIAL_FORMS": 0,
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
        "event_conditions-TOTAL_FORMS": 0,
        "event_conditions-INITIAL_FORMS": 0,
    }
    for index, step in enumerate(steps):
        for key in [*STEP_FIELDS, *REPLY_FIELDS]:
            data[f"steps-{index}-{key}"] = step.get(key, "")
    return data


def ask_steps(channel_id: int, group_id: int) -> list[dict[str, Any]]:
    return [
        {"position": 1, "kind": "send", "channel": channel_id, "body": "¿Pagó?"},
        {
            "position": 2,
            "kind": "reply",
            "channel": channel_id,
            "wait": "1 00:00:00",
            "reply_test": "keywords",
            "reply_words": "PAGO, YA PAGUE",
            "save_reply_as": "RESPUESTA",
            "yes_step": 3,
            "no_step": 4,
            "timeout_step": 4,
            # Typed while it was a send step, then hidden: not kept.
            "body": "Left over",
        },
        {"position": 3, "kind": "group", "group": group_id, "group_action": "add"},
        {"position": 4, "kind": "end"},
    ]


@pytest.mark.django_db
def test_a_reply_and_a_group_step_are_built_published_and_previewed(
    admin_client: Client, make_channel: Any
) -> None:
    channel = make_channel()
    paid = AudienceGroup.objects.create(name="Paid")
    response = admin_client.post(
        reverse("admin:flows_flow_add"),
        flow_form("Ask", ask_steps(channel.pk, paid.pk)),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    flow = Flow.objects.get(name="Ask")
    reply = FlowStep.objects.get(flow=flow, position=2)
    assert (reply.reply_test, reply.reply_words, reply.save_reply_as) == (
        "keywords",
        "PAGO, YA PAGUE",
        "RESPUESTA",
    )
    assert (reply.timeout_step, reply.body) == (4, "")
    group = FlowStep.objects.get(flow=flow, position=3)
    assert (group.group, group.group_action) == (paid, "add")

    response = admin_client.post(reverse("admin:flows_publish", args=[flow.pk]))
    assert "Ask published as version 1." in texts(response)
    page = admin_client.get(reverse("admin:flows_preview", args=[flow.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Wait 1 day for a reply" in html or "for a reply" in html
    assert "Paid" in html


@pytest.mark.django_db
def test_a_group_step_offers_only_static_groups(
    admin_client: Client, make_flow: Any
) -> None:
    AudienceGroup.objects.create(name="Listed")
    AudienceGroup.objects.create(name="Ruled", kind="dynamic")
    flow = make_flow(publish=False)
    page = admin_client.get(reverse("admin:flows_flow_change", args=[flow.pk]))
    html = page.content.decode()
    # Looked up as typed (groups may be thousands), not listed in every row ...
    options = re.search(r'name="steps-0-group".*?</select>', html, re.S)
    assert options is not None
    assert "admin-autocomplete" in options.group(0)
    assert "Listed" not in options.group(0)
    # ... and what the lookup offers is the static groups only.
    found = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "flows",
            "model_name": "flowstep",
            "field_name": "group",
            "term": "",
        },
    ).json()
    names = {result["text"] for result in found["results"]}
    assert "Listed" in names
    assert "Ruled" not in names


@pytest.mark.django_db
def test_a_viewer_reads_reply_and_group_steps(
    client: Client, make_channel: Any
) -> None:
    channel = make_channel()
    paid = AudienceGroup.objects.create(name="Paid")
    flow = Flow.objects.create(name="Ask")
    for step in ask_steps(channel.pk, paid.pk):
        fields = {
            k: v for k, v in step.items() if k != "body" or step["kind"] == "send"
        }
        fields["channel_id"] = fields.pop("channel", None)
        fields["group_id"] = fields.pop("group", None)
        if "wait" in fields:
            fields["wait"] = dt.timedelta(days=1)
        FlowStep.objects.create(flow=flow, **fields)
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_flow", "view_flowstep"])
    )
    client.force_login(user)

    page = client.get(reverse("admin:flows_flow_change", args=[flow.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'id="steps-1"\s+data-kind="reply"', html)
    assert re.search(r'id="steps-2"\s+data-kind="group"', html)
    assert "PAGO, YA PAGUE" in html
    assert "Paid" in html
    preview = client.get(reverse("admin:flows_preview", args=[flow.pk]))
    assert preview.status_code == 200


@pytest.mark.django_db
def test_the_preview_knows_the_variable_a_reply_step_saves(
    admin_client: Client, make_channel: Any
) -> None:
    from tests.flows.test_replies import chatbot_flow

    flow = chatbot_flow(make_channel())
    html = admin_client.get(
        reverse("admin:flows_preview", args=[flow.pk])
    ).content.decode()
    # {{RESPUESTA}} is what step 2 keeps: no typo, though nobody has replied yet.
    assert "Gracias" in html
    assert "RESPUESTA: no contact has this variable" not in html


@pytest.mark.postgresql  # PostgreSQL query plans
@pytest.mark.django_db
def test_journeys_waiting_for_a_reply_are_listed_from_their_own_index(
    admin_client: Client,
) -> None:
    from tests.flows.test_admin import assert_read_in_order

    url = reverse("admin:flows_journey_changelist") + "?awaiting_reply__exact=1"

    listed = admin_client.get(url).context["cl"]

    assert_read_in_order(listed.queryset, "journey_waiting_reply_idx")
