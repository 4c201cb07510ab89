"""Checks on the queries a page ran: the costs a median time alone would hide
until the tables grow."""

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from bench.admin.db import sql
from bench.admin.pages.page import BIG_TABLE, Page
from bench.admin.timing.measure import get


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
