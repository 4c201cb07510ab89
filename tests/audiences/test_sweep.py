"""Imports whose worker was lost are queued again, or end failed saying so."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from audiences.importing import import_job_analyse, import_job_create
from audiences.importing.jobs import import_job_confirm
from audiences.importing.sweep import APPLY_ATTEMPTS, import_jobs_sweep
from audiences.models import AudienceGroup, Contact, ImportJob, ImportRow
from audiences.tasks import sweep_imports
from base.models import AuditEntry
from tests.audiences.files import SEED, write_text
from tests.conftest import database_url, wait_for

ROOT = Path(__file__).resolve().parents[2]


def later() -> dt.datetime:
    """A moment at which a job that has not moved on since now counts as stalled."""
    return timezone.now() + dt.timedelta(seconds=settings.IMPORT_STALLED_SECONDS + 1)


def stall(job: ImportJob) -> None:
    """Age the job's progress mark past the stall limit, as time would."""
    ImportJob.objects.filter(pk=job.pk).update(
        progressed_at=timezone.now()
        - dt.timedelta(seconds=settings.IMPORT_STALLED_SECONDS + 1)
    )


def entries(job: ImportJob) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            target_type__model="importjob", target_id=str(job.pk)
        ).order_by("id")
    )


def test_the_sweep_is_a_beat_task_of_the_system_schedule() -> None:
    from config.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE["system: sweep imports"]
    assert schedule["task"] == "audiences.tasks.sweep_imports"
    assert "audiences.tasks.sweep_imports" in app.tasks
    # Every pass looks at least once within the time a job may stand still.
    every = schedule["schedule"]
    assert isinstance(every, dt.timedelta)
    assert every.total_seconds() < settings.IMPORT_STALLED_SECONDS


@pytest.mark.django_db
def test_running_imports_that_moved_on_recently_are_left_alone(
    tmp_path: Path, group: AudienceGroup
) -> None:
    job = import_job_create(source=write_text(tmp_path / "a.tsv", SEED), group=group)
    reading = import_job_create(
        source=write_text(tmp_path / "b.tsv", SEED), group=group
    )
    ImportJob.objects.filter(pk=reading.pk).update(status="analysing")

    swept = import_jobs_sweep()

    assert (swept.analyse, swept.apply, swept.failed) == ([], [], [])
    assert ImportJob.objects.get(pk=job.pk).status == "queued"
    assert ImportJob.objects.get(pk=reading.pk).status == "analysing"


@pytest.mark.django_db(transaction=True)
def test_a_queued_import_whose_task_was_lost_is_queued_again_and_read(
    celery_worker: Any, tmp_path: Path, group: AudienceGroup
) -> None:
    # Created, but the broker lost the task that would read it.
    job = import_job_create(source=write_text(tmp_path / "s.tsv", SEED), group=group)
    stall(job)

    sweep_imports.delay()  # as beat sends it

    assert wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == "ready")
    assert ImportJob.objects.get(pk=job.pk).rows_valid == 3
    requeued, read = entries(job)
    assert requeued.action == "change"
    assert requeued.actor_label == "system: audiences.tasks.sweep_imports"
    assert "queued again" in requeued.note
    # The worker's own move is in the trail too, by its task.
    assert (read.action, read.changes) == (
        "status",
        {"status": ["analysing", "ready"]},
    )
    assert read.actor_label == "system: audiences.tasks.analyse_import"
    assert read.note == "3 rows to import, 0 rejected"


