import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from django.test import Client
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT")
    }
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    result = manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_is_off_unless_asked() -> None:
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        SECRET_KEY="x" * 60,
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_the_deployment_checks_pass_with_production_settings(tmp_path: Path) -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="k8Jx2-production-like-secret-key-with-enough-entropy-0987654321",
        ALLOWED_HOSTS="flowcast.example.com",
        FLOWCAST_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_healthz_reports_database_broker_worker_and_beat(
    db: None, client: Client
) -> None:
    from base.models import Heartbeat

    now = timezone.now()
    Heartbeat.objects.create(name="worker", seen_at=now)
    Heartbeat.objects.create(name="beat", seen_at=now - dt.timedelta(seconds=5))

    response = client.get("/healthz", secure=True)

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "worker": "ok",
        "beat": "ok",
    }


def test_healthz_fails_when_beat_has_not_been_seen_lately(
    db: None, client: Client
) -> None:
    from base.models import Heartbeat

    Heartbeat.objects.create(name="worker", seen_at=timezone.now())
    Heartbeat.objects.create(
        name="beat", seen_at=timezone.now() - dt.timedelta(minutes=10)
    )

    response = client.get("/healthz", secure=True)

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["beat"].startswith("not seen since")
    assert response.json()["worker"] == "ok"


def test_a_lease_shorter_than_the_task_time_limit_is_refused() -> None:
    result = manage("check", SECRET_KEY="x" * 60, MESSAGING_LEASE_SECONDS="300")
    assert result.returncode != 0
    assert "MESSAGING_LEASE_SECONDS (300) must be longer" in result.stderr


def _proxy_settings(**env: str) -> list[str]:
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; "
        "print(settings.FLOWCAST_TRUSTED_PROXIES, settings.USE_X_FORWARDED_HOST)",
        SECRET_KEY="x" * 60,
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1].split()


def test_forwarded_hosts_are_trusted_only_with_a_trusted_proxy() -> None:
    assert _proxy_settings() == ["0", "False"]
    assert _proxy_settings(FLOWCAST_TRUSTED_PROXIES="1") == ["1", "True"]
    assert _proxy_settings(
        FLOWCAST_TRUSTED_PROXIES="1", USE_X_FORWARDED_HOST="false"
    ) == ["1", "False"]


def test_a_negative_number_of_trusted_proxies_is_refused() -> None:
    result = manage("check", SECRET_KEY="x" * 60, FLOWCAST_TRUSTED_PROXIES="-1")
    assert result.returncode != 0
    assert "FLOWCAST_TRUSTED_PROXIES must be 0 or more, got -1" in result.stderr
