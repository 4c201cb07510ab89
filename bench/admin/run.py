"""Requesting every page, then the checks and the report."""

import argparse
import logging
import os
import subprocess
import time

from bench.admin.db import sql
from bench.admin.pages.discover import discover
from bench.admin.pages.representatives import representatives
from bench.admin.report import report
from bench.admin.timing.checks import check_pairs, check_rows, check_search_plans
from bench.admin.timing.measure import measure
from bench.services import ROOT


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
