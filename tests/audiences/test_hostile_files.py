"""Contact files that attack or surprise: huge, shapeless, misnamed, written by other
programs. Each is read or refused with a message that says what and where, and a
refused file leaves nothing behind."""

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from audiences.importing import import_job_analyse
from audiences.importing.files import import_dir
from audiences.models import AudienceGroup, Contact, ImportJob, ImportRow, Variable
from tests.audiences.files import SEED, write_text, write_xls, write_xlsx
from tests.audiences.test_admin import upload

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
SEED_DATA = {
    "+525500998877": {"NOMBRE": "Carlos", "MONTO": 1200, "FECHA": "2016-12-25"},
    "+525511223344": {"NOMBRE": "Ana", "MONTO": 1350, "FECHA": "2016-10-25"},
    "+525533445566": {"NOMBRE": "Alfredo", "MONTO": 1480, "FECHA": "2016-11-25"},
}


def contacts() -> dict[str, dict[str, Any]]:
    return dict(Contact.objects.values_list("phone", "data"))


def assert_refused(job: ImportJob, *words: str) -> None:
    """Refused with a message holding ``words``, and nothing of the file kept."""
    assert job.status == ImportJob.Status.REFUSED, (job.status, job.error)
    for word in words:
        assert word in job.error, (word, job.error)
    assert not ImportRow.objects.exists()
    assert not Contact.objects.exists()
    assert not Variable.objects.exists()
    assert not list(import_dir().glob("job-*")) if import_dir().exists() else True


def seed_rows(count: int) -> list[list[str]]:
    return [
        SEED[0],
        *[
            [f"+5255{10000000 + n}", f"N{n}", str(n), "2016-12-25"]
            for n in range(count)
        ],
    ]


WRITERS = {
    "tsv": lambda path, rows: write_text(path.with_suffix(".tsv"), rows),
    "csv": lambda path, rows: write_text(path.with_suffix(".csv"), rows, delimiter=","),
    "xlsx": lambda path, rows: write_xlsx(path.with_suffix(".xlsx"), rows),
    "xls": lambda path, rows: write_xls(path.with_suffix(".xls"), rows),
}


# --- Uploads ----------------------------------------------------------------------


def test_an_upload_over_the_limit_is_refused_while_it_streams_in(
    admin_client: Client, tmp_path: Path, group: Any, settings: Any
) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = 100_000
    path = write_text(tmp_path / "big.tsv", seed_rows(5000))
    assert path.stat().st_size > 100_000

    response = upload(admin_client, path, group)

    assert response.status_code == 200
    page = response.content.decode()
    assert "IMPORT_MAX_UPLOAD_BYTES" in page
    assert "100,000 bytes" in page
    assert not ImportJob.objects.exists()
    assert not import_dir().exists() or not any(import_dir().iterdir())


def test_an_upload_within_the_limit_is_taken(
    admin_client: Client, tmp_path: Path, group: Any, settings: Any
) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = 100_000

    response = upload(admin_client, write_text(tmp_path / "s.tsv", SEED), group)

    assert response.status_code == 302
    assert ImportJob.objects.count() == 1


# --- Values -----------------------------------------------------------------------


def test_dates_that_do_not_exist_are_rejected_by_row_in_a_new_date_column(
    tmp_path: Path, run_import: Any
) -> None:
    rows = [
        ["CONTACT", "BIRTHDAY"],
        ["+525500998877", "1990-05-01"],
        ["+525511223344", "2016-02-30"],
        ["+525533445566", "1985-07-12"],
        ["+525544556677", "25/12/2016"],
    ]

    job = run_import(write_text(tmp_path / "b.tsv", rows))

    assert job.status == "done", job.error
    assert Variable.objects.get(name="BIRTHDAY").kind == Variable.Kind.DATE
    reasons = {(r["row"], r["column"]): r["reason"] for r in job.rejections}
    assert set(reasons) == {(3, "BIRTHDAY"), (5, "BIRTHDAY")}
    assert "'2016-02-30' is not a date" in reasons[(3, "BIRTHDAY")]
    assert "25/12/2016" in reasons[(5, "BIRTHDAY")]


