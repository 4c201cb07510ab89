"""The contact list as an operator reads it after importing the seed file: each
contact's name (from NOMBRE), email, and the custom-data columns chosen for it."""

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from audiences.importing import import_job_analyse, import_job_apply, import_job_create
from audiences.models import AudienceGroup
from tests.audiences.files import write_xlsx
from tests.e2e.conftest import Screens, sign_in

ROWS: list[list[Any]] = [
    ["CONTACT", "NOMBRE", "EMAIL", "MONTO", "CIUDAD"],
    ["+525500998877", "Carlos", "carlos@example.com", 1200, "Puebla"],
    ["+525511223344", "Ana", "", 1350, "Oaxaca"],
]


@pytest.mark.django_db(transaction=True)
def test_the_contact_list_shows_names_emails_and_the_variables_chosen_for_it(
    page: Page, screens: Screens, make_operator: Any, tmp_path: Path
) -> None:
    group = AudienceGroup.objects.create(name="Customers")
    job = import_job_create(
        source=write_xlsx(tmp_path / "seed.xlsx", ROWS), group=group
    )
    assert import_job_analyse(job_id=job.pk).status == "ready"
    assert import_job_apply(job_id=job.pk).status == "done"
    operator = make_operator()
    sign_in(page, screens, operator.username, "login")

    page.goto("/admin/audiences/variable/")
    page.locator("#result_list a", has_text="MONTO").click()
    page.get_by_label("Show in the contact list").check()
    screens.shot(page, "variable-shown-in-list")
    page.locator("#variable_form input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("MONTO")

    page.goto("/admin/audiences/contact/")
    screens.shot(page, "contact-list-columns")
    headers = page.locator("#result_list thead th")
    expect(headers).to_contain_text(["Phone", "Name", "Email", "MONTO"])
    carlos = page.locator("#result_list tr", has_text="+525500998877")
    expect(carlos.locator("td.field-name_shown")).to_have_text("Carlos")
    expect(carlos.locator("td.field-email")).to_have_text("carlos@example.com")
    expect(carlos.locator("td.field-data_MONTO")).to_have_text("1200")
    ana = page.locator("#result_list tr", has_text="+525511223344")
    expect(ana.locator("td.field-name_shown")).to_have_text("Ana")
    expect(page.locator("#result_list")).not_to_contain_text("Puebla")


@pytest.mark.django_db(transaction=True)
def test_the_import_page_says_numbers_without_country_code_were_read_as_mexican(
    page: Page, screens: Screens, make_operator: Any, tmp_path: Path
) -> None:
    rows = [["CONTACT", "NOMBRE"], ["+525500998877", "Carlos"], ["55 1122 3344", "Ana"]]
    group = AudienceGroup.objects.create(name="Customers")
    job = import_job_create(
        source=write_xlsx(tmp_path / "local.xlsx", rows), group=group
    )
    assert import_job_analyse(job_id=job.pk).status == "ready"
    sign_in(page, screens, make_operator().username, "login")

    page.goto(f"/admin/audiences/importjob/{job.pk}/change/")
    screens.shot(page, "import-preview-default-country")

    note = page.locator(".import-default-country")
    expect(note).to_contain_text(
        "1 number had no country code and was read as Mexico (+52)"
    )
    expect(note).to_contain_text("row 3: 55 1122 3344 → +525511223344")
    expect(note).to_contain_text("PHONE_DEFAULT_REGION")
