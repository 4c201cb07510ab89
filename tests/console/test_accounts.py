"""Accounts as an administrator gives them: a Role is enough to sign in, the user
page offers the Role instead of raw permissions, and a right password of an account
without access is not called wrong."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse

from base.accounts import NO_ACCESS
from base.roles import roles_sync, user_role, user_role_set

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "correct horse battery"


@pytest.mark.django_db
def test_an_account_given_the_viewer_role_in_the_add_form_can_sign_in(
    admin_client: Client, client: Client
) -> None:
    response = admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "lucia",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": "Viewer",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    lucia = User.objects.get(username="lucia")
    assert (user_role(lucia), lucia.is_staff) == ("Viewer", True)
    signed_in = client.post(LOGIN, {"username": "lucia", "password": PASSWORD})
    assert signed_in.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_changing_the_role_on_the_user_page_swaps_the_group_and_grants_staff(
    admin_client: Client,
) -> None:
    user = User.objects.create_user("marco", password=PASSWORD)
    user.groups.add(Group.objects.get(name="Viewer"))
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="role"' in page
    form = {
        "username": "marco",
        "is_active": "on",
        "role": "Operator",
        # As the browser sends the advanced section, folded and untouched.
        "groups": [Group.objects.get(name="Viewer").pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
    }

    response = admin_client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["Operator"]
    assert user.is_staff
    from base.models import AuditEntry

    entry = AuditEntry.objects.get(changes__has_key="role")
    assert entry.changes["role"] == ["Viewer", "Operator"]
    assert entry.actor is not None


@pytest.mark.django_db
def test_the_user_page_shows_no_raw_permissions_to_a_user_manager(
    client: Client, admin_client: Client
) -> None:
    """One who manages users without being a superuser picks a Role; a superuser
    still has groups and permissions, folded away."""
    manager = User.objects.create_user("hr", password=PASSWORD, is_staff=True)
    manager.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="auth", codename__endswith="_user"
        )
    )
    other = User.objects.create_user("someone", password=PASSWORD)
    url = reverse("admin:auth_user_change", args=[other.pk])
    client.force_login(manager)

    page = client.get(url).content.decode()

    assert 'name="role"' in page
    assert 'name="user_permissions"' not in page
    assert 'name="groups"' not in page
    assert 'name="is_superuser"' not in page
    advanced = admin_client.get(url).content.decode()
    assert 'name="user_permissions"' in advanced
    assert "collapse" in advanced


@pytest.mark.django_db
def test_a_right_password_without_a_role_is_told_it_has_no_access(
    client: Client,
) -> None:
    User.objects.create_user("ines", password=PASSWORD)

    right = client.post(LOGIN, {"username": "ines", "password": PASSWORD})
    wrong = client.post(LOGIN, {"username": "ines", "password": "guess"})

    assert right.status_code == 200
    assert "has no access to the console" in right.content.decode()
    assert "Please enter the correct" not in right.content.decode()
    assert "Please enter the correct" in wrong.content.decode()
    assert "has no access" not in wrong.content.decode()
    assert NO_ACCESS.startswith("This account has no access")


@pytest.mark.django_db
def test_roles_sync_makes_every_role_holder_staff() -> None:
    user = User.objects.create_user("old", password=PASSWORD)
    user.groups.add(Group.objects.get(name="Operator"))

    roles_sync()

    user.refresh_from_db()
    assert user.is_staff


@pytest.mark.django_db
def test_a_user_has_one_role_at_a_time(make_user: Callable[..., Any]) -> None:
    user = make_user("Operator", username="paz")

    user_role_set(user=user, role="Viewer")
    assert user_role(user) == "Viewer"
    assert list(user.groups.values_list("name", flat=True)) == ["Viewer"]

    user_role_set(user=user, role="")
    assert user_role(user) == ""
    with pytest.raises(ValueError, match="Unknown role"):
        user_role_set(user=user, role="Admin")


@pytest.mark.django_db
def test_a_superusers_page_says_it_needs_no_role(admin_client: Client) -> None:
    admin = User.objects.get(is_superuser=True)
    page = admin_client.get(
        reverse("admin:auth_user_change", args=[admin.pk])
    ).content.decode()
    assert "None needed: an administrator (superuser) may do everything" in page
    assert "No role (cannot use the console)" not in page
