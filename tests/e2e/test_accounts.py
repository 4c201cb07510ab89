"""An administrator gives a new person the Viewer role, and that is all it takes for
them to sign in and see the dashboard; a password that is right for an account
without a role is not called wrong."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from base.roles import roles_sync
from tests.e2e.conftest import PASSWORD, Screens, sign_in


@pytest.mark.django_db(transaction=True)
def test_an_admin_gives_a_new_user_the_viewer_role_and_they_sign_in(
    page: Page, screens: Screens, make_operator: Any
) -> None:
    roles_sync()  # the groups, emptied by the previous test's flush
    admin = make_operator("ada")
    sign_in(page, screens, admin.username, "accounts-admin-login")

    page.goto("/admin/auth/user/add/")
    page.fill("#id_username", "vera")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.select_option("#id_role", label="Viewer: looks at everything, changes nothing")
    screens.shot(page, "accounts-add-user")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("vera")
    # The user page: the Role, not a hundred raw permissions in sight.
    expect(page.locator("#id_role")).to_have_value("Viewer")
    expect(page.locator("#id_user_permissions_from")).not_to_be_visible()
    screens.shot(page, "accounts-user-page")
    page.locator("#logout-form button[type=submit]").click()

    sign_in(page, screens, "vera", "accounts-viewer-login")
    expect(page.locator("#dashboard")).to_be_visible()
    expect(page.locator("#dashboard-in-progress")).to_contain_text(
        "Campaigns in progress"
    )
    screens.shot(page, "accounts-viewer-dashboard")
    vera = User.objects.get(username="vera")
    assert (vera.is_staff, vera.is_superuser) == (True, False)


@pytest.mark.django_db(transaction=True)
def test_the_right_password_of_an_account_without_a_role_says_so(
    page: Page, screens: Screens
) -> None:
    User.objects.create_user("nadia", password=PASSWORD)

    page.goto("/admin/login/")
    page.fill("#id_username", "nadia")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    note = page.locator(".errornote")
    expect(note).to_contain_text("This account has no access to the console")
    expect(note).to_contain_text("gives it a role")
    expect(note).not_to_contain_text("correct username and password")
    screens.shot(page, "accounts-no-role-login")
