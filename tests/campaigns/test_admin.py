import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.lifecycle import campaign_transition
from campaigns.models import Campaign

ADMIN_MODELS = [
    "audiences/contact",
    "audiences/audiencegroup",
    "flows/flow",
    "messaging/channel",
    "messaging/message",
    "campaigns/campaign",
    "campaigns/campaignrun",
    "django_celery_beat/periodictask",
]


def form_data(campaign_fields: dict[str, Any]) -> dict[str, Any]:
    start, end = campaign_fields.pop("start_at"), campaign_fields.pop("end_at")
    data = {
        "start_at_0": start.strftime("%Y-%m-%d"),
        "start_at_1": start.strftime("%H:%M:%S"),
        "end_at_0": end.strftime("%Y-%m-%d"),
        "end_at_1": end.strftime("%H:%M:%S"),
        "schedule": "daily",
        "description": "",
        **campaign_fields,
    }
    for prefix in ("runs", "events", "rules"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_every_admin_list_answers(
    admin_client: Client, model: str, make_campaign: Any
) -> None:
    make_campaign()
    assert admin_client.get(f"/admin/{model}/").status_code == 200


@pytest.mark.django_db
def test_a_campaign_created_in_the_admin_gets_its_schedule(
    admin_client: Client, make_flow: Any, make_group: Any
) -> None:
    start = timezone.localtime() + dt.timedelta(hours=2)
    data = form_data(
        {
            "name": "Admin made",
            "flow": make_flow().pk,
            "group": make_group(["+525500998877"]).pk,
            "start_at": start,
            "end_at": start + dt.timedelta(days=1),
        }
    )

    response = admin_client.post(reverse("admin:campaigns_campaign_add"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get(name="Admin made")
    assert campaign.status == "pending"
    assert campaign.periodic_task is not None
    assert campaign.flow_version == campaign.flow.current_version


@pytest.mark.django_db
def test_the_admin_form_says_why_a_start_in_the_past_is_refused(
    admin_client: Client, make_flow: Any, make_group: Any
) -> None:
    start = timezone.localtime() - dt.timedelta(hours=1)
    data = form_data(
        {
            "name": "Too late",
            "flow": make_flow().pk,
            "group": make_group().pk,
            "start_at": start,
            "end_at": start - dt.timedelta(minutes=1),
        }
    )

    response = admin_client.post(reverse("admin:campaigns_campaign_add"), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "The start must be later than the current time." in page
    assert "The end must be later than the start." in page
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_draft_flows_are_not_offered(admin_client: Client, make_flow: Any) -> None:
    make_flow(name="Ready")
    make_flow(name="Unfinished draft", publish=False)

    found = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "campaigns",
            "model_name": "campaign",
            "field_name": "flow",
            "term": "",
        },
    ).json()

    assert [item["text"] for item in found["results"]] == ["Ready"]


@pytest.mark.django_db
def test_an_in_progress_campaign_cannot_be_changed_or_deleted_in_the_admin(
    admin_client: Client, make_campaign: Any
) -> None:
    campaign = make_campaign(started=True)
    campaign_transition(campaign=campaign, to="in_progress")
    change_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    page = admin_client.get(change_url).content.decode()
    assert 'name="_save"' not in page
    # Refused with the campaign's status as the reason (tests/campaigns/
    # test_refusals.py), back on its read-only page.
    response = admin_client.post(change_url, {"name": "Hijacked"})
    assert (response.status_code, response["Location"]) == (302, change_url)
    delete_url = reverse("admin:campaigns_campaign_delete", args=[campaign.pk])
    response = admin_client.post(delete_url, {"post": "yes"})
    assert (response.status_code, response["Location"]) == (302, change_url)
    assert Campaign.objects.get(pk=campaign.pk).name == "Spring sale"


@pytest.mark.django_db
def test_the_suspend_action_reports_refusals_and_successes(
    admin_client: Client, make_campaign: Any
) -> None:
    running = make_campaign(started=True, name="Running")
    campaign_transition(campaign=running, to="in_progress")
    waiting = make_campaign(name="Waiting")

    url = reverse("admin:campaigns_campaign_changelist")
    selected = {
        "action": "suspend_selected",
        "_selected_action": [running.pk, waiting.pk],
    }

    confirm = admin_client.post(url, selected)
    # First a confirmation page, naming the campaign that will be left as it is.
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Suspend the selected campaigns?" in page
    assert (
        "Will be left as it is: Campaign &#x27;Waiting&#x27; is Pending execution: "
        "only a campaign in progress can be suspended." in page
    )
    assert Campaign.objects.get(pk=running.pk).status == "in_progress"

    response = admin_client.post(url, {**selected, "post": "yes"}, follow=True)

    messages = texts(response)
    assert "Suspended: Running." in messages
    assert any("'Waiting' is Pending execution" in m for m in messages)
    assert Campaign.objects.get(pk=running.pk).status == "suspended"
    assert Campaign.objects.get(pk=waiting.pk).status == "pending"


@pytest.mark.django_db
def test_bulk_delete_names_campaigns_in_progress_and_deletes_the_others(
    admin_client: Client, make_campaign: Any
) -> None:
    running = make_campaign(started=True, name="Running")
    campaign_transition(campaign=running, to="in_progress")
    waiting = make_campaign(name="Waiting")
    url = reverse("admin:campaigns_campaign_changelist")
    selected = {
        "action": "delete_selected",
        "_selected_action": [running.pk, waiting.pk],
    }

    confirm = admin_client.post(url, selected)

    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Are you sure" in page
    assert f'value="{waiting.pk}"' in page
    assert f'value="{running.pk}"' not in page
    assert (
        "Left out: Campaign 'Running' is In progress: suspend it or finish it first, "
        "then delete it." in texts(confirm)
    )
    response = admin_client.post(
        url,
        {"action": "delete_selected", "_selected_action": [waiting.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert not Campaign.objects.filter(pk=waiting.pk).exists()
    assert Campaign.objects.filter(pk=running.pk).exists()


@pytest.mark.django_db
def test_an_ended_campaign_with_messages_can_be_deleted(
    admin_client: Client, make_campaign: Any
) -> None:
    from campaigns.lifecycle import campaign_end
    from campaigns.runs import campaign_tick
    from messaging.models import Message

    campaign = make_campaign(started=True)
    campaign_tick(campaign_id=campaign.pk)
    campaign_end(campaign=campaign)
    url = reverse("admin:campaigns_campaign_delete", args=[campaign.pk])

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_the_campaign_list_searches_by_name_flow_and_group(
    admin_client: Client, make_campaign: Any, make_flow: Any, make_group: Any
) -> None:
    make_campaign(name="Mother's day", flow=make_flow(name="Gift flow"))
    make_campaign(name="Other", group=make_group(name="VIP customers"))
    url = reverse("admin:campaigns_campaign_changelist")

    def found(query: str) -> set[str]:
        response = admin_client.get(url, {"q": query})
        return {c.name for c in response.context["cl"].result_list}

    assert found("Mother") == {"Mother's day"}
    assert found("Gift") == {"Mother's day"}
    assert found("VIP") == {"Other"}
    status_page = admin_client.get(url, {"status__exact": "pending"})
    assert len(status_page.context["cl"].result_list) == 2


@pytest.mark.django_db
def test_the_publish_action_explains_a_refusal(admin_client: Client) -> None:
    from flows.models import Flow

    flow = Flow.objects.create(name="No steps")
    response = admin_client.post(
        reverse("admin:flows_flow_changelist"),
        {"action": "publish_selected", "_selected_action": [flow.pk]},
        follow=True,
    )
    assert any("No steps was not published" in m for m in texts(response))


@pytest.mark.django_db
def test_the_campaign_page_offers_suspend_and_end_buttons_that_work(
    admin_client: Client, make_campaign: Any
) -> None:
    campaign = make_campaign(started=True)
    campaign_transition(campaign=campaign, to="in_progress")
    change_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    suspend_url = reverse("admin:campaigns_suspend", args=[campaign.pk])
    end_url = reverse("admin:campaigns_end", args=[campaign.pk])

    page = admin_client.get(change_url).content.decode()
    assert suspend_url in page
    assert end_url in page

    # A GET changes nothing.
    admin_client.get(suspend_url)
    assert Campaign.objects.get(pk=campaign.pk).status == "in_progress"

    response = admin_client.post(suspend_url, follow=True)
    assert f"Campaign {campaign.name!r} suspended." in texts(response)
    assert Campaign.objects.get(pk=campaign.pk).status == "suspended"
    assert suspend_url not in response.content.decode()

    response = admin_client.post(suspend_url, follow=True)
    assert any("only a campaign in progress" in m for m in texts(response))

    admin_client.post(end_url)
    assert Campaign.objects.get(pk=campaign.pk).status == "ended"


@pytest.mark.django_db
def test_campaign_buttons_need_their_permission(
    client: Client, make_campaign: Any, django_user_model: Any
) -> None:
    from django.contrib.auth.models import Permission

    campaign = make_campaign(started=True)
    campaign_transition(campaign=campaign, to="in_progress")
    viewer = django_user_model.objects.create_user(
        "viewer", password="pw", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client.force_login(viewer)

    response = client.post(reverse("admin:campaigns_suspend", args=[campaign.pk]))

    assert response.status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == "in_progress"


@pytest.mark.django_db
def test_the_flow_page_publishes_a_new_version(
    admin_client: Client, make_flow: Any
) -> None:
    from flows.models import FlowStep
    from flows.publishing import flow_note_edits

    flow = make_flow()
    FlowStep.objects.filter(flow=flow, position=1).update(body="Hola de nuevo")
    flow_note_edits(flow=flow)  # what saving the form does
    response = admin_client.post(
        reverse("admin:flows_publish", args=[flow.pk]), follow=True
    )
    assert f"{flow.name} published as version 2." in texts(response)


@pytest.mark.django_db
def test_finish_says_more_than_the_cap_of_open_conversations(
    admin_client: Client, make_campaign: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campaigns import selectors
    from campaigns.runs import campaign_tick
    from flows.models import Journey

    campaign = make_campaign(started=True)
    campaign_transition(campaign=campaign, to="in_progress")
    run = campaign_tick(campaign_id=campaign.pk)
    Journey.objects.filter(cohort__run=run).update(status="active")
    monkeypatch.setattr(selectors, "IMPACT_CAP", 2)

    page = admin_client.get(reverse("admin:campaigns_end", args=[campaign.pk]))

    text = page.content.decode()
    assert "more than 2 open conversations" in text
    assert "more than 2 queued or deferred messages are cancelled" in text


@pytest.mark.django_db
def test_a_campaign_gets_active_hours_in_the_admin_and_a_clash_is_refused(
    admin_client: Client, make_flow: Any, make_group: Any, make_channel: Any
) -> None:
    channel = make_channel(
        name="SMS", active_from=dt.time(8), active_until=dt.time(9), timezone="UTC"
    )
    start = timezone.localtime() + dt.timedelta(hours=2)
    fields = {
        "name": "Evenings",
        "flow": make_flow(channel=channel).pk,
        "group": make_group(["+525500998877"]).pk,
        "start_at": start,
        "end_at": start + dt.timedelta(days=1),
        "active_from": "18:00",
        "active_until": "21:00",
        "timezone": "UTC",
    }
    url = reverse("admin:campaigns_campaign_add")

    refused = admin_client.post(url, form_data(dict(fields)))

    assert refused.status_code == 200
    assert (
        "These active hours (18:00–21:00 UTC) and those of channel &#x27;SMS&#x27; "
        "(08:00–09:00 UTC), which the flow sends on, are never open at the same time"
    ) in refused.content.decode()
    assert not Campaign.objects.filter(name="Evenings").exists()

    fields["active_from"] = "08:30"
    saved = admin_client.post(url, form_data(dict(fields)))

    assert saved.status_code == 302, saved.content.decode()[:2000]
    campaign = Campaign.objects.get(name="Evenings")
    assert (campaign.active_from, campaign.active_until) == (
        dt.time(8, 30),
        dt.time(21),
    )
    assert campaign.timezone == settings.TIME_ZONE
    page = admin_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    assert "Active hours (optional)" in page


@pytest.mark.django_db
def test_half_a_window_or_an_unknown_zone_is_refused(
    make_flow: Any, make_group: Any
) -> None:
    from django.core.exceptions import ValidationError

    start = timezone.now() + dt.timedelta(hours=2)
    campaign = Campaign(
        name="Half",
        flow=make_flow(),
        group=make_group(["+525500998877"]),
        start_at=start,
        end_at=start + dt.timedelta(days=1),
        active_from=dt.time(8),
        timezone="Mars/Olympus",
    )
    with pytest.raises(ValidationError) as refused:
        campaign.full_clean(exclude=["flow_version"])
    assert refused.value.message_dict == {
        "active_until": ["Give both ends of the sending window, or neither."],
        "timezone": ["'Mars/Olympus' is not a known time zone."],
    }
    campaign.timezone = ""
    campaign.active_from = None
    campaign.full_clean(exclude=["flow_version"])
    assert campaign.timezone == settings.TIME_ZONE


@pytest.mark.django_db
def test_active_hours_never_open_between_start_and_end_are_refused(
    make_flow: Any, make_group: Any
) -> None:
    from django.core.exceptions import ValidationError

    start = (timezone.now() + dt.timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    campaign = Campaign(
        name="Morning only",
        flow=make_flow(),
        group=make_group(["+525500998877"]),
        start_at=start,
        end_at=start + dt.timedelta(hours=2),  # 10:00-12:00 UTC
        active_from=dt.time(18),
        active_until=dt.time(21),
        timezone="UTC",
    )
    with pytest.raises(ValidationError) as refused:
        campaign.full_clean(exclude=["flow_version"])
    assert refused.value.message_dict == {
        "active_from": [
            "These active hours (18:00–21:00 UTC) are never open between the "
            "campaign's start and end: none of its messages could go out."
        ]
    }
    campaign.active_from = dt.time(11)  # 11:00-21:00 meets 10:00-12:00
    campaign.full_clean(exclude=["flow_version"])


@pytest.mark.django_db
def test_the_campaign_and_bulk_forms_name_the_zone_their_times_are_read_in(
    admin_client: Client,
) -> None:
    zone = timezone.get_current_timezone_name()
    add = admin_client.get(reverse("admin:campaigns_campaign_add")).content.decode()
    bulk = admin_client.get(reverse("admin:campaigns_bulkmessage_add")).content.decode()

    assert add.count(f"Read in {zone}.") == 2  # start and end
    assert f"Read in {zone}." in bulk


@pytest.mark.django_db
def test_the_campaign_list_shows_an_actions_column_only_to_those_who_may_act(
    client: Client, make_user: Any, make_campaign: Any
) -> None:
    make_campaign()
    url = reverse("admin:campaigns_campaign_changelist")

    client.force_login(make_user("Viewer"))
    viewer = client.get(url).content.decode()
    client.force_login(make_user("Operator"))
    operator = client.get(url).content.decode()

    assert "column-actions" not in viewer
    assert "column-actions" in operator
    assert ">Modify</a>" in operator
