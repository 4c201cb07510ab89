"""The suppression list's admin: found by an address typed in full, added by an
operator (duplicates refused), taken off with a warning; shown on a contact's page;
an import's preview says how many rows it holds."""

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audiences.addresses import address_hint
from audiences.importing import import_job_analyse
from audiences.models import Contact, ImportJob, Suppression
from audiences.suppressing import address_suppress, address_suppressed
from base.models import AuditEntry
from tests.audiences.files import write_text
from tests.audiences.test_admin import upload

pytestmark = pytest.mark.django_db
PHONE_HINT = address_hint("+525500998877")
LIST = "/admin/audiences/suppression/"
ADD = "/admin/audiences/suppression/add/"


@pytest.fixture
def operator(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("Operator"))
    return client


def test_an_operator_adds_a_phone_normalised_and_a_duplicate_is_refused(
    operator: Client,
) -> None:
    data = {"address_kind": "phone", "address": "+52 55 0099 8877", "source": "call"}

    added = operator.post(ADD, data)

    assert added.status_code == 302
    entry = address_suppressed("phone", "+525500998877")
    assert entry is not None
    assert entry.created_by is not None
    assert (entry.reason, entry.source, entry.created_by.username) == (
        "operator",
        "call",
        "operator",
    )
    assert AuditEntry.objects.filter(action="suppress").count() == 1
    again = operator.post(ADD, {**data, "address": "+525500998877"})
    assert again.status_code == 200
    assert "is on the suppression list already" in again.content.decode()
    assert Suppression.objects.count() == 1


def test_a_bad_address_is_refused_with_its_reason(operator: Client) -> None:
    page = operator.post(ADD, {"address_kind": "email", "address": "not-an-email"})

    assert page.status_code == 200
    assert "is not an email address" in page.content.decode()
    assert not Suppression.objects.exists()


def test_the_list_is_searched_by_a_whole_address_and_filtered(
    operator: Client,
) -> None:
    address_suppress(kind="phone", address="+525500998877", reason="stop")
    address_suppress(kind="email", address="ana@example.com", reason="bounce")

    by_phone = operator.get(LIST, {"q": "+52 55 0099 8877"}).content.decode()
    by_email = operator.get(LIST, {"q": "ANA@example.com"}).content.decode()
    partial = operator.get(LIST, {"q": "8877"}).content.decode()
    bounced = operator.get(LIST, {"reason__exact": "bounce"}).content.decode()

    assert PHONE_HINT in by_phone
    assert "a•••@example.com" not in by_phone
    assert "a•••@example.com" in by_email
    assert "8877" not in by_email.split("<tbody")[1]
    assert PHONE_HINT not in partial
    assert "a•••@example.com" in bounced
    assert PHONE_HINT not in bounced


def test_taking_an_entry_off_warns_then_records_it(operator: Client) -> None:
    address_suppress(kind="phone", address="+525500998877", reason="stop")
    entry = Suppression.objects.get()
    url = reverse("admin:audiences_suppression_delete", args=[entry.pk])

    confirm = operator.get(url).content.decode()
    assert "may be messaged again" in confirm
    done = operator.post(url, {"post": "yes"})

    assert done.status_code == 302
    assert not Suppression.objects.exists()
    assert AuditEntry.objects.filter(action="unsuppress").count() == 1


def test_a_viewer_may_look_but_not_add(client: Client, make_user: Any) -> None:
    client.force_login(make_user("Viewer"))

    assert client.get(LIST).status_code == 200
    assert client.get(ADD).status_code == 403


def test_the_contact_page_says_whether_its_addresses_are_suppressed(
    admin_client: Client,
) -> None:
    contact = Contact.objects.create(
        phone="+525500998877", email="ana@example.com", timezone="Europe/Madrid"
    )
    address_suppress(kind="phone", address=contact.phone, reason="stop", source="SMS")
    url = reverse("admin:audiences_contact_change", args=[contact.pk])

    page = admin_client.get(url).content.decode()

    assert "Phone: suppressed since" in page
    assert "Replied STOP (SMS)" in page
    assert "Email: not suppressed" in page
    assert 'value="Europe/Madrid"' in page


def test_the_import_page_counts_the_rows_on_the_suppression_list(
    admin_client: Client, tmp_path: Path, group: Any
) -> None:
    address_suppress(kind="phone", address="+525500998877", reason="stop")
    rows = [["CONTACT", "UNSUBSCRIBED"], ["+525500998877", ""], ["+525511223344", "sí"]]
    upload(admin_client, write_text(tmp_path / "s.tsv", rows), group)
    job = import_job_analyse(job_id=ImportJob.objects.get().pk)

    page = admin_client.get(
        reverse("admin:audiences_importjob_change", args=[job.pk])
    ).content.decode()

    assert "2 rows are on the suppression list (phone or email)" in page
    assert "will not be messaged on those channels" in page


def test_an_entry_page_shows_it_read_only(admin_client: Client) -> None:
    address_suppress(kind="email", address="ana@example.com", reason="bounce")
    entry = Suppression.objects.get()

    page = admin_client.get(
        reverse("admin:audiences_suppression_change", args=[entry.pk])
    )

    assert page.status_code == 200
    text = page.content.decode()
    assert "a•••@example.com" in text
    assert 'name="source"' not in text  # entries are taken off, not edited
