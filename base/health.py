"""/healthz: is the database reachable, is the broker reachable, have the worker
and beat been seen lately (their heartbeats)."""

from django.db import connection
from django.http import JsonResponse
from django.http.request import HttpRequest

from config.celery import app

from .heartbeat import heartbeats


def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure is the answer, not a crash
        checks["database"] = f"error: {exc}"

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"error: {exc}"
    if checks["database"] == "ok":
        for name, process in heartbeats().items():
            seen = process["seen_at"]
            checks[name] = (
                "ok"
                if process["ok"]
                else f"not seen since {seen:%Y-%m-%d %H:%M:%S %Z}"
                if seen
                else "never seen"
            )
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks},
        status=200 if healthy else 503,
    )
