"""The test session starts its own PostgreSQL and Redis servers; all tests use them.

A missing server program fails the run (pytest-postgresql / pytest-redis cannot start),
it never skips tests: `make test` installs the programs first.

With FLOWCAST_TEST_DB=sqlite the database is instead a SQLite file set up as `make run`
sets it up (tests/settings.py: WAL, immediate transactions), for the code's SQLite
branches; tests about PostgreSQL itself are marked `postgresql` and left out of that
pass, and tests about the SQLite setup, marked `sqlite`, out of the PostgreSQL pass
(`make test` runs both passes). Left out is reported as deselected, never skipped.
"""

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from pytest_postgresql import factories as postgresql_factories
from pytest_redis import factories as redis_factories

from tests.settings import TEST_DB

ROOT = Path(__file__).resolve().parent.parent

postgresql_proc = postgresql_factories.postgresql_proc(
    executable=str(ROOT / "bin" / "pg_ctl_nonroot"), port=None
)
redis_proc = redis_factories.redis_proc(
    executable=shutil.which("redis-server") or "/usr/bin/redis-server",
    port=None,  # type: ignore[arg-type]  # None: any free port
)


SQLITE = TEST_DB == "sqlite"


def pytest_report_header() -> str:
    return f"database: {TEST_DB} (FLOWCAST_TEST_DB)"


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    other = "postgresql" if SQLITE else "sqlite"
    kept = [item for item in items if item.get_closest_marker(other) is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from django.conf import settings
    from django.db import connections

    database: dict[str, Any] = settings.DATABASES["default"]  # type: ignore[assignment]
    if SQLITE:
        # A file, not Django's in-memory test database: the worker threads of the
        # Celery tests open connections of their own. tests/settings.py gave it
        # config/settings.py's SQLite options.
        assert database["ENGINE"] == "django.db.backends.sqlite3", database
        path = tmp_path_factory.mktemp("sqlite") / "flowcast.sqlite3"
        database["NAME"] = str(path)
        database.setdefault("TEST", {})["NAME"] = str(path)
        del connections["default"]
        return
    postgresql_proc = request.getfixturevalue("postgresql_proc")
    database.update(
        ENGINE="django.db.backends.postgresql",
        HOST=postgresql_proc.host,
        PORT=str(postgresql_proc.port),
        USER=postgresql_proc.user,
        PASSWORD=postgresql_proc.password or "",
        NAME="flowcast",
        OPTIONS={},
        CONN_MAX_AGE=0,
        CONN_HEALTH_CHECKS=False,
    )
    # The SQLite connection wrapper was built when settings loaded; without this the
    # tests would quietly keep using it.
    del connections["default"]


@pytest.fixture(scope="session", autouse=True)
def broker_url(redis_proc: Any) -> str:
    """Point Celery at the session's Redis server."""
    from config.celery import app

    url = f"redis://{redis_proc.host}:{redis_proc.port}/0"
    app.conf.update(
        broker_url=url, broker_transport_options={"visibility_timeout": 3600}
    )
    return url


@pytest.fixture(autouse=True)
def channel_gates_forgotten() -> Iterator[None]:
    """A pause one test's provider asked for (Retry-After: 3600) must not hold the
    next test's channel, which on SQLite gets the same id."""
    yield
    from messaging.gate import local_gates_forget

    local_gates_forget()


@pytest.fixture(autouse=True)
def cache_forgotten() -> Iterator[None]:
    """The API's write counts are kept per key in Django's cache: one test's must not
    throttle the next test's key, which on SQLite gets the same id."""
    yield
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def redis_client(broker_url: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(broker_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def celery_worker(transactional_db: None, redis_client: Any) -> Iterator[Any]:
    """A real Celery worker, in threads of this process, consuming from Redis."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from config.celery import app

    def close_thread_connections(**_: object) -> None:
        # Workers keep their connection across tasks (CELERY_DB_REUSE_MAX); this
        # one's threads end with the test, and an open connection of theirs would
        # keep the test database from being dropped.
        connections.close_all()

    task_postrun.connect(close_thread_connections, weak=False)
    try:
        with start_worker(
            app,
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_thread_connections)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# --- Object makers -----------------------------------------------------------------


@pytest.fixture
def make_channel(db: None) -> Callable[..., Any]:
    from messaging.models import Channel

    def make(credentials: dict[str, str] | None = None, **fields: Any) -> Channel:
        """A channel; a webhook channel with a signing secret (read it with
        messaging.credentials.channel_signing_secrets), ``credentials`` stored
        sealed."""
        from messaging.credentials import channel_secret_ensure, credentials_sealed

        fields.setdefault("name", f"Console {Channel.objects.count() + 1}")
        fields.setdefault("kind", Channel.Kind.CONSOLE)
        channel = Channel(**fields)
        if credentials:
            channel.credentials = credentials_sealed(channel, credentials)
        channel.save()
        channel_secret_ensure(channel=channel)
        return channel

    return make


@pytest.fixture
def make_group(db: None) -> Callable[..., Any]:
    from audiences.models import AudienceGroup, Contact, Membership

    def make(phones: list[str] | None = None, **fields: Any) -> AudienceGroup:
        fields.setdefault("name", f"Group {AudienceGroup.objects.count() + 1}")
        group = AudienceGroup.objects.create(**fields)
        for index, phone in enumerate(phones or []):
            contact, _ = Contact.objects.get_or_create(
                phone=phone,
                defaults={"name": f"Contact {index}", "data": {"NOMBRE": f"N{index}"}},
            )
            Membership.objects.create(group=group, contact=contact)
        return group

    return make


@pytest.fixture
def make_flow(db: None, make_channel: Callable[..., Any]) -> Callable[..., Any]:
    from flows.models import Flow, FlowStep
    from flows.publishing import flow_publish

    def make(
        *, publish: bool = True, body: str = "Hola {{NOMBRE}}", **fields: Any
    ) -> Flow:
        fields.setdefault("name", f"Flow {Flow.objects.count() + 1}")
        channel = fields.pop("channel", None) or make_channel()
        flow = Flow.objects.create(**fields)
        FlowStep.objects.create(
            flow=flow, position=1, kind=FlowStep.Kind.SEND, channel=channel, body=body
        )
        FlowStep.objects.create(flow=flow, position=2, kind=FlowStep.Kind.END)
        if publish:
            flow_publish(flow=flow)
        return flow

    return make


PHONES = ["+525500998877", "+525511223344", "+525533445566"]


@pytest.fixture
def make_campaign(
    make_flow: Callable[..., Any], make_group: Callable[..., Any]
) -> Callable[..., Any]:
    from campaigns.lifecycle import campaign_create
    from campaigns.models import Campaign

    def make(*, started: bool = False, **fields: Any) -> Campaign:
        """A campaign made through campaign_create (start in the future), or with
        ``started=True`` one whose start is an hour ago, as if created back then."""
        fields.setdefault("name", "Spring sale")
        fields.setdefault("flow", make_flow())
        fields.setdefault("group", make_group(PHONES))
        fields.setdefault("schedule", "daily")
        now = timezone.now().replace(second=0, microsecond=0)
        if started:
            start = fields.pop("start_at", now - dt.timedelta(hours=1))
            end = fields.pop("end_at", start + dt.timedelta(days=7))
            campaign = campaign_create(
                start_at=now + dt.timedelta(hours=1),
                end_at=now + dt.timedelta(hours=2),
                **fields,
            )
            Campaign.objects.filter(pk=campaign.pk).update(start_at=start, end_at=end)
            campaign.refresh_from_db()
            from campaigns.scheduling import campaign_sync_schedule

            campaign_sync_schedule(campaign=campaign)
            return campaign
        fields.setdefault("start_at", now + dt.timedelta(hours=1))
        fields.setdefault("end_at", fields["start_at"] + dt.timedelta(days=7))
        return campaign_create(**fields)

    return make


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    """A staff user in the role (group) named, signed in through ``client``."""
    from django.contrib.auth.models import Group, User

    def make(role: str, username: str = "") -> User:
        user = User.objects.create_user(
            username or role.lower(), password="correct horse battery", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


def batch_of(run: Any) -> int:
    """The id of the batch a campaign run's messages are in."""
    assert run.cohort is not None, f"run {run.pk} has no messages (skipped)"
    return int(run.cohort.batch_id)


def database_url(settings_dict: dict[str, Any]) -> str:
    """The test database as a DATABASE_URL, for a process of the product started
    by a test."""
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    return (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}"
        f"@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    )
