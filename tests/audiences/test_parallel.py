"""A big TSV read by several processes answers exactly as when read in order."""

import csv
from pathlib import Path
from typing import Any

import pytest

from audiences.importing import parallel
from audiences.models import Contact, ImportRow, Membership
from tests.audiences.files import write_text


def tsv_with_trouble(path: Path, rows: int = 3000) -> Path:
    data: list[list[str]] = [["CONTACT", "NOMBRE", "MONTO"]]
    for n in range(rows):
        data.append([f"+5255{10000000 + n}", f"N{n}", str(n)])
    data[1500][2] = "many"  # a bad number in the middle
    data[2900][0] = "12"  # a bad phone near the end
    data.append([data[5][0], "again", "1"])  # a duplicate of an early row, at the end
    data.append(data[1601])  # and one of a row in the second half
    return write_text(path, data)


def outcome(job: Any) -> tuple[Any, ...]:
    with Path(job.rejects_path).open(newline="") as report:
        rejected = sorted((r[-2], r[-1]) for r in list(csv.reader(report))[1:])
    return (
        job.status,
        job.rows_read,
        job.rows_valid,
        job.rows_rejected,
        job.created,
        sorted((r["row"], r["column"]) for r in job.rejections),
        rejected,
        Contact.objects.count(),
        Membership.objects.count(),
    )


@pytest.mark.django_db(transaction=True)
def test_parts_read_in_parallel_give_the_same_import(
    tmp_path: Path, run_import: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tsv_with_trouble(tmp_path / "big.tsv")
    settings.IMPORT_WORKERS = 1
    in_order = outcome(run_import(path))
    Contact.objects.all().delete()

    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    settings.IMPORT_WORKERS = 2
    split = parallel.text_parts
    used: list[int] = []

    def counted(sheet: Any, workers: int) -> Any:
        used.append(workers)
        return split(sheet, workers)

    monkeypatch.setattr("audiences.importing.analysing.text_parts", counted)
    in_parts = outcome(run_import(path))

    assert used == [2]
    assert in_parts == in_order
    assert in_order[3] == 4  # two bad rows, two duplicates
    assert not ImportRow.objects.exists()


def test_parts_start_at_line_boundaries_with_their_row_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audiences.importing.readers import open_sheet

    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    path = tsv_with_trouble(tmp_path / "big.tsv")
    sheet = open_sheet(path, path.name)
    parts = parallel.text_parts(sheet, 3)
    sheet.close()

    assert parts is not None
    raw = path.read_bytes()
    assert parts[0].start == raw.index(b"\n") + 1
    assert parts[-1].end == len(raw)
    for part in parts:
        assert raw[part.start - 1 : part.start] == b"\n"
        assert part.first_row == raw[: part.start].count(b"\n") + 1


def test_a_file_with_quotes_is_read_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audiences.importing.readers import open_sheet

    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    path = write_text(
        tmp_path / "q.tsv", [["CONTACT", "NOTE"], ["+525500998877", '"a\nb"']]
    )
    sheet = open_sheet(path, path.name)
    assert parallel.text_parts(sheet, 2) is None
    sheet.close()


@pytest.mark.django_db(transaction=True)
def test_a_cancel_stops_the_parts_and_keeps_nothing(
    tmp_path: Path, group: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audiences.importing import import_job_analyse, import_job_create
    from audiences.models import ImportJob

    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "BATCH", 200)
    settings.IMPORT_WORKERS = 2
    path = tsv_with_trouble(tmp_path / "big.tsv", rows=150_000)
    job = import_job_create(source=path, group=group)
    ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)

    job = import_job_analyse(job_id=job.pk)

    assert job.status == "cancelled"
    assert job.rows_read < 150_000
    assert not ImportRow.objects.exists()
    assert not Contact.objects.exists()


def rejected_rows(path: Path, rows: int) -> Path:
    """A file whose rows are all refused (no valid phone), but the last."""
    data = [["CONTACT", "NOMBRE"]] + [["12", f"N{n}"] for n in range(rows)]
    data.append(["+525500998877", "Carlos"])
    return write_text(path, data)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_of_rejected_rows_shows_progress_and_heeds_a_cancel(
    tmp_path: Path,
    group: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    """Progress and cancels came with every batch of valid rows: a file of mostly
    refused rows showed nothing and could not be stopped until read."""
    from audiences.importing import analysing, import_job_analyse, import_job_create
    from audiences.models import ImportJob

    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "BATCH", 500)
    monkeypatch.setattr(analysing, "BATCH", 500)
    settings.IMPORT_WORKERS = workers
    # Parts report to the reading process every 0.3 s: enough rows that they are
    # still reading when it passes the cancel on.
    rows = 20_000 if workers == 1 else 150_000
    path = rejected_rows(tmp_path / "bad.tsv", rows=rows)
    seen: list[int] = []
    job = import_job_create(source=path, group=group)

    job = import_job_analyse(
        job_id=job.pk, on_progress=lambda job: seen.append(job.rows_read)
    )

    assert job.rows_rejected == rows
    if workers == 1:
        assert len(seen) >= rows // 500
    job = import_job_create(source=path, group=group)
    ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    job = import_job_analyse(job_id=job.pk)
    assert job.status == "cancelled"
    assert job.rows_read < rows
