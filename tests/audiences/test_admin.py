from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audiences.importing import import_job_analyse, import_job_apply
from audiences.models import AudienceGroup, Contact, ImportJob
from tests.audiences.files import SEED, write_text, write_xlsx

pytestmark = pytest.mark.django_db
IMPORT_URL = "/admin/audiences/contact/import/"


def upload(client: Client, path: Path, group: Any, **fields: Any) -> Any:
    data = {
        "file": SimpleUploadedFile(path.name, path.read_bytes()),
        "group": group.pk,
        "on_duplicate": "update",
        **fields,
    }
    return client.post(IMPORT_URL, data)


def job_page(client: Client, job: ImportJob) -> str:
    url = reverse("admin:audiences_importjob_change", args=[job.pk])
    return client.get(url).content.decode()


def test_the_contact_list_offers_the_import_button(admin_client: Client) -> None:
    page = admin_client.get("/admin/audiences/contact/").content.decode()
    assert IMPORT_URL in page


def test_an_upload_queues_the_analysis_then_the_page_shows_the_preview(
    admin_client: Client,
    tmp_path: Path,
    group: Any,
    redis_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    path = write_xlsx(tmp_path / "seed.xlsx", SEED)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_client, path, group)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:audiences_importjob_change", args=[job.pk]
    )
    assert redis_client.llen("celery") == 1  # the analysis task
    assert 'http-equiv="refresh"' in job_page(admin_client, job)

    import_job_analyse(job_id=job.pk)  # what the worker does
    page = job_page(admin_client, job)
    assert "Ready to import" in page
    assert "Would create" in page
    assert reverse("admin:audiences_import_apply", args=[job.pk]) in page
    assert 'http-equiv="refresh"' not in page
    assert not Contact.objects.exists()


def test_applying_queues_the_import_and_the_page_shows_the_counts(
    admin_client: Client, tmp_path: Path, group: Any, redis_client: Any
) -> None:
    upload(admin_client, write_text(tmp_path / "seed.tsv", SEED), group)
    job = import_job_analyse(job_id=ImportJob.objects.get().pk)

    response = admin_client.post(reverse("admin:audiences_import_apply", args=[job.pk]))

    assert response.status_code == 302
    assert redis_client.llen("celery") == 1
    import_job_apply(job_id=job.pk)
    page = job_page(admin_client, job)
    assert "Imported" in page
    assert Contact.objects.count() == 3


def test_rejections_are_listed_and_downloadable(
    admin_client: Client, tmp_path: Path, group: Any
) -> None:
    rows = [*SEED, ["+5255", "X", "1", "2016-01-01"]]
    upload(admin_client, write_text(tmp_path / "bad.tsv", rows), group)
    job = import_job_analyse(job_id=ImportJob.objects.get().pk)

    page = job_page(admin_client, job)
    assert "is not a valid phone number" in page
    download = admin_client.get(
        reverse("admin:audiences_import_rejected", args=[job.pk])
    )
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="bad-rejected.csv"'
    assert b"REJECTION_REASON" in download.getvalue()


def test_a_wrong_file_type_is_refused_on_the_form(
    admin_client: Client, tmp_path: Path, group: Any
) -> None:
    path = tmp_path / "contacts.pdf"
    path.write_bytes(b"%PDF-1.4")

    response = upload(admin_client, path, group)

    assert response.status_code == 200
    assert "not a file type Flowcast reads" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_cancelling_a_ready_import_keeps_nothing(
    admin_client: Client, tmp_path: Path, group: Any
) -> None:
    upload(admin_client, write_text(tmp_path / "seed.tsv", SEED), group)
    job = import_job_analyse(job_id=ImportJob.objects.get().pk)

    response = admin_client.post(
        reverse("admin:audiences_import_cancel", args=[job.pk]), follow=True
    )

    assert "nothing of it is kept" in " ".join(
        str(m) for m in get_messages(response.wsgi_request)
    )
    assert ImportJob.objects.get().status == "cancelled"
    assert not Contact.objects.exists()


