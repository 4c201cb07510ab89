from pathlib import Path
from typing import Any

import pytest
from django.db import connection


@pytest.mark.postgresql  # the PostgreSQL pass itself
@pytest.mark.django_db
def test_the_suite_runs_on_postgresql() -> None:
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


@pytest.mark.sqlite  # the SQLite pass itself
@pytest.mark.django_db
def test_the_sqlite_pass_runs_on_a_file_set_up_as_make_run_sets_it_up() -> None:
    # A file (Celery's worker threads and the live server open connections of their
    # own), with config/settings.py's options for SQLite.
    assert connection.vendor == "sqlite"
    assert Path(connection.settings_dict["NAME"]).is_file()
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        pragmas = {}
        for pragma in ("journal_mode", "synchronous", "busy_timeout"):
            cursor.execute(f"PRAGMA {pragma}")
            pragmas[pragma] = cursor.fetchone()[0]
    assert pragmas == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 30000}


def test_celery_talks_to_the_session_redis(redis_client: Any, broker_url: str) -> None:
    from config.celery import app

    assert app.conf.broker_url == broker_url
    assert redis_client.ping()
