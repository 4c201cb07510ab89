"""The admin console on big tables: server time and query count of every page.

Builds a realistic installation set-wise in PostgreSQL (--contacts contacts, 1,000,000
by default, and about --messages messages, 5,000,000, over a few hundred campaign runs
with their journeys; groups big and tiny, flows, campaigns in every status, replies,
imports, API tokens), signs in a superuser and requests, for every model registered in
the admin: the changelist, a search (by phone where the admin searches phones), each
filter choice, a date drill-down, the column sorts of the big tables, page 2, the add
page, the change and history pages of a big and of a small object, the delete page of
the small one, the GET pages of the admin's own URLs and object actions, and the
autocomplete searches; plus the index and each app's page.

Each page is requested once to warm up, once to count its queries, then --repeat times
to time it (in-process, so server time without the network; twice when it is slow).
Prints, per page, the median time, the queries and the HTTP status, with flags: over
300 ms, not 200, a changelist whose query count changes with the rows it shows (1 row
per page, a full page, page 2), a change page whose query count differs between a big
and a small object, and a search whose plan scans a big table. The last line sums it
up. PostgreSQL comes from DATABASE_URL or is a throwaway server started here.

    python bench/admin_bench.py [--contacts 1000000] [--messages 5000000] [--repeat 5]
        [--skip-build] [--explain] [--only TEXT]
"""

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.admin.data.settle import settle  # noqa: E402
from bench.admin.data.sizes import Sizes  # noqa: E402
from bench.admin.data.steps import build  # noqa: E402
from bench.admin.db import sql  # noqa: E402
from bench.admin.pages.discover import discover  # noqa: E402
from bench.admin.pages.page import BIG_TABLE, Page  # noqa: E402
from bench.admin.pages.representatives import representatives  # noqa: E402
from bench.services import postgres_url, setup_django  # noqa: E402

BUDGET_MS = 300.0
SLOW_FIRST_S = 3.0  # a page slower than this on its first request is timed twice


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--skip-build",
        action="store_true",
        help="use the data an earlier run left in $DATABASE_URL",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN (ANALYZE, BUFFERS) of the slowest queries of slow pages",
    )
    parser.add_argument("--only", default="", help="only pages whose name has TEXT")
    args = parser.parse_args()
    # The test client's host; production settings otherwise (DEBUG off).
    os.environ["ALLOWED_HOSTS"] = "testserver"
    with (
        postgres_url() as db,
        tempfile.TemporaryDirectory(prefix="flowcast-static-") as static,
    ):
        os.environ["STATIC_ROOT"] = static
        setup_django(db)
        from django.core.management import call_command

        # The manifest the production static storage reads, as on a release.
        call_command("collectstatic", interactive=False, verbosity=0)
        if not args.skip_build:
            build(Sizes(args.contacts, args.messages))
        settle()
        run_pages(args)


# --- The pages --------------------------------------------------------------------


