"""Contact files that attack or surprise: huge, shapeless, misnamed, written by other
programs. Each is read or refused with a message that says what and where, and a
refused file leaves nothing behind."""

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from audiences.importing import import_job_analyse, parallel
from audiences.importing.files import import_dir
from audiences.models import AudienceGroup, Contact, ImportJob, ImportRow, Variable
from tests.audiences.files import SEED, SEED_DATA, write_text, write_xls, write_xlsx
from tests.audiences.test_admin import IMPORT_URL, upload

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


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


# --- Limits ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", WRITERS)
def test_rows_over_the_limit_refuse_the_file_naming_the_limit_and_the_row(
    tmp_path: Path, run_import: Any, settings: Any, kind: str
) -> None:
    settings.IMPORT_MAX_ROWS = 3

    job = run_import(WRITERS[kind](tmp_path / "many", seed_rows(5)))

    assert_refused(job, "IMPORT_MAX_ROWS", "3", "row 5")


@pytest.mark.parametrize("kind", WRITERS)
def test_exactly_the_row_limit_is_imported(
    tmp_path: Path, run_import: Any, settings: Any, kind: str
) -> None:
    settings.IMPORT_MAX_ROWS = 3

    job = run_import(WRITERS[kind](tmp_path / "many", seed_rows(3)))

    assert (job.status, job.created) == ("done", 3), job.error


@pytest.mark.parametrize("kind", ["tsv", "csv", "xlsx"])
def test_a_header_of_1001_columns_is_refused_naming_the_limit(
    tmp_path: Path, run_import: Any, kind: str
) -> None:
    header = ["CONTACT", *[f"V{n}" for n in range(1000)]]
    rows = [header, ["+525500998877", *["x"] * 1000]]

    job = run_import(WRITERS[kind](tmp_path / "wide", rows))

    assert_refused(job, "1,001 columns", "IMPORT_MAX_COLUMNS", "200")


@pytest.mark.parametrize("kind", ["tsv", "csv", "xlsx"])
def test_a_cell_of_100000_characters_is_refused_naming_its_row_and_column(
    tmp_path: Path, run_import: Any, kind: str
) -> None:
    rows = seed_rows(3)
    rows[3][1] = "x" * 100_000

    job = run_import(WRITERS[kind](tmp_path / "long", rows))

    assert_refused(job, "row 4", "NOMBRE", "IMPORT_MAX_CELL_CHARS", "10,000")


def test_a_line_longer_than_any_row_can_be_is_refused_without_reading_it_whole(
    tmp_path: Path, run_import: Any, settings: Any
) -> None:
    settings.IMPORT_MAX_CELL_CHARS = 100
    settings.IMPORT_MAX_COLUMNS = 5
    path = tmp_path / "one-line.tsv"
    path.write_bytes(b"CONTACT\tNOMBRE\n+525500998877\t" + b"y" * 3_000_000)

    job = run_import(path)

    assert_refused(job, "row 2", "IMPORT_MAX_COLUMNS", "IMPORT_MAX_CELL_CHARS")


def test_a_quoted_cell_that_never_ends_is_refused_like_a_long_line(
    tmp_path: Path, run_import: Any, settings: Any
) -> None:
    settings.IMPORT_MAX_CELL_CHARS = 100
    settings.IMPORT_MAX_COLUMNS = 5
    path = tmp_path / "open-quote.csv"
    lines = b"".join(b"more text\n" for _ in range(10_000))
    path.write_bytes(b'CONTACT,NOMBRE\n+525500998877,"never closed\n' + lines)

    job = run_import(path)

    assert_refused(job, "row 2", "IMPORT_MAX_CELL_CHARS")


READ_ALL = """
import os, sys
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from pathlib import Path
from audiences.importing.limits import limited_rows
from audiences.importing.readers import open_sheet
from audiences.importing.sheet import UnreadableFile

def vm(name):
    for line in open("/proc/self/status"):
        if line.startswith(name):
            return int(line.split()[1]) // 1024

before = vm("VmRSS")
try:
    sheet = open_sheet(Path({path!r}), "one-line.tsv")
    for _ in limited_rows(sheet.rows, sheet.header):
        pass
    print("read", end=" ")
except UnreadableFile as exc:
    print("refused", end=" ")
print(before, vm("VmHWM"))
"""


