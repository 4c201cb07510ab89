"""Signing in: throttled after repeated failures (django-axes)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, override_settings

LOGIN = "/admin/login/?next=/admin/"


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_wrong_passwords_lock_the_account_out_for_a_while(
    client: Client, make_user: Callable[..., Any]
) -> None:
    make_user("Operator", username="ana")
    for _ in range(2):
        wrong = client.post(LOGIN, {"username": "ana", "password": "guess"})
        assert wrong.status_code == 200
        assert b"Please enter the correct username and password" in wrong.content

    locked = client.post(LOGIN, {"username": "ana", "password": "guess"})
    right_but_locked = client.post(
        LOGIN, {"username": "ana", "password": "correct horse battery"}
    )

    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert right_but_locked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_right_password_signs_in(
    client: Client, make_user: Callable[..., Any]
) -> None:
    make_user("Viewer", username="luis")

    response = client.post(
        LOGIN, {"username": "luis", "password": "correct horse battery"}
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
