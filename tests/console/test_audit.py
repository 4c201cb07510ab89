"""The audit trail: who, when, what, before and after, for every kind of change."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from base.models import AuditEntry
from campaigns.models import Campaign


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.mark.django_db
def test_an_admin_edit_records_who_and_the_values_before_and_after(
    client: Client, make_user: Callable[..., Any], make_channel: Callable[..., Any]
) -> None:
    from messaging.models import Channel

    channel = make_channel(name="SMS", rate_per_second=10)
    operator = make_user("Operator")
    client.force_login(operator)

    response = client.post(
        reverse("admin:messaging_channel_change", args=[channel.pk]),
        {
            "name": "SMS",
            "kind": "console",
            "enabled": "on",
            "timezone": "Etc/GMT+5",
            "rate_per_second": "20",
            "active_from": "08:00",
            "active_until": "21:00",
            "settings": "{}",
        },
    )

    assert response.status_code == 302, response.content
    [entry] = entries("change")
    assert entry.actor == operator
    assert entry.actor_label == "operator"
    assert entry.target_repr == "SMS"
    assert entry.target_type is not None
    assert entry.target_type.model_class() is Channel
    assert entry.changes["rate_per_second"] == [10, 20]
    assert entry.changes["active_from"] == [None, "08:00:00"]
    assert "name" not in entry.changes


@pytest.mark.django_db
def test_campaign_status_changes_are_recorded_with_their_actor(
    make_campaign: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    from campaigns.lifecycle import campaign_suspend

    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    campaign.refresh_from_db()
    operator = make_user("Operator")

    campaign_suspend(campaign=campaign, actor=operator)

    [entry] = entries("status")
    assert (entry.actor, entry.changes) == (
        operator,
        {"status": ["in_progress", "suspended"]},
    )
    assert entries("create")[0].target_repr == campaign.name


@pytest.mark.django_db
def test_background_jobs_are_recorded_as_the_system(
    make_campaign: Callable[..., Any],
) -> None:
    from django.utils import timezone

    from base.heartbeat import _job_acts_as_system, _job_done
    from campaigns.clock import campaigns_advance

    campaign = make_campaign(started=True)

    class Task:
        name = "campaigns.tasks.advance_lifecycles"

    # What Celery does around a task.
    _job_acts_as_system(task_id="t1", task=Task())
    try:
        campaigns_advance(now=timezone.now())
    finally:
        _job_done(task_id="t1")

    [entry] = entries("status")
    assert entry.actor is None
    assert entry.actor_label == "system: campaigns.tasks.advance_lifecycles"
    assert entry.target_id == str(campaign.pk)
    assert entry.changes == {"status": ["pending", "in_progress"]}


@pytest.mark.django_db
def test_publishing_a_flow_and_an_opt_out_are_recorded(
    make_flow: Callable[..., Any], make_group: Callable[..., Any]
) -> None:
    from audiences.models import Contact
    from messaging.receipts import contact_opt_out

    make_flow(name="Welcome")
    make_group(["+525500998877"])

    contact_opt_out(contact=Contact.objects.get(), source="SMS reply STOP")

    [published] = entries("publish")
    assert published.target_repr == "Welcome"
    assert published.note.startswith("version 1")
    [opted_out] = entries("opt_out")
    assert opted_out.note == "SMS reply STOP"


@pytest.mark.django_db
def test_role_changes_of_a_user_are_recorded(
    client: Client, make_user: Callable[..., Any]
) -> None:
    from django.contrib.auth.models import Group, User

    boss = User.objects.create_superuser("boss", password="correct horse battery")
    viewer = make_user("Viewer", username="ana")
    client.force_login(boss)
    change = reverse("admin:auth_user_change", args=[viewer.pk])
    form = client.get(change).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("password", "user_permissions")
    }
    data.update(
        groups=[Group.objects.get(name="Operator").pk],
        is_active="on",
        is_staff="on",
        date_joined_0=viewer.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=viewer.date_joined.strftime("%H:%M:%S"),
        last_login_0="",
        last_login_1="",
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)

    response = client.post(change, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    [entry] = entries("change")
    assert entry.actor == boss
    assert entry.changes["groups"] == [["Viewer"], ["Operator"]]


@pytest.mark.django_db
def test_the_trail_is_read_only_in_the_console(
    client: Client, make_user: Callable[..., Any], make_flow: Callable[..., Any]
) -> None:
    make_flow()
    entry = AuditEntry.objects.get()
    client.force_login(make_user("Operator"))

    listing = client.get(
        reverse("admin:console_auditentry_changelist") + "?action=publish"
    )
    page = client.get(reverse("admin:console_auditentry_change", args=[entry.pk]))

    assert listing.status_code == page.status_code == 200
    assert b"Published" in listing.content
    assert (
        client.post(
            reverse("admin:console_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_the_trail_shows_times_as_the_console_does_and_not_a_change_of_nothing(
    admin_client: Client, make_campaign: Callable[..., Any]
) -> None:
    """Times read as elsewhere in the console (2026-11-22 13:40 UTC, 08:42), not
    as stored ISO text; a time saved again without its microseconds (the user form
    does it to date joined) is no change to show."""
    from base.audit import audit_record

    campaign = make_campaign()
    audit_record(
        action="change",
        target=campaign,
        changes={
            "start_at": ["2026-11-22T13:40:00+00:00", "2026-11-22T13:45:00+00:00"],
            "active_from": [None, "08:42:00"],
            "created_at": [
                "2001-02-03T04:05:06.789+00:00",
                "2001-02-03T04:05:06+00:00",
            ],
        },
    )
    entry = AuditEntry.objects.get(action="change")
    listing = admin_client.get(
        reverse("admin:console_auditentry_changelist"), {"action__exact": "change"}
    ).content.decode()
    page = admin_client.get(
        reverse("admin:console_auditentry_change", args=[entry.pk])
    ).content.decode()
    for shown in (listing, page):
        assert "2026-11-22 13:40 UTC" in shown
        assert "2026-11-22 13:45 UTC" in shown
        assert "08:42" in shown
        assert "08:42:00" not in shown
        assert "T13:40:00" not in shown
        assert "04:05:06" not in shown
