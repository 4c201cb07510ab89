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
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.admin.data.settle import settle  # noqa: E402
from bench.admin.data.sizes import Sizes  # noqa: E402
from bench.admin.data.steps import build  # noqa: E402
from bench.admin.run import run_pages  # noqa: E402
from bench.services import postgres_url, setup_django  # noqa: E402


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


if __name__ == "__main__":
    main()
