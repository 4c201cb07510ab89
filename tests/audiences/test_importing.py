import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audiences.importing import (
    ImportRefused,
    import_job_analyse,
    import_job_apply,
    import_job_cancel,
    import_job_create,
)
from audiences.importing.jobs import file_type_problem, import_job_confirm
from audiences.importing.readers import SHEET_SUFFIXES, TEXT_SUFFIXES
from audiences.models import (
    AudienceGroup,
    Contact,
    ImportJob,
    ImportRow,
    Membership,
    Variable,
)
from base.models import AuditEntry
from tests.audiences.files import SEED, SEED_DATA, write_text, write_xls, write_xlsx

pytestmark = pytest.mark.django_db


def contacts() -> dict[str, dict[str, Any]]:
    return dict(Contact.objects.values_list("phone", "data"))


def seed_rows_with_cells() -> list[list[Any]]:
    """The seed as a spreadsheet holds it: number cells and real date cells."""
    return [
        SEED[0],
        *[
            [int(phone[1:]), name, int(amount), dt.date.fromisoformat(day)]
            for phone, name, amount, day in SEED[1:]
        ],
    ]


@pytest.mark.parametrize(
    "write",
    [
        lambda p: write_text(p / "seed.tsv", SEED),
        lambda p: write_text(p / "seed.csv", SEED, delimiter=","),
        lambda p: write_text(p / "seed.csv", SEED, delimiter=";", newline="\r\n"),
        lambda p: write_text(p / "seed.tsv", SEED, bom=True, newline="\r\n"),
        lambda p: write_xls(p / "seed.xls", seed_rows_with_cells()),
        lambda p: write_xlsx(p / "seed.xlsx", seed_rows_with_cells()),
        lambda p: write_xlsx(p / "seed.xlsx", SEED),
    ],
    ids=[
        "tsv",
        "csv",
        "csv-semicolon-crlf",
        "tsv-bom-crlf",
        "xls",
        "xlsx",
        "xlsx-text",
    ],
)
def test_the_seed_example_imports_with_typed_custom_data(
    tmp_path: Path, run_import: Any, group: Any, write: Any
) -> None:
    job = run_import(write(tmp_path))

    assert job.status == "done", job.error
    assert (job.created, job.rows_rejected) == (3, 0)
    assert contacts() == SEED_DATA
    assert Membership.objects.filter(group=group).count() == 3
    assert dict(Variable.objects.values_list("name", "kind")) == {
        "NOMBRE": "text",
        "MONTO": "number",
        "FECHA": "date",
    }


def test_a_windows_1252_file_keeps_its_accents(tmp_path: Path, run_import: Any) -> None:
    rows = [["CONTACT", "NOMBRE"], ["+525500998877", "José Muñoz"]]

    job = run_import(write_text(tmp_path / "w.tsv", rows, encoding="cp1252"))

    assert job.status == "done"
    assert contacts() == {"+525500998877": {"NOMBRE": "José Muñoz"}}


def test_numbers_without_plus_are_read_in_the_default_country(
    tmp_path: Path, run_import: Any
) -> None:
    rows = [["CONTACT"], ["55 0099 8877"], ["525511223344"], ["525533445566.0"]]

    job = run_import(write_text(tmp_path / "n.tsv", rows))

    assert job.created == 3
    assert set(contacts()) == set(SEED_DATA)


def test_blank_trailing_rows_are_ignored(tmp_path: Path, run_import: Any) -> None:
    rows = [*SEED, ["", "", "", ""], [], ["", "", "", ""]]

    job = run_import(write_text(tmp_path / "t.tsv", rows))

    assert (job.rows_read, job.rows_rejected, job.created) == (3, 0, 3)


