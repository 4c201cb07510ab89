"""The summary after the table of pages: what needs a look, and the last line."""

from bench.admin.db import sql
from bench.admin.pages.page import Page

BUDGET_MS = 300.0


def report(pages: list[Page], explain: bool) -> None:
    # Parts that come after their page (base.lazy: an audience or a run's messages
    # counted) are no page of their own: listed apart, with their times.
    parts = [p for p in pages if p.kind == "part" and p.status == 200]
    pages = [p for p in pages if p not in parts]
    timed = [p for p in pages if p.status == 200]
    others = [p for p in pages if p.status != 200]
    print(f"\nParts fetched after their page is shown ({len(parts)}):")
    for page in sorted(parts, key=lambda p: -p.median_ms):
        print(f"  {page.median_ms:9.1f} ms {len(page.queries):4d} q  {page.name}")
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