def test_importing_needs_its_own_permission(
    client: Client, django_user_model: Any, tmp_path: Path, group: Any
) -> None:
    staff = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_contact", "add_contact"])
    )
    client.force_login(staff)

    assert client.get(IMPORT_URL).status_code == 403
    assert IMPORT_URL not in client.get("/admin/audiences/contact/").content.decode()

    staff.user_permissions.add(Permission.objects.get(codename="import_contact"))
    assert client.get(IMPORT_URL).status_code == 200


def test_the_contact_page_shows_custom_data_with_its_types(
    admin_client: Client,
) -> None:
    from audiences.models import Variable

    Variable.objects.create(name="MONTO", kind="number")
    Variable.objects.create(name="FECHA", kind="date")
    contact = Contact.objects.create(
        phone="+525500998877", data={"MONTO": 1200, "FECHA": "2016-12-25"}
    )

    page = admin_client.get(
        reverse("admin:audiences_contact_change", args=[contact.pk])
    ).content.decode()

    assert "<td>MONTO</td><td>1200</td><td>Number</td>" in page
    assert "<td>FECHA</td><td>2016-12-25</td><td>Date (YYYY-MM-DD)</td>" in page


def test_custom_data_is_edited_as_rows_and_keeps_each_variables_type(
    admin_client: Client,
) -> None:
    from audiences.models import Variable

    Variable.objects.create(name="MONTO", kind="number")
    contact = Contact.objects.create(
        phone="+525500998877", data={"NOMBRE": "Carlos", "MONTO": 1200}
    )
    url = reverse("admin:audiences_contact_change", args=[contact.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="data__name" value="NOMBRE"' in page
    assert "&quot;NOMBRE&quot;" not in page  # no JSON text box

    def save(*rows: tuple[str, str]) -> Any:
        return admin_client.post(
            url,
            {
                "phone": "+525500998877",
                "name": "Carlos",
                "email": "",
                "data__name": [name for name, _ in rows],
                "data__value": [value for _, value in rows],
                "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0",
            },
        )

    refused = save(("NOMBRE", "Carlos"), ("MONTO", "mucho"))
    assert refused.status_code == 200
    assert "MONTO: &#x27;mucho&#x27; is not a number" in refused.content.decode()

    saved = save(
        ("NOMBRE", "Carlos"), ("MONTO", "1350"), ("", ""), ("CIUDAD", "Puebla")
    )
    assert saved.status_code == 302
    contact.refresh_from_db()
    assert contact.data == {"NOMBRE": "Carlos", "MONTO": 1350, "CIUDAD": "Puebla"}


def test_an_uploaded_file_is_deleted_once_read(
    admin_client: Client, tmp_path: Path, group: Any
) -> None:
    upload(admin_client, write_text(tmp_path / "seed.tsv", SEED), group)
    job = ImportJob.objects.get()
    stored = Path(job.file_path)
    assert stored.is_file()

    job = import_job_analyse(job_id=job.pk)

    assert job.status == "ready"
    assert not stored.exists()
    assert import_job_apply(job_id=job.pk).created == 3


def test_a_static_groups_page_has_no_match_or_conditions(admin_client: Client) -> None:
    static = AudienceGroup.objects.create(name="Customers")
    dynamic = AudienceGroup.objects.create(name="Big spenders", kind="dynamic")

    def page(group: AudienceGroup) -> str:
        url = reverse("admin:audiences_audiencegroup_change", args=[group.pk])
        return admin_client.get(url).content.decode()

    assert "form-row field-match" not in page(static)
    assert 'id="rules-group"' not in page(static)
    assert "form-row field-match" in page(dynamic)
    assert 'id="rules-group"' in page(dynamic)
    assert "conditions (dynamic groups only)" not in page(dynamic).lower()


def test_a_static_group_saves_without_the_conditions_form(
    admin_client: Client,
) -> None:
    group = AudienceGroup.objects.create(name="Customers")
    url = reverse("admin:audiences_audiencegroup_change", args=[group.pk])

    response = admin_client.post(
        url, {"name": "Customers", "description": "Buyers", "kind": "static"}
    )

    assert response.status_code == 302
    group.refresh_from_db()
    assert group.description == "Buyers"
