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


# Behind the TLS proxy every request comes from the proxy's address (REMOTE_ADDR); the
# proxy appends the address it was reached from to X-Forwarded-For.
PROXY = "10.0.0.2"
CLIENT_X = "203.0.113.10"
CLIENT_Y = "198.51.100.20"


def _sign_in(
    client: Client, username: str, password: str, remote: str, forwarded: str = ""
) -> Any:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR=remote,
        headers=headers,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "from_x", "from_y"),
    [
        pytest.param(1, (PROXY, CLIENT_X), (PROXY, CLIENT_Y), id="through the proxy"),
        pytest.param(0, (CLIENT_X, ""), (CLIENT_Y, ""), id="direct"),
    ],
)
def test_wrong_passwords_for_a_user_name_lock_it_out_from_every_address(
    make_user: Callable[..., Any],
    proxies: int,
    from_x: tuple[str, str],
    from_y: tuple[str, str],
) -> None:
    make_user("Operator", username="ana")
    make_user("Viewer", username="luis")
    with override_settings(AXES_FAILURE_LIMIT=3, FLOWCAST_TRUSTED_PROXIES=proxies):
        wrong = [_sign_in(Client(), "ana", "guess", *from_x) for _ in range(3)]
        assert [response.status_code for response in wrong] == [200, 200, 429]

        ana_from_y = _sign_in(Client(), "ana", "correct horse battery", *from_y)
        luis_from_y = _sign_in(Client(), "luis", "correct horse battery", *from_y)

    assert ana_from_y.status_code == 429
    assert b"Too many failed sign-ins" in ana_from_y.content
    # Y's address is not locked: only the user name is.
    assert luis_from_y.status_code == 302


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3, FLOWCAST_TRUSTED_PROXIES=1)
def test_a_password_sprayed_across_user_names_locks_the_address_it_came_from(
    make_user: Callable[..., Any],
) -> None:
    make_user("Operator", username="ana")
    make_user("Viewer", username="luis")
    # Client X also writes X-Forwarded-For itself, to pass for another client each
    # time; the proxy appends X's real address after whatever X wrote.
    sprayed = [
        _sign_in(
            Client(), name, "Summer2026!", PROXY, f"192.0.2.{n}, {CLIENT_Y}, {CLIENT_X}"
        )
        for n, name in enumerate(("root", "admin", "maria"))
    ]
    assert [response.status_code for response in sprayed] == [200, 200, 429]

    x_right_password = _sign_in(
        Client(), "ana", "correct horse battery", PROXY, CLIENT_X
    )
    y_through_same_proxy = _sign_in(
        Client(), "luis", "correct horse battery", PROXY, CLIENT_Y
    )

    assert x_right_password.status_code == 429
    assert b"Too many failed sign-ins" in x_right_password.content
    assert y_through_same_proxy.status_code == 302


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3, FLOWCAST_TRUSTED_PROXIES=0)
def test_with_no_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_lockout(
    make_user: Callable[..., Any],
) -> None:
    make_user("Operator", username="ana")
    sprayed = [
        _sign_in(Client(), name, "Summer2026!", CLIENT_X, f"192.0.2.{n}")
        for n, name in enumerate(("root", "admin", "maria"))
    ]
    assert [response.status_code for response in sprayed] == [200, 200, 429]

    forged_again = _sign_in(
        Client(), "ana", "correct horse battery", CLIENT_X, "192.0.2.99"
    )

    assert forged_again.status_code == 429


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3, FLOWCAST_TRUSTED_PROXIES=0)
def test_signing_in_to_ones_own_account_does_not_clear_failures_against_another(
    make_user: Callable[..., Any],
) -> None:
    make_user("Operator", username="ana")
    make_user("Viewer", username="luis")
    for _ in range(2):
        assert _sign_in(Client(), "ana", "guess", CLIENT_X).status_code == 200
    assert (
        _sign_in(Client(), "luis", "correct horse battery", CLIENT_X).status_code == 302
    )

    third = _sign_in(Client(), "ana", "guess", CLIENT_Y)
    ana = _sign_in(Client(), "ana", "correct horse battery", CLIENT_Y)

    assert third.status_code == 429
    assert ana.status_code == 429


@pytest.mark.parametrize(
    ("forwarded", "seen"),
    [
        ("1.2.3.4", "1.2.3.4"),
        ("9.9.9.9, 1.2.3.4:5555", "1.2.3.4"),  # a proxy that writes the port
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("::ffff:1.2.3.4", "1.2.3.4"),  # the same client as 1.2.3.4
        ("not an address", "10.0.0.9"),  # the proxy's own, as before
    ],
)
def test_the_client_address_is_read_as_proxies_write_it(
    rf: Any, settings: Any, forwarded: str, seen: str
) -> None:
    from base.client_address import client_address

    settings.FLOWCAST_TRUSTED_PROXIES = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == seen
