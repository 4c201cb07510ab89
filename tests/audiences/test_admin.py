import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audiences.admin import ImportJobAdmin
from audiences.importing import import_job_analyse, import_job_apply
from audiences.importing.readers import SHEET_SUFFIXES, TEXT_SUFFIXES
from audiences.models import AudienceGroup, Contact, ImportJob
from base.models import AuditEntry
from tests.audiences.files import SEED, write_text, write_xlsx

pytestmark = pytest.mark.django_db
IMPORT_URL = "/admin/audiences/contact/import/"
REFRESH = 'http-equiv="refresh"'


def upload(client: Client, path: Path, group: Any, **fields: Any) -> Any:
    data = {
        "file": SimpleUploadedFile(path.name, path.read_bytes()),
        "group": group.pk if group is not None else "",
        "on_duplicate": "update",
        **fields,
    }
    return client.post(IMPORT_URL, data)


def job_page(client: Client, job: ImportJob) -> str:
    url = reverse("admin:audiences_importjob_change", args=[job.pk])
    return client.get(url).content.decode()


def said(response: Any) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def ready_job(client: Client, tmp_path: Path, group: Any) -> ImportJob:
    upload(client, write_text(tmp_path / "seed.tsv", SEED), group)
    return import_job_analyse(job_id=ImportJob.objects.get().pk)


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
    assert REFRESH in job_page(admin_client, job)

    import_job_analyse(job_id=job.pk)  # what the worker does
    page = job_page(admin_client, job)
    assert "Ready to import" in page
    assert "Would create" in page
    assert reverse("admin:audiences_import_apply", args=[job.pk]) in page
    assert REFRESH not in page
    assert not Contact.objects.exists()


