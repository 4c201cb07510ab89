"""Fifty ways a row goes wrong: each answered with its row number, nothing written."""

from pathlib import Path
from typing import Any

import pytest

from audiences.models import Contact, ImportRow
from tests.audiences.files import write_text

pytestmark = pytest.mark.django_db

HEADER = ["CONTACT", "NOMBRE", "MONTO", "FECHA", "EMAIL"]
GOOD = ["+525500998877", "Carlos", "1200", "2016-12-25", "carlos@example.com"]


def bad(column: str, value: str) -> tuple[str, list[str]]:
    row = list(GOOD)
    row[0] = "+525511223344"
    row[HEADER.index(column)] = value
    return column, row


VARIANTS = [
    # The number itself.
    bad("CONTACT", "12"),
    bad("CONTACT", "hello"),
    bad("CONTACT", "+"),
    bad("CONTACT", "+52 (55) 1122-334"),
    bad("CONTACT", "+52"),
    bad("CONTACT", "+999 5511223344"),
    bad("CONTACT", "+52 9 55 1234 5678"),  # 9 was never a dialling prefix
    bad("CONTACT", "5255112233441234"),
    bad("CONTACT", "0"),
    bad("CONTACT", '=HYPERLINK("http://x")'),
    bad("CONTACT", "tel:+5255"),
    bad("CONTACT", "+52 55 1122 33"),
    bad("CONTACT", "+1 000 000 0000"),
    bad("CONTACT", "N/A"),
    bad("CONTACT", "+44 7911"),
    bad("CONTACT", "525500"),
    bad("CONTACT", "(55) 1122"),
    bad("CONTACT", "+52 55 11 22 33 44 55 66"),
    # Numbers.
    bad("MONTO", "12O0"),
    bad("MONTO", "1,200"),
    bad("MONTO", "$1200"),
    bad("MONTO", "1200 MXN"),
    bad("MONTO", "1.2.3"),
    bad("MONTO", "--5"),
    bad("MONTO", "NaN"),
    bad("MONTO", "inf"),
    bad("MONTO", "1e5"),
    bad("MONTO", "twelve"),
    bad("MONTO", "12,5"),
    bad("MONTO", ". 5"),
    # Dates.
    bad("FECHA", "25/12/2016"),
    bad("FECHA", "2016-13-01"),
    bad("FECHA", "2016-02-30"),
    bad("FECHA", "20161225"),
    bad("FECHA", "2016/12/25"),
    bad("FECHA", "Dec 25 2016"),
    bad("FECHA", "16-12-25"),
    bad("FECHA", "2016-1-5"),
    bad("FECHA", "2016-12-25 10:00"),
    bad("FECHA", "yesterday"),
    bad("FECHA", "0000-00-00"),
    bad("FECHA", "2016-12-32"),
    # Emails.
    bad("EMAIL", "not-an-email"),
    bad("EMAIL", "a@"),
    bad("EMAIL", "@example.com"),
    bad("EMAIL", "a b@example.com"),
    bad("EMAIL", "carlos@@example.com"),
    bad("EMAIL", "carlos@example"),
    # Shape of the row.
    ("-", ["+525511223344", "Ana", "1", "2016-01-01", "a@example.com", "surplus"]),
    ("CONTACT", GOOD),  # the same number as row 2
]


def malformed_file(tmp_path: Path) -> Path:
    assert len(VARIANTS) == 50
    return write_text(
        tmp_path / "malformed.tsv", [HEADER, GOOD, *[r for _, r in VARIANTS]]
    )


def test_each_malformed_row_is_answered_with_its_row_and_column(
    tmp_path: Path, run_import: Any
) -> None:
    job = run_import(malformed_file(tmp_path))

    assert job.status == "done"
    assert (job.created, job.rows_rejected) == (1, 50)
    answered = {(r["row"], r["column"]) for r in job.rejections}
    for number, (column, _) in enumerate(VARIANTS, start=3):
        assert (number, column) in answered, (number, column)
    assert all(r["reason"] for r in job.rejections)
    assert list(Contact.objects.values_list("phone", flat=True)) == ["+525500998877"]


def test_all_or_nothing_writes_none_of_it(tmp_path: Path, run_import: Any) -> None:
    job = run_import(malformed_file(tmp_path), all_or_nothing=True)

    assert job.status == "refused"
    assert job.rows_rejected == 50
    assert not Contact.objects.exists()
    assert not ImportRow.objects.exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_one_or_several_processes_give_the_same_answers(
    tmp_path: Path, run_import: Any, settings: Any, workers: int
) -> None:
    settings.IMPORT_WORKERS = workers

    job = run_import(malformed_file(tmp_path))

    assert (job.created, job.rows_rejected) == (1, 50)
    rows = [r["row"] for r in job.rejections]
    assert rows == sorted(rows)
    assert Path(job.rejects_path).read_text().count("\n") == 51
