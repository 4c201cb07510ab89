"""Imports keep the contacts' address keys, take a TIMEZONE column, count the rows
on the suppression list and put the UNSUBSCRIBED ones on it."""

from pathlib import Path
from typing import Any

import pytest

from audiences.addresses import email_key, phone_key
from audiences.importing import parallel
from audiences.models import Contact, Suppression
from audiences.suppressing import address_suppress, address_suppressed
from tests.audiences.files import write_text

pytestmark = pytest.mark.django_db


def keys_match() -> list[tuple[str, bool, bool]]:
    return [
        (c.phone, c.phone_key == phone_key(c.phone), c.email_key == email_key(c.email))
        for c in Contact.objects.order_by("phone")
    ]


def test_an_import_fills_the_address_keys_of_new_and_updated_contacts(
    tmp_path: Path, run_import: Any
) -> None:
    Contact.objects.create(phone="+525500998877", email="old@example.com")
    Contact.objects.filter(phone="+525500998877").update(phone_key="", email_key="")
    rows = [
        ["CONTACT", "EMAIL"],
        ["+525500998877", "Carlos@Example.com"],
        ["+525511223344", ""],
    ]

    job = run_import(write_text(tmp_path / "k.tsv", rows))

    assert (job.created, job.updated) == (1, 1)
    assert keys_match() == [
        ("+525500998877", True, True),
        ("+525511223344", True, True),
    ]
    assert Contact.objects.get(phone="+525511223344").email_key == ""


@pytest.mark.django_db(transaction=True)
def test_an_import_read_in_parallel_parts_fills_the_keys_too(
    tmp_path: Path, run_import: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    settings.IMPORT_WORKERS = 2
    rows: list[list[str]] = [["CONTACT", "EMAIL", "TIMEZONE"]]
    rows += [
        [f"+5255{10000000 + n}", f"p{n}@example.com", "Europe/Madrid"]
        for n in range(300)
    ]

    job = run_import(write_text(tmp_path / "p.tsv", rows))

    assert job.created == 300, job.error
    assert all(phone and email for _, phone, email in keys_match())
    assert set(Contact.objects.values_list("timezone", flat=True)) == {"Europe/Madrid"}


def test_a_timezone_column_is_stored_and_a_bad_zone_rejects_its_row(
    tmp_path: Path, run_import: Any
) -> None:
    rows = [
        ["CONTACT", "TimeZone"],
        ["+525500998877", "America/Mexico_City"],
        ["+525511223344", "Mars/Olympus"],
        ["+525533445566", ""],
    ]

    job = run_import(write_text(tmp_path / "z.tsv", rows))

    assert (job.created, job.rows_rejected) == (2, 1)
    assert job.rejections[0]["row"] == 3
    assert job.rejections[0]["column"] == "TIMEZONE"
    assert "is not a time zone" in job.rejections[0]["reason"]
    assert dict(Contact.objects.values_list("phone", "timezone")) == {
        "+525500998877": "America/Mexico_City",
        "+525533445566": "",
    }


def test_a_re_import_without_a_zone_keeps_the_contacts_zone(
    tmp_path: Path, run_import: Any
) -> None:
    Contact.objects.create(phone="+525500998877", timezone="Europe/Madrid")
    rows = [["CONTACT", "NAME", "TIMEZONE"], ["+525500998877", "Ana", ""]]

    run_import(write_text(tmp_path / "r.tsv", rows))

    assert Contact.objects.get().timezone == "Europe/Madrid"


def test_the_preview_counts_the_rows_on_the_suppression_list(
    tmp_path: Path, run_import: Any
) -> None:
    address_suppress(kind="phone", address="+525500998877", reason="stop")
    address_suppress(kind="email", address="ana@example.com", reason="bounce")
    rows = [
        ["CONTACT", "EMAIL", "UNSUBSCRIBED"],
        ["+525500998877", "", ""],
        ["+525511223344", "ANA@example.com", "no"],
        ["+525533445566", "", "sí"],
        ["+525544556677", "free@example.com", ""],
    ]

    job = run_import(write_text(tmp_path / "s.tsv", rows), apply=False)

    assert job.status == "ready"
    assert job.to_suppress == 3


def test_unsubscribed_rows_put_their_phone_and_email_on_the_list_once(
    tmp_path: Path, run_import: Any
) -> None:
    address_suppress(kind="phone", address="+525511223344", reason="stop", source="SMS")
    rows = [
        ["CONTACT", "EMAIL", "UNSUBSCRIBED"],
        ["+525500998877", "carlos@example.com", "yes"],
        ["+525511223344", "", "TRUE"],
        ["+525533445566", "", "0"],
        ["+525544556677", "", "maybe"],
    ]

    job = run_import(write_text(tmp_path / "u.tsv", rows))

    assert (job.created, job.rows_rejected) == (3, 1)
    assert job.rejections[0]["row"] == 5
    assert job.rejections[0]["column"] == "UNSUBSCRIBED"
    phone = address_suppressed("phone", "+525500998877")
    assert phone is not None
    assert (phone.reason, phone.source) == ("import", f"import {job.pk}, row 2")
    email = address_suppressed("email", "Carlos@example.com")
    assert email is not None
    assert email.reason == "import"
    kept = address_suppressed("phone", "+525511223344")
    assert kept is not None
    assert (kept.reason, kept.source) == ("stop", "SMS")
    assert address_suppressed("phone", "+525533445566") is None
    assert Suppression.objects.count() == 3
