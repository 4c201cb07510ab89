"""/healthz blames the process that stopped: each background process beats for itself.

A real Celery worker and a real beat are started as processes of the product, on the
test database and the session's Redis, one without the other.
"""

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from base.heartbeat import EVERY_SECONDS
from base.models import Heartbeat
from tests.conftest import database_url, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def start_process(redis_client: Any, broker_url: str) -> Iterator[Any]:
    """Start ``celery -A config <args>`` as the product would run it; stopped (with
    whatever it started) at the end of the test."""
    started: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "health-test-secret-key-0123456789abcdefghijklmnop",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": broker_url,
        "LOG_LEVEL": "ERROR",
    }

    def start(*args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its pool processes go with it at the end
        )
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)


def seen_at(name: str) -> dt.datetime | None:
    return Heartbeat.objects.filter(name=name).values_list("seen_at", flat=True).first()


@pytest.mark.django_db(transaction=True)
def test_with_beat_stopped_healthz_blames_beat_and_not_the_idle_worker(
    start_process: Any, client: Client
) -> None:
    # Beat was seen, then stopped: nothing queues tasks for the worker any more.
    stopped = timezone.now() - dt.timedelta(minutes=10)
    Heartbeat.objects.create(name="beat", seen_at=stopped)
    start_process(
        "worker", "--concurrency=1", "--loglevel=ERROR", "--without-gossip",
        "--without-mingle", "--without-heartbeat",
    )  # fmt: skip

    assert wait_for(lambda: seen_at("worker") is not None, timeout=60)
    first = seen_at("worker")
    # Idle, it keeps beating on its own.
    assert wait_for(lambda: seen_at("worker") != first, timeout=EVERY_SECONDS * 3)

    response = client.get("/healthz", secure=True)

    assert response.status_code == 503
    assert response.json()["worker"] == "ok"
    assert response.json()["beat"].startswith("not seen since")
    assert Heartbeat.objects.get(name="beat").seen_at == stopped


@pytest.mark.django_db(transaction=True)
def test_with_no_worker_running_healthz_blames_the_worker_and_not_beat(
    start_process: Any, client: Client
) -> None:
    start_process(
        "beat", "--loglevel=ERROR", "--scheduler", "base.beat:HeartbeatScheduler",
        "--pidfile=",
    )  # fmt: skip

    assert wait_for(lambda: seen_at("beat") is not None, timeout=60)

    response = client.get("/healthz", secure=True)

    assert response.status_code == 503
    assert response.json()["beat"] == "ok"
    assert response.json()["worker"] == "never seen"
