"""Browser tests: Chromium driven by Playwright (sync API) against the live server.

Every screen a test visits is saved as a full-page screenshot in
``test-artifacts/e2e/`` under the repository root, numbered in the order of the
visits (``01-login.png``, ``02-…``), for a person to look at after the run.
"""

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.db import connection, connections, transaction
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-artifacts" / "e2e"
# Generous for a loaded CI machine, bounded so a broken page fails in seconds.
TIMEOUT_MS = 15_000
# What the background work (an import, a campaign's sends) may take.
WORK_TIMEOUT_MS = 45_000
PASSWORD = "correct-horse-battery-staple"
VIEWER = "Viewer"
# The apps whose records a viewer may look at; not users, groups or sessions.
NOT_FOR_VIEWERS = ("admin", "auth", "contenttypes", "sessions")

expect.set_options(timeout=TIMEOUT_MS)


class Screens:
    """Numbered full-page screenshots, one per screen, in the order taken."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.taken: list[Path] = []

    def shot(self, page: Page, name: str) -> Path:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = self.directory / f"{len(self.taken) + 1:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture(scope="session")
def screens() -> Screens:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return Screens(SCREENSHOTS)


@pytest.fixture
def browser(
    transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Browser]:
    """Chromium for one test.

    Sync Playwright runs an event loop in this thread, so Django's guard against ORM
    calls from async code is lifted while it runs; and Django then keeps this
    thread's connection apart (context-local), so it is closed here, or it would
    outlive the test database. Asking for the database first tears it down last.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `bash bin/ensure-test-services` "
            "(or `apt-get install -y chromium`)."
        )
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield browser
        connections.close_all()
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: Any) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="en-US",
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _imports_in_tmp(settings: Any, tmp_path: Path) -> None:
    # Uploaded contact files are kept under VAR_DIR until a worker reads them.
    settings.VAR_DIR = tmp_path / "var"


def sign_in(page: Page, screens: Screens, username: str, name: str) -> None:
    """Sign in through the admin's login form, with a screenshot of the form."""
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    screens.shot(page, name)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#user-tools")).to_contain_text(username, ignore_case=True)


@pytest.fixture
def make_operator(transactional_db: None) -> Callable[..., User]:
    def make(username: str = "olivia") -> User:
        return User.objects.create_superuser(
            username, f"{username}@example.com", PASSWORD
        )

    return make


@pytest.fixture
def make_viewer(transactional_db: None) -> Callable[..., User]:
    """A staff user who may only look: in the "Viewer" group when there is one,
    otherwise with the view permissions of the console's apps given directly.

    The group comes from a data migration, and the flush that ends every
    transactional test (these included) empties it away: it is made again here the
    way the migration makes it.
    """

    def make(username: str = "victor") -> User:
        user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
        group = Group.objects.filter(name=VIEWER).first()
        if group is None and apps.is_installed("base"):
            from base.roles import roles_sync

            roles_sync()
            group = Group.objects.filter(name=VIEWER).first()
        if group is not None:
            user.groups.add(group)
        else:
            user.user_permissions.add(
                *Permission.objects.filter(codename__startswith="view_").exclude(
                    content_type__app_label__in=NOT_FOR_VIEWERS
                )
            )
        return user

    return make


@contextmanager
def import_writing_held(phone: str) -> Iterator[None]:
    """Hold a worker's writing of an import's contacts while the body runs, so the
    job's page is seen while the import is under way.

    On PostgreSQL, by a contact of ``phone`` written here and not committed (rolled
    back at the end): the worker's write of that number waits for it. SQLite has one
    writer at a time, so that would hold the console's own writes too (the operator's
    click would wait for it); there the worker's task waits at its start instead.
    """
    if connection.vendor == "postgresql":
        from audiences.models import Contact

        with transaction.atomic():
            Contact.objects.create(phone=phone)
            yield
            transaction.set_rollback(True)
        return

    from celery.signals import task_prerun

    released = threading.Event()

    def wait(task: Any = None, **_: object) -> None:
        if getattr(task, "name", "") == "audiences.tasks.apply_import":
            released.wait(WORK_TIMEOUT_MS / 1000)

    task_prerun.connect(wait, weak=False)
    try:
        yield
    finally:
        released.set()
        task_prerun.disconnect(wait)