def test_reading_a_60_mb_file_without_line_breaks_keeps_memory_bounded(
    tmp_path: Path,
) -> None:
    path = tmp_path / "one-line.tsv"
    with path.open("wb") as out:
        out.write(b"CONTACT\tNOMBRE\n+525500998877\t")
        for _ in range(60):
            out.write(b"z" * (1 << 20))
    script = READ_ALL.format(root=str(ROOT), path=str(path))
    env = {**os.environ, "DEBUG": "true"}

    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )

    outcome, before, peak = result.stdout.split()
    assert outcome == "refused"
    # The old reader held the line, its decoded text and csv's copy: 180 MB and more.
    assert int(peak) - int(before) < 40, result.stdout


@pytest.mark.django_db(transaction=True)
def test_parts_read_on_several_cores_heed_the_limits_and_keep_nothing(
    tmp_path: Path,
    run_import: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    settings.IMPORT_WORKERS = 2
    rows = seed_rows(3000)
    rows[2500][1] = "x" * 20_000
    rows[10][2] = "bad number"  # a rejected row, whose part file must not stay

    job = run_import(write_text(tmp_path / "big.tsv", rows))

    assert_refused(job, "row 2501", "NOMBRE", "IMPORT_MAX_CELL_CHARS")

    settings.IMPORT_MAX_ROWS = 2000
    rows[2500][1] = "fine"
    job = run_import(write_text(tmp_path / "big.tsv", rows))

    assert_refused(job, "IMPORT_MAX_ROWS", "row 2002")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("trouble", "said"),
    [
        (b"y" * 5000, "IMPORT_MAX_CELL_CHARS"),  # a line no row can be
        (b"A\x00B", "NUL character"),
    ],
    ids=["long-line", "nul"],
)
def test_parts_refuse_a_line_no_row_can_be_naming_its_row(
    tmp_path: Path,
    run_import: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    trouble: bytes,
    said: str,
) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    settings.IMPORT_WORKERS = 2
    settings.IMPORT_MAX_CELL_CHARS = 100
    settings.IMPORT_MAX_COLUMNS = 5
    rows = seed_rows(3000)
    path = write_text(tmp_path / "big.tsv", rows[:2500])
    with path.open("ab") as out:
        out.write(b"+525599999999\t" + trouble + b"\t1\t2016-12-25\n")
        out.write(b"".join("\t".join(row).encode() + b"\n" for row in rows[2500:]))

    job = run_import(path)

    assert_refused(job, "row 2501", said)


