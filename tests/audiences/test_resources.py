from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from audiences.formulas import escape_formula
from audiences.models import Contact, Variable
from audiences.resources import ContactResource
from tests.audiences.files import SEED, write_text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("cell", "exported"),
    [
        ("+525500998877", "+525500998877"),
        ("-12.5", "-12.5"),
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("-2+3", "'-2+3"),
        ("Carlos", "Carlos"),
        (1200, 1200),
    ],
)
def test_formulae_are_made_inert_and_phone_numbers_are_kept(
    cell: Any, exported: Any
) -> None:
    assert escape_formula(cell) == exported


def test_an_export_imports_back_unchanged(tmp_path: Path, run_import: Any) -> None:
    run_import(write_text(tmp_path / "seed.tsv", SEED))
    Contact.objects.filter(phone="+525500998877").update(name="=1+1")
    before = list(Contact.objects.order_by("phone").values_list("phone", "data"))

    dataset = ContactResource().export(Contact.objects.order_by("phone"))
    assert dataset.headers == [
        "CONTACT",
        "NAME",
        "EMAIL",
        *sorted(Variable.objects.values_list("name", flat=True)),
    ]
    (tmp_path / "export.tsv").write_text(dataset.export("tsv"))
    again = run_import(tmp_path / "export.tsv")

    assert (again.created, again.rows_rejected) == (0, 0)
    assert (
        list(Contact.objects.order_by("phone").values_list("phone", "data")) == before
    )
    # The ' that made it inert in a spreadsheet is not part of the name.
    assert Contact.objects.get(phone="+525500998877").name == "=1+1"


def test_exporting_needs_its_own_permission(
    client: Client, admin_client: Client, django_user_model: Any
) -> None:
    from django.contrib.auth.models import Permission

    assert admin_client.get("/admin/audiences/contact/export/").status_code == 200
    viewer = django_user_model.objects.create_user("v", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client.force_login(viewer)
    assert client.get("/admin/audiences/contact/export/").status_code == 403
