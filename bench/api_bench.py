"""The REST API's bulk upsert: 1,000 contacts in one request, through gunicorn.

On PostgreSQL (DATABASE_URL, or a throwaway server) with --existing contacts
already stored (100,000 by default), prints the time to answer
POST /api/v1/contacts/bulk with 1,000 contacts, each with a name, an email and three
custom-data values, as seen by an HTTP client:
  - all new contacts,
  - the same 1,000 again (all updated),
  - 1,000 of which 50 are refused (per-item errors),
each the median and the slowest of --rounds requests, next to the target (1 s).

    python bench/api_bench.py [--existing 100000] [--rounds 5]
"""

import argparse
import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.services import ROOT, postgres_url, setup_django  # noqa: E402

TARGET_SECONDS = 1.0


def seed(existing: int) -> str:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from api.models import ApiToken
    from audiences.addresses import phone_key
    from audiences.models import Contact, Variable

    now = timezone.now().isoformat()
    rows = io.StringIO()
    for n in range(existing):
        phone = f"+52133{n:08d}"
        rows.write(
            f'{phone}\tOld {n}\t\t{{"MONTO": {n}}}\t{now}\t{now}\t\t'
            f"{phone_key(phone)}\n"
        )
    with connection.cursor() as cursor:
        with cursor.copy(
            f"COPY {Contact._meta.db_table} "
            "(phone, name, email, data, created_at, updated_at, opt_out_source, "
            "phone_key) FROM STDIN"
        ) as copy:
            copy.write(rows.getvalue())
        cursor.execute("VACUUM ANALYZE")
    Variable.objects.get_or_create(name="MONTO", defaults={"kind": "number"})
    user = User.objects.create_user("bench")
    user.groups.add(Group.objects.get(name="Operator"))
    token = ApiToken(name="bench", user=user)
    key = token.issue_key()
    token.save()
    return key


def items(start: int, bad: int = 0) -> list[dict[str, object]]:
    batch: list[dict[str, object]] = [
        {
            "phone": f"+52144{start + n:08d}",
            "name": f"Bench {n}",
            "email": f"bench{n}@example.com",
            "data": {"MONTO": n * 10, "FECHA": "2026-12-25", "CIUDAD": "León"},
        }
        for n in range(1000)
    ]
    for n in range(bad):
        batch[n * 20]["data"] = {"MONTO": "mil"}
    return batch


def timed(client: object, body: dict[str, object]) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    response = client.post("/api/v1/contacts/bulk", json=body)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    return elapsed, response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with postgres_url() as db:
        setup_django(db)
        key = seed(args.existing)
        run(db, key, args.rounds)


def run(db: str, key: str, rounds: int) -> None:
    import httpx
    import port_for

    port = port_for.select_random()
    env = {
        **os.environ,
        "DATABASE_URL": db,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                client.get("/api/schema")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        client.post("/api/v1/contacts/bulk", json={"contacts": items(900_000)[:10]})
        figures: dict[str, list[float]] = {"new": [], "updated": [], "50 refused": []}
        for round_ in range(rounds):
            start = round_ * 1000
            elapsed, body = timed(client, {"contacts": items(start)})
            assert body["created"] == 1000, body["created"]
            figures["new"].append(elapsed)
            elapsed, body = timed(client, {"contacts": items(start)})
            assert body["updated"] == 1000
            figures["updated"].append(elapsed)
            elapsed, body = timed(client, {"contacts": items(500_000 + start, bad=50)})
            assert len(body["errors"]) == 50  # type: ignore[arg-type]
            assert body["created"] == 950
            figures["50 refused"].append(elapsed)
        for name, times in figures.items():
            print(
                f"bulk upsert of 1,000 ({name}): "
                f"median {statistics.median(times):.3f} s, "
                f"slowest {max(times):.3f} s, target {TARGET_SECONDS:.1f} s "
                f"(ratio slowest/target {max(times) / TARGET_SECONDS:.2f})"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