@pytest.mark.django_db(transaction=True)
def test_a_file_is_not_cut_into_parts_inside_a_line_no_row_can_be(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audiences.importing.readers import open_sheet

    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    settings.IMPORT_MAX_CELL_CHARS = 100
    settings.IMPORT_MAX_COLUMNS = 5
    path = write_text(tmp_path / "big.tsv", seed_rows(100))
    with path.open("ab") as out:
        out.write(b"+525599999999\t" + b"y" * 200_000 + b"\n")
    sheet = open_sheet(path, "big.tsv")

    # The cut would fall inside the long line: reading it whole to find its end is
    # what the limits are there to prevent. Read in order, it is refused.
    assert parallel.text_parts(sheet, 2) is None
    sheet.close()


def test_a_row_wider_than_the_column_limit_is_refused(
    tmp_path: Path, run_import: Any, settings: Any
) -> None:
    settings.IMPORT_MAX_COLUMNS = 10
    rows: list[list[str]] = seed_rows(3)
    rows[2] = rows[2] + ["x"] * 20

    job = run_import(write_text(tmp_path / "wide.tsv", rows))

    assert_refused(job, "row 3", "24 columns", "IMPORT_MAX_COLUMNS")


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


def test_the_upload_limit_counts_every_file_of_the_request(
    admin_client: Client, tmp_path: Path, group: Any, settings: Any
) -> None:
    """Five files of 90 KB under a 100 KB limit: the limit is the request's, not
    each file's, and no field but the form's own file is kept at all."""
    settings.IMPORT_MAX_UPLOAD_BYTES = 100_000
    files = {f"f{k}": SimpleUploadedFile(f"f{k}.tsv", b"x" * 90_000) for k in range(5)}

    response = admin_client.post(
        IMPORT_URL,
        {"group": group.pk, "on_duplicate": "update", **files},
    )

    kept = response.wsgi_request.FILES
    assert set(kept) <= {"file"}, sorted(kept)
    assert sum(f.size or 0 for f in kept.getlist("file")) <= 100_000
    assert not ImportJob.objects.exists()


def test_a_user_who_may_not_import_stores_nothing_before_the_refusal(
    make_user: Any, tmp_path: Path, group: Any
) -> None:
    client = Client(enforce_csrf_checks=True)  # the CSRF check, which reads the body
    client.force_login(make_user("Viewer"))
    token = client.get("/admin/").cookies["csrftoken"].value
    path = write_text(tmp_path / "s.tsv", SEED)

    response = upload(client, path, group, csrfmiddlewaretoken=token)

    assert response.status_code == 403
    # The refusal came before the body was read: no file of it was stored.
    assert not hasattr(response.wsgi_request, "_files")


def test_the_upload_still_needs_its_csrf_token(
    admin_user: Any, tmp_path: Path, group: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = upload(client, write_text(tmp_path / "s.tsv", SEED), group)

    assert response.status_code == 403
    assert not ImportJob.objects.exists()
    page = client.get(IMPORT_URL)
    token = page.cookies["csrftoken"].value
    with (tmp_path / "s.tsv").open("rb") as file:
        response = client.post(
            IMPORT_URL,
            {"file": file, "group": group.pk, "on_duplicate": "update"},
            HTTP_X_CSRFTOKEN=token,
        )
    assert response.status_code == 302
    assert ImportJob.objects.count() == 1


def test_an_upload_within_the_limit_is_taken(
    admin_client: Client, tmp_path: Path, group: Any, settings: Any
) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = 100_000

    response = upload(admin_client, write_text(tmp_path / "s.tsv", SEED), group)

    assert response.status_code == 302
    assert ImportJob.objects.count() == 1


# --- What other programs write ---------------------------------------------------


SEED_TEXT = "\n".join("\t".join(row) for row in SEED) + "\n"
EXPORTS = {
    # Excel, "Unicode text": UTF-16 LE with a byte-order mark, tab-separated, CRLF.
    "excel-unicode-text": b"\xff\xfe"
    + SEED_TEXT.replace("\n", "\r\n").encode("utf-16-le"),
    "utf-16-be": b"\xfe\xff" + SEED_TEXT.encode("utf-16-be"),
    "utf-16-le-without-bom": SEED_TEXT.encode("utf-16-le"),
    # Excel, "CSV for Macintosh": CR only, Mac Roman/Windows accents aside.
    "mac-cr": SEED_TEXT.replace("\t", ",").replace("\n", "\r").encode(),
    "excel-csv-utf8": b"\xef\xbb\xbf"
    + SEED_TEXT.replace("\t", ",").replace("\n", "\r\n").encode(),
    "google-sheets-csv": SEED_TEXT.replace("\t", ",").rstrip("\n").encode(),
    "libreoffice-semicolon": SEED_TEXT.replace("\t", ";").encode(),
}


@pytest.mark.parametrize("content", EXPORTS.values(), ids=EXPORTS.keys())
def test_text_as_spreadsheet_programs_save_it_imports(
    tmp_path: Path, run_import: Any, content: bytes
) -> None:
    path = tmp_path / "seed.csv"
    path.write_bytes(content)

    job = run_import(path)

    assert job.status == "done", job.error
    assert contacts() == SEED_DATA


def test_a_mac_file_keeps_a_line_break_inside_a_quoted_cell(
    tmp_path: Path, run_import: Any
) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(
        b'CONTACT,NOTE\r+525500998877,"two\rlines"\r+525511223344,x,extra\r'
    )

    job = run_import(path)

    assert job.status == "done", job.error
    assert contacts() == {"+525500998877": {"NOTE": "two\rlines"}}
    assert [(r["row"], r["column"]) for r in job.rejections] == [(3, "-")]


def test_a_mac_file_with_windows_accents_keeps_them(
    tmp_path: Path, run_import: Any
) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes("CONTACT,NOMBRE\r+525500998877,José Peña\r".encode("cp1252"))

    job = run_import(path)

    assert job.status == "done", job.error
    assert contacts() == {"+525500998877": {"NOMBRE": "José Peña"}}


def test_a_mac_roman_file_as_excel_for_mac_writes_it_keeps_its_accents(
    tmp_path: Path, run_import: Any
) -> None:
    """Excel's "CSV (Macintosh)": CR line ends, and accents in Mac Roman."""
    path = tmp_path / "mac.csv"
    text = "CONTACT,NOMBRE\r+525500998877,José Peña Núñez\r+525511223344,Iñaki Ibáñez\r"
    path.write_bytes(text.encode("mac_roman"))

    job = run_import(path)

    assert job.status == "done", job.error
    assert contacts() == {
        "+525500998877": {"NOMBRE": "José Peña Núñez"},
        "+525511223344": {"NOMBRE": "Iñaki Ibáñez"},
    }


@pytest.mark.parametrize("writer", [write_xlsx, write_xls], ids=["xlsx", "xls"])
def test_a_spreadsheet_renamed_csv_is_read_as_the_spreadsheet_it_is(
    tmp_path: Path, run_import: Any, writer: Any
) -> None:
    sheet = writer(
        tmp_path / ("seed.xlsx" if writer is write_xlsx else "seed.xls"), SEED
    )
    renamed = sheet.rename(tmp_path / "seed.csv")

    job = run_import(renamed)

    assert job.status == "done", job.error
    assert contacts() == SEED_DATA


NOT_TEXT = "is neither a text file nor a spreadsheet"
GARBAGE = {
    "random-bytes": (bytes(range(256)) * 64, NOT_TEXT),
    "pdf": (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\x00\x00\x01stream\x00",
        NOT_TEXT,
    ),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", NOT_TEXT),
    "binary-after-a-header": (
        b"CONTACT\tNOMBRE\n+525500998877\tAna\n" + bytes(range(256)) * 64,
        NOT_TEXT,
    ),
    # Past the first bytes, which decide whether the file is text.
    "binary-after-5000-rows": (
        b"CONTACT\tNOMBRE\n"
        + b"".join(b"+5255%d\tAna\n" % (10000000 + n) for n in range(5000))
        + bytes(range(256)) * 64,
        "row 5002",
    ),
    "broken-zip": (b"PK\x03\x04" + b"\x00" * 200, "damaged"),
    "broken-xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "damaged"),
    "empty": (b"", "empty"),
}


@pytest.mark.parametrize(("content", "said"), GARBAGE.values(), ids=GARBAGE.keys())
def test_a_file_that_is_no_contact_list_is_refused_with_a_message(
    tmp_path: Path, run_import: Any, content: bytes, said: str
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(content)

    job = run_import(path)

    assert_refused(job, said)
    assert "headed" not in job.error  # not taken for a header gone wrong


def test_the_command_refuses_garbage_with_a_message_and_ends_the_job_refused(
    tmp_path: Path, group: Any
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(GARBAGE["random-bytes"][0])

    with pytest.raises(CommandError) as refused:
        call_command("import_contacts", str(path), "--group", group.name, stdout=None)

    assert NOT_TEXT in str(refused.value)
    assert ImportJob.objects.get().status == ImportJob.Status.REFUSED


def test_an_error_of_the_reader_ends_the_job_refused_never_analysing(
    tmp_path: Path, group: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audiences.importing import analysing, import_job_create

    def broken(*args: Any) -> Any:
        raise csv.Error("line contains NUL")

    monkeypatch.setattr(analysing, "open_sheet", broken)
    job = import_job_create(source=write_text(tmp_path / "s.tsv", SEED), group=group)

    job = import_job_analyse(job_id=job.pk)

    assert job.status == ImportJob.Status.REFUSED
    assert "line contains NUL" in job.error


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
    assert reasons[(3, "BIRTHDAY")] == (
        "'2016-02-30' is not a real date: February 2016 has 29 days"
    )
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
    assert reasons[3] == "'2016-02-30' is not a real date: February 2016 has 29 days"
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


def test_rows_are_numbered_as_the_spreadsheet_shows_them_after_a_line_break_in_a_cell(
    tmp_path: Path, run_import: Any
) -> None:
    path = tmp_path / "breaks.csv"
    path.write_text(
        "CONTACT,NOMBRE,MONTO\r\n"
        '+525500998877,"Carlos\r\nand family",1200\r\n'
        "+525511223344,Ana,many\r\n"
        '+525533445566,"A\nB\nC",1480\r\n'
        "12,Short,5\r\n",
        newline="",
    )

    job = run_import(path)

    assert job.status == "done", job.error
    assert sorted((r["row"], r["column"]) for r in job.rejections) == [
        (3, "MONTO"),
        (5, "CONTACT"),
    ]
    with Path(job.rejects_path).open(newline="") as report:
        numbers = [row[-2] for row in list(csv.reader(report))[1:]]
    assert numbers == ["3", "5"]


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
