"""Services for benchmarks: PostgreSQL at $DATABASE_URL, or a throwaway one."""

import contextlib
import os
import resource
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """Yield $DATABASE_URL if it is PostgreSQL, else the URL of a throwaway server."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        yield url
        return
    import port_for
    from pytest_postgresql.executors.proc import PostgreSQLExecutor

    with tempfile.TemporaryDirectory(prefix="flowcast-bench-") as tmp:
        port = port_for.select_random()
        executor = PostgreSQLExecutor(
            executable=str(ROOT / "bin" / "pg_ctl_nonroot"),
            host="127.0.0.1",
            port=port,
            datadir=f"{tmp}/data",
            unixsocketdir=tmp,
            logfile=f"{tmp}/postgresql.log",
            startparams="-w",
            dbname="flowcast_bench",
            postgres_options="-c fsync=off -c synchronous_commit=off",
        )
        with executor:
            executor.wait_for_postgres()
            import psycopg

            with psycopg.connect(
                host="127.0.0.1", port=port, user="postgres", autocommit=True
            ) as conn:
                conn.execute("CREATE DATABASE flowcast_bench")
            yield f"postgres://postgres@127.0.0.1:{port}/flowcast_bench"


def setup_django(database_url: str, broker_url: str = "memory://") -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault(
        "SECRET_KEY", "benchmark-only-secret-key-0123456789abcdefghijkl"
    )
    os.environ.setdefault("DEBUG", "false")
    # Channel secrets are sealed with it (a fixed key: the benchmark's data is thrown
    # away); worker processes the benchmark starts inherit it.
    os.environ.setdefault(
        "FLOWCAST_SECRETS_KEY", "YmVuY2htYXJrLW9ubHktZmVybmV0LWtleS0zMmJ5dGU="
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # By default tasks queued by the code under test stay in this process.
    os.environ["CELERY_BROKER_URL"] = broker_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def peak_rss_mb() -> float:
    """This process's peak resident memory. Read from /proc (VmHWM), which starts
    afresh at exec, unlike ru_maxrss, which a child inherits from its parent."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def redis_url() -> Iterator[str]:
    """Yield $CELERY_BROKER_URL if it is Redis, else the URL of a throwaway server."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if url.startswith("redis"):
        yield url
        return
    import shutil

    import port_for
    from pytest_redis.executor import RedisExecutor

    with tempfile.TemporaryDirectory(prefix="flowcast-redis-") as tmp:
        port = port_for.select_random()
        executor = RedisExecutor(
            executable=shutil.which("redis-server") or "/usr/bin/redis-server",
            databases=4,
            redis_timeout=30,
            loglevel="warning",
            host="127.0.0.1",
            port=port,
            datadir=Path(tmp),
        )
        with executor:
            yield f"redis://127.0.0.1:{port}/0"