def test_the_same_number_twice_keeps_the_first_and_rejects_the_second(
    tmp_path: Path, run_import: Any
) -> None:
    rows = [SEED[0], SEED[1], ["5500998877", "Again", "1", "2020-01-01"]]

    job = run_import(write_text(tmp_path / "d.tsv", rows))

    assert (job.created, job.rows_rejected) == (1, 1)
    assert job.rejections == [
        {
            "row": 3,
            "column": "CONTACT",
            "reason": "+525500998877 appears earlier in this file",
        }
    ]
    assert contacts()["+525500998877"]["NOMBRE"] == "Carlos"


def test_re_importing_creates_nothing_and_updates_only_what_changed(
    tmp_path: Path, run_import: Any
) -> None:
    path = write_text(tmp_path / "seed.tsv", SEED)
    run_import(path)
    again = run_import(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)

    changed = [SEED[0], ["+525500998877", "Carlos", "999", "2016-12-25"], *SEED[2:]]
    third = run_import(write_text(tmp_path / "changed.tsv", changed))

    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    assert contacts()["+525500998877"]["MONTO"] == 999
    assert Contact.objects.count() == 3


def test_update_merges_custom_data_and_ignore_leaves_contacts_alone(
    tmp_path: Path, run_import: Any
) -> None:
    Contact.objects.create(phone="+525500998877", name="Carlos", data={"VIP": "yes"})
    rows = [["CONTACT", "MONTO"], ["+525500998877", "10"]]

    ignored = run_import(write_text(tmp_path / "i.tsv", rows), on_duplicate="ignore")
    assert (ignored.created, ignored.updated, ignored.unchanged) == (0, 0, 1)
    assert contacts()["+525500998877"] == {"VIP": "yes"}
    assert Membership.objects.count() == 1  # still added to the group

    updated = run_import(write_text(tmp_path / "u.tsv", rows))
    assert updated.updated == 1
    assert contacts()["+525500998877"] == {"VIP": "yes", "MONTO": 10}
    assert Contact.objects.get().name == "Carlos"


def test_an_import_never_clears_an_opt_out(tmp_path: Path, run_import: Any) -> None:
    opted_out = timezone.now()
    Contact.objects.create(
        phone="+525500998877", opted_out_at=opted_out, opt_out_source="STOP reply"
    )

    run_import(write_text(tmp_path / "seed.tsv", SEED))

    contact = Contact.objects.get(phone="+525500998877")
    assert (contact.opted_out_at, contact.opt_out_source) == (opted_out, "STOP reply")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            ["Phone", "NOMBRE"],
            "first column must be headed CONTACT; this file's first "
            "column is headed 'Phone'",
        ),
        (
            ["", "NOMBRE"],
            "first column must be headed CONTACT; this file's first "
            "column is without a header",
        ),
        (["CONTACT", "", "MONTO"], "Column 2 has no header"),
        (["CONTACT", "MONTO", "monto"], "Columns 2 and 3 are both headed 'monto'"),
        (["CONTACT", "MONTO $"], "cannot be a variable name"),
    ],
)
def test_a_bad_header_refuses_the_whole_file(
    tmp_path: Path, run_import: Any, header: list[str], message: str
) -> None:
    rows = [header, ["+525500998877", "1", "2"]]

    job = run_import(write_text(tmp_path / "h.tsv", rows))

    assert job.status == "refused"
    assert message in job.error
    assert not Contact.objects.exists()
    assert not ImportRow.objects.exists()


def test_all_or_nothing_writes_nothing_when_a_row_is_rejected(
    tmp_path: Path, run_import: Any
) -> None:
    rows = [*SEED, ["+52 bad", "X", "1", "2016-01-01"]]

    job = run_import(write_text(tmp_path / "a.tsv", rows), all_or_nothing=True)

    assert job.status == "refused"
    assert "1 rows were rejected" in job.error
    assert not Contact.objects.exists()
    assert not ImportRow.objects.exists()


def test_the_preview_counts_before_anything_is_written(
    tmp_path: Path, run_import: Any
) -> None:
    Contact.objects.create(phone="+525500998877")

    job = run_import(write_text(tmp_path / "seed.tsv", SEED), apply=False)

    assert job.status == "ready"
    assert (job.to_create, job.to_update, job.rows_rejected) == (2, 1, 0)
    assert Contact.objects.count() == 1
    assert ImportRow.objects.count() == 3


