"""The contact list: name, email and the custom-data columns the operator chose."""

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audiences.models import Contact, Variable
from tests.audiences.files import SEED, write_xlsx

pytestmark = pytest.mark.django_db
LIST_URL = "/admin/audiences/contact/"


def test_a_nombre_column_fills_the_name_and_stays_custom_data(
    tmp_path: Path, run_import: Any
) -> None:
    job = run_import(write_xlsx(tmp_path / "seed.xlsx", SEED))

    assert job.status == "done", job.error
    carlos = Contact.objects.get(phone="+525500998877")
    assert carlos.name == "Carlos"
    assert carlos.data["NOMBRE"] == "Carlos"


def test_a_name_column_wins_over_nombre(tmp_path: Path, run_import: Any) -> None:
    rows = [["CONTACT", "NOMBRE", "NAME"], ["+525500998877", "Carlos", "Carlos Ruiz"]]

    run_import(write_xlsx(tmp_path / "both.xlsx", rows))

    carlos = Contact.objects.get(phone="+525500998877")
    assert (carlos.name, carlos.data) == ("Carlos Ruiz", {"NOMBRE": "Carlos"})


def test_the_list_shows_name_email_and_the_chosen_variables(
    admin_client: Client,
) -> None:
    Variable.objects.create(name="MONTO", kind="number", in_contact_list=True)
    Variable.objects.create(name="CIUDAD", kind="text")
    Contact.objects.create(
        phone="+525500998877",
        email="carlos@example.com",
        data={"NOMBRE": "Carlos", "MONTO": 1200, "CIUDAD": "Puebla"},
    )

    page = admin_client.get(LIST_URL).content.decode()

    assert '<td class="field-name_shown">Carlos</td>' in page
    assert "carlos@example.com" in page
    assert '<td class="field-data_MONTO">1200</td>' in page
    assert "Puebla" not in page


def test_the_list_reads_its_columns_in_the_same_queries_whatever_the_rows(
    admin_client: Client,
) -> None:
    for name in ("MONTO", "FECHA", "CIUDAD"):
        Variable.objects.create(name=name, in_contact_list=True)

    def queries(contacts: int) -> int:
        Contact.objects.bulk_create(
            Contact(phone=f"+52550099{n:04d}", data={"MONTO": n, "CIUDAD": "x"})
            for n in range(Contact.objects.count(), contacts)
        )
        with CaptureQueriesContext(connection) as seen:
            assert admin_client.get(LIST_URL).status_code == 200
        return len(seen)

    assert queries(3) == queries(50)


def test_a_fourth_variable_in_the_list_is_refused_saying_which_are_shown() -> None:
    for name in ("CIUDAD", "FECHA", "MONTO"):
        Variable.objects.create(name=name, in_contact_list=True)

    with pytest.raises(ValidationError) as refused:
        Variable(name="PLAN", in_contact_list=True).full_clean()

    assert refused.value.message_dict["in_contact_list"] == [
        "The contact list shows at most 3 variables and already shows CIUDAD, FECHA, "
        "MONTO: untick one of them first."
    ]