def run_pages(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        raise SystemExit("No superuser: build the data first (without --skip-build).")
    describe_setup()
    started = time.perf_counter()
    reps = representatives()
    print(f"Representative objects chosen in {time.perf_counter() - started:.1f} s")
    pages = discover(admin, reps)
    if args.only:
        pages = [p for p in pages if args.only in p.name]
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    # Refusals (403, 405) are reported in the table, not as tracebacks; errors stay.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    load = os.getloadavg()
    print(
        f"Requesting {len(pages)} pages, each once for its queries and "
        f"{args.repeat} times for its time (server time, in process)\n",
        flush=True,
    )
    print(f"{'median ms':>9} {'queries':>7} {'status':>6}  page")
    for page in pages:
        measure(client, page, args.repeat)
        print(
            f"{page.median_ms:9.1f} {len(page.queries):7d} {page.status:6d}",
            page.name,
            flush=True,
        )
    print(
        "Load average (1 min) before and after the requests: "
        f"{load[0]:.1f}, {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    check_rows(client, pages)
    check_pairs(pages)
    check_search_plans(pages)
    report(pages, args.explain)


def describe_setup() -> None:
    """What was measured: the code's commit and the server's settings that matter."""
    from bench.services import ROOT

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no").splitlines()
    print(
        f"Code: commit {git('rev-parse', '--short', 'HEAD') or '?'}"
        + (f" with {len(changed)} files changed" if changed else "")
    )
    names = ["server_version", "shared_buffers", "work_mem", "jit", "random_page_cost"]
    settings = ", ".join(f"{name} {sql(f'SHOW {name}')[0][0]}" for name in names)
    print(f"PostgreSQL: {settings}")


# --- Measuring --------------------------------------------------------------------


def get(client: Any, url: str) -> Any:
    response = client.get(url, secure=True)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


def measure(client: Any, page: Page, repeat: int) -> None:
    """Once to warm up (templates, the content-type cache), once with the queries
    captured, then timed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    response = get(client, page.url)
    first = time.perf_counter() - started
    page.status = response.status_code
    if response.exc_info:
        page.error = repr(response.exc_info[1])[:300]
    if page.status != 200:
        return
    with CaptureQueriesContext(connection) as captured:
        get(client, page.url)
    page.queries = list(captured.captured_queries)
    for _ in range(repeat if first < SLOW_FIRST_S else min(repeat, 2)):
        started = time.perf_counter()
        get(client, page.url)
        page.times.append(time.perf_counter() - started)


def shape(statement: str) -> str:
    """A query with its literals blanked, to count repeats of one query."""
    statement = re.sub(r"'(?:[^']|'')*'", "'…'", statement)
    statement = re.sub(r"\d+(?:\.\d+)?", "N", statement)
    return re.sub(r"\((?:'…'|N)(?:, (?:'…'|N))*\)", "(…)", statement)


def repeated(more: list[dict[str, str]], fewer: list[dict[str, str]]) -> list[str]:
    """Queries run more often in ``more`` than in ``fewer``, with the difference."""
    extra = Counter(shape(q["sql"]) for q in more)
    extra.subtract(Counter(shape(q["sql"]) for q in fewer))
    return [f"{n:+d} × {statement[:400]}" for statement, n in extra.items() if n]


def check_rows(client: Any, pages: list[Page]) -> None:
    """A changelist's query count must not grow with the rows it shows: compare a full
    page with one row per page and with page 2."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    second = {p.url: p for p in pages if p.kind == "page2"}
    for page in pages:
        if page.kind != "changelist" or page.status != 200:
            continue
        model_admin = page.model_admin
        per_page = model_admin.list_per_page
        model_admin.list_per_page = 1
        try:
            with CaptureQueriesContext(connection) as captured:
                get(client, page.url)
        finally:
            model_admin.list_per_page = per_page
        one_row = list(captured.captured_queries)
        counts = {f"{per_page} rows": len(page.queries), "1 row": len(one_row)}
        later = second.get(f"{page.url}?p=2")
        if later is not None and later.status == 200:
            counts["page 2"] = len(later.queries)
        if len(set(counts.values())) > 1:
            shown = ", ".join(f"{k}: {v}" for k, v in counts.items())
            page.flags.append(f"queries grow with rows ({shown})")
            page.notes.extend(repeated(page.queries, one_row))
        else:
            page.notes.append(f"same queries with 1 row per page and page 2 ({counts})")


def check_pairs(pages: list[Page]) -> None:
    """The change pages of a big and a small object of one model."""
    pairs: dict[str, list[Page]] = {}
    for page in pages:
        if page.pair and page.status == 200:
            pairs.setdefault(page.pair, []).append(page)
    for found in pairs.values():
        if len(found) == 2 and len(found[0].queries) != len(found[1].queries):
            big, small = found
            big.flags.append(
                f"queries differ by object (big: {len(big.queries)}, "
                f"small: {len(small.queries)})"
            )
            big.notes.extend(repeated(big.queries, small.queries))


def big_tables() -> set[str]:
    return {
        row[0]
        for row in sql(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= %s",
            [BIG_TABLE],
        )
    }


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def check_search_plans(pages: list[Page]) -> None:
    """A search on a big table must find its rows through an index."""
    big = big_tables()
    for page in pages:
        if page.kind != "search" or page.status != 200:
            continue
        scanned: set[str] = set()
        for query in page.queries:
            statement = query["sql"]
            if page.term not in statement or not statement.lstrip().startswith(
                "SELECT"
            ):
                continue
            found = sql(f"EXPLAIN (FORMAT JSON) {statement}")[0][0]
            plan = (json.loads(found) if isinstance(found, str) else found)[0]
            scanned |= {
                node["Relation Name"]
                for node in plan_nodes(plan["Plan"])
                if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in big
            }
        if scanned:
            page.flags.append(f"search scans {', '.join(sorted(scanned))} (no index)")


# --- The report -------------------------------------------------------------------


def report(pages: list[Page], explain: bool) -> None:
    timed = [p for p in pages if p.status == 200]
    others = [p for p in pages if p.status != 200]
    for page in timed:
        if page.median_ms > BUDGET_MS:
            page.flags.insert(0, f"over {BUDGET_MS:.0f} ms")
    flagged = [p for p in timed if p.flags]
    print(f"\nAnswers other than 200 ({len(others)}):")
    for page in others:
        kind = "not a GET page" if page.kind == "custom" else "FLAG"
        print(f"  {page.status}  {page.name}  {page.url}  [{kind}] {page.error}")
    print(f"\nFlagged pages ({len(flagged)}):")
    for page in flagged:
        print(f"  {page.median_ms:9.1f} ms {len(page.queries):4d} q  {page.name}")
        print(f"      {page.url}")
        for flag in page.flags:
            print(f"      ! {flag}")
        for note in page.notes:
            print(f"      {note}")
        if explain and page.median_ms > BUDGET_MS:
            explain_slowest(page)
    slowest = max(timed, key=lambda p: p.median_ms, default=None)
    over = [p for p in timed if p.median_ms > BUDGET_MS]
    growing = [
        p
        for p in timed
        if any(f.startswith(("queries grow", "queries differ")) for f in p.flags)
    ]
    bad = [p for p in others if p.kind != "custom"]
    print(
        f"\nPages: {len(timed)}; slowest: "
        + (f"{slowest.median_ms:.0f} ms ({slowest.name})" if slowest else "-")
        + f"; over {BUDGET_MS:.0f} ms: {len(over)}; query counts constant: "
        + ("yes" if not growing else f"no ({len(growing)} pages)")
        + (f"; not 200: {len(bad)}" if bad else "")
    )


def explain_slowest(page: Page, count: int = 2) -> None:
    slow = sorted(page.queries, key=lambda q: float(q["time"]), reverse=True)[:count]
    for query in slow:
        statement = query["sql"]
        if float(query["time"]) < 0.02 or not statement.lstrip().startswith("SELECT"):
            continue
        print(f"      -- {float(query['time']) * 1000:.0f} ms: {statement}")
        for (line,) in sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}"):
            print(f"         {line}")


if __name__ == "__main__":
    main()
