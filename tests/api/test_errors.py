"""The API answers in JSON whatever goes wrong: a wrong method, an unknown address,
a browser's POST without a CSRF token — never Django's HTML pages."""

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def browser(db: None) -> Client:
    # As a browser calls: CSRF checked, as in production.
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("post", "/api/campaigns", "GET"),
        ("delete", "/api/campaigns", "GET"),
        ("get", "/api/events", "POST"),
        ("put", "/api/events", "POST"),
    ],
)
def test_a_wrong_method_is_a_json_405_naming_the_right_one(
    browser: Client, method: str, path: str, allowed: str
) -> None:
    response = getattr(browser, method)(path)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == allowed
    body: dict[str, Any] = response.json()
    assert body["allowed"] == [allowed]
    assert f"use {allowed}" in body["error"]


def test_an_unknown_address_is_a_json_404_listing_the_endpoints(
    browser: Client,
) -> None:
    response = browser.post("/api/contacts", {"phone": "+525500998877"})

    assert response.status_code == 404
    assert response.json() == {
        "error": "There is no API endpoint at /api/contacts; the endpoints are "
        "under /api/v1/ (listed at /api/schema), besides /api/events (POST) and "
        "/api/campaigns (GET)."
    }


def test_an_event_from_a_browser_without_a_key_is_a_json_401(
    browser: Client, admin_user: Any
) -> None:
    browser.force_login(admin_user)

    response = browser.post(
        "/api/events", {"event": "x"}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json() == {
        "error": "Send the API key as 'Authorization: Bearer <key>'."
    }


def test_an_address_with_a_line_break_or_an_id_past_64_bits_is_a_json_404(
    browser: Client,
) -> None:
    for path in ("/api/v1/contacts/1%0A", "/api/v1/contacts/99999999999999999999"):
        response = browser.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"


def test_an_id_past_64_bits_in_a_body_is_refused_not_handed_to_the_database(
    db: None,
) -> None:
    from tests.api.conftest import KeyClient, key_for

    operator = KeyClient(key_for("shop", "Operator"))
    response = operator.send(
        "post",
        "/api/v1/campaigns",
        {"name": "x", "flow": 1, "group": 1, "also_groups": [2**70]},
    )
    assert response.status_code == 400
    assert "also_groups" in response.json()["fields"]
