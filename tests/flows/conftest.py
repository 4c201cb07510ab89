"""Fixtures of the flow tests: the README's example contacts in a group."""

import pytest

from audiences.models import AudienceGroup, Contact, Membership, Variable
from tests.messaging.conftest import provider  # noqa: F401 (a recording provider)

SEED = [  # the README's example rows: phone, name, MONTO
    ("+525500998877", "Carlos", 1200),
    ("+525511223344", "Ana", 800),
    ("+525533445566", "Luis", 1500),
]


@pytest.fixture
def seed_group(db: None) -> AudienceGroup:
    Variable.objects.create(name="MONTO", kind="number")
    Variable.objects.create(name="NOMBRE", kind="text")
    group = AudienceGroup.objects.create(name="Seed")
    for phone, name, amount in SEED:
        contact = Contact.objects.create(
            phone=phone, name=name, data={"NOMBRE": name, "MONTO": amount}
        )
        Membership.objects.create(group=group, contact=contact)
    return group
