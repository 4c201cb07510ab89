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


def test_celery_talks_to_the_session_redis(redis_client: Any, broker_url: str) -> None:
    from config.celery import app

    assert app.conf.broker_url == broker_url
    assert redis_client.ping()
