"""What an import's page tells the operator while and after the file is read."""

import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audiences.importing import import_job_analyse, import_job_create, parallel
from audiences.models import AudienceGroup, ImportJob, Variable
from tests.audiences.files import write_text, write_xlsx


def test_a_month_13_is_refused_as_no_real_date_not_as_badly_written(
    tmp_path: Path, run_import: Any
) -> None:
    Variable.objects.create(name="FECHA", kind=Variable.Kind.DATE)
    rows = [
        ["CONTACT", "FECHA"],
        ["+525500998877", "2019-12-25"],
        ["+525511223344", "2019-13-45"],
        ["+525533445566", "2019-02-29"],
    ]

    job = run_import(write_xlsx(tmp_path / "dates.xlsx", rows))

    reasons = {r["row"]: r["reason"] for r in job.rejections}
    assert reasons == {
        3: "'2019-13-45' is not a real date: there is no month 13",
        4: "'2019-02-29' is not a real date: February 2019 has 28 days",
    }


@pytest.mark.django_db(transaction=True)
def test_rows_read_valid_and_rejected_advance_while_parts_read_in_parallel(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = [["CONTACT", "MONTO"]]
    data += [[f"+5255{10000000 + n}", str(n)] for n in range(3000)]
    data[10][1] = "many"
    path = write_text(tmp_path / "big.tsv", data)
    settings.IMPORT_WORKERS = 2
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "BATCH", 100)
    stage = parallel.stage_rows
    looked = tmp_path / "looked"
    calls = [0]  # each part's process counts its own

    def held_stage(batch: Any) -> None:
        # A big file's pace: each part holds at its second batch (the first one
        # counted) until the page has shown some rows read, or for 10 s.
        calls[0] += 1
        if calls[0] == 2:
            for _ in range(200):
                if looked.exists():
                    break
                time.sleep(0.05)
        stage(batch)

    monkeypatch.setattr(parallel, "stage_rows", held_stage)
    group = AudienceGroup.objects.create(name="Customers")
    job = import_job_create(source=path, group=group)
    seen: list[tuple[float, int, int, int]] = []

    def look(_: ImportJob) -> None:
        shown = ImportJob.objects.get(pk=job.pk)
        seen.append(
            (shown.progress, shown.rows_read, shown.rows_valid, shown.rows_rejected)
        )
        if 0 < shown.rows_read < 3000:
            looked.touch()

    job = import_job_analyse(job_id=job.pk, on_progress=look)

    assert (job.status, job.rows_read, job.rows_rejected) == ("ready", 3000, 1)
    during = [s for s in seen if 0 < s[1] < 3000]
    assert during, seen
    assert all(read == valid + rejected for _, read, valid, rejected in seen), seen
    assert during[0][3] == 1, seen


def test_the_preview_says_which_numbers_were_read_as_the_default_country(
    tmp_path: Path, run_import: Any, admin_client: Client
) -> None:
    rows = [
        ["CONTACT", "NOMBRE"],
        ["+525500998877", "Carlos"],
        ["55 1122 3344", "Ana"],
        ["525533445566", "Alfredo"],
        ["044 55 4455 6677", "Rosa"],
        ["5566778899", "Luis"],
    ]

    job = run_import(write_xlsx(tmp_path / "local.xlsx", rows), apply=False)

    assert job.status == "ready", job.error
    assert job.default_country == {
        "count": 3,
        "country": "Mexico (+52)",
        "samples": [
            {"row": 3, "written": "55 1122 3344", "read": "+525511223344"},
            {"row": 5, "written": "044 55 4455 6677", "read": "+525544556677"},
        ],
    }
    url = reverse("admin:audiences_importjob_change", args=[job.pk])
    page = " ".join(admin_client.get(url).content.decode().split())
    assert "3 numbers had no country code and were read as Mexico (+52)" in page
    assert "row 3: 55 1122 3344 → +525511223344" in page
    assert "PHONE_DEFAULT_REGION" in page


def test_numbers_with_their_country_code_bring_no_note(
    tmp_path: Path, run_import: Any, admin_client: Client
) -> None:
    rows = [["CONTACT"], ["+525500998877"], ["+57 300 123 4567"]]

    job = run_import(write_text(tmp_path / "intl.csv", rows, delimiter=","))

    assert job.status == "done", job.error
    assert job.default_country == {}
    url = reverse("admin:audiences_importjob_change", args=[job.pk])
    assert "no country code" not in admin_client.get(url).content.decode()


@pytest.mark.django_db(transaction=True)
def test_parts_read_in_parallel_count_the_numbers_read_as_the_default_country(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = [["CONTACT"]] + [[f"+5255{10000000 + n}"] for n in range(3000)]
    data[2000] = ["55 2000 0001"]
    data[2500] = ["55 2500 0001"]
    data[2900] = ["55 2900 0001"]
    path = write_text(tmp_path / "big.tsv", data)
    settings.IMPORT_WORKERS = 2
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    group = AudienceGroup.objects.create(name="Customers")

    job = import_job_create(source=path, group=group)
    job = import_job_analyse(job_id=job.pk)

    assert job.status == "ready", job.error
    assert job.default_country["count"] == 3
    assert [s["row"] for s in job.default_country["samples"]] == [2001, 2501]


@pytest.mark.django_db
def test_the_import_page_looks_its_group_up_as_typed_among_static_groups(
    admin_client: Client,
) -> None:
    AudienceGroup.objects.create(name="Clientes 2024")
    AudienceGroup.objects.create(name="Clientes VIP", kind=AudienceGroup.Kind.DYNAMIC)

    page = admin_client.get(reverse("admin:audiences_contact_import"))
    found = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "audiences",
            "model_name": "importjob",
            "field_name": "group",
            "term": "Clientes",
        },
    )

    # No group listed in the page: looked up as typed, static ones only.
    assert "Clientes" not in page.content.decode()
    assert 'data-ajax--url="/admin/autocomplete/"' in page.content.decode()
    assert [row["text"] for row in found.json()["results"]] == ["Clientes 2024"]
