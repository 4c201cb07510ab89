"""The schema is served to anyone (clients are generated from it); its reference
page is part of the console, linked from the dashboard."""

from typing import Any

import pytest
import yaml
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_schema_is_served_as_openapi_3_without_a_key(client: Client) -> None:
    response = client.get("/api/schema")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/contacts/bulk" in schema["paths"]
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    as_json = client.get("/api/schema?format=json")
    assert as_json.json()["info"]["title"] == "Flowcast API"


def test_the_reference_page_is_the_consoles(client: Client, admin_client: Any) -> None:
    assert client.get("/api/docs")["Location"].startswith("/admin/login/")
    page = admin_client.get("/api/docs")
    assert page.status_code == 200
    # Its scripts come from this server, not a CDN.
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in page.content
    assert b"cdn" not in page.content.lower()
    dashboard = admin_client.get("/admin/")
    assert b'href="/api/docs"' in dashboard.content