def test_a_ready_import_can_be_cancelled_and_then_not_applied(
    tmp_path: Path, run_import: Any
) -> None:
    job = run_import(write_text(tmp_path / "seed.tsv", SEED), apply=False)

    import_job_cancel(job_id=job.pk)

    assert ImportJob.objects.get(pk=job.pk).status == "cancelled"
    assert not ImportRow.objects.exists()
    with pytest.raises(ImportRefused, match="only an import that is ready"):
        import_job_apply(job_id=job.pk)
    assert not Contact.objects.exists()


def test_an_unsupported_file_type_is_refused(tmp_path: Path, group: Any) -> None:
    path = tmp_path / "contacts.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(ImportRefused, match="not a file type Flowcast reads"):
        import_job_create(source=path, group=group)


def test_rejected_rows_are_offered_as_a_file_that_imports_once_corrected(
    tmp_path: Path, run_import: Any
) -> None:
    rows = [*SEED, ["+525544556677", "Eva", "12O0", "2016-12-25"]]
    job = run_import(write_text(tmp_path / "r.tsv", rows))
    with Path(job.rejects_path).open(newline="") as report:
        rejected = list(csv.reader(report))
    assert rejected[0] == [*SEED[0], "REJECTED_ROW", "REJECTION_REASON"]
    assert rejected[1][:5] == ["+525544556677", "Eva", "12O0", "2016-12-25", "5"]
    assert rejected[1][5].startswith("MONTO: '12O0' is not a number")

    fixed = Path(job.rejects_path).read_text().replace("12O0", "1200")
    (tmp_path / "fixed.csv").write_text(fixed)
    again = run_import(tmp_path / "fixed.csv")

    assert (again.created, again.rows_rejected) == (1, 0)
    assert contacts()["+525544556677"] == {
        "NOMBRE": "Eva",
        "MONTO": 1200,
        "FECHA": "2016-12-25",
    }


def test_rejected_rows_cannot_run_as_formulas_and_import_back_as_written(
    tmp_path: Path, run_import: Any
) -> None:
    hostile = [
        '=HYPERLINK("http://evil.example","x")',
        "@SUM(1+1)",
        "+cmd|' /C calc'!A0",
    ]
    rows = [
        *SEED,
        *(
            [f"no phone {n}", name, "1200", "2016-12-25"]
            for n, name in enumerate(hostile)
        ),
    ]
    job = run_import(write_text(tmp_path / "r.tsv", rows))
    assert job.rows_rejected == 3, (job.status, job.error)
    with Path(job.rejects_path).open(newline="") as report:
        rejected = list(csv.reader(report))[1:]

    # A spreadsheet shows these cells as text (a leading '), never runs them ...
    assert [row[1] for row in rejected] == ["'" + name for name in hostile]
    # ... and the corrected file imports the names as they were written.
    fixed = Path(job.rejects_path).read_text()
    for n in range(3):
        fixed = fixed.replace(f"no phone {n}", f"+52554455667{n}")
    (tmp_path / "fixed.csv").write_text(fixed)
    again = run_import(tmp_path / "fixed.csv")
    assert (again.created, again.rows_rejected) == (3, 0)
    names = {contacts()[f"+52554455667{n}"]["NOMBRE"] for n in range(3)}
    assert names == set(hostile)


def _convert_in_daemon(queue: Any) -> None:
    from audiences.importing.converting import converted_rows
    from audiences.importing.values import read_header

    columns = read_header(["CONTACT", "NOMBRE"])
    for column in columns:
        column.kind = "text"
    rows = [(n + 2, [f"55{10000000 + n}", "x"]) for n in range(5000)]
    try:
        queue.put(sum(1 for _ in converted_rows(rows, columns, workers=2)))
    except Exception as exc:  # reported to the test, not lost in the child
        queue.put(repr(exc))