def test_a_date_that_does_not_exist_is_rejected_in_a_new_text_column_too(
    tmp_path: Path, run_import: Any
) -> None:
    rows = [
        ["CONTACT", "NOTE"],
        ["+525500998877", "called back"],
        ["+525511223344", "2016-02-30"],
        ["+525533445566", "no answer"],
        ["+525544556677", "31/02/2016"],
        ["+525566778899", "25/12/2016"],
    ]

    job = run_import(write_text(tmp_path / "n.tsv", rows))

    assert job.status == "done", job.error
    assert Variable.objects.get(name="NOTE").kind == Variable.Kind.TEXT
    reasons = {r["row"]: r["reason"] for r in job.rejections}
    assert set(reasons) == {3, 5}
    assert reasons[3].startswith("'2016-02-30' is not a date")
    assert contacts()["+525566778899"] == {"NOTE": "25/12/2016"}


def test_a_header_takes_the_spelling_of_a_known_variable_whatever_its_case(
    tmp_path: Path, run_import: Any
) -> None:
    Variable.objects.create(name="NOMBRE", kind=Variable.Kind.TEXT)
    Variable.objects.create(name="MONTO", kind=Variable.Kind.NUMBER)
    rows = [["contact", "nombre", "monto"], ["+525500998877", "Carlos", "1200"]]

    job = run_import(write_text(tmp_path / "lower.tsv", rows))

    assert job.status == "done", job.error
    assert contacts() == {"+525500998877": {"NOMBRE": "Carlos", "MONTO": 1200}}
    assert sorted(Variable.objects.values_list("name", flat=True)) == [
        "MONTO",
        "NOMBRE",
    ]


# --- New groups -------------------------------------------------------------------


def test_a_refused_file_leaves_no_group_made_by_the_command(tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "bad.tsv", [["PHONE", "NOMBRE"], ["+525500998877", "A"]]
    )

    with pytest.raises(CommandError):
        call_command("import_contacts", str(path), "--group", "Fair", "--create-group")

    assert not AudienceGroup.objects.exists()


def test_the_command_creates_the_group_when_the_contacts_are_imported(
    tmp_path: Path,
) -> None:
    call_command(
        "import_contacts",
        str(write_text(tmp_path / "s.tsv", SEED)),
        "--group",
        "Fair",
        "--create-group",
    )

    group = AudienceGroup.objects.get()
    assert (group.name, group.members().count()) == ("Fair", 3)


def test_a_refused_file_leaves_no_new_group_made_in_the_console(
    admin_client: Client, tmp_path: Path
) -> None:
    path = write_text(
        tmp_path / "bad.tsv", [["PHONE", "NOMBRE"], ["+525500998877", "A"]]
    )

    upload(admin_client, path, None, new_group="Fair visitors")
    job = import_job_analyse(job_id=ImportJob.objects.get().pk)

    assert job.status == ImportJob.Status.REFUSED
    assert not AudienceGroup.objects.exists()
    page = admin_client.get(f"/admin/audiences/importjob/{job.pk}/change/")
    assert "Fair visitors" in page.content.decode()


def test_a_new_group_named_meanwhile_by_someone_else_refuses_the_import(
    admin_client: Client, tmp_path: Path
) -> None:
    from audiences.importing import import_job_apply

    upload(admin_client, write_text(tmp_path / "s.tsv", SEED), None, new_group="Fair")
    job = import_job_analyse(job_id=ImportJob.objects.get().pk)
    AudienceGroup.objects.create(name="FAIR")

    job = import_job_apply(job_id=job.pk)

    assert job.status == ImportJob.Status.REFUSED
    assert "FAIR" in job.error
    assert not Contact.objects.exists()
    assert not ImportRow.objects.exists()
