"""/api/v1/campaigns: created as the console's form creates them, refused with the
console's words, suspended, resumed and finished; runs with their counts."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from audiences.models import Variable
from campaigns.lifecycle import campaign_transition
from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from messaging.models import Message
from messaging.sending import messages_send_range
from tests.conftest import PHONES, batch_of

from .conftest import KeyClient

pytestmark = pytest.mark.django_db


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def later() -> dt.datetime:
    return timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=1)


def test_a_campaign_is_created_with_its_targeting_and_scheduled(
    operator: KeyClient, make_flow: Any, make_group: Any, later: dt.datetime
) -> None:
    Variable.objects.create(name="MONTO", kind="number")
    flow, group, more = make_flow(), make_group(PHONES), make_group(name="More")
    response = operator.send(
        "post",
        "/api/v1/campaigns",
        {
            "name": "Spring sale",
            "flow": flow.pk,
            "group": group.pk,
            "also_groups": [more.pk],
            "conditions": [{"field": "MONTO", "op": "gt", "value": "1000"}],
            "match": "any",
            "start_at": iso(later),
            "end_at": iso(later + dt.timedelta(days=7)),
            "schedule": "hourly",
            "active_from": "08:00",
            "active_until": "21:00",
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    campaign = Campaign.objects.get()
    assert body["id"] == campaign.pk
    assert (body["status"], body["schedule"], body["match"]) == (
        "pending",
        "hourly",
        "any",
    )
    assert body["flow"] == {"id": flow.pk, "name": flow.name}
    assert body["flow_version"] == 1
    assert body["also_groups"] == [{"id": more.pk, "name": "More"}]
    assert body["conditions"] == [{"field": "MONTO", "op": "gt", "value": "1000"}]
    assert campaign.periodic_task is not None
    assert campaign.active_from == dt.time(8, 0)
    assert campaign.events.get().actor.username == "shop"  # type: ignore[union-attr]
    listed = operator.send("get", f"/api/v1/campaigns?group={group.pk}").json()
    assert [row["id"] for row in listed["results"]] == [campaign.pk]
    assert operator.send("get", f"/api/v1/campaigns/{campaign.pk}").json() == body


def test_a_campaign_the_console_would_refuse_is_a_400_naming_each_field(
    operator: KeyClient, make_flow: Any, make_group: Any, later: dt.datetime
) -> None:
    draft, group = make_flow(publish=False), make_group(PHONES)
    response = operator.send(
        "post",
        "/api/v1/campaigns",
        {
            "name": "Spring sale",
            "flow": draft.pk,
            "group": group.pk,
            "excluded_groups": [group.pk],
            "conditions": [{"field": "PHONE", "op": "gt", "value": "1"}],
            "start_at": iso(later),
            "end_at": iso(later),
        },
    )

    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"conditions.0.op"}
    assert "PHONE holds text values; use one of" in fields["conditions.0.op"]

    response = operator.send(
        "post",
        "/api/v1/campaigns",
        {
            "name": "Spring sale",
            "flow": draft.pk,
            "group": group.pk,
            "excluded_groups": [group.pk],
            "start_at": iso(later),
            "end_at": iso(later),
        },
    )
    fields = response.json()["fields"]
    assert response.status_code == 400
    assert "Select a valid choice" in fields["flow"]
    assert fields["excluded_groups"].startswith(
        f"{group.name} cannot be both sent to and excluded"
    )
    flow = make_flow()
    past = operator.send(
        "post",
        "/api/v1/campaigns",
        {
            "name": "Spring sale",
            "flow": flow.pk,
            "group": group.pk,
            "start_at": iso(later - dt.timedelta(hours=2)),
            "end_at": iso(later),
        },
    )
    assert past.json()["fields"] == {
        "start_at": "The start must be later than the current time."
    }
    missing = operator.send("post", "/api/v1/campaigns", {"flow": flow.pk})
    assert set(missing.json()["fields"]) == {"name", "group", "start_at", "end_at"}
    assert not Campaign.objects.exists()


def test_suspend_resume_and_finish_are_refused_with_the_consoles_words(
    operator: KeyClient, make_campaign: Any, later: dt.datetime
) -> None:
    campaign = make_campaign()
    url = f"/api/v1/campaigns/{campaign.pk}"

    suspend = operator.send("post", f"{url}/suspend")
    resume = operator.send("post", f"{url}/resume", {"start_at": iso(later)})

    assert suspend.status_code == 409
    assert suspend.json() == {
        "error": "Campaign 'Spring sale' is Pending execution: only a campaign in "
        "progress can be suspended."
    }
    assert resume.status_code == 409
    assert resume.json() == {
        "error": "Campaign 'Spring sale' is Pending execution: only a suspended "
        "campaign can be resumed."
    }
    finished = operator.send("post", f"{url}/finish")
    assert finished.status_code == 200
    assert finished.json()["status"] == "ended"
    again = operator.send("post", f"{url}/finish")
    assert again.status_code == 409
    assert again.json() == {
        "error": "Campaign 'Spring sale' has ended already: there is nothing left to "
        "finish."
    }
    missing = operator.send("post", "/api/v1/campaigns/999999/finish")
    assert missing.status_code == 404
    assert missing.json() == {"error": "No campaign has the id 999999."}


def test_a_campaign_in_progress_is_suspended_then_resumed_at_a_new_start(
    operator: KeyClient, make_campaign: Any, later: dt.datetime
) -> None:
    campaign = make_campaign()
    campaign_transition(campaign=campaign, to="in_progress")
    url = f"/api/v1/campaigns/{campaign.pk}"

    suspended = operator.send("post", f"{url}/suspend")
    no_start = operator.send("post", f"{url}/resume", {})
    past = operator.send(
        "post", f"{url}/resume", {"start_at": iso(later - dt.timedelta(hours=2))}
    )
    resumed = operator.send(
        "post", f"{url}/resume", {"start_at": iso(later + dt.timedelta(hours=1))}
    )

    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    assert no_start.status_code == 400
    assert set(no_start.json()["fields"]) == {"start_at"}
    assert past.status_code == 409
    assert past.json()["error"] == "The start must be later than the current time."
    assert resumed.status_code == 200, resumed.json()
    assert resumed.json()["status"] == "pending"
    campaign.refresh_from_db()
    assert campaign.start_at == later + dt.timedelta(hours=1)
    history = list(campaign.events.order_by("id").values_list("to_status", "actor"))
    assert [status for status, _ in history] == [
        "pending",
        "in_progress",
        "suspended",
        "pending",
    ]


def test_runs_are_listed_with_their_counts_in_a_fixed_number_of_queries(
    operator: KeyClient,
    make_campaign: Any,
    provider: Any,
    django_assert_max_num_queries: Any,
) -> None:
    campaign = make_campaign(started=True, schedule="hourly")
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    now = timezone.now()
    first = campaign_tick(campaign_id=campaign.pk, now=now - dt.timedelta(hours=1))
    assert first is not None
    provider.failures[PHONES[0]] = ("21211: invalid 'To' number", True)
    ids = Message.objects.filter(batch_id=batch_of(first)).values_list("id", flat=True)
    messages_send_range(batch_id=batch_of(first), first_id=min(ids), last_id=max(ids))
    second = campaign_tick(campaign_id=campaign.pk, now=now)
    assert second is not None

    with django_assert_max_num_queries(8):
        page = operator.send("get", f"/api/v1/campaigns/{campaign.pk}/runs")

    assert page.status_code == 200, page.json()
    rows = page.json()["results"]
    assert [row["id"] for row in rows] == [second.pk, first.pk]
    assert rows[1]["totals"] == {
        "to_send": 0,
        "sent": 2,
        "failed": 1,
        "skipped": 0,
        "cancelled": 0,
    }
    assert rows[1]["counts"]["failed"] == 1
    assert rows[0]["totals"]["to_send"] == 3
    assert rows[0]["recipients"] == 3
    one = operator.send("get", f"/api/v1/runs/{first.pk}").json()
    assert one == rows[1]


def test_a_viewer_reads_campaigns_but_may_not_act_on_them(
    viewer: KeyClient, make_campaign: Any
) -> None:
    campaign = make_campaign()
    assert viewer.send("get", "/api/v1/campaigns").status_code == 200
    assert (
        viewer.send("get", f"/api/v1/campaigns/{campaign.pk}/runs").status_code == 200
    )
    refused = viewer.send("post", f"/api/v1/campaigns/{campaign.pk}/finish")
    assert refused.status_code == 403
    assert "Can end campaigns" in refused.json()["error"]
    assert viewer.send("post", "/api/v1/campaigns", {}).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "pending"
