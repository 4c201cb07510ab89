"""schemathesis calls every operation of the served schema (/api/schema) with data
it generates from the schema, valid and not, as an operator's key: no answer may be
a server error, and every answer must be what the schema says (status, content
type, headers, body)."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from audiences.models import AudienceGroup, Contact, Variable

from .conftest import key_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def same_connection() -> Iterator[None]:
    """Requests keep the test's database connection (and transaction) open, as
    Django's test client has them do."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def some_contacts(db: None, same_connection: None) -> str:
    """A few rows to read, and an operator's key."""
    group = AudienceGroup.objects.create(name="VIP")
    Variable.objects.create(name="MONTO", kind="number")
    for n in range(3):
        contact = Contact.objects.create(
            phone=f"+52550000000{n}", name=f"N{n}", data={"MONTO": n}
        )
        group.contacts.add(contact)
    return key_for("fuzzer", "Operator")


# Loaded as an integrator loads it: from the address that serves it.
schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())


@schema.parametrize()
@hypothesis_settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(
    case: Any, some_contacts: str
) -> None:
    key = some_contacts
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
