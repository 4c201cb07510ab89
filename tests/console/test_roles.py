"""Roles: an operator acts, a viewer only looks, whatever the UI shows."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse

from campaigns.models import Campaign
from flows.models import Flow


def test_the_roles_are_created_by_migration(db: None) -> None:
    from django.contrib.auth.models import Group

    operator = Group.objects.get(name="Operator")
    viewer = Group.objects.get(name="Viewer")
    operator_codes = set(operator.permissions.values_list("codename", flat=True))
    viewer_codes = set(viewer.permissions.values_list("codename", flat=True))
    for action in (
        "publish_flow",
        "suspend_campaign",
        "resume_campaign",
        "end_campaign",
        "add_campaign",
        "import_contact",
        "export_contact",
    ):
        assert action in operator_codes
    assert viewer_codes
    assert all(code.startswith("view_") for code in viewer_codes)
    assert {"view_campaign", "view_message", "view_auditentry"} <= viewer_codes


@pytest.mark.django_db
def test_a_viewer_sees_every_page_but_no_add_or_delete(
    client: Client, make_user: Callable[..., Any], make_campaign: Callable[..., Any]
) -> None:
    make_campaign()
    client.force_login(make_user("Viewer"))
    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label in ("auth", "django_celery_beat", "api", "axes"):
            continue
        response = client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        )
        assert response.status_code == 200, opts.label
        assert b"addlink" not in response.content, opts.label
        try:
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        except NoReverseMatch:
            continue
        assert client.post(add, {}).status_code == 403, opts.label


@pytest.mark.django_db
def test_a_viewers_direct_posts_are_refused_and_change_nothing(
    client: Client,
    make_user: Callable[..., Any],
    make_campaign: Callable[..., Any],
    make_flow: Callable[..., Any],
) -> None:
    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    draft = make_flow(publish=False, name="Draft flow")
    viewer = make_user("Viewer")
    client.force_login(viewer)

    posts = [
        reverse("admin:campaigns_suspend", args=[campaign.pk]),
        reverse("admin:campaigns_end", args=[campaign.pk]),
        reverse("admin:campaigns_resume", args=[campaign.pk]),
        reverse("admin:campaigns_bulk"),
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        reverse("admin:campaigns_campaign_delete", args=[campaign.pk]),
        reverse("admin:flows_publish", args=[draft.pk]),
        reverse("admin:flows_archive", args=[draft.pk]),
        reverse("admin:flows_flow_change", args=[draft.pk]),
        reverse("admin:audiences_contact_import"),
        reverse("admin:audiences_contact_export"),
    ]
    for url in posts:
        response = client.post(url, {"confirm": "yes", "post": "yes"})
        assert response.status_code == 403, url

    assert Campaign.objects.get(pk=campaign.pk).status == "in_progress"
    draft.refresh_from_db()
    assert draft.status == Flow.Status.DRAFT
    # The API too: reporting an event needs the operator's right.
    from api.models import ApiToken

    token = ApiToken(name="viewer's script", user=viewer)
    key = token.issue_key()
    token.save()
    api = client.post(
        "/api/events",
        {"event": "purchase", "phone": "+525500998877"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert api.status_code == 403


@pytest.mark.django_db
def test_an_operator_can_act(
    client: Client,
    make_user: Callable[..., Any],
    make_campaign: Callable[..., Any],
) -> None:
    campaign = make_campaign(started=True)
    Campaign.objects.filter(pk=campaign.pk).update(status="in_progress")
    client.force_login(make_user("Operator"))

    response = client.post(
        reverse("admin:campaigns_suspend", args=[campaign.pk]), {"confirm": "yes"}
    )

    assert response.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).status == "suspended"


@pytest.mark.django_db
def test_the_roles_come_back_after_every_migrate_or_flush() -> None:
    from django.contrib.auth.models import Group
    from django.core.management.sql import emit_post_migrate_signal

    Group.objects.filter(name__in=("Operator", "Viewer")).delete()

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert set(Group.objects.values_list("name", flat=True)) >= {"Operator", "Viewer"}
    assert Group.objects.get(name="Viewer").permissions.exists()


@pytest.mark.django_db
def test_a_refusal_is_a_console_page_that_says_why(
    client: Client, make_user: Callable[..., Any], make_flow: Callable[..., Any]
) -> None:
    draft = make_flow(publish=False)
    client.force_login(make_user("Viewer"))

    response = client.post(reverse("admin:flows_publish", args=[draft.pk]))

    page = response.content.decode()
    assert response.status_code == 403
    assert "Flowcast console" in page
    assert "You may not do this" in page
    assert "Viewers can look at everything but change nothing" in page


@pytest.mark.django_db
def test_a_refusal_speaks_to_the_role_refused(
    client: Client, make_user: Callable[..., Any]
) -> None:
    """An operator refused an administrator's page is not told what viewers may do,
    and a staff login without a role is told it has none."""
    from django.contrib.auth.models import User

    add_channel = reverse("admin:messaging_channel_add")
    client.force_login(make_user("Operator"))
    page = client.get(add_channel).content.decode()
    assert "Viewers can look" not in page
    assert "Your role, Operator, does not allow this action" in page
    assert "stay with administrators" in page

    client.force_login(
        User.objects.create_user("nobody", password="x" * 12, is_staff=True)
    )
    response = client.get(reverse("admin:campaigns_campaign_add"))
    assert response.status_code == 403
    assert "Your account has no role" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changelist",
    ["admin:campaigns_campaign_changelist", "admin:audiences_contact_changelist"],
)
def test_a_viewers_action_posts_on_a_list_are_refused(
    client: Client,
    make_user: Callable[..., Any],
    make_campaign: Callable[..., Any],
    changelist: str,
) -> None:
    from audiences.models import Contact

    campaign = make_campaign()
    contact = Contact.objects.create(phone="+525511112222", name="Ana")
    client.force_login(make_user("Viewer"))
    selected = [campaign.pk] if "campaign" in changelist else [contact.pk]

    for confirmed in ({}, {"post": "yes"}):
        response = client.post(
            reverse(changelist),
            {"action": "delete_selected", "_selected_action": selected, **confirmed},
        )
        assert response.status_code == 403, (changelist, confirmed)

    assert Campaign.objects.filter(pk=campaign.pk).exists()
    assert Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.django_db
def test_every_list_action_of_every_list_is_refused_to_a_viewer(
    client: Client, make_user: Callable[..., Any], rf: Any
) -> None:
    """Whatever list and action: a Viewer's POST answers 403 (the actions are the
    ones a superuser is offered, so none is missed)."""
    from django.contrib.auth.models import User

    superuser = User.objects.create_superuser("root", password="x" * 12)
    client.force_login(make_user("Viewer"))
    tried = 0
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        request = rf.get("/")
        request.user = superuser
        try:
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue
        for action in model_admin.get_actions(request):
            response = client.post(
                changelist, {"action": action, "_selected_action": [1], "post": "yes"}
            )
            assert response.status_code == 403, (opts.label, action)
            tried += 1
    assert tried >= 10  # the console's lists do offer actions
