"""The one-way house (README, "Layout"): imports point down the layers, no file
circles (both checked by import-linter, `make lint`, with the contracts in
pyproject.toml), no function-local import of the project's own modules outside the
places made for it, and a campaign's tick reaches the provider through as few apps
as the layers say, never calling up."""

import ast
import re
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Bottom up; an app may import and call only those below it.
RANK = {
    "config": 0,
    "base": 1,
    "stream": 2,
    "audiences": 3,
    "messaging": 4,
    "flows": 5,
    "campaigns": 6,
    "api": 7,
    "console": 7,
}
PACKAGES = set(RANK)


def project_files() -> Iterator[Path]:
    for package in sorted(PACKAGES):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def local_imports(tree: ast.Module) -> Iterator[tuple[str, int, str]]:
    """(function, line, module) for each import of a project module made inside a
    function, the function named by its class too."""

    def visit(node: ast.AST, where: str) -> Iterator[tuple[str, int, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                yield from visit(child, f"{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(child):
                    if isinstance(inner, ast.ImportFrom) and (
                        inner.level or (inner.module or "").split(".")[0] in PACKAGES
                    ):
                        yield f"{where}{child.name}", inner.lineno, inner.module or "."
                    elif isinstance(inner, ast.Import):
                        for alias in inner.names:
                            if alias.name.split(".")[0] in PACKAGES:
                                yield f"{where}{child.name}", inner.lineno, alias.name
            else:
                yield from visit(child, where)

    yield from visit(tree, "")


def test_the_project_imports_its_own_modules_at_the_top_of_each_file() -> None:
    """A function-local import hides a dependency (and once hid circles): the only
    ones left are an app's ready(), where a higher app fills the registries of the
    apps below it once every model is loaded."""
    found = []
    for path in project_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function, line, module in local_imports(tree):
            allowed = path.name == "apps.py" and function.endswith(".ready")
            if not allowed:
                found.append(f"{path.relative_to(ROOT)}:{line} {function}: {module}")
    assert found == []


def app_of(filename: str) -> str | None:
    try:
        parts = Path(filename).resolve().relative_to(ROOT).parts
    except ValueError:
        return None
    return parts[0] if parts and parts[0] in PACKAGES else None


class Calls:
    """Every call from one function of the project to another, by (file, name); a
    call made through a library (Django's ORM, Celery's task call, a commit hook)
    counts as made by the nearest function of the project below it on the stack, and
    a callback run later (a commit hook) as called by the function that made it."""

    def __init__(self) -> None:
        self.edges: set[tuple[tuple[str, str], tuple[str, str]]] = set()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or not app_of(frame.f_code.co_filename):
            return
        callee = frame.f_code
        if ".<locals>." in callee.co_qualname:
            maker = callee.co_qualname.rsplit(".<locals>.", 1)[0]
            self.edges.add(
                (
                    (callee.co_filename, maker),
                    (callee.co_filename, callee.co_qualname),
                )
            )
        caller = frame.f_back
        while caller is not None and not app_of(caller.f_code.co_filename):
            caller = caller.f_back
        if caller is not None:
            self.edges.add(
                (
                    (caller.f_code.co_filename, caller.f_code.co_qualname),
                    (callee.co_filename, callee.co_qualname),
                )
            )

    def path(self, start: str, end: str) -> list[tuple[str, str]]:
        """The shortest chain of calls from the function named ``start`` to the one
        named ``end``."""
        following: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for caller, callee in self.edges:
            following.setdefault(caller, set()).add(callee)
        starts = [node for node in following if node[1] == start]
        came_from: dict[tuple[str, str], tuple[str, str] | None] = dict.fromkeys(starts)
        queue = deque(starts)
        while queue:
            node = queue.popleft()
            if node[1] == end:
                chain = []
                step: tuple[str, str] | None = node
                while step is not None:
                    chain.append(step)
                    step = came_from[step]
                return chain[::-1]
            for callee in sorted(following.get(node, ())):
                if callee not in came_from:
                    came_from[callee] = node
                    queue.append(callee)
        return []


@pytest.mark.django_db
def test_a_tick_reaches_the_provider_through_three_apps_all_downward(
    make_campaign: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Counted at run time, not from the imports: every call from a function of one
    app to a function of another during a tick and the sends it queues (the broker
    stood in by calling the send task at once). The chain of calls from the tick to
    the provider's send crosses from campaigns to flows and from flows to messaging;
    no call goes up (but through str(), as the audit trail names a campaign), and
    the send's SQL reads no table of the apps above messaging."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.tasks import tick
    from messaging import queueing
    from messaging.tasks import send_messages

    campaign = make_campaign(started=True)
    calls = Calls()
    read: set[str] = set()

    def send_now(*, batch_id: int, first: int, last: int) -> None:
        with CaptureQueriesContext(connection) as sending:
            send_messages(batch_id, first, last)  # what the worker does with it
        for query in sending.captured_queries:
            read.update(re.findall(r'"?\b([a-z]+_[a-z_]+)"?\.', query["sql"]))
            read.update(
                re.findall(r'(?:FROM|JOIN|UPDATE)\s+"?([a-z]+_[a-z_]+)', query["sql"])
            )

    original = queueing.send_chunk
    queueing.send_chunk = send_now
    sys.setprofile(calls)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert tick(campaign.pk) is not None
    finally:
        sys.setprofile(None)
        queueing.send_chunk = original

    # A lower app may reach up only through a protocol it defines nothing of:
    # the audit trail names what it records with str().
    upward = sorted(
        f"{caller[1]} ({app_of(caller[0])}) -> {callee[1]} ({app_of(callee[0])})"
        for caller, callee in calls.edges
        if RANK[app_of(callee[0]) or ""] > RANK[app_of(caller[0]) or ""]
        and not callee[1].split(".")[-1].startswith("__")
    )
    assert upward == []
    chain = calls.path("tick", "ConsoleBackend.send")
    assert chain, "the tick's messages did not reach the provider"
    apps = [app_of(filename) for filename, _ in chain]
    crossings = [(a, b) for a, b in zip(apps, apps[1:], strict=False) if a != b]
    assert crossings == [("campaigns", "flows"), ("flows", "messaging")], chain
    # Sending reads messaging's own tables, the contacts and the suppression list
    # (and the event stream's endpoints, to learn who subscribes to what it emits),
    # nothing of flows or campaigns.
    read &= set(connection.introspection.table_names())
    assert read
    assert {table.split("_")[0] for table in read} <= {
        "messaging",
        "audiences",
        "stream",
    }, read
    assert {t for t in read if t.startswith("audiences")} == {
        "audiences_contact",
        "audiences_suppression",
    }
