"""The console's own registrations of other apps' admin pages."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask


@pytest.mark.django_db
def test_a_beat_schedules_page_costs_the_same_queries_for_one_task_or_many(
    admin_client: Client,
) -> None:
    lonely, busy = (
        CrontabSchedule.objects.create(minute=str(minute), hour="*")
        for minute in (5, 10)
    )
    PeriodicTask.objects.create(name="alone", task="some.task", crontab=lonely)
    for number in range(6):
        PeriodicTask.objects.create(name=f"t{number}", task="some.task", crontab=busy)

    def queries(schedule: CrontabSchedule) -> tuple[int, str]:
        url = reverse(
            "admin:django_celery_beat_crontabschedule_change", args=[schedule.pk]
        )
        with CaptureQueriesContext(connection) as captured:
            page = admin_client.get(url).content.decode()
        return len(captured), page

    queries(lonely)  # the first page of a session reads what later ones find cached
    count_lonely, _ = queries(lonely)
    count_busy, page = queries(busy)

    assert count_busy == count_lonely
    assert "t5: 10 * * * * (m/h/dM/MY/d)" in page  # each task named with its schedule