def _reader(path: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    """manage.py import_contacts in its own process, on the test database."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "sweep-test-secret-key-0123456789abcdefghijklmnop",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url(db),
        "FLOWCAST_VAR_DIR": str(tmp_path / "var"),
        "IMPORT_WORKERS": "1",
        "LOG_LEVEL": "ERROR",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "import_contacts", str(path), "--group", "Big"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_reader_was_killed_ends_failed_saying_how_far_it_got(
    tmp_path: Path,
) -> None:
    AudienceGroup.objects.create(name="Big")
    rows = [["CONTACT", "NOMBRE"]]
    rows += [[f"+52551{n:07d}", f"N{n}"] for n in range(200_000)]
    path = write_text(tmp_path / "big.csv", rows, delimiter=",")
    reader = _reader(path, tmp_path)
    try:
        # Killed once it has staged a few batches, as a worker can be at any time.
        assert wait_for(
            lambda: ImportJob.objects.filter(rows_read__gt=0).exists(), timeout=60
        )
    finally:
        os.killpg(reader.pid, signal.SIGKILL)
        reader.wait(10)
    job = ImportJob.objects.get()
    assert job.status == "analysing"
    assert ImportRow.objects.filter(job=job).exists()

    # Before the stall limit it might be a slow worker; after it, it is lost.
    assert import_jobs_sweep().failed == []
    swept = import_jobs_sweep(now=later())

    assert swept.failed == [job.pk]
    failed = ImportJob.objects.get(pk=job.pk)
    assert failed.status == "failed"
    assert failed.finished_at is not None
    assert failed.error == (
        f"The import stopped: the worker reading the file was lost after "
        f"{failed.rows_read:,} rows. Nothing was imported (contacts are written only "
        "once the whole file is read and the import confirmed). Import the file again "
        "to start over."
    )
    assert not Contact.objects.exists()
    assert not ImportRow.objects.filter(job=job).exists()
    assert path.exists()  # a file given by its path is the operator's own
    (entry,) = entries(job)
    assert (entry.action, entry.changes) == (
        "status",
        {"status": ["analysing", "failed"]},
    )
    # Once ended, later sweeps leave it be.
    assert import_jobs_sweep(now=later() + dt.timedelta(hours=1)).failed == []


@pytest.mark.django_db
def test_a_lost_reading_the_operator_had_cancelled_ends_cancelled(
    tmp_path: Path, group: AudienceGroup
) -> None:
    job = import_job_create(source=write_text(tmp_path / "s.tsv", SEED), group=group)
    ImportJob.objects.filter(pk=job.pk).update(
        status="analysing", cancel_requested=True
    )

    swept = import_jobs_sweep(now=later())

    assert swept.cancelled == [job.pk]
    cancelled = ImportJob.objects.get(pk=job.pk)
    assert (cancelled.status, cancelled.error) == ("cancelled", "")


@pytest.mark.django_db
def test_the_job_page_says_why_a_lost_import_failed(
    tmp_path: Path, group: AudienceGroup, admin_client: Any
) -> None:
    job = import_job_create(source=write_text(tmp_path / "s.tsv", SEED), group=group)
    ImportJob.objects.filter(pk=job.pk).update(
        status="analysing", rows_read=5000, progress=0.25
    )
    import_jobs_sweep(now=later())

    page = admin_client.get(
        reverse("admin:audiences_importjob_change", args=[job.pk])
    ).content.decode()

    assert "the worker reading the file was lost after 5,000 rows" in page
    assert "Import the file again to start over." in page
    assert 'http-equiv="refresh"' not in page  # no more waiting for it


def _confirmed(tmp_path: Path, group: AudienceGroup) -> ImportJob:
    job = import_job_create(source=write_text(tmp_path / "s.tsv", SEED), group=group)
    import_job_analyse(job_id=job.pk)
    return import_job_confirm(job_id=job.pk)


def _lose_a_writer(job: ImportJob) -> None:
    """What a worker killed while writing leaves: its try counted, its transaction
    rolled back by the database (so nothing else of it), the job's mark old."""
    ImportJob.objects.filter(pk=job.pk).update(
        apply_attempts=ImportJob.objects.get(pk=job.pk).apply_attempts + 1
    )
    stall(job)


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_writer_was_lost_is_queued_again_and_imported_once(
    celery_worker: Any, tmp_path: Path, group: AudienceGroup
) -> None:
    job = _confirmed(tmp_path, group)
    _lose_a_writer(job)

    outcome = sweep_imports()

    assert outcome["apply"] == [job.pk]
    assert wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == "done")
    done = ImportJob.objects.get(pk=job.pk)
    assert (done.created, done.apply_attempts) == (3, 2)
    assert Contact.objects.count() == 3
    assert group.memberships.count() == 3
    assert any("queued again" in entry.note for entry in entries(job))


@pytest.mark.django_db
def test_an_import_whose_writers_keep_being_lost_ends_failed_keeping_nothing(
    tmp_path: Path, group: AudienceGroup
) -> None:
    job = _confirmed(tmp_path, group)
    for _ in range(APPLY_ATTEMPTS - 1):
        _lose_a_writer(job)
        assert import_jobs_sweep().apply == [job.pk]
    _lose_a_writer(job)

    swept = import_jobs_sweep()

    assert swept.failed == [job.pk]
    failed = ImportJob.objects.get(pk=job.pk)
    assert failed.status == "failed"
    assert failed.error == (
        "The import stopped: the worker writing the contacts was lost "
        f"{APPLY_ATTEMPTS} times. Nothing was imported (the contacts are written all "
        "at once or not at all). Import the file again to start over."
    )
    assert not Contact.objects.exists()
    assert not ImportRow.objects.filter(job=job).exists()
    assert entries(job)[-1].changes == {"status": ["applying", "failed"]}


@pytest.mark.django_db
def test_a_queue_that_is_slow_to_start_the_writing_never_fails_the_import(
    tmp_path: Path, group: AudienceGroup
) -> None:
    job = _confirmed(tmp_path, group)
    for _ in range(APPLY_ATTEMPTS + 2):
        stall(job)  # no worker has taken the task yet: no try counted
        assert import_jobs_sweep().apply == [job.pk]
    assert ImportJob.objects.get(pk=job.pk).status == "applying"


@pytest.mark.postgresql  # row locks: on SQLite the sweeper waits for the writer instead
@pytest.mark.django_db(transaction=True)
def test_an_import_being_written_is_never_taken_for_lost_however_long_it_takes(
    tmp_path: Path, group: AudienceGroup
) -> None:
    job = _confirmed(tmp_path, group)
    _lose_a_writer(job)
    writing, done = threading.Event(), threading.Event()

    def writer() -> None:
        # Holds the job's row as import_job_apply does while it writes.
        try:
            with transaction.atomic():
                ImportJob.objects.select_for_update().get(pk=job.pk)
                writing.set()
                done.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(20)
        swept = import_jobs_sweep()
    finally:
        done.set()
        thread.join()

    assert (swept.apply, swept.failed) == ([], [])
    assert ImportJob.objects.get(pk=job.pk).status == "applying"
    assert import_jobs_sweep().apply == [job.pk]  # once its writer is gone


@pytest.mark.django_db
def test_a_refused_read_is_in_the_audit_trail(
    tmp_path: Path, group: AudienceGroup
) -> None:
    from audiences.importing import import_job_analyse

    job = import_job_create(
        source=write_text(tmp_path / "e.tsv", [["CONTACT"]]), group=group
    )

    job = import_job_analyse(job_id=job.pk)

    assert job.status == "refused"
    (entry,) = entries(job)
    assert (entry.action, entry.changes) == (
        "status",
        {"status": ["analysing", "refused"]},
    )
    assert entry.note == job.error