def test_rows_convert_in_worker_processes_even_inside_a_daemonic_process() -> None:
    """A Celery prefork worker is daemonic; the import's workers must still start."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    daemon = context.Process(target=_convert_in_daemon, args=(queue,), daemon=True)
    daemon.start()
    outcome = queue.get(timeout=60)
    daemon.join(10)

    assert outcome == 5000


def test_the_go_ahead_moves_a_ready_import_to_importing_once(
    tmp_path: Path, run_import: Any
) -> None:
    job = run_import(write_text(tmp_path / "seed.tsv", SEED), apply=False)

    confirmed = import_job_confirm(job_id=job.pk)

    assert confirmed.status == "applying"
    with pytest.raises(ImportRefused, match="being imported already"):
        import_job_confirm(job_id=job.pk)
    assert not Contact.objects.exists()
    done = import_job_apply(job_id=job.pk)
    assert (done.status, done.created) == ("done", 3)
    with pytest.raises(ImportRefused, match="done already"):
        import_job_confirm(job_id=job.pk)


def test_an_import_that_fails_while_writing_ends_failed_and_keeps_nothing(
    tmp_path: Path, run_import: Any, monkeypatch: Any
) -> None:
    job = run_import(write_text(tmp_path / "seed.tsv", SEED), apply=False)
    import_job_confirm(job_id=job.pk)

    def broken(job: ImportJob) -> None:
        Contact.objects.create(phone="+525500998877")
        raise RuntimeError("disk full")

    monkeypatch.setattr("audiences.importing.applying._register_variables", broken)
    with pytest.raises(RuntimeError):
        import_job_apply(job_id=job.pk)

    failed = ImportJob.objects.get(pk=job.pk)
    assert failed.status == "failed"
    assert failed.error == "Nothing was imported: RuntimeError: disk full"
    assert failed.finished_at is not None
    assert not Contact.objects.exists()
    assert not ImportRow.objects.exists()


def test_a_new_group_is_created_when_its_import_is_applied(tmp_path: Path) -> None:
    path = write_text(tmp_path / "seed.tsv", SEED)

    job = import_job_create(source=path, new_group=" Fair   visitors ")
    assert (job.group, job.new_group) == (None, "Fair visitors")
    assert not AudienceGroup.objects.exists()
    job = import_job_apply(job_id=import_job_analyse(job_id=job.pk).pk)

    assert job.status == "done", job.error
    assert job.group is not None
    assert job.group.name == "Fair visitors"
    assert job.group.kind == AudienceGroup.Kind.STATIC
    assert job.group.members().count() == 3
    assert AuditEntry.objects.filter(
        action="create", target_repr="Fair visitors", note="for the import of seed.tsv"
    ).exists()


def test_a_new_group_is_refused_when_its_name_is_taken_whatever_the_case(
    tmp_path: Path, group: AudienceGroup
) -> None:
    upload = SimpleUploadedFile(
        "seed.tsv", write_text(tmp_path / "s.tsv", SEED).read_bytes()
    )

    with pytest.raises(ImportRefused, match="already a group named 'Customers'"):
        import_job_create(source=upload, new_group="CUSTOMERS")

    assert AudienceGroup.objects.count() == 1
    assert not ImportJob.objects.exists()
    assert not (tmp_path / "var" / "imports").exists()


def test_contacts_are_imported_into_a_static_group_only(tmp_path: Path) -> None:
    dynamic = AudienceGroup.objects.create(name="Big spenders", kind="dynamic")

    with pytest.raises(ImportRefused, match="is a dynamic group"):
        import_job_create(source=write_text(tmp_path / "s.tsv", SEED), group=dynamic)


def test_every_file_type_the_readers_read_is_accepted() -> None:
    for suffix in TEXT_SUFFIXES | SHEET_SUFFIXES:
        assert file_type_problem(f"contacts{suffix.upper()}") == ""
    assert "not a file type Flowcast reads" in file_type_problem("contacts.pdf")