def test_import_moves_the_job_to_importing_and_the_page_refreshes_until_done(
    admin_client: Client,
    tmp_path: Path,
    group: Any,
    redis_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    job = ready_job(admin_client, tmp_path, group)
    apply_url = reverse("admin:audiences_import_apply", args=[job.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(apply_url)

    assert response.status_code == 302
    assert "Importing 3 contacts into Customers" in said(response)
    assert ImportJob.objects.get().status == "applying"
    assert redis_client.llen("celery") == 1  # the import task
    page = job_page(admin_client, job)
    assert "Importing" in page
    assert REFRESH in page
    assert apply_url not in page

    import_job_apply(job_id=job.pk)  # what the worker does
    page = job_page(admin_client, job)
    assert "Imported" in page
    assert REFRESH not in page
    assert Contact.objects.count() == 3


def test_a_second_import_of_the_same_job_is_refused_and_queues_nothing(
    admin_client: Client,
    tmp_path: Path,
    group: Any,
    redis_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    job = ready_job(admin_client, tmp_path, group)
    apply_url = reverse("admin:audiences_import_apply", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(apply_url)

    with django_capture_on_commit_callbacks(execute=True):
        again = admin_client.post(apply_url)

    assert again.status_code == 302
    assert "being imported already" in said(again)
    assert list(get_messages(again.wsgi_request))[-1].level_tag == "error"
    assert redis_client.llen("celery") == 1

    import_job_apply(job_id=job.pk)
    late = admin_client.post(apply_url)
    assert "This import is done already" in said(late)
    assert redis_client.llen("celery") == 1


def test_the_buttons_and_the_refresh_come_from_the_read_that_shows_the_status(
    admin_client: Client, tmp_path: Path, group: Any, monkeypatch: Any
) -> None:
    job = ready_job(admin_client, tmp_path, group)
    ImportJob.objects.filter(pk=job.pk).update(status="analysing")
    original = ImportJobAdmin.get_object

    def read_then_the_worker_finishes(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = original(self, *args, **kwargs)
        ImportJob.objects.filter(pk=job.pk).update(status="ready")
        return found

    monkeypatch.setattr(ImportJobAdmin, "get_object", read_then_the_worker_finishes)
    page = job_page(admin_client, job)

    apply_url = reverse("admin:audiences_import_apply", args=[job.pk])
    assert "Reading the file" in page
    assert "Ready to import" not in page
    assert apply_url not in page
    assert REFRESH in page
    # The next refresh draws the new status with its button.
    page = job_page(admin_client, job)
    assert "Ready to import" in page
    assert apply_url in page


def test_the_job_page_offers_import_first_and_says_its_settings_in_words(
    admin_client: Client, tmp_path: Path, group: Any
) -> None:
    job = ready_job(admin_client, tmp_path, group)

    page = job_page(admin_client, job)

    apply_url = reverse("admin:audiences_import_apply", args=[job.pk])
    cancel_url = reverse("admin:audiences_import_cancel", args=[job.pk])
    buttons = re.findall(r'<input type="submit"[^>]*>', page)
    assert len(buttons) == 2
    assert 'value="Import 3 contacts"' in buttons[0]
    assert f'formaction="{apply_url}"' in buttons[0]
    assert 'class="default"' in buttons[0]
    assert 'value="Cancel import"' in buttons[1]
    assert f'formaction="{cancel_url}"' in buttons[1]
    assert 'class="secondary"' in buttons[1]
    assert "Existing contacts:" in page
    assert '<div class="readonly">updated</div>' in page
    assert "All or nothing:" in page
    assert '<div class="readonly">no</div>' in page
    assert "icon-no.svg" not in page
    assert "On duplicate" not in page


def test_a_running_job_cannot_be_deleted_and_a_finished_one_can(
    admin_client: Client, tmp_path: Path, group: Any
) -> None:
    job = ready_job(admin_client, tmp_path, group)
    delete_url = reverse("admin:audiences_importjob_delete", args=[job.pk])
    for running in ("queued", "analysing", "applying"):
        ImportJob.objects.filter(pk=job.pk).update(status=running)
        assert delete_url not in job_page(admin_client, job)
        assert admin_client.get(delete_url).status_code == 403

    ImportJob.objects.filter(pk=job.pk).update(status="ready")
    import_job_apply(job_id=job.pk)
    assert delete_url in job_page(admin_client, job)
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not ImportJob.objects.exists()


def test_a_done_import_links_to_the_contacts_of_its_group(
    admin_client: Client, tmp_path: Path, group: Any
) -> None:
    other = AudienceGroup.objects.create(name="Others")
    Contact.objects.create(phone="+525599999999").memberships.create(group=other)
    job = ready_job(admin_client, tmp_path, group)
    import_job_apply(job_id=job.pk)

    page = job_page(admin_client, job)

    link = f"/admin/audiences/contact/?group={group.pk}"
    assert f'href="{link}"' in page
    assert "See the contacts of Customers" in page
    listed = admin_client.get(link).content.decode()
    assert "+525500998877" in listed
    assert "+525599999999" not in listed


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
    assert not (tmp_path / "var" / "imports").exists()


def test_the_form_lists_and_accepts_the_file_types_the_importer_reads(
    admin_client: Client,
) -> None:
    page = admin_client.get(IMPORT_URL).content.decode()

    accept = re.search(r'accept="([^"]*)"', page)
    assert accept is not None
    assert set(accept.group(1).split(",")) == TEXT_SUFFIXES | SHEET_SUFFIXES
    for suffix in TEXT_SUFFIXES | SHEET_SUFFIXES:
        assert suffix in page.split('id="id_file"')[1]


def test_the_all_or_nothing_box_sits_beside_its_sentence_under_its_label(
    admin_client: Client,
) -> None:
    page = admin_client.get(IMPORT_URL).content.decode()

    # The label in the column of labels, like the others; the box, then what it does.
    assert re.search(
        r'<label for="id_all_or_nothing">All or nothing:</label>\s*'
        r'<div class="flex-container checkbox-choice">\s*'
        r'<input type="checkbox" name="all_or_nothing"[^>]*>\s*'
        r'<label for="id_all_or_nothing"[^>]*>'
        r"Import nothing at all if any row is rejected",
        page,
    )


def test_an_import_into_a_new_group_creates_the_group_when_applied(
    admin_client: Client, tmp_path: Path
) -> None:
    response = upload(
        admin_client,
        write_text(tmp_path / "seed.tsv", SEED),
        None,
        new_group="  Fair   visitors ",
    )

    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert "Fair visitors (new)" in job_page(admin_client, job)
    assert not AudienceGroup.objects.exists()
    job = import_job_apply(job_id=import_job_analyse(job_id=job.pk).pk)
    assert job.group is not None
    assert job.group.name == "Fair visitors"
    assert job.group.kind == AudienceGroup.Kind.STATIC
    assert AuditEntry.objects.filter(
        action="create", target_repr="Fair visitors", actor_label="admin"
    ).exists()
    assert job.group.members().count() == 3


@pytest.mark.parametrize(
    ("chosen", "new_group", "error"),
    [
        (False, "customers", "There is already a group named &#x27;Customers&#x27;"),
        (False, "", "Choose the group to add the contacts to, or name a new one."),
        (True, "Fair visitors", "not both"),
    ],
)
def test_the_group_is_one_static_group_or_a_new_name_not_yet_taken(
    admin_client: Client,
    tmp_path: Path,
    group: Any,
    chosen: bool,
    new_group: str,
    error: str,
) -> None:
    response = upload(
        admin_client,
        write_text(tmp_path / "seed.tsv", SEED),
        group if chosen else None,
        new_group=new_group,
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert list(AudienceGroup.objects.values_list("name", flat=True)) == ["Customers"]
    assert not ImportJob.objects.exists()


def test_cancelling_a_ready_import_keeps_nothing(
    admin_client: Client, tmp_path: Path, group: Any
) -> None:
    upload(admin_client, write_text(tmp_path / "seed.tsv", SEED), group)
    job = import_job_analyse(job_id=ImportJob.objects.get().pk)

    response = admin_client.post(
        reverse("admin:audiences_import_cancel", args=[job.pk]), follow=True
    )

    assert "nothing of it is kept" in said(response)
    assert ImportJob.objects.get().status == "cancelled"
    assert not Contact.objects.exists()


def entries(job: ImportJob) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            target_type__model="importjob", target_id=str(job.pk)
        ).order_by("pk")
    )


def test_cancelling_an_import_is_in_the_audit_trail_with_who_did_it(
    admin_client: Client, admin_user: Any, tmp_path: Path, group: Any
) -> None:
    job = ready_job(admin_client, tmp_path, group)

    admin_client.post(reverse("admin:audiences_import_cancel", args=[job.pk]))

    read, entry = entries(job)
    assert read.changes == {"status": ["analysing", "ready"]}  # by the reading task
    assert (entry.action, entry.actor) == ("status", admin_user)
    assert entry.changes == {"status": ["ready", "cancelled"]}


def test_asking_to_cancel_an_import_being_read_is_in_the_audit_trail(
    admin_client: Client, admin_user: Any, tmp_path: Path, group: Any
) -> None:
    upload(admin_client, write_text(tmp_path / "seed.tsv", SEED), group)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="analysing")

    admin_client.post(reverse("admin:audiences_import_cancel", args=[job.pk]))

    (entry,) = entries(job)
    assert (entry.action, entry.actor) == ("change", admin_user)
    assert "cancel" in entry.note


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


def test_searching_a_phone_number_uses_the_phone_index_alone(
    admin_client: Client,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Contact.objects.create(phone="+525500998877", name="Carlos")
    Contact.objects.create(phone="+525511223344", name="Ana 5500998877")
    url = reverse("admin:audiences_contact_changelist")

    with CaptureQueriesContext(connection) as captured:
        page = admin_client.get(url, {"q": "+52 55 0099 8877"}).content.decode()

    assert "Carlos" in page
    assert "Ana 5500998877" not in page
    searches = [q["sql"] for q in captured if "audiences_contact" in q["sql"]]
    assert searches
    assert not any("ILIKE" in sql or "UPPER" in sql for sql in searches)
    by_name = admin_client.get(url, {"q": "Ana"}).content.decode()
    assert "Ana 5500998877" in by_name


def test_a_number_that_is_no_valid_phone_finds_nothing_without_a_text_search(
    admin_client: Client,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Contact.objects.create(phone="+525500998877", name="Ana 5212345")
    url = reverse("admin:audiences_contact_changelist")

    with CaptureQueriesContext(connection) as captured:
        page = admin_client.get(url, {"q": "+52 1 2345"}).content.decode()

    assert "Ana 5212345" not in page
    assert not any("ILIKE" in q["sql"] or "UPPER" in q["sql"] for q in captured)


def test_a_contacts_page_costs_the_same_queries_in_one_group_or_fifty(
    admin_client: Client,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audiences.models import Membership

    groups = AudienceGroup.objects.bulk_create(
        AudienceGroup(name=f"Lista {n:02d}") for n in range(50)
    )
    few = Contact.objects.create(phone="+525500998877", name="Carlos")
    many = Contact.objects.create(phone="+525511223344", name="Ana")
    Membership.objects.create(group=groups[0], contact=few)
    Membership.objects.bulk_create(Membership(group=g, contact=many) for g in groups)

    def queries(contact: Contact) -> tuple[int, str]:
        url = reverse("admin:audiences_contact_change", args=[contact.pk])
        with CaptureQueriesContext(connection) as captured:
            page = admin_client.get(url).content.decode()
        return len(captured), page

    queries(few)  # the first page of a session reads what later ones find cached
    count_few, _ = queries(few)
    count_many, page = queries(many)

    assert count_many == count_few
    group_url = reverse("admin:audiences_audiencegroup_change", args=[groups[49].pk])
    assert f'<a href="{group_url}">Lista 49</a>' in page


def test_a_contact_joins_a_group_and_leaves_another_on_its_page(
    admin_client: Client,
) -> None:
    from audiences.models import Membership

    old, new = (AudienceGroup.objects.create(name=n) for n in ("Old", "New"))
    contact = Contact.objects.create(phone="+525500998877", name="Carlos")
    kept = Membership.objects.create(group=old, contact=contact)
    url = reverse("admin:audiences_contact_change", args=[contact.pk])

    response = admin_client.post(
        url,
        {
            "phone": "+525500998877",
            "name": "Carlos",
            "email": "",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": kept.pk,
            "memberships-0-contact": contact.pk,
            "memberships-0-DELETE": "on",
            "memberships-1-contact": contact.pk,
            "memberships-1-group": new.pk,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(contact.memberships.values_list("group__name", flat=True)) == ["New"]
